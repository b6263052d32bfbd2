package users

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/web"
)

// SignedInOn is "Signed in on", part of the user's Preferences page: the
// signed-in user's live sessions on this site, the one they are using
// marked (the signed_in_on partial shows it).
type SignedInOn struct {
	Sessions []session.Session
	Current  int64 // the id of the session of this request
}

// SessionEnded is the ?done= of the Preferences page after Sign out of
// another session.
const SessionEnded = "session-ended"

// preferences is where "Signed in on" is shown.
const preferences = "/preferences"

// SignedInOn lists where the request's user is signed in.
func (a *Auth) SignedInOn(r *http.Request) (SignedInOn, error) {
	site, _ := web.SiteFrom(r.Context())
	list, err := a.Session.Store.List(r.Context(), site.ID, session.User, UserFrom(r.Context()).ID, a.Session.Policy)
	if err != nil {
		return SignedInOn{}, err
	}
	return SignedInOn{Sessions: list, Current: SessionFrom(r.Context()).ID}, nil
}

// SessionsPage is the old address of "Signed in on" (GET /sessions), now
// part of Preferences.
func (a *Auth) SessionsPage(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, preferences+"#sessions", http.StatusSeeOther)
}

// EndSession signs one of the user's sessions out (POST /sessions/{id}/end):
// another browser's at once; this browser's is a sign-out, identity
// provider included when the site's Single Logout is on. Another user's
// session, or one that has ended already, is not touched and is no error:
// pressed twice, the second press changes nothing.
func (a *Auth) EndSession(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	user, current := UserFrom(r.Context()), SessionFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		a.Render.NotFound(w, r)
		return
	}
	if id == current.ID {
		a.Logout(w, r)
		return
	}
	if _, err := a.Session.Store.End(r.Context(), site.ID, session.User, user.ID, id, nil); err != nil {
		a.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, preferences+"?done="+SessionEnded+"#sessions", http.StatusSeeOther)
}

// EndAllSessions is Sign out everywhere (POST /sessions/end-all): every
// session of the user on this site ends, this one last, which then signs
// out as Logout does.
func (a *Auth) EndAllSessions(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	user := UserFrom(r.Context())
	ended, ok, err := a.Session.Take(w, r)
	if err != nil {
		a.Render.ServerError(w, r, err)
		return
	}
	if _, err := a.Session.Store.End(r.Context(), site.ID, session.User, user.ID, 0, nil); err != nil {
		a.Render.ServerError(w, r, err)
		return
	}
	a.signedOut(w, r, ended, ok)
}
