package meetings

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

func TestRecurrenceRoundTripsThroughRRule(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	until := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		rec   Recurrence
		rrule string
		words string
	}{
		{"none", Recurrence{Repeat: RepeatNone}, "", "Does not repeat"},
		{"daily count", Recurrence{Repeat: RepeatDaily, Count: 5}, "FREQ=DAILY;COUNT=5", "Every day, 5 times"},
		// The end of 30 June in Berlin (CEST, +02:00) in UTC.
		{"daily until", Recurrence{Repeat: RepeatDaily, Until: until}, "FREQ=DAILY;UNTIL=20260630T215959Z", "Every day, until Tuesday 30 June 2026"},
		{"weekdays", Recurrence{Repeat: RepeatWeekdays, Count: 20}, "FREQ=WEEKLY;COUNT=20;BYDAY=MO,TU,WE,TH,FR", "Every weekday (Monday to Friday), 20 times"},
		{"weekly two days", Recurrence{Repeat: RepeatWeekly, Weekdays: []time.Weekday{time.Wednesday, time.Monday}, Count: 10},
			"FREQ=WEEKLY;COUNT=10;BYDAY=MO,WE", "Every week on Monday and Wednesday, 10 times"},
		{"weekly sunday last", Recurrence{Repeat: RepeatWeekly, Weekdays: []time.Weekday{time.Sunday, time.Tuesday, time.Friday}, Count: 1},
			"FREQ=WEEKLY;COUNT=1;BYDAY=TU,FR,SU", "Every week on Tuesday, Friday and Sunday, once"},
		{"monthly", Recurrence{Repeat: RepeatMonthly, Count: 12}, "FREQ=MONTHLY;COUNT=12", "Every month, 12 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rec.RRule(berlin)
			if got != tt.rrule {
				t.Fatalf("RRule = %q, want %q", got, tt.rrule)
			}
			back, err := ParseRRule(got, berlin)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.rec
			want.Weekdays = sortedWeekdays(want.Weekdays)
			if len(want.Weekdays) == 0 {
				want.Weekdays = nil
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("ParseRRule(%q) = %+v, want %+v", got, back, want)
			}
			if words := back.Describe(); words != tt.words {
				t.Errorf("Describe = %q, want %q", words, tt.words)
			}
		})
	}
}

func TestMonthlyWordsNameTheDay(t *testing.T) {
	r := Recurrence{Repeat: RepeatMonthly, Count: 3}
	if got := r.DescribeFor(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)); got != "Every month on day 15, 3 times" {
		t.Errorf("DescribeFor = %q", got)
	}
}

// The library on its own, given a DTSTART in a zone, repeats the local wall
// clock too; the test pins that down so an upgrade that changes it is seen.
// The portal still expands on floating times (see series.newRule) so that a
// time skipped by a DST change follows RFC 5545, which the library does not
// promise.
func TestRRuleLibraryRepeatsLocalTimeAcrossDST(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	r, err := rrule.NewRRule(rrule.ROption{Freq: rrule.WEEKLY, Count: 3, Dtstart: time.Date(2026, 3, 22, 10, 0, 0, 0, berlin)})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range r.All() {
		if got.In(berlin).Hour() != 10 {
			t.Errorf("occurrence %s is not at 10:00 Berlin time", got)
		}
	}
}

func TestWeeklySeriesKeepsItsLocalTimeAcrossDST(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	// Mondays 10:00 in Berlin from 16 March 2026: Berlin moves to summer
	// time on 29 March, New York already on 8 March.
	start, _ := wallClock(berlin, 2026, 3, 16, 10, 0)
	s := series{start: start, loc: berlin, rule: Recurrence{Repeat: RepeatWeekly, Weekdays: []time.Weekday{time.Monday}, Count: 4}.RRule(berlin)}
	got, err := s.all()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ utc, newYork string }{
		{"2026-03-16T09:00:00Z", "2026-03-16 05:00 EDT"},
		{"2026-03-23T09:00:00Z", "2026-03-23 05:00 EDT"},
		{"2026-03-30T08:00:00Z", "2026-03-30 04:00 EDT"}, // Berlin now CEST: same 10:00 local, one hour earlier in UTC
		{"2026-04-06T08:00:00Z", "2026-04-06 04:00 EDT"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d occurrences, want %d", len(got), len(want))
	}
	for i, occ := range got {
		if occ.In(berlin).Format("15:04") != "10:00" {
			t.Errorf("occurrence %d at %s Berlin time", i, occ.In(berlin).Format("15:04"))
		}
		if occ.UTC().Format(time.RFC3339) != want[i].utc || occ.In(newYork).Format("2006-01-02 15:04 MST") != want[i].newYork {
			t.Errorf("occurrence %d = %s / %s, want %s / %s", i, occ.UTC().Format(time.RFC3339), occ.In(newYork).Format("2006-01-02 15:04 MST"), want[i].utc, want[i].newYork)
		}
	}

	between, err := s.between(time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(between) != 1 || !between[0].Equal(got[1]) {
		t.Errorf("between = %v, want only the second occurrence (the window ends as the third starts)", between)
	}
}

func TestDailySeriesThroughTheSkippedHourMovesForward(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	start, _ := wallClock(berlin, 2026, 3, 28, 2, 30)
	s := series{start: start, loc: berlin, rule: Recurrence{Repeat: RepeatDaily, Count: 3}.RRule(berlin)}
	got, err := s.all()
	if err != nil {
		t.Fatal(err)
	}
	var local []string
	for _, occ := range got {
		local = append(local, occ.In(berlin).Format("01-02 15:04 MST"))
	}
	want := []string{"03-28 02:30 CET", "03-29 03:30 CEST", "03-30 02:30 CEST"}
	if !reflect.DeepEqual(local, want) {
		t.Errorf("occurrences %v, want %v", local, want)
	}
}

func TestSeriesOfMoreThanAHundredIsRefused(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		rec  Recurrence
		want error
	}{
		{"count 100", Recurrence{Repeat: RepeatDaily, Count: 100}, nil},
		{"until day 100", Recurrence{Repeat: RepeatDaily, Until: time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)}, nil},
		{"until day 101", Recurrence{Repeat: RepeatDaily, Until: time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC)}, ErrTooManyOccurrences},
		{"until 2099", Recurrence{Repeat: RepeatDaily, Until: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrTooManyOccurrences},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := series{start: start, loc: time.UTC, rule: tt.rec.RRule(time.UTC)}.all()
			if !errors.Is(err, tt.want) {
				t.Errorf("all() error = %v, want %v", err, tt.want)
			}
		})
	}
}
