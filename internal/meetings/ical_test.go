package meetings

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testSite = Site{ID: 1, URL: "https://acme.example.com"}

// weeklyInBerlin is a weekly series across the start of summer time, with
// one occurrence moved and one cancelled.
func weeklyInBerlin(t *testing.T) Meeting {
	berlin := mustLoad(t, "Europe/Berlin")
	start, _ := wallClock(berlin, 2026, 3, 16, 10, 0)
	moved, _ := wallClock(berlin, 2026, 3, 30, 10, 0)
	movedTo, _ := wallClock(berlin, 2026, 3, 31, 14, 30)
	cancelled, _ := wallClock(berlin, 2026, 4, 6, 10, 0)
	m := Meeting{
		SiteID: 1, ID: 7, Number: "123456789", HostUserID: 3, HostName: "Lee, Ann", HostEmail: "ann@example.com",
		Topic: "Weekly sync; planning, budget", Agenda: "1. Numbers\n2. A long line that must be folded because it goes on and on well past seventy-five octets — with UTF-8: Größe, 東京",
		StartUTC: start, TimeZone: "Europe/Berlin", DurationMinutes: 45,
		RRule:    Recurrence{Repeat: RepeatWeekly, Weekdays: []time.Weekday{time.Monday}, Count: 6}.RRule(berlin),
		Invitees: []string{"bob@example.com", "cy@example.com"}, Sequence: 3,
		Overrides: []Override{
			{OriginalStartUTC: moved, StartUTC: movedTo, DurationMinutes: 60, Topic: "Weekly sync (moved)", Agenda: "Moved"},
			{OriginalStartUTC: cancelled, Cancelled: true, StartUTC: cancelled, DurationMinutes: 45, Topic: "Weekly sync"},
		},
	}
	ends, err := lastEnd(m.series(), m.Duration(), m.Overrides)
	if err != nil {
		t.Fatal(err)
	}
	m.EndsUTC = ends
	return m
}

// icsProperty is one content line, unfolded.
type icsProperty struct {
	Name   string
	Params map[string]string
	Value  string
}

// parseICS splits an iCalendar object into its components' properties,
// keyed "VCALENDAR", "VEVENT#0", "VTIMEZONE#0/DAYLIGHT#0", … It is only as
// clever as the files the portal writes need.
func parseICS(t *testing.T, data []byte) map[string][]icsProperty {
	t.Helper()
	text := string(data)
	if !strings.HasSuffix(text, "\r\n") || strings.Contains(strings.ReplaceAll(text, "\r\n", ""), "\n") {
		t.Fatal("lines are not all CRLF-terminated")
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets is not folded: %q", len(line), line)
		}
	}
	unfolded := strings.ReplaceAll(text, "\r\n ", "")
	out := map[string][]icsProperty{}
	var path []string
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(unfolded, "\r\n"), "\r\n") {
		head, value, _ := strings.Cut(line, ":")
		parts := strings.Split(head, ";")
		switch parts[0] {
		case "BEGIN":
			key := value
			if value != "VCALENDAR" {
				prefix := strings.Join(path, "/")
				key = value + "#" + itoa(counts[prefix+"/"+value])
				counts[prefix+"/"+value]++
			}
			path = append(path, key)
			continue
		case "END":
			path = path[:len(path)-1]
			continue
		}
		p := icsProperty{Name: parts[0], Params: map[string]string{}, Value: value}
		for _, param := range parts[1:] {
			k, v, _ := strings.Cut(param, "=")
			p.Params[k] = v
		}
		key := strings.Join(path, "/")
		out[key] = append(out[key], p)
	}
	return out
}

func itoa(n int) string { return string(rune('0' + n)) }

// one returns the single property called name, failing when there is not
// exactly one.
func one(t *testing.T, props []icsProperty, name string) icsProperty {
	t.Helper()
	var found []icsProperty
	for _, p := range props {
		if p.Name == name {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s properties, want 1", len(found), name)
	}
	return found[0]
}

func all(props []icsProperty, name string) []icsProperty {
	var found []icsProperty
	for _, p := range props {
		if p.Name == name {
			found = append(found, p)
		}
	}
	return found
}

func TestICSFieldByField(t *testing.T) {
	m := weeklyInBerlin(t)
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := parseICS(t, m.Invitation(testSite, MethodRequest, stamp))

	cal := c["VCALENDAR"]
	if one(t, cal, "VERSION").Value != "2.0" || one(t, cal, "METHOD").Value != "REQUEST" || one(t, cal, "PRODID").Value == "" {
		t.Errorf("calendar properties %+v", cal)
	}

	tz := c["VCALENDAR/VTIMEZONE#0"]
	if one(t, tz, "TZID").Value != "Europe/Berlin" {
		t.Errorf("VTIMEZONE %+v", tz)
	}
	daylight, standard := c["VCALENDAR/VTIMEZONE#0/DAYLIGHT#0"], c["VCALENDAR/VTIMEZONE#0/STANDARD#0"]
	if one(t, daylight, "RRULE").Value != "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" || one(t, daylight, "TZOFFSETFROM").Value != "+0100" ||
		one(t, daylight, "TZOFFSETTO").Value != "+0200" || one(t, daylight, "TZNAME").Value != "CEST" ||
		!strings.HasSuffix(one(t, daylight, "DTSTART").Value, "T020000") {
		t.Errorf("DAYLIGHT %+v", daylight)
	}
	if one(t, standard, "RRULE").Value != "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU" || one(t, standard, "TZOFFSETFROM").Value != "+0200" ||
		one(t, standard, "TZOFFSETTO").Value != "+0100" || !strings.HasSuffix(one(t, standard, "DTSTART").Value, "T030000") {
		t.Errorf("STANDARD %+v", standard)
	}

	master := c["VCALENDAR/VEVENT#0"]
	checks := []struct {
		name, value string
		params      map[string]string
	}{
		{"UID", "123456789@acme.example.com", nil},
		{"DTSTAMP", "20260301T120000Z", nil},
		{"DTSTART", "20260316T100000", map[string]string{"TZID": "Europe/Berlin"}},
		{"DTEND", "20260316T104500", map[string]string{"TZID": "Europe/Berlin"}},
		{"RRULE", "FREQ=WEEKLY;COUNT=6;BYDAY=MO", nil},
		{"EXDATE", "20260406T100000", map[string]string{"TZID": "Europe/Berlin"}},
		{"SUMMARY", `Weekly sync\; planning\, budget`, nil},
		{"SEQUENCE", "3", nil},
		{"STATUS", "CONFIRMED", nil},
		{"ORGANIZER", "mailto:ann@example.com", map[string]string{"CN": "Lee Ann"}},
		{"URL", "https://acme.example.com/j/123456789", nil},
	}
	for _, want := range checks {
		got := one(t, master, want.name)
		if got.Value != want.value || (want.params != nil && !reflect.DeepEqual(got.Params, want.params)) {
			t.Errorf("%s = %q %v, want %q %v", want.name, got.Value, got.Params, want.value, want.params)
		}
	}
	description := one(t, master, "DESCRIPTION").Value
	if !strings.HasPrefix(description, `Join the meeting: https://acme.example.com/j/123456789\nMeeting number: 123456789\n`) ||
		!strings.Contains(description, `1. Numbers\n2. A long line`) || !strings.Contains(description, `Größe\, 東京`) {
		t.Errorf("DESCRIPTION %q", description)
	}
	var attendees []string
	for _, a := range all(master, "ATTENDEE") {
		attendees = append(attendees, a.Value)
		if a.Params["RSVP"] != "true" || a.Params["PARTSTAT"] != "NEEDS-ACTION" || a.Params["ROLE"] != "REQ-PARTICIPANT" {
			t.Errorf("ATTENDEE params %v", a.Params)
		}
	}
	if !reflect.DeepEqual(attendees, []string{"mailto:bob@example.com", "mailto:cy@example.com"}) {
		t.Errorf("attendees %v", attendees)
	}

	moved := c["VCALENDAR/VEVENT#1"]
	if one(t, moved, "UID").Value != "123456789@acme.example.com" || one(t, moved, "RECURRENCE-ID").Value != "20260330T100000" ||
		one(t, moved, "DTSTART").Value != "20260331T143000" || one(t, moved, "DTEND").Value != "20260331T153000" ||
		one(t, moved, "SEQUENCE").Value != "3" || len(all(moved, "RRULE")) != 0 {
		t.Errorf("moved occurrence %+v", moved)
	}
	if _, extra := c["VCALENDAR/VEVENT#2"]; extra {
		t.Error("the cancelled occurrence has an event of its own; it should be an EXDATE")
	}
}

func TestICSForACancellationAndADownload(t *testing.T) {
	m := weeklyInBerlin(t)
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	c := parseICS(t, m.Invitation(testSite, MethodCancel, stamp))
	if one(t, c["VCALENDAR"], "METHOD").Value != "CANCEL" || one(t, c["VCALENDAR/VEVENT#0"], "STATUS").Value != "CANCELLED" {
		t.Error("a cancellation is not METHOD:CANCEL with STATUS:CANCELLED")
	}
	if _, ok := c["VCALENDAR/VEVENT#1"]; ok {
		t.Error("a cancellation of the series lists its changed occurrences")
	}

	occurrence := m.Overrides[0].OriginalStartUTC
	c = parseICS(t, m.OccurrenceCancellation(testSite, occurrence, stamp))
	ev := c["VCALENDAR/VEVENT#0"]
	if one(t, c["VCALENDAR"], "METHOD").Value != "CANCEL" || one(t, ev, "RECURRENCE-ID").Value != "20260330T100000" ||
		one(t, ev, "STATUS").Value != "CANCELLED" || len(all(ev, "RRULE")) != 0 {
		t.Errorf("occurrence cancellation %+v", ev)
	}

	c = parseICS(t, m.ICS(testSite, stamp))
	if len(all(c["VCALENDAR"], "METHOD")) != 0 {
		t.Error("the download has a METHOD; Outlook would take it for a meeting request")
	}
}

func TestICSInUTCHasNoTimeZone(t *testing.T) {
	m := Meeting{Number: "123456789", HostEmail: "ann@example.com", Topic: "Sync", StartUTC: time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC), TimeZone: "UTC", DurationMinutes: 30}
	c := parseICS(t, m.ICS(testSite, time.Now()))
	if _, ok := c["VCALENDAR/VTIMEZONE#0"]; ok {
		t.Error("a UTC meeting has a VTIMEZONE")
	}
	if got := one(t, c["VCALENDAR/VEVENT#0"], "DTSTART"); got.Value != "20260316T090000Z" || len(got.Params) != 0 {
		t.Errorf("DTSTART %+v", got)
	}
}

func TestVTimezoneRules(t *testing.T) {
	tests := []struct {
		zone               string
		daylight, standard string // RRULEs, "" for none
	}{
		{"America/New_York", "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "FREQ=YEARLY;BYMONTH=11;BYDAY=1SU"},
		{"Australia/Sydney", "FREQ=YEARLY;BYMONTH=10;BYDAY=1SU", "FREQ=YEARLY;BYMONTH=4;BYDAY=1SU"},
		{"Asia/Tokyo", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			m := Meeting{Number: "123456789", HostEmail: "a@example.com", Topic: "x", StartUTC: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), TimeZone: tt.zone, DurationMinutes: 30}
			m.EndsUTC = m.StartUTC.Add(30 * time.Minute)
			c := parseICS(t, m.ICS(testSite, time.Now()))
			if tt.daylight == "" {
				std := c["VCALENDAR/VTIMEZONE#0/STANDARD#0"]
				if one(t, std, "TZOFFSETTO").Value != "+0900" || len(all(std, "RRULE")) != 0 || c["VCALENDAR/VTIMEZONE#0/DAYLIGHT#0"] != nil {
					t.Errorf("zone without DST: %+v", c)
				}
				return
			}
			if got := one(t, c["VCALENDAR/VTIMEZONE#0/DAYLIGHT#0"], "RRULE").Value; got != tt.daylight {
				t.Errorf("DAYLIGHT RRULE %q, want %q", got, tt.daylight)
			}
			if got := one(t, c["VCALENDAR/VTIMEZONE#0/STANDARD#0"], "RRULE").Value; got != tt.standard {
				t.Errorf("STANDARD RRULE %q, want %q", got, tt.standard)
			}
		})
	}
}

// pythonICS reads an iCalendar file with Debian's python3-icalendar, an
// independent parser, through testdata/ics_fields.py.
func pythonICS(t *testing.T, data []byte) map[string]any {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import icalendar").Run(); err != nil {
		t.Skipf("skipping the independent parse: %s cannot import icalendar (apt-get install python3-icalendar): %v", python, err)
	}
	file := filepath.Join(t.TempDir(), "meeting.ics")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/ics_fields.py", file).Output()
	if err != nil {
		var stderr string
		if exitErr, ok := err.(*exec.ExitError); ok {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("python3-icalendar could not read the file: %v\n%s", err, stderr)
	}
	var parsed map[string]any
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return parsed
}

func TestICSParsedBackByPythonICalendar(t *testing.T) {
	m := weeklyInBerlin(t)
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got := pythonICS(t, m.Invitation(testSite, MethodRequest, stamp))

	instant := func(utc string) map[string]any {
		return map[string]any{"utc": utc, "tzid": "Europe/Berlin", "utc_by_vtimezone": utc}
	}
	description := "Join the meeting: https://acme.example.com/j/123456789\nMeeting number: 123456789\n\nAgenda:\n" + m.Agenda + "\n"
	event := func(dtstart, dtend string) map[string]any {
		return map[string]any{
			"uid": "123456789@acme.example.com", "dtstamp": map[string]any{"utc": "2026-03-01T12:00:00Z"},
			"dtstart": instant(dtstart), "dtend": instant(dtend), "recurrence_id": nil, "rrule": nil, "exdate": []any{},
			"summary": m.Topic, "description": description, "organizer": "mailto:ann@example.com", "organizer_cn": "Lee Ann",
			"attendees": []any{"mailto:bob@example.com", "mailto:cy@example.com"}, "sequence": float64(3), "status": "CONFIRMED",
		}
	}
	master := event("2026-03-16T09:00:00Z", "2026-03-16T09:45:00Z")
	master["rrule"] = "FREQ=WEEKLY;COUNT=6;BYDAY=MO"
	master["exdate"] = []any{"2026-04-06T08:00:00Z"} // 10:00 CEST
	moved := event("2026-03-31T12:30:00Z", "2026-03-31T13:30:00Z")
	moved["recurrence_id"] = instant("2026-03-30T08:00:00Z")
	moved["summary"] = "Weekly sync (moved)"
	moved["description"] = "Join the meeting: https://acme.example.com/j/123456789\nMeeting number: 123456789\n\nAgenda:\nMoved\n"
	want := map[string]any{
		"method": "REQUEST", "version": "2.0", "timezones": []any{"Europe/Berlin"},
		"events": []any{master, moved},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("python3-icalendar read\n%s\nwant\n%s", g, w)
	}
}

func TestICSCancellationParsedBackByPythonICalendar(t *testing.T) {
	m := weeklyInBerlin(t)
	got := pythonICS(t, m.OccurrenceCancellation(testSite, m.Overrides[0].OriginalStartUTC, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	events := got["events"].([]any)
	ev := events[0].(map[string]any)
	if got["method"] != "CANCEL" || len(events) != 1 || ev["status"] != "CANCELLED" ||
		ev["recurrence_id"].(map[string]any)["utc_by_vtimezone"] != "2026-03-30T08:00:00Z" {
		t.Errorf("occurrence cancellation as python3-icalendar reads it: %v", got)
	}
}
