package meetings

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/mail/mailtest"
)

func TestTimeZoneRoundTripAcrossDST(t *testing.T) {
	f := newFixture(t)
	berlin, newYork := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York")
	// Entered in Berlin: Mondays at 10:00 from 23 March (CET, +01:00)
	// for 3 weeks, across Berlin's change to CEST on 29 March.
	m := f.scheduled(t, url.Values{"date": {"2026-03-23"}, "recurrence": {"weekly"}, "recurrence_days": {"mon"}, "recurrence_end": {"count"}, "recurrence_count": {"3"}})

	var storedUTC string
	var storedZone string
	if err := f.pool.QueryRow(f.ctx, `SELECT to_char(start_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI'), time_zone FROM meetings WHERE site_id = $1 AND id = $2`,
		f.site.ID, m.ID).Scan(&storedUTC, &storedZone); err != nil {
		t.Fatal(err)
	}
	if storedUTC != "2026-03-23T09:00" || storedZone != "Europe/Berlin" {
		t.Errorf("stored %s in %s, want 2026-03-23T09:00 UTC in Europe/Berlin", storedUTC, storedZone)
	}
	if m.RRule != "FREQ=WEEKLY;COUNT=3;BYDAY=MO" {
		t.Errorf("RRULE %q", m.RRule)
	}

	// Shown to the invitee, whose zone is New York (already on EDT): the
	// home page's two weeks from Tuesday 17 March hold two of them, the
	// meeting page lists all three.
	f.clock.advance(24 * time.Hour)
	upcoming, err := f.store.Upcoming(f.ctx, ViewerOf(f.invitee))
	if err != nil {
		t.Fatal(err)
	}
	if len(upcoming) != 2 || !upcoming[1].Start.Equal(time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("upcoming %v, want the 23rd and the 30th", upcoming)
	}
	all, err := m.Occurrences(f.clock.now(), f.clock.now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var shown, local []string
	for _, occ := range all {
		shown = append(shown, occ.Start.In(newYork).Format("Mon 2 Jan 15:04 MST"))
		local = append(local, occ.Start.In(berlin).Format("15:04 MST"))
	}
	wantShown := []string{"Mon 23 Mar 05:00 EDT", "Mon 30 Mar 04:00 EDT", "Mon 6 Apr 04:00 EDT"}
	wantLocal := []string{"10:00 CET", "10:00 CEST", "10:00 CEST"}
	if !reflect.DeepEqual(shown, wantShown) || !reflect.DeepEqual(local, wantLocal) {
		t.Errorf("shown in New York %v (want %v), in Berlin %v (want %v)", shown, wantShown, local, wantLocal)
	}

	// The edit form, in New York, shows the same instant; saved back
	// unchanged it stays where it was.
	form := FormFor(m, newYork)
	if form.Date != "2026-03-23" || form.StartTime != "05:00" {
		t.Errorf("edit form in New York: %s %s", form.Date, form.StartTime)
	}
	if errs := form.Validate(f.clock.now(), newYork); len(errs) > 0 {
		t.Fatal(errs)
	}
	if !form.Details().Start.Equal(m.StartUTC) {
		t.Errorf("round trip through New York moved the start to %s", form.Details().Start)
	}
}

func TestInvitationsAreMailedAndUpdatedInPlace(t *testing.T) {
	f := newFixture(t)
	f.smtp.RefuseNext(mailtest.Temporary) // the first attempt is refused

	m := f.scheduled(t, url.Values{"invitees": {"bob@acme.example.com, ext@partner.example.org"}})
	f.sendMail(t)
	f.clock.advance(time.Hour)
	f.sendMail(t) // the retry
	got := f.smtp.Messages()
	if len(got) != 3 {
		t.Fatalf("%d messages after the retry, want 3 (two invitees and the host, each once)", len(got))
	}
	var to []string
	for _, r := range got {
		to = append(to, r.To...)
		p := mailtest.Parse(t, r.Data)
		checkInvitation(t, p, "REQUEST", 0, m)
		if subject, _ := p.Header.Subject(); subject != "Invitation: Weekly sync" {
			t.Errorf("subject %q", subject)
		}
		if !strings.Contains(p.Text, m.JoinURL(f.site)) || !strings.Contains(p.HTML, m.JoinURL(f.site)) {
			t.Error("the join link is missing from the text or HTML")
		}
	}
	slices.Sort(to)
	if want := []string{"ann.lee@acme.example.com", "bob@acme.example.com", "ext@partner.example.org"}; !reflect.DeepEqual(to, want) {
		t.Errorf("sent to %v, want %v", to, want)
	}

	// Changed: everyone gets SEQUENCE 1; the invitee taken off gets a CANCEL.
	details := f.form(t, mustLoad(t, "Europe/Berlin"), url.Values{"topic": {"Weekly sync (new room)"}, "date": {"2026-03-18"}, "start_time": {"11:00"}, "duration": {"30"}, "invitees": {"bob@acme.example.com"}})
	updated, err := f.store.Update(f.ctx, f.site, ViewerOf(f.host), m.Number, details)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Sequence != 1 {
		t.Errorf("sequence %d after an update, want 1", updated.Sequence)
	}
	f.sendMail(t)
	got = f.smtp.Messages()[3:]
	methods := map[string]string{}
	for _, r := range got {
		p := mailtest.Parse(t, r.Data)
		methods[r.To[0]] = p.CalendarMethod
		checkInvitation(t, p, p.CalendarMethod, 1, m)
	}
	if want := map[string]string{"ann.lee@acme.example.com": "REQUEST", "bob@acme.example.com": "REQUEST", "ext@partner.example.org": "CANCEL"}; !reflect.DeepEqual(methods, want) {
		t.Errorf("after the update: %v, want %v", methods, want)
	}

	// Cancelled: CANCEL with SEQUENCE 2.
	if _, err := f.store.Cancel(f.ctx, f.site, ViewerOf(f.host), m.Number); err != nil {
		t.Fatal(err)
	}
	f.sendMail(t)
	got = f.smtp.Messages()[6:]
	if len(got) != 2 {
		t.Fatalf("%d cancellations, want 2", len(got))
	}
	for _, r := range got {
		checkInvitation(t, mailtest.Parse(t, r.Data), "CANCEL", 2, m)
	}
	if _, err := f.store.Update(f.ctx, f.site, ViewerOf(f.host), m.Number, details); !errors.Is(err, ErrCancelled) {
		t.Errorf("update of a cancelled meeting: %v, want ErrCancelled", err)
	}
}

// checkInvitation checks a received invitation: its MIME layout, its
// method, and the calendar's UID, SEQUENCE and METHOD.
func checkInvitation(t *testing.T, p mailtest.Parsed, method string, sequence int, m Meeting) {
	t.Helper()
	want := []string{"multipart/mixed", "  multipart/alternative", "    text/plain", "    text/html", "    text/calendar", "  application/ics"}
	if !reflect.DeepEqual(p.Structure, want) {
		t.Errorf("MIME structure %v", p.Structure)
	}
	if p.CalendarMethod != method {
		t.Errorf("text/calendar method=%q, want %q", p.CalendarMethod, method)
	}
	c := parseICS(t, p.Calendar)
	ev := c["VCALENDAR/VEVENT#0"]
	if one(t, c["VCALENDAR"], "METHOD").Value != method || one(t, ev, "UID").Value != m.UID(testSite) ||
		one(t, ev, "SEQUENCE").Value != fmt.Sprint(sequence) {
		t.Errorf("calendar: METHOD %s UID %s SEQUENCE %s; want %s %s %d", one(t, c["VCALENDAR"], "METHOD").Value,
			one(t, ev, "UID").Value, one(t, ev, "SEQUENCE").Value, method, m.UID(testSite), sequence)
	}
	if string(p.Attachments["invite.ics"]) != string(p.Calendar) {
		t.Error("the invite.ics attachment differs from the text/calendar part")
	}
}

func TestOneOccurrenceChangedOrCancelled(t *testing.T) {
	f := newFixture(t)
	berlin := mustLoad(t, "Europe/Berlin")
	m := f.scheduled(t, url.Values{"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}})
	f.sendMail(t)
	second, _ := wallClock(berlin, 2026, 3, 19, 10, 0)
	third, _ := wallClock(berlin, 2026, 3, 20, 10, 0)

	moveTo := f.form(t, berlin, url.Values{"topic": {"Sync, later"}, "date": {"2026-03-19"}, "start_time": {"15:00"}, "duration": {"60"}})
	if _, err := f.store.UpdateOccurrence(f.ctx, f.site, ViewerOf(f.invitee), m.Number, second, moveTo); !errors.Is(err, ErrNotHost) {
		t.Errorf("invitee changing an occurrence: %v, want ErrNotHost", err)
	}
	if _, err := f.store.UpdateOccurrence(f.ctx, f.site, ViewerOf(f.host), m.Number, second.Add(time.Hour), moveTo); !errors.Is(err, ErrNotAnOccurrence) {
		t.Errorf("changing a time that is no occurrence: %v, want ErrNotAnOccurrence", err)
	}
	if _, err := f.store.UpdateOccurrence(f.ctx, f.site, ViewerOf(f.host), m.Number, second, moveTo); err != nil {
		t.Fatal(err)
	}
	updated, err := f.store.CancelOccurrence(f.ctx, f.site, ViewerOf(f.host), m.Number, third)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Sequence != 2 || len(updated.Overrides) != 2 {
		t.Errorf("sequence %d with %d overrides, want 2 and 2", updated.Sequence, len(updated.Overrides))
	}

	got, err := f.store.Get(f.ctx, f.site.ID, m.Number)
	if err != nil {
		t.Fatal(err)
	}
	occ, err := got.Occurrences(f.clock.now(), f.clock.now().AddDate(0, 0, 14))
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, o := range occ {
		list = append(list, o.Start.In(berlin).Format("02 15:04")+" "+o.Topic)
	}
	want := []string{"18 10:00 Weekly sync", "19 15:00 Sync, later", "21 10:00 Weekly sync", "22 10:00 Weekly sync"}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("occurrences %v, want %v", list, want)
	}

	f.sendMail(t)
	msgs := f.smtp.Messages()[2:] // after the two first invitations
	if len(msgs) != 4 {
		t.Fatalf("%d messages for the two changes, want 4", len(msgs))
	}
	changed, cancelled := mailtest.Parse(t, msgs[0].Data), mailtest.Parse(t, msgs[3].Data)
	if c := parseICS(t, changed.Calendar); changed.CalendarMethod != "REQUEST" || one(t, c["VCALENDAR/VEVENT#1"], "RECURRENCE-ID").Value != "20260319T100000" {
		t.Errorf("the change is not a REQUEST with the moved occurrence: %s", changed.Calendar)
	}
	if c := parseICS(t, cancelled.Calendar); cancelled.CalendarMethod != "CANCEL" || one(t, c["VCALENDAR/VEVENT#0"], "RECURRENCE-ID").Value != "20260320T100000" ||
		one(t, c["VCALENDAR/VEVENT#0"], "SEQUENCE").Value != "2" {
		t.Errorf("the cancellation is not a CANCEL of that occurrence: %s", cancelled.Calendar)
	}
}

func TestMeetingNumbersAreUniqueUnderConcurrentSchedules(t *testing.T) {
	tests := []struct {
		name      string
		generator func() func() (string, error)
	}{
		{"random numbers", func() func() (string, error) { return randomNumber }},
		// Every number is drawn twice, so half the inserts collide with a
		// concurrent one and must retry.
		{"every number drawn twice", func() func() (string, error) {
			var n atomic.Int64
			return func() (string, error) { return fmt.Sprint(100_000_000 + n.Add(1)/2), nil }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.newNumber = tt.generator()
			details := f.form(t, mustLoad(t, "Europe/Berlin"), url.Values{"topic": {"Sync"}, "date": {"2026-03-18"}, "start_time": {"10:00"}, "duration": {"30"}})
			const n = 50
			numbers := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					m, err := f.store.Schedule(f.ctx, f.site, ViewerOf(f.host), details)
					if err != nil {
						t.Error(err)
						return
					}
					numbers[i] = m.Number
				})
			}
			wg.Wait()
			valid := regexp.MustCompile(`^[1-9][0-9]{8,10}$`)
			seen := map[string]bool{}
			for _, number := range numbers {
				if !valid.MatchString(number) || seen[number] {
					t.Errorf("number %q is malformed or repeated", number)
				}
				seen[number] = true
			}
			var count int
			if err := f.pool.QueryRow(f.ctx, `SELECT count(DISTINCT number) FROM meetings WHERE site_id = $1`, f.site.ID).Scan(&count); err != nil || count != n {
				t.Errorf("%d distinct numbers stored (%v), want %d", count, err, n)
			}
		})
	}
}

func TestRandomNumbersDoNotFollowEachOther(t *testing.T) {
	seen := map[int]bool{}
	var previous int64
	for range 200 {
		s, err := randomNumber()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		fmt.Sscan(s, &n)
		if n < minNumber || n > maxNumber || (previous != 0 && (n-previous == 1 || previous-n == 1)) {
			t.Fatalf("number %d after %d", n, previous)
		}
		seen[len(s)] = true
		previous = n
	}
	if !seen[11] {
		t.Error("200 numbers without an 11-digit one")
	}
}

func TestAccessRules(t *testing.T) {
	f := newFixture(t)
	members := f.scheduled(t, nil)
	guests := f.scheduled(t, url.Values{"who_can_join": {"guests"}})
	cancelled := f.scheduled(t, nil)
	if _, err := f.store.Cancel(f.ctx, f.site, ViewerOf(f.host), cancelled.Number); err != nil {
		t.Fatal(err)
	}
	cancelled, _ = f.store.Get(f.ctx, f.site.ID, cancelled.Number)
	invitedUpperCase := ViewerOf(f.invitee)
	invitedUpperCase.Email = "BOB@acme.example.com"

	tests := []struct {
		name    string
		meeting Meeting
		viewer  Viewer
		want    Access
	}{
		{"host", members, ViewerOf(f.host), Access{Summary: true, Details: true, Join: JoinDirect, Control: true}},
		{"invitee", members, ViewerOf(f.invitee), Access{Summary: true, Details: true, Join: JoinDirect}},
		{"invitee by e-mail in another case", members, invitedUpperCase, Access{Summary: true, Details: true, Join: JoinDirect}},
		{"other user of the site", members, ViewerOf(f.member), Access{Summary: true, Join: JoinDirect}},
		{"attendee-role user", members, ViewerOf(f.attendee), Access{Summary: true, Join: JoinDirect}},
		{"visitor, members only", members, Visitor(f.site.ID), Access{Join: JoinSignIn}},
		{"visitor, guests allowed", guests, Visitor(f.site.ID), Access{Summary: true, Join: JoinSignInOrGuest}},
		{"user of another site with the invitee's address", members, ViewerOf(f.stranger), Access{Refusal: RefusedOtherSite}},
		{"visitor of another site", guests, Visitor(f.otherSite.ID), Access{Refusal: RefusedOtherSite}},
		{"cancelled, invitee", cancelled, ViewerOf(f.invitee), Access{Summary: true, Details: true, Refusal: RefusedCancelled}},
		{"cancelled, host", cancelled, ViewerOf(f.host), Access{Summary: true, Details: true, Control: true, Refusal: RefusedCancelled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MeetingAccess(tt.meeting, tt.viewer); got != tt.want {
				t.Errorf("MeetingAccess = %+v, want %+v", got, tt.want)
			}
		})
	}

	// The store never hands out another site's meeting.
	if _, err := f.store.Get(f.ctx, f.otherSite.ID, members.Number); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get on another site: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Cancel(f.ctx, f.otherSite, ViewerOf(f.stranger), members.Number); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel from another site: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Cancel(f.ctx, f.site, ViewerOf(f.member), members.Number); !errors.Is(err, ErrNotHost) {
		t.Errorf("Cancel by another user: %v, want ErrNotHost", err)
	}
}

func TestWhoMaySchedule(t *testing.T) {
	f := newFixture(t)
	details := f.form(t, time.UTC, url.Values{"topic": {"Sync"}, "date": {"2026-03-18"}, "start_time": {"10:00"}, "duration": {"30"}})
	tests := []struct {
		hosts  string
		viewer Viewer
		want   error
	}{
		{HostsAll, ViewerOf(f.attendee), nil},
		{HostsHostRole, ViewerOf(f.attendee), ErrCannotSchedule},
		{HostsHostRole, ViewerOf(f.member), nil},
		{HostsAll, Visitor(f.site.ID), ErrCannotSchedule},
		{HostsAll, ViewerOf(f.stranger), ErrCannotSchedule}, // a user of another site
	}
	for _, tt := range tests {
		if err := f.store.SaveSettings(f.ctx, f.site.ID, Settings{DefaultTimeZone: "UTC", Hosts: tt.hosts}); err != nil {
			t.Fatal(err)
		}
		settings, _ := f.store.Settings(f.ctx, f.site.ID)
		if tt.viewer.SiteID == f.site.ID && CanSchedule(settings, tt.viewer) != (tt.want == nil) {
			t.Errorf("hosts=%s, viewer %s: CanSchedule disagrees", tt.hosts, tt.viewer.Email)
		}
		if _, err := f.store.Schedule(f.ctx, f.site, tt.viewer, details); !errors.Is(err, tt.want) {
			t.Errorf("hosts=%s, viewer %q (role %s): Schedule error %v, want %v", tt.hosts, tt.viewer.Email, tt.viewer.Role, err, tt.want)
		}
	}
	if err := f.store.SaveSettings(f.ctx, f.site.ID, Settings{DefaultTimeZone: "UTC", Hosts: "admins"}); !errors.Is(err, ErrInvalidSetting) {
		t.Errorf("hosts=admins saved: %v", err)
	}
}

func TestUpcomingListsHostedAndInvitedForTwoWeeks(t *testing.T) {
	f := newFixture(t)
	f.scheduled(t, url.Values{"topic": {"Soon"}, "date": {"2026-03-20"}})
	f.scheduled(t, url.Values{"topic": {"Later"}, "date": {"2026-04-01"}}) // past the 14 days
	f.scheduled(t, url.Values{"topic": {"Daily"}, "date": {"2026-03-16"}, "start_time": {"09:30"},
		"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"20"}})
	f.scheduled(t, url.Values{"topic": {"Not for Bob"}, "invitees": {"cy@acme.example.com"}})
	gone := f.scheduled(t, url.Values{"topic": {"Cancelled"}})
	if _, err := f.store.Cancel(f.ctx, f.site, ViewerOf(f.host), gone.Number); err != nil {
		t.Fatal(err)
	}
	// The first daily meeting, 09:30-10:00 Berlin, is in progress at 08:45 UTC.
	f.clock.advance(45 * time.Minute)

	topics := func(v Viewer) map[string]int {
		t.Helper()
		list, err := f.store.Upcoming(f.ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for i, occ := range list {
			count[occ.Topic]++
			if i > 0 && occ.Start.Before(list[i-1].Start) {
				t.Errorf("not sorted: %s before %s", list[i-1].Start, occ.Start)
			}
		}
		return count
	}
	// 14 days from Monday 16 March 08:45 UTC: the daily meeting of the
	// 16th (in progress) to that of the 30th (07:30 UTC, in summer time).
	if got := topics(ViewerOf(f.invitee)); !reflect.DeepEqual(got, map[string]int{"Soon": 1, "Daily": 15}) {
		t.Errorf("invitee's upcoming: %v", got)
	}
	if got := topics(ViewerOf(f.host)); !reflect.DeepEqual(got, map[string]int{"Soon": 1, "Daily": 15, "Not for Bob": 1}) {
		t.Errorf("host's upcoming: %v", got)
	}
	if got := topics(ViewerOf(f.member)); got["Not for Bob"] != 1 || len(got) != 1 {
		t.Errorf("invited member's upcoming: %v", got)
	}
	if got := topics(ViewerOf(f.stranger)); len(got) != 0 {
		t.Errorf("a user of another site with the invitee's address sees %v", got)
	}
}

func TestSearchFindsThisSitesMeetingsOnly(t *testing.T) {
	f := newFixture(t)
	a := f.scheduled(t, url.Values{"topic": {"Budget review"}})
	f.scheduled(t, url.Values{"topic": {"Hiring 100%"}})
	f.scheduled(t, url.Values{"topic": {"Roadmap"}})
	tests := []struct {
		query string
		want  int
	}{
		{"", 3}, {"budget", 1}, {"BUDGET", 1}, {"100%", 1}, {"%", 1}, {"_", 0}, {a.Number[:6], 1},
		{GroupedNumber(a.Number), 1}, {"ann lee", 3}, {"ann.lee@", 3}, {"nothing", 0},
	}
	for _, tt := range tests {
		list, _, err := f.store.Search(f.ctx, f.site.ID, tt.query, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != tt.want {
			t.Errorf("Search(%q): %d meetings, want %d", tt.query, len(list), tt.want)
		}
	}
	if list, _, _ := f.store.Search(f.ctx, f.otherSite.ID, "", 10, 0); len(list) != 0 {
		t.Errorf("the other site's admin finds %d meetings", len(list))
	}
	page1, more, _ := f.store.Search(f.ctx, f.site.ID, "", 2, 0)
	page2, more2, _ := f.store.Search(f.ctx, f.site.ID, "", 2, 2)
	if len(page1) != 2 || !more || len(page2) != 1 || more2 {
		t.Errorf("pages of 2: %d (more %v), %d (more %v)", len(page1), more, len(page2), more2)
	}
}

func TestPersonalRoomsAreStableAndUnique(t *testing.T) {
	f := newFixture(t)
	jdoe := f.newUser(t, f.site.ID, "j.doe@acme.example.com", "J", "Doe", "host")
	jdoeElsewhere := f.newUser(t, f.site.ID, "j.doe@partner.example.org", "J", "Doe", "host")
	jdoeOtherSite := f.newUser(t, f.otherSite.ID, "j.doe@acme.example.com", "J", "Doe", "host")

	first, err := f.store.RoomFor(f.ctx, jdoe)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.store.RoomFor(f.ctx, jdoeElsewhere)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.store.RoomFor(f.ctx, jdoeOtherSite)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "j.doe" || second.Name != "j.doe-2" || other.Name != "j.doe" {
		t.Errorf("rooms %q, %q, other site %q; want j.doe, j.doe-2, j.doe", first.Name, second.Name, other.Name)
	}
	again, _ := f.store.RoomFor(f.ctx, jdoe)
	if again != first {
		t.Errorf("second call gave %+v, want %+v", again, first)
	}
	if got, err := f.store.RoomByName(f.ctx, f.site.ID, "j.doe-2"); err != nil || got.UserID != jdoeElsewhere.ID {
		t.Errorf("RoomByName: %+v, %v", got, err)
	}
	if first.URL(f.site) != "https://acme.example.com/meet/j.doe" {
		t.Errorf("URL %s", first.URL(f.site))
	}
	for _, name := range []string{"nobody", "../x", ""} {
		if _, err := f.store.RoomByName(f.ctx, f.site.ID, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("RoomByName(%q): %v", name, err)
		}
	}

	// Many first requests at once still give one room.
	newcomer := f.newUser(t, f.site.ID, "new@acme.example.com", "N", "Ew", "host")
	var wg sync.WaitGroup
	rooms := make([]Room, 10)
	for i := range rooms {
		wg.Go(func() {
			r, err := f.store.RoomFor(f.ctx, newcomer)
			if err != nil {
				t.Error(err)
			}
			rooms[i] = r
		})
	}
	wg.Wait()
	for _, r := range rooms {
		if r != rooms[0] {
			t.Errorf("concurrent first calls gave %+v and %+v", r, rooms[0])
		}
	}
}

func TestTimeZonePreference(t *testing.T) {
	f := newFixture(t)
	// ViewerSettings reads in one statement what TimeZone and Settings read.
	agree := func(step string, siteID, userID int64) {
		t.Helper()
		got, err := f.store.ViewerSettings(f.ctx, siteID, userID)
		if err != nil {
			t.Fatalf("%s: ViewerSettings: %v", step, err)
		}
		zone, chosen, _ := f.store.TimeZone(f.ctx, siteID, userID)
		settings, _ := f.store.Settings(f.ctx, siteID)
		if want := (ViewerSettings{Settings: settings, Zone: zone, Chosen: chosen}); got != want {
			t.Errorf("%s: ViewerSettings = %+v, want %+v", step, got, want)
		}
	}
	zone, chosen, err := f.store.TimeZone(f.ctx, f.site.ID, f.host.ID)
	if err != nil || zone != "UTC" || chosen {
		t.Fatalf("fresh site: %q chosen %v err %v; want UTC, not chosen", zone, chosen, err)
	}
	agree("fresh site", f.site.ID, f.host.ID)
	if err := f.store.SaveSettings(f.ctx, f.site.ID, Settings{DefaultTimeZone: "Europe/Berlin", Hosts: HostsHostRole}); err != nil {
		t.Fatal(err)
	}
	agree("with a site default", f.site.ID, f.host.ID)
	if zone, chosen, _ := f.store.TimeZone(f.ctx, f.site.ID, f.host.ID); zone != "Europe/Berlin" || chosen {
		t.Errorf("with a site default: %q chosen %v", zone, chosen)
	}
	if err := f.store.SetTimeZone(f.ctx, f.site.ID, f.host.ID, "Mars/Olympus"); !errors.Is(err, ErrUnknownTimeZone) {
		t.Errorf("unknown zone: %v", err)
	}
	if err := f.store.SetTimeZone(f.ctx, f.site.ID, f.host.ID, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	if zone, chosen, _ := f.store.TimeZone(f.ctx, f.site.ID, f.host.ID); zone != "America/New_York" || !chosen {
		t.Errorf("after choosing: %q chosen %v", zone, chosen)
	}
	agree("after choosing", f.site.ID, f.host.ID)
	agree("another user", f.site.ID, f.member.ID)
	agree("the other site", f.otherSite.ID, f.host.ID)
	if got, _ := f.store.ViewerSettings(f.ctx, f.site.ID, f.host.ID); got.Zone != "America/New_York" || !got.Chosen || got.Hosts != HostsHostRole {
		t.Errorf("ViewerSettings after choosing: %+v", got)
	}
	if loc, _ := f.store.Location(f.ctx, f.site.ID, f.member.ID); loc.String() != "Europe/Berlin" {
		t.Errorf("another user: %s", loc)
	}
	if zone, _, _ := f.store.TimeZone(f.ctx, f.otherSite.ID, f.host.ID); zone != "UTC" {
		t.Errorf("the other site sees %q", zone)
	}
}
