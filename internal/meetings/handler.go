package meetings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// GuestCookie holds a guest's ticket (__Host-guest on https): HttpOnly,
// SameSite=Lax, on the site host only, like the session cookies.
const GuestCookie = "guest"

// guestTicketLifetime is how long a browser keeps a guest's ticket: a
// meeting day.
const guestTicketLifetime = 24 * time.Hour

// Handler serves the meetings pages of a site: home, preferences, the
// Schedule form, meeting pages with their live lobby, join links, past
// meetings. Pages for signed-in users are behind users.Auth.RequireUser;
// the join links and live pages, which guests and visitors also open,
// behind users.Auth.WithUser.
type Handler struct {
	Meetings *Store
	Lobby    *Lobby
	Watcher  *Watcher
	Outbox   *mail.Outbox
	// Media carries the live meetings' audio and video.
	Media   *Media
	Users   *users.Store
	Hosts   sites.Hosts
	Cookies web.Cookies
	Render  *web.Renderer
	Log     *slog.Logger
	Now     func() time.Time
	// SignIn sends a visitor to the site's identity provider, to come back
	// to the address they asked for (users.Auth.SignIn).
	SignIn http.Handler
	// SignedInOn lists the user's sessions, for Preferences
	// (users.Auth.SignedInOn).
	SignedInOn func(*http.Request) (users.SignedInOn, error)
	// KeepAlive is how often an event stream sends a comment (for proxies
	// that buffer) and records the viewer's heartbeat; 0 means 15 s.
	KeepAlive time.Duration
}

// notices are the banners after a change redirected back to a page
// (?done=…): only these texts can appear, never text from the URL.
var notices = web.Notices{
	"scheduled":            "The meeting is scheduled.",
	"updated":              "The meeting is updated. Invitees get the new version.",
	"occurrence-updated":   "This occurrence is updated. Invitees get the change.",
	"cancelled":            "The meeting is cancelled. Invitees get a cancellation.",
	"occurrence-cancelled": "This occurrence is cancelled. Invitees get a cancellation; the rest of the series stays.",
	"preferences":          "Your preferences are saved.",
	users.SessionEnded:     "That session has ended: the browser it was in is signed out.",
}

// requestSite is the site of the request as the domain takes it.
func (h *Handler) requestSite(r *http.Request) Site {
	s, _ := web.SiteFrom(r.Context())
	return Site{ID: s.ID, URL: h.Hosts.SiteURL(s.Name)}
}

// viewer is who asks: the signed-in user, or a visitor.
func (h *Handler) viewer(r *http.Request) (Viewer, users.User) {
	u := users.UserFrom(r.Context())
	if u.ID == 0 {
		s, _ := web.SiteFrom(r.Context())
		return Visitor(s.ID), u
	}
	return ViewerOf(u), u
}

// location is the zone a signed-in viewer sees times in.
func (h *Handler) location(ctx context.Context, v Viewer) (*time.Location, error) {
	return h.Meetings.Location(ctx, v.SiteID, v.UserID)
}

// place is what a join link or live page is about: a scheduled meeting or
// a personal room, with the viewer's access to it.
type place struct {
	site    Site
	meeting *Meeting // a scheduled meeting, or
	room    *Room    // a personal room
	owner   users.User
	target  Target
	access  Access
	path    string // the page: /meetings/<number> or /meet/<room>
	joinURL string // what people share: <site>/j/<number> or <site>/meet/<room>
}

func (p place) topic() Topic {
	if p.room != nil {
		return RoomTopic(p.site.ID, p.room.UserID)
	}
	return MeetingTopic(p.site.ID, p.meeting.ID)
}

func (p place) hostName() string {
	if p.room != nil {
		return p.owner.DisplayName()
	}
	return hostLabel(*p.meeting)
}

// place finds the meeting ({number}) or room ({room}) of the URL on the
// request's site, or ErrNotFound.
func (h *Handler) place(r *http.Request, v Viewer) (place, error) {
	ctx := r.Context()
	p := place{site: h.requestSite(r)}
	if number := chi.URLParam(r, "number"); number != "" {
		m, err := h.Meetings.Get(ctx, p.site.ID, number)
		if err != nil {
			return place{}, err
		}
		p.meeting, p.target, p.access = &m, m.Target(), MeetingAccess(m, v)
		p.path, p.joinURL = "/meetings/"+m.Number, m.JoinURL(p.site)
		return p, nil
	}
	name := chi.URLParam(r, "room")
	room, err := h.Meetings.RoomByName(ctx, p.site.ID, name)
	if u := users.UserFrom(ctx); errors.Is(err, ErrNotFound) && u.ID != 0 && PersonalRoom(u) == name {
		// The user's own room, before their first visit home created it:
		// a link they typed from their user ID works at once.
		if room, err = h.Meetings.RoomFor(ctx, u); err == nil && room.Name != name {
			err = ErrNotFound
		}
	}
	if err != nil {
		return place{}, err
	}
	owner, err := h.Users.ByID(ctx, p.site.ID, room.UserID)
	if errors.Is(err, users.ErrNotFound) {
		return place{}, ErrNotFound
	}
	if err != nil {
		return place{}, err
	}
	p.room, p.owner, p.target, p.access = &room, owner, room.Target(owner.DisplayName()), RoomAccess(room, v)
	p.path, p.joinURL = "/meet/"+room.Name, room.URL(p.site)
	return p, nil
}

// placeFor is the place of the URL for the request's viewer. When there is
// none it answers the request: a visitor opening a link signs in first
// (linkOpened; nothing tells them which numbers and rooms exist), anyone
// else gets the page for the error.
func (h *Handler) placeFor(w http.ResponseWriter, r *http.Request, linkOpened bool) (place, Viewer, bool) {
	v, _ := h.viewer(r)
	p, err := h.place(r, v)
	switch {
	case err == nil:
		return p, v, true
	case linkOpened && !v.SignedIn() && errors.Is(err, ErrNotFound):
		h.SignIn.ServeHTTP(w, r)
	default:
		h.failed(w, r, p, err)
	}
	return p, v, false
}

// unavailablePage is a clear page for a join link that leads nowhere: a
// meeting of another site, cancelled, ended, locked.
type unavailablePage struct {
	Title, Message string
	Home           bool   // offer the way home (a signed-in user)
	Retry          string // offer to try again at this address
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, status int, page unavailablePage) {
	page.Home = users.UserFrom(r.Context()).ID != 0
	h.Render.Render(w, r, status, "meetings_unavailable", page)
}

// notFound is the page for a meeting number or room this site does not
// have. It cannot tell a mistyped link from another site's (that would
// tell one site's visitors about another's meetings), so it explains both.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	h.unavailable(w, r, http.StatusNotFound, unavailablePage{
		Title: "No such meeting on this site",
		Message: fmt.Sprintf("There is no meeting at this address on %s. Check the link: a meeting of another company's site "+
			"has that site's address in its link, and you join it there, signed in to that site or as a guest.", site.Name),
	})
}

func (h *Handler) cancelledPage(w http.ResponseWriter, r *http.Request, p place) {
	h.unavailable(w, r, http.StatusGone, unavailablePage{
		Title:   "This meeting was cancelled",
		Message: fmt.Sprintf("%s cancelled “%s”. There is nothing to join.", p.hostName(), p.target.Title),
	})
}

func (h *Handler) endedPage(w http.ResponseWriter, r *http.Request, p place) {
	h.unavailable(w, r, http.StatusGone, unavailablePage{
		Title:   "This meeting has ended",
		Message: fmt.Sprintf("“%s” has ended. If the host starts it again, this link works again.", p.target.Title),
		Retry:   r.URL.Path,
	})
}

func (h *Handler) lockedPage(w http.ResponseWriter, r *http.Request, p place) {
	h.unavailable(w, r, http.StatusForbidden, unavailablePage{
		Title:   "This meeting is locked",
		Message: fmt.Sprintf("%s has locked “%s”: nobody new can join, not even to wait in the lobby. Ask the host to unlock it, then try again.", p.hostName(), p.target.Title),
		Retry:   r.URL.Path,
	})
}

// failed answers a domain error with the page it deserves: the refusals a
// person can understand, and a server error (logged, with a reference) for
// everything else.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, p place, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		h.notFound(w, r)
	case errors.Is(err, ErrNotHost):
		h.Render.Error(w, r, http.StatusForbidden, "Only the host can do this",
			"Starting and ending the meeting, letting people in or out and locking it are for the host.")
	case errors.Is(err, ErrCancelled):
		h.cancelledPage(w, r, p)
	case errors.Is(err, ErrLocked):
		h.lockedPage(w, r, p)
	case errors.Is(err, ErrEnded):
		h.endedPage(w, r, p)
	case errors.Is(err, ErrNoParticipant):
		h.Render.Error(w, r, http.StatusNotFound, "Not in this meeting", "This person is no longer in the meeting. Reload the page.")
	default:
		h.Render.ServerError(w, r, err)
	}
}

// done answers a change: a redirect to the page for a form, nothing for
// the live page's script (its fetch() is a request whose destination is
// "empty"; the event stream shows the result).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, path string) {
	if r.Header.Get("Sec-Fetch-Dest") == "empty" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// ticket is the guest ticket the browser holds, or "".
func (h *Handler) ticket(r *http.Request) string { return h.Cookies.Get(r, GuestCookie) }

// formInt64 reads a positive integer form value.
func formInt64(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	return n, err == nil && n > 0
}

// durationText is "45 minutes", "1 hour", "1 hour 30 minutes".
func durationText(d time.Duration) string {
	hours, minutes := int(d/time.Hour), int(d%time.Hour/time.Minute)
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + one + "s"
	}
	switch {
	case hours == 0:
		return unit(minutes, "minute")
	case minutes == 0:
		return unit(hours, "hour")
	default:
		return unit(hours, "hour") + " " + unit(minutes, "minute")
	}
}
