package meetings

import (
	"errors"
	"net/http"
	"time"

	"github.com/meetings-portal/portal/internal/mail"
)

// occurrenceRow is one upcoming occurrence of a series on the meeting page.
type occurrenceRow struct {
	When    string
	Key     string // its original start as the ?occurrence= value
	Changed bool
}

// livePanel is the live part of a page: the status, who is here and who
// waits, the viewer's controls, and where the media mounts.
type livePanel struct {
	State      liveState
	Path       string // where the controls post: /meetings/<number> or /meet/<room>
	Control    bool   // the host's buttons
	Guest      bool   // the viewer is a guest
	SignedIn   bool
	AutoJoin   bool  // join as soon as the meeting is live (the viewer opened the join link)
	InstanceID int64 // the live instance, for the media
	SelfID     int64 // the viewer's participant ID in it
	Role       string
	// Media is the audio and video of an admitted participant (the
	// "media" partial), nil for everyone else.
	Media *mediaPanel
}

// mediaPanel is the data of the "media" partial (partial_media.html).
type mediaPanel struct {
	SignalURL string // the signalling WebSocket, on the site's own host
	SelfID    string // the viewer in the SFU: MediaID of their lobby row
	Role      string // host, participant or guest
	LeaveForm string // the id of the form that leaves the meeting
}

// Joinable reports whether the viewer may join now with one click: the
// meeting is live and they are not in it (or left it).
func (l livePanel) Joinable() bool {
	return l.State.Status == StatusLive && !l.Guest && (l.State.You == "" || l.State.You == StateLeft)
}

// JoinsItself reports whether the page joins on its own: the viewer opened
// the join link and has not been in this live meeting yet (someone who
// left chooses to come back).
func (l livePanel) JoinsItself() bool { return l.AutoJoin && l.Joinable() && l.State.You == "" }

// meetingPage is a meeting's or a personal room's page.
type meetingPage struct {
	Title       string
	Number      string // "" for a personal room
	Grouped     string
	Room        bool
	HostName    string
	When        string // the next occurrence in the viewer's zone
	Duration    string
	Repeats     string
	Occurrences []occurrenceRow // a series' next occurrences, for the host
	Details     bool            // the host and invitees see invitees and agenda
	Invitees    []string
	Agenda      string
	JoinURL     string
	Control     bool
	Cancelled   bool
	// Problems are invitations that failed to send, for the host.
	Problems []mail.Entry
	// InvitationText is offered to copy when no mail server is configured.
	InvitationText string
	GuestsAllowed  bool
	Notice         string
	Live           livePanel
}

// Meeting is the meeting page (GET /meetings/{number}): its details and its
// live lobby. A guest holding a ticket for it sees their own view of it;
// any other visitor is sent to the join link.
func (h *Handler) Meeting(w http.ResponseWriter, r *http.Request) {
	h.showPlace(w, r, r.URL.Query().Get("join") == "1", func(p place) {
		http.Redirect(w, r, "/j/"+p.meeting.Number, http.StatusSeeOther)
	})
}

// Room is a personal room's join link and page (GET /meet/{room}). Opening
// it is joining: a signed-in user is let in as soon as the room is live.
func (h *Handler) Room(w http.ResponseWriter, r *http.Request) {
	h.showPlace(w, r, true, func(p place) { h.visit(w, r, p) })
}

// JoinLink is a meeting's join link (GET /j/{number}). A user of the site
// goes on to the meeting page, which lets them in once the host has
// started; a visitor signs in (and comes back here) or, when the meeting
// lets guests in, may join as a guest. Cancelled, ended and locked
// meetings get a page that says so.
func (h *Handler) JoinLink(w http.ResponseWriter, r *http.Request) {
	p, v, ok := h.placeFor(w, r, true)
	if !ok {
		return
	}
	if !v.SignedIn() {
		a, err := h.attendance(r.Context(), p, v, h.ticket(r))
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		if a.guest && a.inLive() {
			http.Redirect(w, r, p.path, http.StatusSeeOther)
			return
		}
		h.visit(w, r, p)
		return
	}
	a, err := h.attendance(r.Context(), p, v, "")
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	switch status := h.status(p, a); {
	case status == StatusCancelled:
		h.cancelledPage(w, r, p)
	case p.access.Control:
		http.Redirect(w, r, p.path+"?join=1", http.StatusSeeOther)
	case status == StatusEnded:
		h.endedPage(w, r, p)
	case a.live != nil && a.live.Locked && a.you() != StateAdmitted:
		h.lockedPage(w, r, p)
	default:
		http.Redirect(w, r, p.path+"?join=1", http.StatusSeeOther)
	}
}

// showPlace renders the page of a meeting or room for a signed-in user or
// a guest with a ticket; anyone else goes to visitor.
func (h *Handler) showPlace(w http.ResponseWriter, r *http.Request, autoJoin bool, visitor func(place)) {
	ctx := r.Context()
	p, v, ok := h.placeFor(w, r, true)
	if !ok {
		return
	}
	a, err := h.attendance(ctx, p, v, h.ticket(r))
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if !v.SignedIn() && !a.guest {
		visitor(p)
		return
	}
	st, err := h.liveState(ctx, p, v, a)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page := meetingPage{
		Title: p.target.Title, HostName: p.hostName(), JoinURL: p.joinURL, Control: p.access.Control,
		Room: p.room != nil, Notice: notices.From(r, "done"), GuestsAllowed: p.target.GuestsAllowed,
		Live: livePanel{
			State: st, Path: p.path, Control: p.access.Control && st.Status == StatusLive, Guest: a.guest,
			SignedIn: v.SignedIn(), AutoJoin: autoJoin && v.SignedIn(), Role: "participant",
		},
	}
	if p.room != nil && p.access.Control {
		page.Title = "Your personal room"
	}
	switch {
	case p.access.Control:
		page.Live.Role = "host"
	case a.guest:
		page.Live.Role = "guest"
	}
	if a.inLive() {
		page.Live.InstanceID, page.Live.SelfID = a.live.ID, a.self.ID
		if st.Status == StatusLive && st.You == StateAdmitted && h.Media.SFU() != nil {
			page.Live.Media = &mediaPanel{SignalURL: p.path + "/media", SelfID: MediaID(a.self.ID),
				Role: string(mediaRole(*a.live, *a.self)), LeaveForm: "leave-form"}
		}
	}
	// A guest sees the topic, the host and the live part; the details
	// are for the site's users.
	if p.meeting != nil && v.SignedIn() {
		loc, err := h.location(ctx, v)
		if err == nil {
			err = h.meetingDetails(r, &page, p, loc)
		}
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
	}
	h.Render.Render(w, r, http.StatusOK, "meetings_meeting", page)
}

// meetingDetails fills in what a signed-in user sees of a scheduled
// meeting: times in their zone, and for the host and invitees the agenda
// and invitees; for the host, the invitation problems and text.
func (h *Handler) meetingDetails(r *http.Request, page *meetingPage, p place, loc *time.Location) error {
	m, now := *p.meeting, h.Now()
	page.Number, page.Grouped, page.Cancelled = m.Number, GroupedNumber(m.Number), m.Cancelled()
	page.Duration = durationText(m.Duration())
	if m.RRule != "" {
		page.Repeats = m.RecurrenceText()
	}
	if next, ok := m.Next(now); ok {
		page.When = formatWhen(next.Start, next.End.Sub(next.Start), loc)
		page.Title = next.Topic
	} else {
		page.When = formatWhen(m.StartUTC, m.Duration(), loc) + " (over)"
	}
	if p.access.Details {
		page.Details, page.Invitees, page.Agenda = true, m.Invitees, m.Agenda
	}
	if !p.access.Control {
		return nil
	}
	if m.RRule != "" && !m.Cancelled() {
		occurrences, err := m.Occurrences(now, m.EndsUTC.Add(time.Minute))
		if err != nil {
			return err
		}
		for _, o := range occurrences[:min(len(occurrences), 5)] {
			page.Occurrences = append(page.Occurrences, occurrenceRow{
				When: formatWhen(o.Start, o.End.Sub(o.Start), loc), Key: occurrenceKey(o.OriginalStart), Changed: o.Changed,
			})
		}
	}
	problems, err := h.Outbox.Problems(r.Context(), p.site.ID, m.ID)
	if err != nil {
		return err
	}
	page.Problems = problems
	if !h.Outbox.Delivers() {
		page.InvitationText = InvitationText(p.site, m, now)
	}
	return nil
}

// joinPage is what a visitor sees of a meeting that lets guests in: sign
// in, or give a name and wait in the lobby.
type joinPage struct {
	Title, HostName, When string
	Path                  string // the page the events and the form belong to
	SignInURL             string
	Status                string
	Name, Email           string
	Errors                FieldErrors
	Notice                string
}

// visit is a visitor's way into p: through single sign-on (and back to
// this very address), or, when guests may join, the page that offers both.
func (h *Handler) visit(w http.ResponseWriter, r *http.Request, p place) {
	if p.access.Join == JoinSignIn || r.URL.Query().Get("sign-in") == "1" {
		h.SignIn.ServeHTTP(w, r)
		return
	}
	if p.access.Refusal == RefusedCancelled {
		h.cancelledPage(w, r, p)
		return
	}
	if p.access.Join != JoinSignInOrGuest {
		h.SignIn.ServeHTTP(w, r)
		return
	}
	h.showJoin(w, r, p, http.StatusOK, joinPage{})
}

// showJoin renders the guest join page, with what the visitor typed.
func (h *Handler) showJoin(w http.ResponseWriter, r *http.Request, p place, status int, page joinPage) {
	a, err := h.attendance(r.Context(), p, Visitor(p.site.ID), "")
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page.Status = h.status(p, a)
	switch {
	case page.Status == StatusEnded:
		h.endedPage(w, r, p)
		return
	case page.Status == StatusCancelled:
		h.cancelledPage(w, r, p)
		return
	case a.live != nil && a.live.Locked:
		h.lockedPage(w, r, p)
		return
	}
	page.Title, page.HostName, page.Path = p.target.Title, p.hostName(), p.path
	page.SignInURL = r.URL.Path + "?sign-in=1"
	if p.meeting != nil {
		page.SignInURL = "/j/" + p.meeting.Number + "?sign-in=1"
		if next, ok := p.meeting.Next(h.Now()); ok {
			page.When = formatWhen(next.Start, next.End.Sub(next.Start), p.meeting.Zone())
		}
	}
	h.Render.Render(w, r, status, "meetings_join", page)
}

// JoinAsGuest puts a visitor in the lobby under the name they gave (POST
// …/guest) and gives their browser the guest ticket; a guest who left or
// was removed asks to come back with the ticket they hold.
func (h *Handler) JoinAsGuest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	if v.SignedIn() {
		// A user of the site joins as themselves.
		http.Redirect(w, r, p.path, http.StatusSeeOther)
		return
	}
	if p.access.Join != JoinSignInOrGuest {
		h.visit(w, r, p)
		return
	}
	a, err := h.attendance(ctx, p, v, h.ticket(r))
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if a.guest && a.inLive() {
		// Back from "left" or "removed": to the lobby, where the host
		// must admit them again.
		if _, err := h.Lobby.RejoinGuest(ctx, p.site.ID, h.ticket(r)); err != nil {
			h.failed(w, r, p, err)
			return
		}
		http.Redirect(w, r, p.path, http.StatusSeeOther)
		return
	}
	page := joinPage{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Errors: FieldErrors{}}
	if a.live == nil {
		page.Notice = "The host has not started the meeting yet. Keep this page open: you can join as soon as they do."
		h.showJoin(w, r, p, http.StatusConflict, page)
		return
	}
	_, ticket, err := h.Lobby.JoinGuest(ctx, p.site.ID, a.live.ID, page.Name, page.Email)
	switch {
	case errors.Is(err, ErrGuestName):
		page.Errors["name"] = "Enter your name, at most 100 characters: the host sees it."
	case errors.Is(err, ErrInvalidGuestEmail):
		page.Errors["email"] = "Enter an e-mail address, or leave it empty."
	case errors.Is(err, ErrGuestsNotAllowed):
		h.SignIn.ServeHTTP(w, r)
		return
	case err != nil:
		h.failed(w, r, p, err)
		return
	default:
		h.Cookies.Set(w, GuestCookie, ticket, guestTicketLifetime)
		http.Redirect(w, r, p.path, http.StatusSeeOther)
		return
	}
	h.showJoin(w, r, p, http.StatusUnprocessableEntity, page)
}

// JoinAsMember brings the signed-in user into the live meeting (POST
// …/join): straight in, or to the lobby if the host removed them before.
func (h *Handler) JoinAsMember(w http.ResponseWriter, r *http.Request) {
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	if p.meeting != nil && p.meeting.Cancelled() {
		h.cancelledPage(w, r, p)
		return
	}
	in, err := h.Lobby.Current(r.Context(), p.site.ID, p.target)
	if errors.Is(err, ErrNotStarted) {
		http.Redirect(w, r, p.path+"?join=1", http.StatusSeeOther)
		return
	}
	if err == nil {
		_, err = h.Lobby.JoinMember(r.Context(), p.site.ID, in.ID, v)
	}
	if err != nil {
		h.failed(w, r, p, err)
		return
	}
	http.Redirect(w, r, p.path, http.StatusSeeOther)
}
