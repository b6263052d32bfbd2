package meetings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/meetings-portal/portal/internal/web"
)

// Statuses of a meeting or room as its page shows it.
const (
	StatusNotStarted = "not-started"
	StatusLive       = "live"
	StatusEnded      = "ended"
	StatusCancelled  = "cancelled"
)

// attendance is a viewer's relation to the live side of a place: the live
// instance (if any), the latest one, and the viewer's own row in it.
type attendance struct {
	live  *Instance    // the live instance, nil when not started
	last  *Instance    // the latest instance, live or ended; nil when never started
	self  *Participant // the viewer's place in last (a member's row or the guest's ticket)
	guest bool         // the viewer is a guest, known by their ticket
}

// inLive reports whether the viewer has a row in the live instance.
func (a attendance) inLive() bool {
	return a.live != nil && a.self != nil && a.self.InstanceID == a.live.ID
}

// you is the viewer's state in the live instance, "" when they have none.
func (a attendance) you() string {
	if !a.inLive() {
		return ""
	}
	return a.self.State
}

// attendance finds the viewer's relation to p: the signed-in user's row, or
// the guest whose ticket belongs to p's latest instance.
func (h *Handler) attendance(ctx context.Context, p place, v Viewer, ticket string) (attendance, error) {
	var a attendance
	last, err := h.Lobby.Last(ctx, p.site.ID, p.target)
	if errors.Is(err, ErrNotStarted) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.last = &last
	if last.EndedAt == nil {
		a.live = &last
	}
	var self Participant
	switch {
	case v.SignedIn():
		self, err = h.Lobby.Member(ctx, p.site.ID, last.ID, v.UserID)
	case ticket != "":
		self, err = h.Lobby.Guest(ctx, p.site.ID, ticket)
		if err == nil && self.InstanceID != last.ID {
			err = ErrNoParticipant // a ticket of another meeting, or of an earlier one
		}
		a.guest = err == nil
	default:
		err = ErrNoParticipant
	}
	if errors.Is(err, ErrNoParticipant) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	a.self = &self
	return a, nil
}

// status is what p's page says about it now. A meeting has ended for
// everyone once its last occurrence is over, or when its latest live
// meeting ended after its next occurrence was due to start; for those who
// took part, as soon as the host ends it.
func (h *Handler) status(p place, a attendance) string {
	switch {
	case p.meeting != nil && p.meeting.Cancelled():
		return StatusCancelled
	case a.live != nil:
		return StatusLive
	case a.last != nil && a.self != nil:
		return StatusEnded
	case p.meeting == nil:
		return StatusNotStarted
	}
	next, ok := p.meeting.Next(h.Now())
	if !ok || (a.last != nil && !a.last.EndedAt.Before(next.Start)) {
		return StatusEnded
	}
	return StatusNotStarted
}

// person is one participant as the live page lists them.
type person struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Host  bool   `json:"host"`
	Guest bool   `json:"guest"`
	You   bool   `json:"you"`
}

// liveState is what the live page shows and its event stream sends: the
// status, the viewer's own state, and — for the site's users and those
// admitted, not for someone waiting in the lobby — who is here and who
// waits.
type liveState struct {
	Status  string   `json:"status"`
	Locked  bool     `json:"locked"`
	You     string   `json:"you"` // lobby, admitted, removed, left, or ""
	Present []person `json:"present"`
	Waiting []person `json:"waiting"`
}

func (h *Handler) liveState(ctx context.Context, p place, v Viewer, a attendance) (liveState, error) {
	st := liveState{Status: h.status(p, a), You: a.you(), Present: []person{}, Waiting: []person{}}
	if a.live == nil {
		return st, nil
	}
	st.Locked = a.live.Locked
	if !v.SignedIn() && st.You != StateAdmitted {
		return st, nil
	}
	roster, err := h.Lobby.Roster(ctx, p.site.ID, a.live.ID)
	if err != nil {
		return st, err
	}
	st.Locked = roster.Instance.Locked
	list := func(ps []Participant) []person {
		out := []person{}
		for _, x := range ps {
			out = append(out, person{
				ID: x.ID, Name: x.DisplayName, Guest: x.Guest(),
				Host: x.UserID != nil && *x.UserID == roster.Instance.HostUserID,
				You:  a.self != nil && a.self.ID == x.ID,
			})
		}
		return out
	}
	st.Present, st.Waiting = list(roster.Present), list(roster.Waiting)
	return st, nil
}

func (h *Handler) keepAlive() time.Duration {
	if h.KeepAlive == 0 {
		return 15 * time.Second
	}
	return h.KeepAlive
}

// Events is the live page's event stream (GET …/events): a "state" event
// with the liveState at once and after every change of the meeting, woken
// by the Watcher (any portal process's change, through LISTEN/NOTIFY), and
// every KeepAlive a comment — proxies that buffer pass it on — with the
// viewer's heartbeat and a fresh look at who is present (presence lapses
// without a notification). It serves the site's users, the guest holding
// a ticket, and a visitor of a meeting that lets guests in (the status
// only, so the join page knows when the host starts).
func (h *Handler) Events(w http.ResponseWriter, r *http.Request) {
	// The stream outlives the request deadline; each round of work below
	// gets one of its own.
	ctx := web.StreamContext(r)
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	ticket := h.ticket(r)
	if r.URL.Query().Get("as") == "visitor" {
		// The guest join page: it was rendered for a visitor, whatever
		// ticket of an earlier meeting the browser still holds, and the
		// stream must say what that page says or the page reloads forever.
		ticket = ""
	}
	a, err := h.attendance(ctx, p, v, ticket)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if !v.SignedIn() && !a.guest && p.access.Join != JoinSignInOrGuest {
		h.Render.Error(w, r, http.StatusForbidden, "Please sign in", "Sign in to this site to follow this meeting.")
		return
	}

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	// nginx buffers responses unless told not to.
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	changed, stop := h.Watcher.Subscribe(p.topic())
	defer stop()
	var instanceChanged <-chan struct{}
	stopInstance, watching := func() {}, int64(0)
	defer func() { stopInstance() }()

	sent := ""
	send := func(beat bool) error {
		// A stream lives long: the server's write timeout is for pages,
		// so each write gets its own deadline instead, and each round of
		// database work too.
		if err := rc.SetWriteDeadline(time.Now().Add(h.keepAlive() + 10*time.Second)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, streamWork)
		defer cancel()
		a, err := h.attendance(ctx, p, v, ticket)
		if err != nil {
			return err
		}
		if beat && a.inLive() {
			self, err := h.Lobby.Heartbeat(ctx, p.site.ID, a.live.ID, a.self.ID)
			if err != nil && !errors.Is(err, ErrNoParticipant) {
				return err
			}
			if err == nil {
				a.self = &self
			}
		}
		if a.live != nil && a.live.ID != watching {
			stopInstance()
			instanceChanged, stopInstance = h.Watcher.Subscribe(InstanceTopic(p.site.ID, a.live.ID))
			watching = a.live.ID
		}
		st, err := h.liveState(ctx, p, v, a)
		if err != nil {
			return err
		}
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if beat {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return err
			}
		}
		if string(data) != sent {
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", data); err != nil {
				return err
			}
			sent = string(data)
		}
		return rc.Flush()
	}

	tick := time.NewTicker(h.keepAlive())
	defer tick.Stop()
	beat := true
	for {
		if err := send(beat); err != nil {
			if ctx.Err() == nil {
				h.Log.InfoContext(ctx, "meeting event stream ended", "error", err.Error())
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.Watcher.Done():
			return // shutting down: the browser reconnects to another process
		case <-changed:
			beat = false
		case <-instanceChanged:
			beat = false
		case <-tick.C:
			beat = true
		}
	}
}

// streamWork bounds one round of an event stream's database work, as the
// request deadline bounds a page's.
const streamWork = 10 * time.Second

// Signalling is the meeting's media signalling (GET …/media, a
// WebSocket; internal/media describes its messages): for the participants
// admitted to the live meeting — the site's users by their session
// cookie, guests by their ticket — and only from the site's own origin.
func (h *Handler) Signalling(w http.ResponseWriter, r *http.Request) {
	// The WebSocket lasts as long as the meeting, not the request
	// deadline.
	r = r.WithContext(web.StreamContext(r))
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	a, err := h.attendance(r.Context(), p, v, h.ticket(r))
	if err == nil && a.you() != StateAdmitted {
		err = ErrNotAdmitted
	}
	if err == nil {
		err = h.Media.serve(w, r, *a.live, *a.self, p.site.URL)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrNotAdmitted):
		h.Render.Error(w, r, http.StatusForbidden, "Not in this meeting", "Only people in the meeting get its audio and video. Open the meeting page to join.")
	case errors.Is(err, ErrMediaUnavailable):
		w.Header().Set("Retry-After", "1")
		h.Render.Error(w, r, http.StatusServiceUnavailable, "Audio and video unavailable", ErrMediaUnavailable.Error()+". The page tries again.")
	default:
		h.Render.ServerError(w, r, err)
	}
}

// live is the live instance of p, for the host's controls.
func (h *Handler) live(w http.ResponseWriter, r *http.Request) (place, Viewer, Instance, bool) {
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return p, v, Instance{}, false
	}
	in, err := h.Lobby.Current(r.Context(), p.site.ID, p.target)
	if errors.Is(err, ErrNotStarted) {
		// Ended meanwhile (by the host in another tab): the page says so.
		h.done(w, r, p.path)
		return p, v, Instance{}, false
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return p, v, Instance{}, false
	}
	return p, v, in, true
}

// Start starts the meeting or personal room (POST …/start), host only, and
// puts the host in it.
func (h *Handler) Start(w http.ResponseWriter, r *http.Request) {
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	var err error
	if p.meeting != nil && p.meeting.Cancelled() {
		err = ErrCancelled
	} else {
		_, _, err = h.Lobby.Start(r.Context(), v, p.target)
	}
	if err != nil {
		h.failed(w, r, p, err)
		return
	}
	http.Redirect(w, r, p.path, http.StatusSeeOther)
}

// End ends the live meeting for everyone (POST …/end), host only.
func (h *Handler) End(w http.ResponseWriter, r *http.Request) {
	p, v, in, ok := h.live(w, r)
	if !ok {
		return
	}
	if err := h.Lobby.End(r.Context(), p.site.ID, in.ID, v); err != nil && !errors.Is(err, ErrEnded) {
		h.failed(w, r, p, err)
		return
	}
	h.done(w, r, p.path)
}

// Lock locks (locked=true) or unlocks the live meeting (POST …/lock).
func (h *Handler) Lock(w http.ResponseWriter, r *http.Request) {
	p, v, in, ok := h.live(w, r)
	if !ok {
		return
	}
	if err := h.Lobby.SetLocked(r.Context(), p.site.ID, in.ID, v, r.PostFormValue("locked") == "true"); err != nil {
		h.failed(w, r, p, err)
		return
	}
	h.done(w, r, p.path)
}

// Admit lets the participant in the form in from the lobby (POST …/admit).
func (h *Handler) Admit(w http.ResponseWriter, r *http.Request) {
	h.setParticipant(w, r, h.Lobby.Admit)
}

// Remove puts the participant in the form out (POST …/remove): coming back
// takes them to the lobby.
func (h *Handler) Remove(w http.ResponseWriter, r *http.Request) {
	h.setParticipant(w, r, h.Lobby.Remove)
}

func (h *Handler) setParticipant(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, siteID, instanceID, participantID int64, by Viewer) error) {
	p, v, in, ok := h.live(w, r)
	if !ok {
		return
	}
	id, ok := formInt64(r, "participant")
	if !ok {
		h.Render.Error(w, r, http.StatusBadRequest, "Nobody chosen", "Choose a person in the list.")
		return
	}
	if err := change(r.Context(), p.site.ID, in.ID, id, v); err != nil {
		h.failed(w, r, p, err)
		return
	}
	h.done(w, r, p.path)
}

// Leave takes the viewer — a user or a guest — out of the live meeting
// (POST …/leave).
func (h *Handler) Leave(w http.ResponseWriter, r *http.Request) {
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	a, err := h.attendance(r.Context(), p, v, h.ticket(r))
	if err == nil && a.inLive() {
		err = h.Lobby.Leave(r.Context(), p.site.ID, a.live.ID, a.self.ID)
	}
	if err != nil {
		h.failed(w, r, p, err)
		return
	}
	http.Redirect(w, r, p.path, http.StatusSeeOther)
}
