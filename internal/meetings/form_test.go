package meetings

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScheduleFormValidation(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	// Monday 16 March 2026, 09:00 in Berlin.
	now := time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC)
	required := url.Values{"topic": {"Weekly sync"}, "date": {"2026-03-18"}, "start_time": {"10:00"}, "duration": {"30"}}
	with := func(changes map[string][]string) url.Values {
		v := url.Values{}
		for k, vs := range required {
			v[k] = vs
		}
		for k, vs := range changes {
			if vs == nil {
				delete(v, k)
			} else {
				v[k] = vs
			}
		}
		return v
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = "person" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + "@" + string(rune('a'+i/26)) + ".example.com"
	}

	tests := []struct {
		name   string
		values url.Values
		errors []string // the fields with a message, sorted
	}{
		{"only the required fields filled", required, nil},
		{"everything empty", url.Values{}, []string{"date", "duration", "start_time", "topic"}},
		{"topic of spaces", with(map[string][]string{"topic": {"   "}}), []string{"topic"}},
		{"topic of 200 characters", with(map[string][]string{"topic": {strings.Repeat("é", 200)}}), nil},
		{"topic of 201 characters", with(map[string][]string{"topic": {strings.Repeat("é", 201)}}), []string{"topic"}},
		{"date not a date", with(map[string][]string{"date": {"18/03/2026"}}), []string{"date"}},
		{"time not a time", with(map[string][]string{"start_time": {"10h"}}), []string{"start_time"}},
		{"date in the past", with(map[string][]string{"date": {"2026-03-15"}}), []string{"date"}},
		{"earlier today", with(map[string][]string{"date": {"2026-03-16"}, "start_time": {"08:59"}}), []string{"start_time"}},
		{"this very minute", with(map[string][]string{"date": {"2026-03-16"}, "start_time": {"09:00"}}), nil},
		{"skipped by DST", with(map[string][]string{"date": {"2026-03-29"}, "start_time": {"02:30"}}), []string{"start_time"}},
		{"repeated by DST is the first", with(map[string][]string{"date": {"2026-10-25"}, "start_time": {"02:30"}}), nil},
		{"duration 14", with(map[string][]string{"duration": {"14"}}), []string{"duration"}},
		{"duration 15", with(map[string][]string{"duration": {"15"}}), nil},
		{"duration 1440", with(map[string][]string{"duration": {"1440"}}), nil},
		{"duration 1441", with(map[string][]string{"duration": {"1441"}}), []string{"duration"}},
		{"duration words", with(map[string][]string{"duration": {"an hour"}}), []string{"duration"}},
		{"recurrence unknown", with(map[string][]string{"recurrence": {"yearly"}}), []string{"recurrence"}},
		{"recurrence without end", with(map[string][]string{"recurrence": {"daily"}}), []string{"recurrence_end"}},
		{"daily 100 times", with(map[string][]string{"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"100"}}), nil},
		{"daily 101 times", with(map[string][]string{"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"101"}}), []string{"recurrence_count"}},
		{"daily until a date too far", with(map[string][]string{"recurrence": {"daily"}, "recurrence_end": {"until"}, "recurrence_until": {"2026-12-31"}}), []string{"recurrence_until"}},
		{"daily until before start", with(map[string][]string{"recurrence": {"daily"}, "recurrence_end": {"until"}, "recurrence_until": {"2026-03-17"}}), []string{"recurrence_until"}},
		{"weekly without days", with(map[string][]string{"recurrence": {"weekly"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}}), []string{"recurrence_days"}},
		{"weekly not on the start's day", with(map[string][]string{"recurrence": {"weekly"}, "recurrence_days": {"mon", "fri"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}}), []string{"recurrence_days"}},
		{"weekly on the start's day", with(map[string][]string{"recurrence": {"weekly"}, "recurrence_days": {"mon", "wed"}, "recurrence_end": {"until"}, "recurrence_until": {"2026-06-30"}}), nil},
		{"weekly bad day", with(map[string][]string{"recurrence": {"weekly"}, "recurrence_days": {"wed", "someday"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}}), []string{"recurrence_days"}},
		{"weekdays from a Saturday", with(map[string][]string{"date": {"2026-03-21"}, "recurrence": {"weekdays"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}}), []string{"recurrence"}},
		{"monthly", with(map[string][]string{"recurrence": {"monthly"}, "recurrence_end": {"count"}, "recurrence_count": {"12"}}), nil},
		{"invitees fine", with(map[string][]string{"invitees": {"ann@example.com, Bob <bob@example.com>;\n\"Lee, Cy\" <cy@example.com>\r\n"}}), nil},
		{"invitee not an address", with(map[string][]string{"invitees": {"ann@example.com, not-an-address"}}), []string{"invitees"}},
		{"201 invitees", with(map[string][]string{"invitees": {strings.Join(many, "\n")}}), []string{"invitees"}},
		{"agenda of 5000", with(map[string][]string{"agenda": {strings.Repeat("a", 5000)}}), nil},
		{"agenda of 5001", with(map[string][]string{"agenda": {strings.Repeat("a", 5001)}}), []string{"agenda"}},
		{"guests", with(map[string][]string{"who_can_join": {"guests"}}), nil},
		{"who can join unknown", with(map[string][]string{"who_can_join": {"everyone"}}), []string{"who_can_join"}},
		{"several problems at once", with(map[string][]string{"topic": {""}, "duration": {"5"}, "who_can_join": {"x"}}), []string{"duration", "topic", "who_can_join"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := NewScheduleForm(tt.values)
			errs := form.Validate(now, berlin)
			var fields []string
			for field, msg := range errs {
				if msg == "" {
					t.Errorf("field %s has an empty message", field)
				}
				fields = append(fields, field)
			}
			slices.Sort(fields)
			if !reflect.DeepEqual(fields, tt.errors) {
				t.Errorf("errors on %v, want %v: %v", fields, tt.errors, errs)
			}
			// Every value comes back as typed, whatever the outcome.
			if form.Topic != tt.values.Get("topic") || form.Invitees != tt.values.Get("invitees") || form.Agenda != tt.values.Get("agenda") ||
				form.Date != tt.values.Get("date") || form.Duration != tt.values.Get("duration") || !slices.Equal(form.RecurrenceDays, tt.values["recurrence_days"]) {
				t.Errorf("values not kept: %+v", form)
			}
		})
	}
}

func TestValidFormGivesTheMeeting(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	now := time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC)
	form := NewScheduleForm(url.Values{
		"topic": {"  Planning  "}, "date": {"2026-03-18"}, "start_time": {"10:00"}, "duration": {"45"},
		"recurrence": {"weekly"}, "recurrence_days": {"wed", "mon"}, "recurrence_end": {"count"}, "recurrence_count": {"6"},
		"invitees": {"Ann@Example.com, bob@example.com\nann@example.COM"}, "agenda": {"1. Budget\r\n2. Hiring\r\n"},
		"who_can_join": {"guests"},
	})
	if errs := form.Validate(now, berlin); len(errs) > 0 {
		t.Fatal(errs)
	}
	d := form.Details()
	want := Details{
		Topic: "Planning", Start: time.Date(2026, 3, 18, 10, 0, 0, 0, berlin), Duration: 45 * time.Minute,
		Recurrence: Recurrence{Repeat: RepeatWeekly, Weekdays: []time.Weekday{time.Monday, time.Wednesday}, Count: 6},
		Invitees:   []string{"ann@example.com", "bob@example.com"}, Agenda: "1. Budget\n2. Hiring", GuestsAllowed: true,
	}
	if !d.Start.Equal(want.Start) || d.TimeZone() != "Europe/Berlin" {
		t.Errorf("start %s in %s, want %s", d.Start, d.TimeZone(), want.Start)
	}
	d.Start = want.Start
	if !reflect.DeepEqual(d, want) {
		t.Errorf("details\n%+v\nwant\n%+v", d, want)
	}
}

func TestEditFormShowsTheMeetingInTheViewersZone(t *testing.T) {
	newYork := mustLoad(t, "America/New_York")
	m := Meeting{
		Topic: "Sync", StartUTC: time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin", DurationMinutes: 30,
		RRule: "FREQ=WEEKLY;COUNT=4;BYDAY=WE", Invitees: []string{"a@example.com", "b@example.com"}, GuestsAllowed: true,
	}
	f := FormFor(m, newYork)
	if f.Date != "2026-03-18" || f.StartTime != "05:00" || f.Recurrence != "weekly" || !f.HasDay("wed") || f.RecurrenceCount != "4" ||
		f.WhoCanJoin != JoinGuests || f.Invitees != "a@example.com\nb@example.com" {
		t.Errorf("edit form %+v", f)
	}
	// A series that started in the past can be saved with its start unchanged.
	if errs := f.Validate(time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), newYork); len(errs) > 0 {
		t.Errorf("unchanged past start refused: %v", errs)
	}
}

func TestParseInviteesNamesTheBadOnes(t *testing.T) {
	got, problem := ParseInvitees("ann@example.com; foo, bar")
	if !reflect.DeepEqual(got, []string{"ann@example.com"}) || problem != `These are not e-mail addresses: "foo", "bar".` {
		t.Errorf("got %v, %q", got, problem)
	}
}

func TestGroupedNumber(t *testing.T) {
	for in, want := range map[string]string{"123456789": "123 456 789", "1234567890": "1234 567 890", "12345678901": "12 345 678 901"} {
		if got := GroupedNumber(in); got != want {
			t.Errorf("GroupedNumber(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestInviteesAreComparedAsAccountAddressesAre(t *testing.T) {
	got, problem := ParseInvitees("B.Simon@Contoso.com, b.simon@contoso.com; Ann Lee <ANN@contoso.com>")
	if problem != "" || !slices.Equal(got, []string{"b.simon@contoso.com", "ann@contoso.com"}) {
		t.Fatalf("ParseInvitees = %q, %q", got, problem)
	}
	m := Meeting{Invitees: got}
	for email, want := range map[string]bool{
		"b.simon@contoso.com": true,
		"B.SIMON@contoso.com": true,
		// U+0130 lower-cases to i + U+0307 under RFC 8265, not to i:
		// strings.ToLower would have made this b.simon and invited them.
		"b.s\u0130mon@contoso.com": false,
		"ann@contoso.com":          true,
		"someone@contoso.com":      false,
	} {
		if m.IsInvited(email) != want {
			t.Errorf("IsInvited(%q) = %v, want %v", email, !want, want)
		}
	}
}
