package meetings_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
)

// Tests of the meetings pages through the whole portal: sites acme and
// globex, and users of acme in every role a page tells apart.

var (
	acmeHost   = portaltest.Host("acme")
	globexHost = portaltest.Host("globex")
)

type portal struct {
	*portaltest.Portal
	t      *testing.T
	acme   sites.Site
	globex sites.Site

	host, invitee, member, attendee, stranger users.User
	// Their session cookies: stranger's is for globex.
	hostC, inviteeC, memberC, attendeeC, strangerC *http.Cookie
}

func newPortal(t *testing.T, options ...portaltest.Option) *portal {
	t.Helper()
	w := &portal{Portal: portaltest.New(t, options...), t: t}
	w.acme = w.CreateSite("acme")
	w.globex = w.CreateSite("globex")
	w.signInUsers()
	return w
}

// signInUsers signs in acme's users (and globex's stranger, who has the
// same address as acme's invitee) on this portal.
func (w *portal) signInUsers() {
	w.host, w.hostC = w.SignInUser(w.acme, "ann.lee@acme.example.com", "Ann", "Lee", "host")
	w.invitee, w.inviteeC = w.SignInUser(w.acme, "bob.ray@acme.example.com", "Bob", "Ray", "host")
	w.member, w.memberC = w.SignInUser(w.acme, "cy.doe@acme.example.com", "Cy", "Doe", "host")
	w.attendee, w.attendeeC = w.SignInUser(w.acme, "dee.fox@acme.example.com", "Dee", "Fox", "attendee")
	w.stranger, w.strangerC = w.SignInUser(w.globex, "bob.ray@acme.example.com", "Bob", "Elsewhere", "host")
}

// get is a GET on acme.
func (w *portal) get(path string, cookies ...*http.Cookie) (*http.Response, string) {
	w.t.Helper()
	return w.Get(acmeHost, path, cookies...)
}

// post is a form POST on acme.
func (w *portal) post(path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	w.t.Helper()
	return w.PostForm(acmeHost, path, form, cookies...)
}

// scheduleForm is a valid Schedule form: tomorrow 10:00 UTC for 30
// minutes, inviting acme's invitee.
func (w *portal) scheduleForm(changes url.Values) url.Values {
	form := url.Values{
		"topic": {"Design review"}, "date": {w.Clock.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")}, "start_time": {"10:00"},
		"duration": {"30"}, "recurrence": {"none"}, "invitees": {w.invitee.Email}, "agenda": {"Walk through the mock-ups."},
		"who_can_join": {"members"},
	}
	for k, v := range changes {
		form[k] = v
	}
	return form
}

var meetingPath = regexp.MustCompile(`^/meetings/([0-9]{9,11})\?done=scheduled$`)

// schedule schedules a meeting on acme through the form as the host and
// returns its number.
func (w *portal) schedule(changes url.Values) string {
	w.t.Helper()
	return w.scheduleAt(acmeHost, w.hostC, changes)
}

// scheduleAt schedules a meeting through the form on host as the holder
// of cookie.
func (w *portal) scheduleAt(host string, cookie *http.Cookie, changes url.Values) string {
	w.t.Helper()
	resp, body := w.PostForm(host, "/meetings/new", w.scheduleForm(changes), cookie)
	m := meetingPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		w.t.Fatalf("schedule: %d %s %.600s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return m[1]
}

// expect checks a response's status and that its body has every want.
func expect(t *testing.T, what string, resp *http.Response, body string, status int, want ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (location %q): %.800s", what, resp.StatusCode, status, resp.Header.Get("Location"), body)
		return
	}
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("%s: the page lacks %q:\n%.3000s", what, s, body)
		}
	}
}

// lacks checks that a body has none of the given strings.
func lacks(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Errorf("%s: the page shows %q, which it must not", what, s)
		}
	}
}

// redirect checks a redirect's status and target.
func redirect(t *testing.T, what string, resp *http.Response, body, location string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Errorf("%s: %d to %q, want 303 to %q: %.500s", what, resp.StatusCode, resp.Header.Get("Location"), location, body)
	}
}

// guestJoin joins the meeting or room at path as a guest called name and
// returns the guest's ticket cookie.
func (w *portal) guestJoin(path, name string) *http.Cookie {
	w.t.Helper()
	resp, body := w.post(path+"/guest", url.Values{"name": {name}})
	redirect(w.t, "guest join", resp, body, path)
	ticket := portaltest.Cookie(resp, meetings.GuestCookie)
	if ticket == nil {
		w.t.Fatalf("guest join: no ticket cookie")
	}
	return ticket
}

// participantID finds the ID of name in the host's view of the live page.
func (w *portal) participantID(path, name string) string {
	w.t.Helper()
	_, body := w.get(path, w.hostC)
	m := regexp.MustCompile(`<li data-id="([0-9]+)"><span class="name">` + regexp.QuoteMeta(name) + `</span>`).FindStringSubmatch(body)
	if m == nil {
		w.t.Fatalf("%s is not listed on %s:\n%.3000s", name, path, body)
	}
	return m[1]
}

// liveState is the payload of an event stream's "state" events.
type liveState struct {
	Status  string `json:"status"`
	Locked  bool   `json:"locked"`
	You     string `json:"you"`
	Present []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"present"`
	Waiting []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"waiting"`
}

func (s liveState) names(list string) []string {
	var out []string
	people := s.Present
	if list == "waiting" {
		people = s.Waiting
	}
	for _, p := range people {
		out = append(out, p.Name)
	}
	return out
}

// stream is an open event stream of a live page, read as a browser's
// EventSource reads it.
type stream struct {
	t      *testing.T
	states chan liveState
}

// openStream opens path on a real server (event streams do not fit a
// recorder) as the holder of cookies.
func openStream(t *testing.T, server *httptest.Server, path string, cookies ...*http.Cookie) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = acmeHost
	req.Header.Set("Accept", "text/event-stream")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, states: make(chan liveState, 100)}
	go func() {
		defer resp.Body.Close()
		scanner := bufio.NewScanner(resp.Body)
		event := ""
		for scanner.Scan() {
			line := scanner.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "state":
				var st liveState
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &st); err == nil {
					s.states <- st
				}
			case line == "":
				event = ""
			}
		}
	}()
	return s
}

// waitFor returns the first state that satisfies ok, failing the test if
// none comes within a second — the promise the live page makes.
func (s *stream) waitFor(what string, ok func(liveState) bool) liveState {
	s.t.Helper()
	deadline := time.After(time.Second)
	var last liveState
	for {
		select {
		case st := <-s.states:
			if ok(st) {
				return st
			}
			last = st
		case <-deadline:
			s.t.Fatalf("no state with %s within a second; the last was %+v", what, last)
		}
	}
}
