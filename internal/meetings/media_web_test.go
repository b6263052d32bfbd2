package meetings_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// Tests of the meeting media's signalling through the whole portal: who
// gets a connection, and how the lobby and the media controls keep each
// other in step. The media itself (RTP forwarding, NACK, simulcast) is
// tested with pion clients in internal/media, and in a browser in
// internal/browsertest.

// acmeOrigin is the exact origin of acme's pages.
var acmeOrigin = "http://" + acmeHost

// signalMessage is a message of the signalling protocol, as far as these
// tests read it.
type signalMessage struct {
	Type string `json:"type"`
	Self *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"self"`
	Participants []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"participants"`
}

// signal is an open signalling connection, standing in for the page's
// script: it reads the messages and notes how the connection ended.
type signal struct {
	t        *testing.T
	conn     *websocket.Conn
	messages chan signalMessage
	closed   chan struct{}
	status   websocket.StatusCode // once closed
}

// dialMedia opens the signalling of path (…/media) on server for host, from
// origin, with cookies. On refusal it returns the HTTP status.
func dialMedia(t *testing.T, server *httptest.Server, host, path, origin string, header http.Header, cookies ...*http.Cookie) (*signal, int) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	if origin != "" {
		header.Set("Origin", origin)
	}
	for _, c := range cookies {
		header.Add("Cookie", c.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(server.URL, "http")+path, &websocket.DialOptions{Host: host, HTTPHeader: header})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		return nil, resp.StatusCode
	}
	s := &signal{t: t, conn: conn, messages: make(chan signalMessage, 100), closed: make(chan struct{})}
	t.Cleanup(func() { _ = conn.CloseNow() })
	go func() {
		defer close(s.closed)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				s.status = websocket.CloseStatus(err)
				return
			}
			var m signalMessage
			if json.Unmarshal(data, &m) == nil {
				s.messages <- m
			}
		}
	}()
	return s, http.StatusSwitchingProtocols
}

// mustDialMedia is dialMedia on acme from its origin, which must succeed.
// It returns once the SFU has seated the participant: the welcome is
// queued before the join, but the session's writer starts only after it
// (media.SFU.ServeSignalling, session.run). The handshake alone is not
// enough, as the join follows it on the server's own time, and
// participants dialled one after another would join, and be listed, in
// either order.
func mustDialMedia(t *testing.T, server *httptest.Server, page string, cookies ...*http.Cookie) *signal {
	t.Helper()
	s, status := dialMedia(t, server, acmeHost, page+"/media", acmeOrigin, nil, cookies...)
	if s == nil {
		t.Fatalf("signalling of %s refused with %d", page, status)
	}
	s.waitFor("the welcome", func(m signalMessage) bool { return m.Type == "welcome" })
	return s
}

// signalPatience is how long a test waits for a signalling message: it
// only bounds a failure, and the race detector beside the other packages'
// tests on two cores slows every message down.
const signalPatience = 20 * time.Second

// waitFor returns the first message that satisfies ok, within
// signalPatience.
func (s *signal) waitFor(what string, ok func(signalMessage) bool) signalMessage {
	s.t.Helper()
	deadline := time.After(signalPatience)
	last := []byte("(none)") // the last message that was not it, to say what came instead
	for {
		select {
		case m := <-s.messages:
			if ok(m) {
				return m
			}
			last, _ = json.Marshal(m)
		case <-s.closed:
			s.t.Fatalf("waiting for %s: the connection closed (%v)", what, s.status)
		case <-deadline:
			s.t.Fatalf("%s did not come within %v; the last message was %s", what, signalPatience, last)
		}
	}
}

// sees waits for a participant list with exactly these names.
func (s *signal) sees(names ...string) {
	s.t.Helper()
	s.waitFor("the participants "+strings.Join(names, ", "), func(m signalMessage) bool {
		if m.Type != "participants" {
			return false
		}
		var got []string
		for _, p := range m.Participants {
			got = append(got, p.Name)
		}
		return slices.Equal(got, names)
	})
}

func (s *signal) send(msg map[string]string) {
	s.t.Helper()
	data, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		s.t.Fatalf("send %v: %v", msg, err)
	}
}

// closedWith waits for the server to close the connection, at once (a
// second), and checks the close code.
func (s *signal) closedWith(what string, want websocket.StatusCode) {
	s.t.Helper()
	select {
	case <-s.closed:
	case <-time.After(time.Second):
		s.t.Fatalf("%s: the media connection is still open a second later", what)
	}
	if s.status != want {
		s.t.Fatalf("%s: closed with %v, want %v", what, s.status, want)
	}
}

// The close codes of internal/media.
const (
	closeEnded   websocket.StatusCode = 4000
	closeRemoved websocket.StatusCode = 4001
)

// liveWithGuest starts a meeting that lets guests in, with the member and
// an admitted guest in it, and returns its page, the guest's ticket and
// the lobby IDs of member and guest.
func (w *portal) liveWithGuest() (page string, ticket *http.Cookie, memberID, guestID string) {
	w.t.Helper()
	page = "/meetings/" + w.schedule(guestsAllowed)
	w.post(page+"/start", nil, w.hostC)
	w.post(page+"/join", nil, w.memberC)
	ticket = w.guestJoin(page, "Gail Guest")
	guestID = w.participantID(page, "Gail Guest")
	w.post(page+"/admit", url.Values{"participant": {guestID}}, w.hostC)
	return page, ticket, w.participantID(page, "Cy Doe"), guestID
}

// inMedia is a live meeting with the host, the member and an admitted guest
// each connected to its media.
type inMedia struct {
	*portal
	server              *httptest.Server
	page                string
	ticket              *http.Cookie
	memberID, guestID   string
	host, member, guest *signal
}

// threeInMedia starts a meeting and connects its three participants.
func threeInMedia(t *testing.T) inMedia {
	t.Helper()
	w := newPortal(t)
	m := inMedia{portal: w, server: httptest.NewServer(w.Server)}
	t.Cleanup(m.server.Close)
	m.page, m.ticket, m.memberID, m.guestID = w.liveWithGuest()
	m.host = mustDialMedia(t, m.server, m.page, w.hostC)
	m.member = mustDialMedia(t, m.server, m.page, w.memberC)
	m.guest = mustDialMedia(t, m.server, m.page, m.ticket)
	m.host.sees("Ann Lee", "Cy Doe", "Gail Guest")
	return m
}

// refused checks that cookie no longer gets the meeting's media.
func (m inMedia) refused(what string, cookie *http.Cookie) {
	m.t.Helper()
	if s, status := dialMedia(m.t, m.server, acmeHost, m.page+"/media", acmeOrigin, nil, cookie); s != nil || status != http.StatusForbidden {
		m.t.Fatalf("%s: signalling answered %d, want 403", what, status)
	}
}

func TestMediaSignallingServesOnlyAdmittedParticipantsFromTheSitesOrigin(t *testing.T) {
	w := newPortal(t)
	server := httptest.NewServer(w.Server)
	t.Cleanup(server.Close)
	page, ticket, memberID, _ := w.liveWithGuest()
	waiting := w.guestJoin(page, "Walt Waiting")
	notStarted := "/meetings/" + w.schedule(guestsAllowed)

	// The page hands its script the signalling address and the viewer's
	// identity in the media.
	resp, body := w.get(page, w.memberC)
	expect(t, "the member's page", resp, body, http.StatusOK, `data-signal-url="`+page+`/media"`, `data-self-id="`+memberID+`"`,
		`data-role="participant"`, `data-leave-form="leave-form"`, `id="leave-form"`, "Check your camera and microphone")

	for _, c := range []struct {
		name   string
		host   string
		path   string
		origin string
		cookie *http.Cookie
		status int    // 101: accepted
		role   string // as the welcome says
	}{
		{"the host", acmeHost, page, acmeOrigin, w.hostC, 101, "host"},
		{"a user in the meeting", acmeHost, page, acmeOrigin, w.memberC, 101, "participant"},
		{"an admitted guest", acmeHost, page, acmeOrigin, ticket, 101, "guest"},
		{"a guest waiting in the lobby", acmeHost, page, acmeOrigin, waiting, 403, ""},
		{"a user of the site who has not joined", acmeHost, page, acmeOrigin, w.inviteeC, 403, ""},
		{"a visitor", acmeHost, page, acmeOrigin, nil, 403, ""},
		{"a user of another site, with their cookie", acmeHost, page, acmeOrigin, w.strangerC, 403, ""},
		{"a user of another site, on their site", globexHost, page, "http://" + globexHost, w.strangerC, 404, ""},
		{"a meeting not started", acmeHost, notStarted, acmeOrigin, w.hostC, 403, ""},
		{"another site's page as origin", acmeHost, page, "http://" + globexHost, w.memberC, 403, ""},
		{"the site over https", acmeHost, page, "https://" + acmeHost, w.memberC, 403, ""},
		{"no origin", acmeHost, page, "", w.memberC, 403, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if c.cookie != nil {
				cookies = append(cookies, c.cookie)
			}
			s, status := dialMedia(t, server, c.host, c.path+"/media", c.origin, nil, cookies...)
			if status != c.status {
				t.Fatalf("status %d, want %d", status, c.status)
			}
			if s == nil {
				return
			}
			welcome := s.waitFor("the welcome", func(m signalMessage) bool { return m.Type == "welcome" })
			if welcome.Self == nil || welcome.Self.Role != c.role {
				t.Fatalf("welcome %+v, want role %s", welcome.Self, c.role)
			}
			_ = s.conn.Close(websocket.StatusNormalClosure, "")
		})
	}
}

func TestRemovedFromTheLobbyLosesMediaAtOnceAndIsRefusedUntilAdmittedAgain(t *testing.T) {
	m := threeInMedia(t)

	// The host's Remove button on the meeting page.
	resp, body := m.post(m.page+"/remove", url.Values{"participant": {m.guestID}}, m.hostC)
	redirect(t, "remove", resp, body, m.page)
	m.guest.closedWith("removed from the lobby", closeRemoved)
	m.host.sees("Ann Lee", "Cy Doe")
	m.refused("the removed guest", m.ticket)
	// Asking to join again puts them in the lobby: still no media.
	m.post(m.page+"/guest", nil, m.ticket)
	m.refused("the guest back in the lobby", m.ticket)
	m.post(m.page+"/admit", url.Values{"participant": {m.guestID}}, m.hostC)
	mustDialMedia(t, m.server, m.page, m.ticket)
	m.host.sees("Ann Lee", "Cy Doe", "Gail Guest")
}

func TestLeavingOrEndingTheMeetingOnItsPageClosesTheMedia(t *testing.T) {
	m := threeInMedia(t)

	// The member leaves with the page's Leave button: the others see them
	// go at once, not after the reconnection grace.
	m.post(m.page+"/leave", nil, m.memberC)
	m.member.closedWith("left the meeting", closeRemoved)
	m.host.sees("Ann Lee", "Gail Guest")

	resp, body := m.post(m.page+"/end", nil, m.hostC)
	redirect(t, "end", resp, body, m.page)
	m.host.closedWith("ended on the page (host)", closeEnded)
	m.guest.closedWith("ended on the page (guest)", closeEnded)
	m.refused("the host of the ended meeting", m.hostC)
}

func TestHostsMediaControlsAreRecordedInTheLobby(t *testing.T) {
	m := threeInMedia(t)

	// Only the host controls; a participant's attempt is refused.
	m.member.send(map[string]string{"type": "remove", "id": m.guestID})
	m.member.waitFor("the refusal", func(msg signalMessage) bool { return msg.Type == "error" })

	// Mute: the member's client is asked to mute.
	m.host.send(map[string]string{"type": "mute", "id": m.memberID})
	m.member.waitFor("the mute", func(msg signalMessage) bool { return msg.Type == "muted" })

	// Remove: closed at once, and removed in the lobby, so that the guest
	// needs a new admission.
	m.host.send(map[string]string{"type": "remove", "id": m.guestID})
	m.guest.closedWith("removed from the media controls", closeRemoved)
	resp, body := m.get(m.page, m.ticket)
	expect(t, "the removed guest's page", resp, body, http.StatusOK, "The host removed you")
	m.refused("the removed guest", m.ticket)

	// End for all: every connection closes and the meeting has ended.
	m.host.send(map[string]string{"type": "end"})
	m.host.closedWith("ended from the media controls (host)", closeEnded)
	m.member.closedWith("ended from the media controls (member)", closeEnded)
	resp, body = m.get(m.page, m.memberC)
	expect(t, "the member's page", resp, body, http.StatusOK, "The meeting has ended.")
	lacks(t, "the member's page", body, `id="media"`)
}

func TestMediaOfAMeetingIsServedByTheProcessThatHostsItWhicheverProcessTheBrowserReaches(t *testing.T) {
	// Two portals on one database, each at its own internal address: two
	// processes behind a load balancer.
	listen := func() (net.Listener, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l, "http://" + l.Addr().String()
	}
	serve := func(p *portaltest.Portal, l net.Listener) *httptest.Server {
		s := httptest.NewUnstartedServer(p.Server)
		s.Listener.Close()
		s.Listener = l
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	listenerA, urlA := listen()
	listenerB, urlB := listen()
	w := newPortal(t, portaltest.WithInternalURL(urlA))
	b := portaltest.New(t, portaltest.WithPool(w.App.Pool), portaltest.WithInternalURL(urlB))
	serverA, serverB := serve(w.Portal, listenerA), serve(b, listenerB)
	page, ticket, memberID, _ := w.liveWithGuest()

	// The host reaches A first: A hosts the meeting's media.
	host := mustDialMedia(t, serverA, page, w.hostC)
	host.sees("Ann Lee")
	var owner string
	if err := w.App.Pool.QueryRow(context.Background(), `SELECT process_id FROM media_rooms WHERE site_id = $1`, w.acme.ID).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != w.App.Media.ProcessID() {
		t.Fatalf("the meeting's media is hosted by %s, want A (%s)", owner, w.App.Media.ProcessID())
	}
	// The member and the guest reach B, which forwards them to A: one
	// room, in which everyone sees everyone.
	member := mustDialMedia(t, serverB, page, w.memberC)
	guest := mustDialMedia(t, serverB, page, ticket)
	host.sees("Ann Lee", "Cy Doe", "Gail Guest")
	guest.sees("Ann Lee", "Cy Doe", "Gail Guest")
	if onA, onB := w.Metric("portal_media_participants"), b.Metric("portal_media_participants"); onA != 3 || onB != 0 {
		t.Fatalf("participants in the SFU of A: %v, of B: %v; want 3 and 0", onA, onB)
	}

	// Forwarding is one hop: a request B already forwarded is not
	// forwarded again by a process that does not host the meeting.
	forwarded := http.Header{"Portal-Media-Forwarded-By": {"another process"}}
	if s, status := dialMedia(t, serverB, acmeHost, page+"/media", acmeOrigin, forwarded, w.memberC); s != nil || status != http.StatusServiceUnavailable {
		t.Fatalf("a forwarded request forwarded again: status %d", status)
	}

	// The host removes the member on B's page: A closes the media at once
	// (the lobby's NOTIFY reaches A's follower).
	onB := &portal{Portal: b, t: t}
	onB.post(page+"/remove", url.Values{"participant": {memberID}}, w.hostC)
	member.closedWith("removed through the other process", closeRemoved)
	host.sees("Ann Lee", "Gail Guest")

	onB.post(page+"/end", nil, w.hostC)
	host.closedWith("ended through the other process (host)", closeEnded)
	guest.closedWith("ended through the other process (guest, forwarded)", closeEnded)
	// The room is given up once its media is over.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := w.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM media_rooms`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("media_rooms still has %d rows 5 s after the end", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestForwardedMediaSignallingOutlivesTheRequestDeadline(t *testing.T) {
	// Every request has a deadline; a meeting's media connection lasts as
	// long as the meeting, also when the process the browser reached
	// forwards it to the process that hosts the meeting (a reverse proxy
	// closes an upgraded connection when its request's context ends).
	short := portaltest.Configure(func(a *app.App) { a.RequestTimeout = 2 * time.Second })
	listen := func() (net.Listener, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l, "http://" + l.Addr().String()
	}
	serve := func(p *portaltest.Portal, l net.Listener) *httptest.Server {
		s := httptest.NewUnstartedServer(p.Server)
		s.Listener.Close()
		s.Listener = l
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	listenerA, urlA := listen()
	listenerB, urlB := listen()
	w := newPortal(t, portaltest.WithInternalURL(urlA), short)
	b := portaltest.New(t, portaltest.WithPool(w.App.Pool), portaltest.WithInternalURL(urlB), short)
	serverA, serverB := serve(w.Portal, listenerA), serve(b, listenerB)
	page, _, _, _ := w.liveWithGuest()
	host := mustDialMedia(t, serverA, page, w.hostC)
	host.sees("Ann Lee")
	member := mustDialMedia(t, serverB, page, w.memberC) // forwarded to A
	host.sees("Ann Lee", "Cy Doe")

	time.Sleep(3 * time.Second) // past the deadline
	for name, s := range map[string]*signal{"host": host, "member (forwarded)": member} {
		select {
		case <-s.closed:
			t.Fatalf("the %s's media connection closed with the request deadline (%v)", name, s.status)
		default:
		}
	}
	member.send(map[string]string{"type": "leave"})
	host.sees("Ann Lee")
}
