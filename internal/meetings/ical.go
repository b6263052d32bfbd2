package meetings

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Calendar methods of RFC 5546 (iTIP) used in invitations.
const (
	MethodRequest = "REQUEST" // a new or changed meeting
	MethodCancel  = "CANCEL"  // a cancelled meeting or occurrence
)

const (
	icsLocal   = "20060102T150405"
	icsUTC     = "20060102T150405Z"
	icsProduct = "-//meetings-portal//Meetings//EN"
)

// UID is the meeting's iCalendar UID: the same in every invitation and
// download, so calendar clients update the event in place.
func (m Meeting) UID(site Site) string {
	host := site.URL
	if u, err := url.Parse(site.URL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return m.Number + "@" + host
}

// ICS is the meeting's "Add to calendar" file: an RFC 5545 object without a
// METHOD, the series with its changed and cancelled occurrences.
func (m Meeting) ICS(site Site, stamp time.Time) []byte {
	return m.calendar(site, "", stamp)
}

// Invitation is the text/calendar body of an invitation e-mail: METHOD
// REQUEST with the whole series (changed occurrences as RECURRENCE-ID
// events, cancelled ones as EXDATE), or METHOD CANCEL for the whole meeting.
func (m Meeting) Invitation(site Site, method string, stamp time.Time) []byte {
	return m.calendar(site, method, stamp)
}

// OccurrenceCancellation is METHOD CANCEL for one occurrence of a series,
// named by its RECURRENCE-ID (RFC 5546 section 3.2.5).
func (m Meeting) OccurrenceCancellation(site Site, originalStart time.Time, stamp time.Time) []byte {
	cal := newCalendar(MethodCancel)
	loc := m.Zone()
	addTimeZone(cal, loc, originalStart, originalStart.Add(m.Duration()))
	event := m.event(cal, site, stamp)
	setTime(event, ics.ComponentPropertyRecurrenceId, originalStart, loc)
	setTime(event, ics.ComponentPropertyDtStart, originalStart, loc)
	setTime(event, ics.ComponentPropertyDtEnd, originalStart.Add(m.Duration()), loc)
	event.SetSummary(m.Topic)
	event.SetStatus(ics.ObjectStatusCancelled)
	return serialize(cal)
}

// serialize writes the calendar with CRLF line ends, as RFC 5545 section 3.1
// requires; the library's default is the platform's ("\n" on Linux).
func serialize(cal *ics.Calendar) []byte {
	return []byte(cal.Serialize(ics.WithNewLineWindows))
}

func newCalendar(method string) *ics.Calendar {
	cal := ics.NewCalendar()
	cal.SetProductId(icsProduct)
	cal.SetCalscale("GREGORIAN")
	if method != "" {
		cal.SetMethod(ics.Method(method))
	}
	return cal
}

// DTSTART and DTEND carry the TZID of the zone the host entered the meeting
// in, with a VTIMEZONE, rather than UTC: a recurrence rule repeats the
// wall-clock time of its DTSTART, so only a zoned DTSTART keeps a weekly
// 10:00 meeting at 10:00 once daylight saving time starts or ends (RFC 5545
// section 3.8.5.3). Meetings entered in UTC are written in UTC.
func (m Meeting) calendar(site Site, method string, stamp time.Time) []byte {
	cal := newCalendar(method)
	loc := m.Zone()
	addTimeZone(cal, loc, m.StartUTC, m.EndsUTC)

	master := m.event(cal, site, stamp)
	setTime(master, ics.ComponentPropertyDtStart, m.StartUTC, loc)
	setTime(master, ics.ComponentPropertyDtEnd, m.StartUTC.Add(m.Duration()), loc)
	if m.RRule != "" {
		master.AddRrule(m.RRule)
	}
	master.SetSummary(m.Topic)
	master.SetDescription(m.description(site, m.Agenda))
	if method == MethodCancel || m.CancelledAt != nil {
		master.SetStatus(ics.ObjectStatusCancelled)
	} else {
		master.SetStatus(ics.ObjectStatusConfirmed)
	}
	for _, o := range m.Overrides {
		if o.Cancelled {
			exdate, params := icsTime(o.OriginalStartUTC, loc)
			master.AddExdate(exdate, params...)
		}
	}
	if method == MethodCancel {
		return serialize(cal)
	}
	for _, o := range m.Overrides {
		if o.Cancelled {
			continue
		}
		event := m.event(cal, site, stamp)
		setTime(event, ics.ComponentPropertyRecurrenceId, o.OriginalStartUTC, loc)
		setTime(event, ics.ComponentPropertyDtStart, o.StartUTC, loc)
		setTime(event, ics.ComponentPropertyDtEnd, o.StartUTC.Add(time.Duration(o.DurationMinutes)*time.Minute), loc)
		event.SetSummary(o.Topic)
		event.SetDescription(m.description(site, o.Agenda))
		event.SetStatus(ics.ObjectStatusConfirmed)
	}
	return serialize(cal)
}

// event starts a VEVENT with what every event of the meeting shares.
func (m Meeting) event(cal *ics.Calendar, site Site, stamp time.Time) *ics.VEvent {
	event := cal.AddEvent(m.UID(site))
	event.SetDtStampTime(stamp)
	event.SetSequence(m.Sequence)
	event.SetURL(m.JoinURL(site))
	event.SetLocation(m.JoinURL(site))
	event.SetOrganizer(m.HostEmail, ics.WithCN(paramText(m.HostName)))
	for _, email := range m.Invitees {
		event.AddAttendee(email,
			ics.CalendarUserTypeIndividual,
			ics.ParticipationRoleReqParticipant,
			ics.ParticipationStatusNeedsAction,
			ics.WithRSVP(true))
	}
	return event
}

// description is the event's DESCRIPTION: the join link first, since it is
// what people look for in their calendar, then the agenda.
func (m Meeting) description(site Site, agenda string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Join the meeting: %s\nMeeting number: %s\n", m.JoinURL(site), m.Number)
	if agenda != "" {
		fmt.Fprintf(&b, "\nAgenda:\n%s\n", agenda)
	}
	return b.String()
}

// paramText makes a name safe as a parameter value such as CN: the library
// backslash-escapes , ; : in parameters, which RFC 5545 does not allow (it
// wants them quoted), so those characters become spaces; a name is only a
// label beside the address.
func paramText(name string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		switch r {
		case ',', ';', ':', '"', '\\':
			return ' '
		}
		return r
	}, name)), " ")
}

func setTime(event *ics.VEvent, prop ics.ComponentProperty, t time.Time, loc *time.Location) {
	value, params := icsTime(t, loc)
	event.SetProperty(prop, value, params...)
}

func icsTime(t time.Time, loc *time.Location) (string, []ics.PropertyParameter) {
	if loc == time.UTC {
		return t.UTC().Format(icsUTC), nil
	}
	return t.In(loc).Format(icsLocal), []ics.PropertyParameter{ics.WithTZID(loc.String())}
}

// addTimeZone adds the VTIMEZONE that RFC 5545 section 3.6.5 requires for
// every TZID used, built from Go's copy of the tz database for the years
// the meeting spans. Where the zone follows one yearly rule over those
// years (every zone with DST today), it is written as a STANDARD and a
// DAYLIGHT observance with a yearly RRULE, the form Outlook and Exchange
// read most reliably; otherwise as one observance per transition.
func addTimeZone(cal *ics.Calendar, loc *time.Location, from, to time.Time) {
	if loc == time.UTC {
		return
	}
	tz := cal.AddTimezone(loc.String())
	if to.Before(from) {
		to = from
	}
	begin := from.AddDate(-1, 0, 0)
	end := to.AddDate(1, 0, 0)
	transitions := zoneTransitions(loc, begin, end)

	// The observance in force at the start of the range, so that every
	// instant of the range has one.
	name, offset := begin.In(loc).Zone()
	initial := transition{at: begin, from: offset, to: offset, name: name, dst: begin.In(loc).IsDST()}
	if len(transitions) == 0 {
		addObservance(tz, initial, begin.In(loc).Format(icsLocal), "")
		return
	}
	if rules, ok := yearlyRules(transitions, begin, end); ok {
		for _, r := range rules {
			addObservance(tz, r.first, r.first.localStart(), r.rrule)
		}
		return
	}
	addObservance(tz, initial, begin.In(loc).Format(icsLocal), "")
	for _, tr := range transitions {
		addObservance(tz, tr, tr.localStart(), "")
	}
}

func addObservance(tz *ics.VTimezone, tr transition, dtstart, rrule string) {
	var c *ics.ComponentBase
	if tr.dst {
		d := &ics.Daylight{}
		tz.Components = append(tz.Components, d)
		c = &d.ComponentBase
	} else {
		c = &tz.AddStandard().ComponentBase
	}
	c.SetProperty(ics.ComponentPropertyDtStart, dtstart)
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(tr.from))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(tr.to))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), tr.name)
	if rrule != "" {
		c.AddRrule(rrule)
	}
}

func utcOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	if s := seconds % 60; s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, seconds/3600, seconds/60%60, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, seconds/3600, seconds/60%60)
}

// transition is a change of a zone's UTC offset.
type transition struct {
	at       time.Time // the instant of the change
	from, to int       // offsets before and after, in seconds
	name     string    // abbreviation after, e.g. CEST
	dst      bool      // daylight saving time after
}

// localStart is the observance's DTSTART: the wall-clock time of the change
// read with the offset before it (RFC 5545 section 3.6.5).
func (tr transition) localStart() string {
	return tr.at.UTC().Add(time.Duration(tr.from) * time.Second).Format(icsLocal)
}

// zoneTransitions finds the offset changes of loc between begin and end:
// Go exposes no list of them, so it probes day by day and narrows each
// change down to the second.
func zoneTransitions(loc *time.Location, begin, end time.Time) []transition {
	var out []transition
	_, prev := begin.In(loc).Zone()
	for day := begin; day.Before(end); day = day.Add(24 * time.Hour) {
		next := day.Add(24 * time.Hour)
		_, offset := next.In(loc).Zone()
		if offset == prev {
			continue
		}
		lo, hi := day, next // offset(lo) == prev, offset(hi) == offset
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			if _, o := mid.In(loc).Zone(); o == prev {
				lo = mid
			} else {
				hi = mid
			}
		}
		name, _ := hi.In(loc).Zone()
		out = append(out, transition{at: hi, from: prev, to: offset, name: name, dst: hi.In(loc).IsDST()})
		prev = offset
	}
	return out
}

type yearlyRule struct {
	first transition
	rrule string
}

// yearlyRules describes the transitions as "the nth (or last) weekday of a
// month at a local time" per kind, if one such rule fits every transition
// of that kind.
func yearlyRules(transitions []transition, begin, end time.Time) ([]yearlyRule, bool) {
	var rules []yearlyRule
	for _, dst := range []bool{true, false} {
		var ofKind []transition
		for _, tr := range transitions {
			if tr.dst == dst {
				ofKind = append(ofKind, tr)
			}
		}
		if len(ofKind) == 0 {
			continue
		}
		common := ruleCandidates(ofKind[0])
		for _, tr := range ofKind[1:] {
			if tr.from != ofKind[0].from || tr.to != ofKind[0].to || tr.name != ofKind[0].name {
				return nil, false
			}
			common = intersect(common, ruleCandidates(tr))
		}
		if len(common) == 0 {
			return nil, false
		}
		// A zone that stopped (or started) changing its clocks within the
		// range does not repeat yearly: a gap of more than a year between
		// changes (a yearly weekday rule moves by up to a week: "the
		// second Sunday of March" is 371 days after the year before), or at
		// either end of the range.
		year := 372 * 24 * time.Hour
		if ofKind[0].at.Sub(begin) > year || end.Sub(ofKind[len(ofKind)-1].at) > year {
			return nil, false
		}
		for i := 1; i < len(ofKind); i++ {
			if ofKind[i].at.Sub(ofKind[i-1].at) > year {
				return nil, false
			}
		}
		rule, _, _ := strings.Cut(common[0], "@")
		rules = append(rules, yearlyRule{first: ofKind[0], rrule: rule})
	}
	return rules, true
}

// ruleCandidates are the yearly rules a transition fits: the nth weekday of
// its month, and the last one when it falls in the month's final week.
func ruleCandidates(tr transition) []string {
	local := tr.at.UTC().Add(time.Duration(tr.from) * time.Second)
	day := local.Day()
	weekday := strings.ToUpper(local.Weekday().String()[:2])
	clock := local.Format("150405")
	rule := func(n int) string {
		return fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s@%s", int(local.Month()), n, weekday, clock)
	}
	out := []string{rule((day-1)/7 + 1)}
	if daysIn(local.Year(), local.Month())-day < 7 {
		out = append([]string{rule(-1)}, out...)
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
