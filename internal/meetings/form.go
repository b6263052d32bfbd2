package meetings

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meetings-portal/portal/internal/identifier"
)

// Limits of the Schedule form, from the issue.
const (
	MaxTopic       = 200
	MaxAgenda      = 5000
	MinDuration    = 15
	MaxDuration    = 1440
	MaxInvitees    = 200
	DefaultMinutes = 60
)

// Who can join, as the form's who_can_join values.
const (
	JoinMembers = "members" // people signed in to this site
	JoinGuests  = "guests"  // anyone with the link; guests wait in the lobby
)

// How a series ends, as the form's recurrence_end values.
const (
	EndAfterCount = "count"
	EndOnDate     = "until"
)

// FieldErrors are the form's problems keyed by the name of the input they
// belong beside, so the template can show each message next to its field.
type FieldErrors map[string]string

// Details is a validated meeting as the store takes it.
type Details struct {
	Topic         string
	Start         time.Time // the first occurrence, in the zone it was entered in
	Duration      time.Duration
	Recurrence    Recurrence
	Invitees      []string // lower-cased, de-duplicated, in the order entered
	Agenda        string
	GuestsAllowed bool
}

// TimeZone is the IANA name of the zone the meeting was entered in.
func (d Details) TimeZone() string { return d.Start.Location().String() }

// ScheduleForm is the Schedule (and Edit) form as typed: every value is kept
// as text so that a refused form comes back exactly as it was sent.
type ScheduleForm struct {
	Topic           string
	Date            string   // date: YYYY-MM-DD in the user's zone
	StartTime       string   // start_time: HH:MM in the user's zone
	Duration        string   // duration: minutes
	Recurrence      string   // recurrence: none, daily, weekdays, weekly, monthly
	RecurrenceDays  []string // recurrence_days: mon … sun, for weekly
	RecurrenceEnd   string   // recurrence_end: count or until
	RecurrenceCount string   // recurrence_count
	RecurrenceUntil string   // recurrence_until: YYYY-MM-DD
	Invitees        string   // invitees: addresses separated by commas, semicolons or lines
	Agenda          string
	WhoCanJoin      string // who_can_join: members or guests

	// OriginalStart is set when editing: a start left as it was may be in
	// the past (a series that began last week), a changed one may not.
	OriginalStart time.Time

	details Details
}

// NewScheduleForm reads the form's inputs.
func NewScheduleForm(values url.Values) *ScheduleForm {
	return &ScheduleForm{
		Topic:           values.Get("topic"),
		Date:            strings.TrimSpace(values.Get("date")),
		StartTime:       strings.TrimSpace(values.Get("start_time")),
		Duration:        strings.TrimSpace(values.Get("duration")),
		Recurrence:      values.Get("recurrence"),
		RecurrenceDays:  values["recurrence_days"],
		RecurrenceEnd:   values.Get("recurrence_end"),
		RecurrenceCount: strings.TrimSpace(values.Get("recurrence_count")),
		RecurrenceUntil: strings.TrimSpace(values.Get("recurrence_until")),
		Invitees:        values.Get("invitees"),
		Agenda:          values.Get("agenda"),
		WhoCanJoin:      values.Get("who_can_join"),
	}
}

// FormFor fills the Edit form from a meeting, its times shown in loc (the
// viewer's zone).
func FormFor(m Meeting, loc *time.Location) *ScheduleForm {
	start := m.StartUTC.In(loc)
	rec, _ := ParseRRule(m.RRule, mustZone(m.TimeZone))
	f := &ScheduleForm{
		Topic:         m.Topic,
		Date:          start.Format(dateLayout),
		StartTime:     start.Format(timeLayout),
		Duration:      strconv.Itoa(m.DurationMinutes),
		Recurrence:    string(rec.Repeat),
		Invitees:      strings.Join(m.Invitees, "\n"),
		Agenda:        m.Agenda,
		WhoCanJoin:    JoinMembers,
		OriginalStart: m.StartUTC,
	}
	if m.GuestsAllowed {
		f.WhoCanJoin = JoinGuests
	}
	for _, d := range rec.Weekdays {
		f.RecurrenceDays = append(f.RecurrenceDays, dayInputs[d])
	}
	switch {
	case rec.Count > 0:
		f.RecurrenceEnd, f.RecurrenceCount = EndAfterCount, strconv.Itoa(rec.Count)
	case !rec.Until.IsZero():
		f.RecurrenceEnd, f.RecurrenceUntil = EndOnDate, rec.Until.Format(dateLayout)
	}
	return f
}

// HasDay reports whether the weekly day input (mon … sun) is checked.
func (f *ScheduleForm) HasDay(day string) bool { return slices.Contains(f.RecurrenceDays, day) }

const (
	dateLayout = "2006-01-02"
	timeLayout = "15:04"
)

var dayInputs = map[time.Weekday]string{
	time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed", time.Thursday: "thu",
	time.Friday: "fri", time.Saturday: "sat", time.Sunday: "sun",
}

// Validate checks the form against the rules of the issue, with dates and
// times read in loc (the user's zone) and "the past" measured from now. With
// no errors, Details returns the meeting.
//
// A start time that does not exist on its date (the hour skipped when clocks
// go forward) is refused with a message saying so, since a person who typed
// it most likely did not mean the hour after. A time that occurs twice (when
// clocks go back) is its first occurrence, as in RFC 5545 and therefore in
// every calendar the invitation lands in.
func (f *ScheduleForm) Validate(now time.Time, loc *time.Location) FieldErrors {
	errs := FieldErrors{}
	var d Details

	d.Topic = strings.TrimSpace(f.Topic)
	switch n := utf8.RuneCountInString(d.Topic); {
	case n == 0:
		errs["topic"] = "Enter a topic."
	case n > MaxTopic:
		errs["topic"] = fmt.Sprintf("The topic is at most %d characters (it has %d).", MaxTopic, n)
	}

	date, dateErr := parseDate(f.Date)
	if dateErr != "" {
		errs["date"] = dateErr
	}
	clock, timeErr := time.Parse(timeLayout, f.StartTime)
	switch {
	case f.StartTime == "":
		errs["start_time"] = "Enter a start time."
	case timeErr != nil:
		errs["start_time"] = "Enter the start time as HH:MM, for example 09:30."
	}
	if _, bad := errs["date"]; !bad && timeErr == nil {
		start, kind := wallClock(loc, date.Year(), date.Month(), date.Day(), clock.Hour(), clock.Minute())
		d.Start = start
		unchanged := !f.OriginalStart.IsZero() && start.Equal(f.OriginalStart)
		switch {
		case kind == localGap:
			errs["start_time"] = fmt.Sprintf("%s does not exist on %s in %s: the clocks go forward that night. Choose another time.",
				f.StartTime, date.Format("Monday 2 January 2006"), loc)
		case unchanged:
		case date.Before(civilDate(now.In(loc))):
			errs["date"] = "This date is in the past."
		case start.Before(now.Truncate(time.Minute)):
			errs["start_time"] = "This time has already passed."
		}
	}

	minutes, err := strconv.Atoi(f.Duration)
	switch {
	case f.Duration == "":
		errs["duration"] = "Enter a duration in minutes."
	case err != nil:
		errs["duration"] = "Enter the duration as a number of minutes."
	case minutes < MinDuration || minutes > MaxDuration:
		errs["duration"] = fmt.Sprintf("A meeting lasts from %d to %d minutes (24 hours).", MinDuration, MaxDuration)
	default:
		d.Duration = time.Duration(minutes) * time.Minute
	}

	d.Recurrence = f.validateRecurrence(errs, d.Start, loc)

	invitees, problem := ParseInvitees(f.Invitees)
	if problem != "" {
		errs["invitees"] = problem
	}
	d.Invitees = invitees

	d.Agenda = strings.TrimSpace(strings.ReplaceAll(f.Agenda, "\r\n", "\n"))
	if n := utf8.RuneCountInString(d.Agenda); n > MaxAgenda {
		errs["agenda"] = fmt.Sprintf("The agenda is at most %d characters (it has %d).", MaxAgenda, n)
	}

	switch f.WhoCanJoin {
	case "", JoinMembers:
	case JoinGuests:
		d.GuestsAllowed = true
	default:
		errs["who_can_join"] = "Choose who can join."
	}

	if len(errs) == 0 {
		f.details = d
	}
	return errs
}

// validateRecurrence reads the recurrence inputs; start is zero when the
// date or time was refused, and then the checks tied to it are skipped.
func (f *ScheduleForm) validateRecurrence(errs FieldErrors, start time.Time, loc *time.Location) Recurrence {
	rec := Recurrence{Repeat: Repeat(f.Recurrence)}
	switch rec.Repeat {
	case "", RepeatNone:
		return Recurrence{Repeat: RepeatNone}
	case RepeatDaily, RepeatMonthly:
	case RepeatWeekdays:
		if !start.IsZero() && (start.Weekday() == time.Saturday || start.Weekday() == time.Sunday) {
			errs["recurrence"] = fmt.Sprintf("The first meeting is on a %s; a series on weekdays starts on a weekday.", start.Weekday())
		}
	case RepeatWeekly:
		for _, in := range f.RecurrenceDays {
			day, ok := weekdayOf(in)
			if !ok {
				errs["recurrence_days"] = "Choose days of the week."
				return rec
			}
			rec.Weekdays = append(rec.Weekdays, day)
		}
		rec.Weekdays = sortedWeekdays(rec.Weekdays)
		switch {
		case len(rec.Weekdays) == 0:
			errs["recurrence_days"] = "Choose at least one day of the week."
		case !start.IsZero() && !slices.Contains(rec.Weekdays, start.Weekday()):
			// RFC 5545 leaves a DTSTART outside its own rule undefined;
			// calendars disagree on whether it is an occurrence.
			errs["recurrence_days"] = fmt.Sprintf("The first meeting is on a %s: choose %s too, or another date.", start.Weekday(), start.Weekday())
		}
	default:
		errs["recurrence"] = "Choose how the meeting repeats."
		return rec
	}

	switch f.RecurrenceEnd {
	case EndAfterCount:
		n, err := strconv.Atoi(f.RecurrenceCount)
		if err != nil || n < 1 || n > MaxOccurrences {
			errs["recurrence_count"] = fmt.Sprintf("Enter a number of meetings from 1 to %d.", MaxOccurrences)
			return rec
		}
		rec.Count = n
	case EndOnDate:
		until, problem := parseDate(f.RecurrenceUntil)
		if problem != "" {
			errs["recurrence_until"] = problem
			return rec
		}
		rec.Until = until
		if start.IsZero() {
			return rec
		}
		if until.Before(civilDate(start)) {
			errs["recurrence_until"] = "The series cannot end before it starts."
			return rec
		}
		if _, err := (series{start: start, loc: loc, rule: rec.RRule(loc)}).all(); errors.Is(err, ErrTooManyOccurrences) {
			errs["recurrence_until"] = fmt.Sprintf("A series has at most %d meetings: choose an earlier end date.", MaxOccurrences)
		}
	default:
		errs["recurrence_end"] = "Choose when the series ends: after a number of meetings or on a date."
	}
	return rec
}

// Details is the validated meeting; only meaningful after Validate returned
// no errors.
func (f *ScheduleForm) Details() Details { return f.details }

func parseDate(s string) (time.Time, string) {
	if s == "" {
		return time.Time{}, "Enter a date."
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, "Enter the date as YYYY-MM-DD."
	}
	return d, ""
}

// civilDate is t's calendar date (in t's zone) as midnight UTC, the form's
// representation of a date.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func weekdayOf(input string) (time.Weekday, bool) {
	for day, name := range dayInputs {
		if name == input {
			return day, true
		}
	}
	return 0, false
}

// ParseInvitees reads the invitees box: addresses separated by commas,
// semicolons or line breaks (as pasted from Outlook or Gmail), optionally
// with display names ("Ann Lee <ann@example.com>"). It returns the
// addresses normalised as account e-mail addresses are (identifier: RFC
// 8265, so that an invitee is recognised when they sign in and look-alikes
// are not folded together) and de-duplicated in the order given, or a
// message for the field naming what is wrong.
func ParseInvitees(text string) ([]string, string) {
	var out, bad []string
	for _, item := range splitAddresses(text) {
		addr, err := mail.ParseAddress(item)
		if err != nil {
			bad = append(bad, item)
			continue
		}
		email, err := identifier.NormalizeEmail(addr.Address)
		if err != nil {
			bad = append(bad, item)
			continue
		}
		if !slices.Contains(out, email) {
			out = append(out, email)
		}
	}
	switch {
	case len(bad) == 1:
		return out, fmt.Sprintf("%q is not an e-mail address.", bad[0])
	case len(bad) > 1:
		quoted := make([]string, len(bad))
		for i, b := range bad {
			quoted[i] = strconv.Quote(b)
		}
		return out, "These are not e-mail addresses: " + strings.Join(quoted, ", ") + "."
	case len(out) > MaxInvitees:
		return out, fmt.Sprintf("At most %d invitees (there are %d).", MaxInvitees, len(out))
	}
	return out, ""
}

// splitAddresses splits on separators outside quotes and angle brackets, so
// that "Lee, Ann" <ann@example.com> stays one address.
func splitAddresses(text string) []string {
	var items []string
	var current strings.Builder
	quoted, angle := false, false
	flush := func() {
		if s := strings.TrimSpace(current.String()); s != "" {
			items = append(items, s)
		}
		current.Reset()
	}
	for _, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
		case r == '<' && !quoted:
			angle = true
		case r == '>' && !quoted:
			angle = false
		case (r == ',' || r == ';' || r == '\n' || r == '\r') && !quoted && !angle:
			flush()
			continue
		}
		current.WriteRune(r)
	}
	flush()
	return items
}
