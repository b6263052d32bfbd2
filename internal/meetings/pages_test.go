package meetings_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/meetings"
)

func TestScheduleFormComesBackWithEveryValueAndEachProblemBesideItsField(t *testing.T) {
	w := newPortal(t)
	form := w.scheduleForm(url.Values{
		"topic": {"  "}, "duration": {"5"}, "invitees": {"bob.ray@acme.example.com, not-an-address"},
		"agenda": {"Keep <this> & that"}, "recurrence": {"weekly"}, "recurrence_end": {"count"}, "recurrence_count": {"500"},
	})
	resp, body := w.post("/meetings/new", form, w.hostC)
	expect(t, "refused form", resp, body, http.StatusUnprocessableEntity,
		`id="topic-error">Enter a topic.`,
		`id="duration-error">A meeting lasts from 15 to 1440 minutes`,
		`id="invitees-error">&#34;not-an-address&#34; is not an e-mail address.`,
		`id="recurrence_count-error">Enter a number of meetings from 1 to 100.`,
		// every value as typed
		`value="5"`, `bob.ray@acme.example.com, not-an-address</textarea>`, `Keep &lt;this&gt; &amp; that</textarea>`,
		`<option value="weekly" selected>`, `value="500"`,
	)
	var n int
	if err := w.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM meetings`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused form stored %d meetings (%v)", n, err)
	}
}

func TestScheduledMeetingIsOnTheHostsAndInviteesHomeInTheirZone(t *testing.T) {
	w := newPortal(t)
	w.Clock.Set(time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC))
	// The host enters 10:00 in Berlin; the invitee reads it in New York.
	for user, zone := range map[*http.Cookie]string{w.hostC: "Europe/Berlin", w.inviteeC: "America/New_York"} {
		resp, body := w.post("/preferences", url.Values{"time_zone": {zone}}, user)
		redirect(t, "preferences", resp, body, "/preferences?done=preferences")
	}
	number := w.schedule(url.Values{"date": {"2026-03-18"}, "start_time": {"10:00"}})

	resp, body := w.get("/meetings/"+number+"?done=scheduled", w.hostC)
	expect(t, "meeting page", resp, body, http.StatusOK, "The meeting is scheduled.", "Design review",
		"Wednesday 18 March 2026, 10:00–10:30 (Europe/Berlin)", "http://acme.localhost:8080/j/"+number)
	resp, body = w.get("/", w.inviteeC)
	expect(t, "invitee's home", resp, body, http.StatusOK, "Design review", "Wednesday 18 March 2026, 05:00–05:30 (America/New_York)", "Invited")
	resp, body = w.get("/", w.hostC)
	expect(t, "host's home", resp, body, http.StatusOK, "Design review", "Wednesday 18 March 2026, 10:00–10:30 (Europe/Berlin)", "Host")
	_, body = w.get("/", w.memberC)
	lacks(t, "another user's home", body, "Design review")
}

func TestMeetingPagesApplyTheAccessRules(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(nil)
	page := "/meetings/" + number
	agenda, invitee := "Walk through the mock-ups.", w.invitee.Email

	resp, body := w.get(page, w.hostC)
	expect(t, "host", resp, body, http.StatusOK, "Design review", agenda, invitee, `id="edit-meeting"`, `id="add-to-calendar"`, `id="start"`)
	resp, body = w.get(page, w.inviteeC)
	expect(t, "invitee", resp, body, http.StatusOK, "Design review", agenda, invitee, `id="add-to-calendar"`)
	lacks(t, "invitee", body, `id="edit-meeting"`, `id="start"`)
	resp, body = w.get(page, w.memberC)
	expect(t, "another user of the site", resp, body, http.StatusOK, "Design review", "/j/"+number)
	lacks(t, "another user of the site", body, agenda, invitee, `id="edit-meeting"`, `id="add-to-calendar"`)

	// Someone not signed in to acme — a visitor, or a user of globex
	// whose cookie means nothing here — is sent to the join link, which
	// for a members-only meeting means signing in; nothing of the meeting
	// shows on the way.
	for name, cookies := range map[string][]*http.Cookie{"visitor": nil, "user of another site": {w.strangerC}} {
		resp, body := w.get(page, cookies...)
		redirect(t, name, resp, body, "/j/"+number)
		resp, body = w.get("/j/"+number, cookies...)
		expect(t, name+" at the join link", resp, body, http.StatusOK, "Single sign-on is not set up")
		lacks(t, name, body, "Design review")
		resp, body = w.get(page+"/calendar.ics", cookies...)
		expect(t, name+" downloading the .ics", resp, body, http.StatusOK, "Single sign-on is not set up")
		lacks(t, name+" downloading the .ics", body, "Design review", "BEGIN:VCALENDAR")
	}

	// Only the host changes the meeting.
	for name, cookie := range map[string]*http.Cookie{"invitee": w.inviteeC, "another user": w.memberC} {
		resp, body := w.get(page+"/edit", cookie)
		expect(t, name+" opening Edit", resp, body, http.StatusForbidden, "Only the host can do this")
		resp, body = w.post(page+"/edit", w.scheduleForm(url.Values{"topic": {"Hijacked"}}), cookie)
		expect(t, name+" posting Edit", resp, body, http.StatusForbidden)
		resp, body = w.post(page+"/cancel", url.Values{}, cookie)
		expect(t, name+" cancelling", resp, body, http.StatusForbidden)
		resp, body = w.post(page+"/start", url.Values{}, cookie)
		expect(t, name+" starting", resp, body, http.StatusForbidden)
	}
	resp, body = w.get(page+"/calendar.ics", w.memberC)
	expect(t, "another user downloading the .ics", resp, body, http.StatusForbidden, "only the host and the invitees")
	if _, body := w.get(page, w.hostC); !strings.Contains(body, "Design review") || strings.Contains(body, "Hijacked") {
		t.Error("the meeting was changed by someone other than its host")
	}

	// A number of globex is not found on acme, even by its host: each
	// site's links are its own.
	globexMeeting := w.scheduleAt(globexHost, w.strangerC, url.Values{"topic": {"Globex sync"}})
	resp, body = w.get("/j/"+globexMeeting, w.memberC)
	expect(t, "another site's number on acme", resp, body, http.StatusNotFound, "No such meeting on this site", "another company")
	lacks(t, "another site's number on acme", body, "Globex sync")
	resp, body = w.get("/meetings/"+globexMeeting, w.memberC)
	expect(t, "another site's meeting page on acme", resp, body, http.StatusNotFound, "No such meeting on this site")
}

func TestAttendeesCannotScheduleWhenOnlyHostsMayHost(t *testing.T) {
	w := newPortal(t)
	// By default every user may schedule, attendees too.
	resp, body := w.get("/meetings/new", w.attendeeC)
	expect(t, "attendee, all may host", resp, body, http.StatusOK, "Schedule a meeting")

	admin := w.SignInAdmin(acmeHost, "admin@acme.test")
	resp, body = w.post("/admin/meetings/settings", url.Values{"default_time_zone": {"Europe/Paris"}, "hosts": {meetings.HostsHostRole}}, admin)
	redirect(t, "save meetings settings", resp, body, "/admin/meetings/settings?done=saved")

	resp, body = w.get("/meetings/new", w.attendeeC)
	expect(t, "attendee opening Schedule", resp, body, http.StatusForbidden, "You can join meetings, not schedule them")
	resp, body = w.post("/meetings/new", w.scheduleForm(nil), w.attendeeC)
	expect(t, "attendee posting Schedule", resp, body, http.StatusForbidden, "You can join meetings, not schedule them")
	_, body = w.get("/", w.attendeeC)
	lacks(t, "attendee's home", body, `href="/meetings/new"`)
	// The attendee still joins; a host still schedules.
	number := w.schedule(nil)
	resp, body = w.get("/j/"+number, w.attendeeC)
	redirect(t, "attendee at the join link", resp, body, "/meetings/"+number+"?join=1")
}

func TestCalendarFileIsServedAsTextCalendar(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(url.Values{"recurrence": {"weekly"}, "recurrence_days": {strings.ToLower(w.Clock.Now().UTC().AddDate(0, 0, 1).Format("Mon"))[:3]},
		"recurrence_end": {"count"}, "recurrence_count": {"4"}})
	resp, body := w.get("/meetings/"+number+"/calendar.ics", w.inviteeC)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="meeting-`+number+`.ics"` {
		t.Fatalf(".ics: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "UID:" + number + "@acme.localhost\r\n", "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Design review",
		"http://acme.localhost:8080/j/" + number, "mailto:" + w.invitee.Email} {
		if !strings.Contains(strings.ReplaceAll(body, "\r\n ", ""), want) {
			t.Errorf(".ics lacks %q:\n%s", want, body)
		}
	}
}

func TestPreferencesOfferTheBrowsersZoneUntilOneIsChosen(t *testing.T) {
	w := newPortal(t)
	admin := w.SignInAdmin(acmeHost, "admin@acme.test")
	w.post("/admin/meetings/settings", url.Values{"default_time_zone": {"Europe/Paris"}, "hosts": {"all"}}, admin)

	resp, body := w.get("/preferences", w.memberC)
	expect(t, "first visit", resp, body, http.StatusOK, "data-offer-browser-zone", `<option value="Europe/Paris" selected>`,
		`value="Cy Doe" readonly`, `value="cy.doe@acme.example.com" readonly`, "this is the site's default")
	_, body = w.get("/", w.memberC)
	expect(t, "home before choosing", &http.Response{StatusCode: http.StatusOK}, body, http.StatusOK, "Europe/Paris, this site's default")

	resp, body = w.post("/preferences", url.Values{"time_zone": {"Europe/Atlantis"}}, w.memberC)
	expect(t, "unknown zone", resp, body, http.StatusUnprocessableEntity, `id="time_zone-error"`)
	resp, body = w.post("/preferences", url.Values{"time_zone": {"Asia/Tokyo"}}, w.memberC)
	redirect(t, "save", resp, body, "/preferences?done=preferences")
	resp, body = w.get("/preferences?done=preferences", w.memberC)
	expect(t, "after choosing", resp, body, http.StatusOK, "Your preferences are saved.", `<option value="Asia/Tokyo" selected>`)
	lacks(t, "after choosing", body, "data-offer-browser-zone")
}

var occurrenceLink = regexp.MustCompile(`/edit\?scope=occurrence&amp;occurrence=([0-9TZ]+)"`)

func TestHostEditsOneOccurrenceOrTheSeries(t *testing.T) {
	w := newPortal(t)
	w.Clock.Set(time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC)) // a Monday
	number := w.schedule(url.Values{"date": {"2026-03-17"}, "recurrence": {"weekly"}, "recurrence_days": {"tue"},
		"recurrence_end": {"count"}, "recurrence_count": {"3"}})
	page := "/meetings/" + number

	resp, body := w.get(page, w.hostC)
	expect(t, "meeting page", resp, body, http.StatusOK, "Every week on Tuesday, 3 times", "Tuesday 17 March 2026, 10:00–10:30 (UTC)")
	keys := occurrenceLink.FindAllStringSubmatch(body, -1)
	if len(keys) != 3 {
		t.Fatalf("%d occurrences listed, want 3:\n%s", len(keys), body)
	}
	second := keys[1][1]

	resp, body = w.get(page+"/edit", w.hostC)
	expect(t, "edit asks first", resp, body, http.StatusOK, "this occurrence or the series?", `value="occurrence" checked`, "The whole series")
	resp, body = w.get(page+"/edit?scope=occurrence&occurrence="+second, w.hostC)
	expect(t, "occurrence form", resp, body, http.StatusOK, "Only the occurrence of <strong>Tuesday 24 March 2026, 10:00–10:30 (UTC)</strong> changes",
		`name="occurrence" value="`+second+`"`, `value="2026-03-24"`)
	lacks(t, "occurrence form", body, `name="recurrence"`, `name="invitees"`, `name="who_can_join"`)

	resp, body = w.post(page+"/edit", url.Values{"scope": {"occurrence"}, "occurrence": {second}, "topic": {"Design review (moved)"},
		"date": {"2026-03-25"}, "start_time": {"14:00"}, "duration": {"45"}}, w.hostC)
	redirect(t, "save the occurrence", resp, body, page+"?done=occurrence-updated")
	resp, body = w.get(page+"?done=occurrence-updated", w.hostC)
	expect(t, "after the occurrence edit", resp, body, http.StatusOK, "This occurrence is updated.",
		"Wednesday 25 March 2026, 14:00–14:45 (UTC) <span class=\"tag\">changed</span>", "Tuesday 31 March 2026, 10:00–10:30 (UTC)")

	resp, body = w.post(page+"/cancel", url.Values{"scope": {"occurrence"}, "occurrence": {keys[2][1]}}, w.hostC)
	redirect(t, "cancel one", resp, body, page+"?done=occurrence-cancelled")
	_, body = w.get(page, w.hostC)
	lacks(t, "after cancelling one", body, "Tuesday 31 March 2026")

	// The series, through the same form: a refused change keeps the values.
	edit := w.scheduleForm(url.Values{"date": {"2026-03-17"}, "recurrence": {"weekly"}, "recurrence_days": {"tue"},
		"recurrence_end": {"count"}, "recurrence_count": {"3"}, "topic": {"Weekly design review"}, "duration": {"3000"}, "scope": {"series"}})
	resp, body = w.post(page+"/edit", edit, w.hostC)
	expect(t, "refused series edit", resp, body, http.StatusUnprocessableEntity, `id="duration-error"`, `value="Weekly design review"`)
	edit.Set("duration", "30")
	resp, body = w.post(page+"/edit", edit, w.hostC)
	redirect(t, "save the series", resp, body, page+"?done=updated")
	_, body = w.get("/", w.inviteeC)
	expect(t, "invitee's home", &http.Response{StatusCode: http.StatusOK}, body, http.StatusOK, "Weekly design review")
}
