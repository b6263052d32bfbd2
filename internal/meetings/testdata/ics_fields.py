"""Reads an iCalendar file with python3-icalendar and prints its fields as
JSON, for ical_test.go to compare with what the portal meant to write.

Instants are given in UTC, computed twice: by pytz from the TZID name, and
from the file's own VTIMEZONE (icalendar's Timezone.to_tz), so a wrong
VTIMEZONE shows as a mismatch."""
import json
import sys
from datetime import timezone

import icalendar


def main():
    with open(sys.argv[1], "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    zones = {str(tz["TZID"]): tz.to_tz() for tz in cal.walk("VTIMEZONE")}

    def instant(prop):
        if prop is None:
            return None
        dt = prop.dt
        out = {"utc": dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        tzid = prop.params.get("TZID")
        if tzid:
            out["tzid"] = str(tzid)
            local = dt.replace(tzinfo=None)
            out["utc_by_vtimezone"] = zones[str(tzid)].localize(local).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return out

    def as_list(value):
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    events = []
    for ev in cal.walk("VEVENT"):
        exdates = []
        for ex in as_list(ev.get("EXDATE")):
            exdates += [d.dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for d in ex.dts]
        events.append({
            "uid": str(ev.get("UID")),
            "dtstamp": instant(ev.get("DTSTAMP")),
            "dtstart": instant(ev.get("DTSTART")),
            "dtend": instant(ev.get("DTEND")),
            "recurrence_id": instant(ev.get("RECURRENCE-ID")),
            "rrule": ev["RRULE"].to_ical().decode() if "RRULE" in ev else None,
            "exdate": exdates,
            "summary": str(ev.get("SUMMARY")),
            "description": str(ev.get("DESCRIPTION")),
            "organizer": str(ev.get("ORGANIZER")),
            "organizer_cn": str(ev["ORGANIZER"].params.get("CN", "")),
            "attendees": [str(a) for a in as_list(ev.get("ATTENDEE"))],
            "sequence": int(ev.get("SEQUENCE")),
            "status": str(ev.get("STATUS")),
        })
    print(json.dumps({
        "method": str(cal.get("METHOD", "")),
        "version": str(cal.get("VERSION")),
        "timezones": sorted(zones),
        "events": events,
    }, indent=1))


main()
