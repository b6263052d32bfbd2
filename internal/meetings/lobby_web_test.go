package meetings_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/portaltest"
)

var guestsAllowed = url.Values{"who_can_join": {"guests"}}

func TestGuestWaitsInTheLobbyUntilTheHostAdmitsThem(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(guestsAllowed)
	page := "/meetings/" + number

	// Before the host starts, a visitor of a meeting that lets guests in
	// may sign in or give a name, but cannot join yet.
	resp, body := w.get("/j/" + number)
	expect(t, "join link before the start", resp, body, http.StatusOK, "Join “Design review”", `href="/j/`+number+`?sign-in=1"`,
		"The host has not started the meeting yet", `id="join-as-guest" disabled`)
	resp, body = w.post(page+"/guest", url.Values{"name": {"Gail Guest"}})
	expect(t, "guest before the start", resp, body, http.StatusConflict, "has not started the meeting yet", `value="Gail Guest"`)

	resp, body = w.post(page+"/start", nil, w.hostC)
	redirect(t, "start", resp, body, page)
	resp, body = w.get("/j/" + number)
	expect(t, "join link once live", resp, body, http.StatusOK, `id="guest-form"`)
	lacks(t, "join link once live", body, `id="join-as-guest" disabled`)

	// A name is required; what was typed comes back.
	resp, body = w.post(page+"/guest", url.Values{"name": {"  "}, "email": {"gail@example.com"}})
	expect(t, "guest without a name", resp, body, http.StatusUnprocessableEntity, `id="name-error"`, `value="gail@example.com"`)

	resp, body = w.post(page+"/guest", url.Values{"name": {"Gail Guest"}, "email": {"gail@example.com"}})
	redirect(t, "guest join", resp, body, page)
	ticket := portaltest.Cookie(resp, meetings.GuestCookie)
	if ticket == nil || !ticket.HttpOnly || ticket.SameSite != http.SameSiteLaxMode || ticket.Path != "/" {
		t.Fatalf("guest ticket cookie %+v", ticket)
	}

	resp, body = w.get(page, ticket)
	expect(t, "guest in the lobby", resp, body, http.StatusOK, "You are waiting in the lobby")
	// Someone waiting sees neither the roster nor the media.
	lacks(t, "guest in the lobby", body, `id="media"`, `id="present"`, `id="waiting"`, "Walk through the mock-ups.")
	resp, body = w.get(page, w.hostC)
	expect(t, "host sees the lobby", resp, body, http.StatusOK, "Gail Guest", `action="`+page+`/admit"`)

	id := w.participantID(page, "Gail Guest")
	resp, body = w.post(page+"/admit", url.Values{"participant": {id}}, w.hostC)
	redirect(t, "admit", resp, body, page)
	resp, body = w.get(page, ticket)
	expect(t, "admitted guest", resp, body, http.StatusOK, "You are in the meeting", `id="media"`, `data-role="guest"`, "Ann Lee", "Gail Guest")
	lacks(t, "admitted guest", body, "Walk through the mock-ups.", w.invitee.Email)

	// Only the host admits: an admitted guest cannot, nor another user.
	resp, _ = w.post(page+"/admit", url.Values{"participant": {id}}, ticket)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a guest admitting: %d", resp.StatusCode)
	}
	resp, _ = w.post(page+"/remove", url.Values{"participant": {id}}, w.memberC)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another user removing: %d", resp.StatusCode)
	}
}

func TestRemovedGuestCannotComeBackWithoutAdmission(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(guestsAllowed)
	page := "/meetings/" + number
	w.post(page+"/start", nil, w.hostC)
	ticket := w.guestJoin(page, "Gail Guest")
	id := w.participantID(page, "Gail Guest")
	w.post(page+"/admit", url.Values{"participant": {id}}, w.hostC)

	resp, body := w.post(page+"/remove", url.Values{"participant": {id}}, w.hostC)
	redirect(t, "remove", resp, body, page)
	resp, body = w.get(page, ticket)
	expect(t, "removed guest", resp, body, http.StatusOK, "The host removed you", `id="ask-again"`)
	lacks(t, "removed guest", body, `id="media"`, `id="present"`)

	// The join link, the ticket, or a fresh name: each leads to the lobby
	// at best.
	resp, body = w.get("/j/"+number, ticket)
	redirect(t, "removed guest at the join link", resp, body, page)
	resp, body = w.post(page+"/guest", nil, ticket)
	redirect(t, "ask to join again", resp, body, page)
	resp, body = w.get(page, ticket)
	expect(t, "guest asking again", resp, body, http.StatusOK, "You are waiting in the lobby")
	lacks(t, "guest asking again", body, `id="media"`)
	other := w.guestJoin(page, "Gail Again")
	_, body = w.get(page, other)
	expect(t, "removed guest under a new name", resp, body, http.StatusOK, "You are waiting in the lobby")
}

func TestSignedInUserJoinsFromTheJoinLinkAndLeaves(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(nil)
	page := "/meetings/" + number

	// Before the start: the page waits, and says it will let them in.
	resp, body := w.get("/j/"+number, w.inviteeC)
	redirect(t, "join link", resp, body, page+"?join=1")
	resp, body = w.get(page+"?join=1", w.inviteeC)
	expect(t, "waiting for the host", resp, body, http.StatusOK, "The host has not started the meeting yet", "and lets you in")
	lacks(t, "waiting for the host", body, `data-autosubmit`)

	w.post(page+"/start", nil, w.hostC)
	// Live: the page joins by itself (a form that submits on load), and
	// the join puts them in the meeting.
	resp, body = w.get(page+"?join=1", w.inviteeC)
	expect(t, "live, from the join link", resp, body, http.StatusOK, `action="`+page+`/join" data-autosubmit`)
	resp, body = w.post(page+"/join", nil, w.inviteeC)
	redirect(t, "join", resp, body, page)
	resp, body = w.get(page, w.inviteeC)
	expect(t, "in the meeting", resp, body, http.StatusOK, "You are in the meeting", `id="media"`, `data-role="participant"`, "Bob Ray", "Ann Lee")
	lacks(t, "in the meeting", body, `id="end"`, `id="lock"`)
	// Opened later without ?join=1, the page shows the meeting and does
	// not join anyone by itself.
	resp, body = w.get(page, w.memberC)
	expect(t, "another user, not joined", resp, body, http.StatusOK, "The meeting is live.", `id="join"`, "Bob Ray")
	lacks(t, "another user, not joined", body, "data-autosubmit", `id="media"`)

	resp, body = w.post(page+"/leave", nil, w.inviteeC)
	redirect(t, "leave", resp, body, page)
	resp, body = w.get(page+"?join=1", w.inviteeC)
	expect(t, "after leaving", resp, body, http.StatusOK, "You left the meeting.", "Join again")
	lacks(t, "after leaving", body, "data-autosubmit", `id="media"`)
}

func TestLockedMeetingLetsNobodyNewIn(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(guestsAllowed)
	page := "/meetings/" + number
	w.post(page+"/start", nil, w.hostC)
	w.post(page+"/join", nil, w.inviteeC)

	resp, body := w.post(page+"/lock", url.Values{"locked": {"true"}}, w.hostC)
	redirect(t, "lock", resp, body, page)
	for name, cookies := range map[string][]*http.Cookie{"a user of the site": {w.memberC}, "a visitor": nil} {
		resp, body := w.get("/j/"+number, cookies...)
		expect(t, name+" at the join link", resp, body, http.StatusForbidden, "This meeting is locked", "Ask the host to unlock it")
	}
	resp, body = w.post(page+"/join", nil, w.memberC)
	expect(t, "a user joining anyway", resp, body, http.StatusForbidden, "This meeting is locked")
	resp, body = w.post(page+"/guest", url.Values{"name": {"Gail Guest"}})
	expect(t, "a guest joining anyway", resp, body, http.StatusForbidden, "This meeting is locked")
	// Those already in stay in.
	resp, body = w.get(page, w.inviteeC)
	expect(t, "invitee already in", resp, body, http.StatusOK, "You are in the meeting", "The meeting is locked")

	w.post(page+"/lock", url.Values{"locked": {"false"}}, w.hostC)
	resp, body = w.get("/j/"+number, w.memberC)
	redirect(t, "after unlocking", resp, body, page+"?join=1")
}

func TestCancelledAndEndedMeetingsSaySo(t *testing.T) {
	w := newPortal(t)
	cancelled := w.schedule(guestsAllowed)
	resp, body := w.get("/meetings/"+cancelled+"/cancel", w.hostC)
	expect(t, "confirm cancel", resp, body, http.StatusOK, "Cancel “Design review”", "Everyone invited gets a cancellation")
	resp, body = w.post("/meetings/"+cancelled+"/cancel", url.Values{"scope": {"series"}}, w.hostC)
	redirect(t, "cancel", resp, body, "/meetings/"+cancelled+"?done=cancelled")
	for name, cookies := range map[string][]*http.Cookie{"invitee": {w.inviteeC}, "visitor": nil} {
		resp, body := w.get("/j/"+cancelled, cookies...)
		expect(t, name+" at a cancelled meeting's link", resp, body, http.StatusGone, "This meeting was cancelled")
	}
	resp, body = w.get("/meetings/"+cancelled, w.hostC)
	expect(t, "cancelled meeting's page", resp, body, http.StatusOK, "This meeting was cancelled.")
	lacks(t, "cancelled meeting's page", body, `id="start"`, `id="edit-meeting"`)
	resp, body = w.post("/meetings/"+cancelled+"/start", nil, w.hostC)
	expect(t, "starting a cancelled meeting", resp, body, http.StatusGone)

	// A meeting the host ended during its slot has ended for newcomers.
	w.Clock.Set(time.Now().UTC().Truncate(time.Minute))
	today := w.Clock.Now().Format("2006-01-02")
	ended := w.schedule(url.Values{"date": {today}, "start_time": {w.Clock.Now().Add(time.Minute).Format("15:04")}, "who_can_join": {"guests"}})
	page := "/meetings/" + ended
	w.post(page+"/start", nil, w.hostC)
	w.post(page+"/join", nil, w.inviteeC)
	w.Clock.Advance(5 * time.Minute)
	resp, body = w.post(page+"/end", nil, w.hostC)
	redirect(t, "end", resp, body, page)
	for name, cookies := range map[string][]*http.Cookie{"another user": {w.memberC}, "visitor": nil} {
		resp, body := w.get("/j/"+ended, cookies...)
		expect(t, name+" at an ended meeting's link", resp, body, http.StatusGone, "This meeting has ended")
	}
	resp, body = w.get(page, w.inviteeC)
	expect(t, "a participant's page after the end", resp, body, http.StatusOK, "The meeting has ended.")
	resp, body = w.get(page, w.hostC)
	expect(t, "the host's page after the end", resp, body, http.StatusOK, "The meeting has ended.", "Start again")

	// Past meetings: when, and who attended.
	resp, body = w.get("/meetings/past", w.inviteeC)
	expect(t, "past meetings", resp, body, http.StatusOK, "Design review", "Ann Lee, Bob Ray")
}

func TestPersonalRoomStartsFromHomeAndLetsGuestsInWhenItsOwnerAllows(t *testing.T) {
	w := newPortal(t)
	resp, body := w.get("/", w.hostC)
	expect(t, "home", resp, body, http.StatusOK, "Welcome, Ann Lee", "http://acme.localhost:8080/meet/ann.lee", `action="/meet/ann.lee/start"`)

	// Members only by default: a visitor is sent to sign in.
	resp, body = w.get("/meet/ann.lee")
	expect(t, "visitor, members-only room", resp, body, http.StatusOK, "Single sign-on is not set up")
	resp, body = w.post("/preferences", url.Values{"time_zone": {"UTC"}, "room_guests": {"on"}}, w.hostC)
	redirect(t, "let guests in", resp, body, "/preferences?done=preferences")

	resp, body = w.post("/meet/ann.lee/start", nil, w.hostC)
	redirect(t, "start from home", resp, body, "/meet/ann.lee")
	resp, body = w.get("/meet/ann.lee", w.hostC)
	expect(t, "owner's room", resp, body, http.StatusOK, "Your personal room", "You are in the meeting", `id="end"`)
	// A user of the site opening the room's link is let in at once.
	resp, body = w.get("/meet/ann.lee", w.memberC)
	expect(t, "a user at the room's link", resp, body, http.StatusOK, "Ann Lee&#39;s personal room", `action="/meet/ann.lee/join" data-autosubmit`)
	ticket := w.guestJoin("/meet/ann.lee", "Gail Guest")
	resp, body = w.get("/meet/ann.lee", ticket)
	expect(t, "guest in the room's lobby", resp, body, http.StatusOK, "You are waiting in the lobby")
	resp, body = w.get("/meet/nobody-here", w.memberC)
	expect(t, "a room that does not exist", resp, body, http.StatusNotFound, "No such meeting on this site")

	// Ended: those who were in it read that it has ended; for anyone else
	// the room is simply not live.
	w.post("/meet/ann.lee/join", nil, w.memberC)
	resp, body = w.post("/meet/ann.lee/end", nil, w.hostC)
	redirect(t, "end the room", resp, body, "/meet/ann.lee")
	resp, body = w.get("/meet/ann.lee", w.memberC)
	expect(t, "a participant after the end", resp, body, http.StatusOK, "The meeting has ended.")
	resp, body = w.get("/meet/ann.lee", w.inviteeC)
	expect(t, "someone who was not in it", resp, body, http.StatusOK, "The host has not started the meeting yet")
}

func TestLobbyPresenceReachesEveryPageWithinASecond(t *testing.T) {
	w := newPortal(t)
	server := httptest.NewServer(w.Server)
	t.Cleanup(server.Close)
	number := w.schedule(guestsAllowed)
	page := "/meetings/" + number

	// Two people follow the page before the start: the host and the
	// invitee.
	hostStream := openStream(t, server, page+"/events", w.hostC)
	inviteeStream := openStream(t, server, page+"/events", w.inviteeC)
	hostStream.waitFor("not started", func(s liveState) bool { return s.Status == meetings.StatusNotStarted })
	inviteeStream.waitFor("not started", func(s liveState) bool { return s.Status == meetings.StatusNotStarted })

	w.post(page+"/start", nil, w.hostC)
	for _, s := range []*stream{hostStream, inviteeStream} {
		s.waitFor("the host present", func(s liveState) bool {
			return s.Status == meetings.StatusLive && slices.Contains(s.names("present"), "Ann Lee")
		})
	}
	w.post(page+"/join", nil, w.inviteeC)
	ticket := w.guestJoin(page, "Gail Guest")
	guestStream := openStream(t, server, page+"/events", ticket)
	guestStream.waitFor("the guest in the lobby, seeing no one", func(s liveState) bool {
		return s.You == meetings.StateLobby && len(s.Present) == 0 && len(s.Waiting) == 0
	})
	for _, s := range []*stream{hostStream, inviteeStream} {
		s.waitFor("the guest waiting", func(s liveState) bool {
			return slices.Contains(s.names("waiting"), "Gail Guest") && slices.Contains(s.names("present"), "Bob Ray")
		})
	}

	w.post(page+"/admit", url.Values{"participant": {w.participantID(page, "Gail Guest")}}, w.hostC)
	guestStream.waitFor("the guest admitted", func(s liveState) bool {
		return s.You == meetings.StateAdmitted && slices.Contains(s.names("present"), "Ann Lee")
	})
	for _, s := range []*stream{hostStream, inviteeStream} {
		s.waitFor("the guest present", func(s liveState) bool {
			return slices.Contains(s.names("present"), "Gail Guest") && len(s.Waiting) == 0
		})
	}

	w.post(page+"/lock", url.Values{"locked": {"true"}}, w.hostC)
	inviteeStream.waitFor("locked", func(s liveState) bool { return s.Locked })
	w.post(page+"/end", nil, w.hostC)
	for _, s := range []*stream{hostStream, inviteeStream, guestStream} {
		s.waitFor("the end", func(s liveState) bool { return s.Status == meetings.StatusEnded })
	}
}

func TestLobbyWorksAcrossTwoPortalProcessesOnOneDatabase(t *testing.T) {
	// Two portals on one pool: two processes behind a load balancer. The
	// host follows the page on one; the guest comes in through the other.
	first := newPortal(t)
	second := portaltest.New(t, portaltest.WithPool(first.App.Pool))
	serverA := httptest.NewServer(first.Server)
	t.Cleanup(serverA.Close)
	serverB := httptest.NewServer(second.Server)
	t.Cleanup(serverB.Close)
	number := first.schedule(guestsAllowed)
	page := "/meetings/" + number

	hostStream := openStream(t, serverA, page+"/events", first.hostC)
	hostStream.waitFor("not started", func(s liveState) bool { return s.Status == meetings.StatusNotStarted })
	onB := &portal{Portal: second, t: t}
	resp, body := onB.post(page+"/start", nil, first.hostC)
	redirect(t, "start on B", resp, body, page)
	hostStream.waitFor("live (started through B)", func(s liveState) bool { return s.Status == meetings.StatusLive })

	ticket := onB.guestJoin(page, "Gail Guest")
	guestStream := openStream(t, serverB, page+"/events", ticket)
	hostStream.waitFor("the guest waiting (joined through B)", func(s liveState) bool {
		return slices.Contains(s.names("waiting"), "Gail Guest")
	})
	first.post(page+"/admit", url.Values{"participant": {first.participantID(page, "Gail Guest")}}, first.hostC)
	guestStream.waitFor("admitted (through A)", func(s liveState) bool { return s.You == meetings.StateAdmitted })
	hostStream.waitFor("the guest present", func(s liveState) bool { return slices.Contains(s.names("present"), "Gail Guest") })
}

func TestAnEventStreamOutlivesTheRequestDeadline(t *testing.T) {
	// Every request has a deadline (a hung database must not hold pages);
	// an event stream lasts as long as its page, and keeps delivering.
	w := newPortal(t, portaltest.Configure(func(a *app.App) { a.RequestTimeout = 2 * time.Second }))
	server := httptest.NewServer(w.Server)
	t.Cleanup(server.Close)
	number := w.schedule(guestsAllowed)
	page := "/meetings/" + number
	hostStream := openStream(t, server, page+"/events", w.hostC)
	hostStream.waitFor("not started", func(s liveState) bool { return s.Status == meetings.StatusNotStarted })

	time.Sleep(3 * time.Second) // past the deadline
	w.post(page+"/start", nil, w.hostC)
	hostStream.waitFor("the start, after the deadline", func(s liveState) bool { return s.Status == meetings.StatusLive })
}
