package meetings

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Repeat is how a meeting repeats, as chosen on the Schedule form.
type Repeat string

const (
	RepeatNone     Repeat = "none"
	RepeatDaily    Repeat = "daily"
	RepeatWeekdays Repeat = "weekdays" // Monday to Friday
	RepeatWeekly   Repeat = "weekly"   // on chosen days of the week
	RepeatMonthly  Repeat = "monthly"  // on the start's day of the month
)

// MaxOccurrences bounds a series, whether it ends by a count or a date.
const MaxOccurrences = 100

// ErrTooManyOccurrences refuses a series of more than MaxOccurrences.
var ErrTooManyOccurrences = fmt.Errorf("a series has at most %d occurrences", MaxOccurrences)

// Recurrence is a repeat rule in the terms of the form. It is stored as an
// RFC 5545 RRULE whose DTSTART is the meeting's start in its time zone.
type Recurrence struct {
	Repeat   Repeat
	Weekdays []time.Weekday // RepeatWeekly only: the days, Sunday = 0
	// A series ends after Count occurrences or on Until, a date in the
	// meeting's zone (its time of day is ignored); exactly one is set.
	Count int
	Until time.Time
}

var rruleDays = map[time.Weekday]rrule.Weekday{
	time.Monday: rrule.MO, time.Tuesday: rrule.TU, time.Wednesday: rrule.WE,
	time.Thursday: rrule.TH, time.Friday: rrule.FR, time.Saturday: rrule.SA, time.Sunday: rrule.SU,
}

var workWeek = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// RRule returns the RRULE value (without "RRULE:") for a series in loc, ""
// for a meeting that does not repeat. UNTIL is the end of the last day in
// loc, written in UTC as RFC 5545 section 3.3.10 requires when DTSTART has
// a TZID.
func (r Recurrence) RRule(loc *time.Location) string {
	var opt rrule.ROption
	switch r.Repeat {
	case RepeatDaily:
		opt.Freq = rrule.DAILY
	case RepeatWeekdays:
		opt.Freq = rrule.WEEKLY
		for _, d := range workWeek {
			opt.Byweekday = append(opt.Byweekday, rruleDays[d])
		}
	case RepeatWeekly:
		opt.Freq = rrule.WEEKLY
		for _, d := range sortedWeekdays(r.Weekdays) {
			opt.Byweekday = append(opt.Byweekday, rruleDays[d])
		}
	case RepeatMonthly:
		opt.Freq = rrule.MONTHLY
	default:
		return ""
	}
	if r.Count > 0 {
		opt.Count = r.Count
	} else {
		y, m, d := r.Until.Date()
		last, _ := wallClock(loc, y, m, d, 23, 59)
		opt.Until = last.Add(59 * time.Second).UTC()
	}
	return opt.RRuleString()
}

// ParseRRule reads back an RRULE written by Recurrence.RRule, for the edit
// form and for the words on the meeting page.
func ParseRRule(value string, loc *time.Location) (Recurrence, error) {
	if value == "" {
		return Recurrence{Repeat: RepeatNone}, nil
	}
	opt, err := rrule.StrToROption(value)
	if err != nil {
		return Recurrence{}, fmt.Errorf("parse RRULE %q: %w", value, err)
	}
	r := Recurrence{Count: opt.Count}
	if !opt.Until.IsZero() {
		u := opt.Until.In(loc)
		r.Until = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	}
	var days []time.Weekday
	for _, wd := range opt.Byweekday {
		for d, rd := range rruleDays {
			if rd.Day() == wd.Day() {
				days = append(days, d)
			}
		}
	}
	days = sortedWeekdays(days)
	switch {
	case opt.Freq == rrule.DAILY:
		r.Repeat = RepeatDaily
	case opt.Freq == rrule.WEEKLY && slices.Equal(days, workWeek):
		r.Repeat = RepeatWeekdays
	case opt.Freq == rrule.WEEKLY:
		r.Repeat, r.Weekdays = RepeatWeekly, days
	case opt.Freq == rrule.MONTHLY:
		r.Repeat = RepeatMonthly
	default:
		return Recurrence{}, fmt.Errorf("parse RRULE %q: unsupported frequency", value)
	}
	return r, nil
}

// sortedWeekdays orders days Monday first, as the pages show them.
func sortedWeekdays(days []time.Weekday) []time.Weekday {
	out := slices.Clone(days)
	slices.SortFunc(out, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })
	return slices.Compact(out)
}

// series is a meeting's timing: enough to list its occurrences.
type series struct {
	start time.Time // first occurrence
	loc   *time.Location
	rule  string // RRULE value, "" for one-off
}

// newRule builds the library's rule on floating times (see floating): the
// library then repeats wall-clock times, and wallClock alone decides what
// they are as instants, including across DST changes.
func (s series) newRule() (*rrule.RRule, error) {
	opt, err := rrule.StrToROption(s.rule)
	if err != nil {
		return nil, fmt.Errorf("parse RRULE %q: %w", s.rule, err)
	}
	opt.Dtstart = floating(s.start, s.loc)
	if !opt.Until.IsZero() {
		opt.Until = floating(opt.Until, s.loc)
	}
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, fmt.Errorf("build RRULE %q: %w", s.rule, err)
	}
	return r, nil
}

// between returns the starts, as instants, of the occurrences that start in
// [from, to), in order.
func (s series) between(from, to time.Time) ([]time.Time, error) {
	if s.rule == "" {
		if !s.start.Before(from) && s.start.Before(to) {
			return []time.Time{s.start}, nil
		}
		return nil, nil
	}
	r, err := s.newRule()
	if err != nil {
		return nil, err
	}
	// Floating and real times differ by the zone's offset (at most a
	// day), so search a wider floating window and filter on instants.
	var out []time.Time
	for _, f := range r.Between(floating(from, s.loc).Add(-26*time.Hour), floating(to, s.loc).Add(26*time.Hour), true) {
		if t := unfloat(f, s.loc); !t.Before(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	return out, nil
}

// all returns every occurrence's start; a series of more than
// MaxOccurrences is ErrTooManyOccurrences (never expanded further, so a
// daily rule ending in 2099 costs nothing).
func (s series) all() ([]time.Time, error) {
	if s.rule == "" {
		return []time.Time{s.start}, nil
	}
	r, err := s.newRule()
	if err != nil {
		return nil, err
	}
	var out []time.Time
	next := r.Iterator()
	for f, ok := next(); ok; f, ok = next() {
		if len(out) == MaxOccurrences {
			return nil, ErrTooManyOccurrences
		}
		out = append(out, unfloat(f, s.loc))
	}
	if len(out) == 0 {
		return nil, errors.New("the rule has no occurrence")
	}
	return out, nil
}

// Describe is a recurrence in words for the meeting page, such as "Every
// week on Monday and Wednesday, 10 times".
func (r Recurrence) Describe() string {
	var what string
	switch r.Repeat {
	case RepeatDaily:
		what = "Every day"
	case RepeatWeekdays:
		what = "Every weekday (Monday to Friday)"
	case RepeatWeekly:
		names := make([]string, 0, len(r.Weekdays))
		for _, d := range sortedWeekdays(r.Weekdays) {
			names = append(names, d.String())
		}
		what = "Every week on " + joinWords(names)
	case RepeatMonthly:
		what = "Every month"
	default:
		return "Does not repeat"
	}
	switch {
	case r.Count == 1:
		return what + ", once"
	case r.Count > 1:
		return fmt.Sprintf("%s, %d times", what, r.Count)
	default:
		return what + ", until " + r.Until.Format("Monday 2 January 2006")
	}
}

// DescribeFor is Describe with the day of the month for monthly meetings,
// which the rule takes from the meeting's start.
func (r Recurrence) DescribeFor(start time.Time) string {
	text := r.Describe()
	if r.Repeat == RepeatMonthly {
		text = strings.Replace(text, "Every month", fmt.Sprintf("Every month on day %d", start.Day()), 1)
	}
	return text
}

func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	default:
		return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
	}
}
