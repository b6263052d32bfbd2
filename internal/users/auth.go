package users

import (
	"context"
	"errors"
	"net/http"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/web"
)

// SessionCookie is the name of the cookie that holds a signed-in user's
// session token (__Host-session on https).
const SessionCookie = "session"

// Auth is the user side of the site: the session cookie, the guard of the
// user pages, and sign-out.
type Auth struct {
	Users   *Store
	Session session.Cookie
	Render  *web.Renderer
	// SignIn starts a sign-in for a visitor who is not signed in (the
	// SP-initiated SAML flow, behind its rate limit); it answers the
	// request.
	SignIn http.Handler
}

type userKey struct{}

// UserFrom returns the signed-in user of a request that passed RequireUser
// (or WithUser: a zero User, ID 0, when nobody is signed in).
func UserFrom(ctx context.Context) User {
	u, _ := ctx.Value(userKey{}).(User)
	return u
}

// RequireUser lets signed-in users through. Anyone else is handed to
// SignIn, which comes back to the page first asked for.
func (a *Auth) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok, err := a.withCurrentUser(w, r)
		if err != nil {
			a.Render.ServerError(w, r, err)
			return
		}
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			a.Render.Error(w, r, http.StatusForbidden, "Please sign in", "Your session has ended. Open the page again to sign in.")
			return
		}
		a.SignIn.ServeHTTP(w, r)
	})
}

// WithUser lets everyone through, with the signed-in user (if any) for
// UserFrom: for the pages a visitor may also open, such as a join link that
// lets guests in. A handler sends a visitor to sign in with SignIn.
func (a *Auth) WithUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, _, err := a.withCurrentUser(w, r)
		if err != nil {
			a.Render.ServerError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withCurrentUser returns r carrying its signed-in user for UserFrom (and
// the layout's sign-out button), or r itself and false when nobody is
// signed in.
func (a *Auth) withCurrentUser(w http.ResponseWriter, r *http.Request) (*http.Request, bool, error) {
	user, ok, err := a.current(w, r)
	if !ok || err != nil {
		return r, false, err
	}
	r = web.MarkSignedIn(r, "/logout")
	return r.WithContext(context.WithValue(r.Context(), userKey{}, user)), true, nil
}

// current returns the request's signed-in, active user, or ok false (and
// the stale cookie cleared). An error is a failure to find out.
func (a *Auth) current(w http.ResponseWriter, r *http.Request) (User, bool, error) {
	sess, ok, err := a.Session.Lookup(w, r)
	if !ok || err != nil {
		return User{}, false, err
	}
	site, _ := web.SiteFrom(r.Context())
	user, err := a.Users.ByID(r.Context(), site.ID, sess.SubjectID)
	if errors.Is(err, ErrNotFound) || (err == nil && !user.Active) {
		a.Session.Clear(w)
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	return user, true, nil
}

// StartSession gives the browser the session of a user who just signed in.
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, token string) {
	a.Session.Start(w, r, token)
}

// Logout ends the user's session (POST /logout).
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	if err := a.Session.End(w, r); err != nil {
		a.Render.ServerError(w, r, err)
		return
	}
	// Not "/": that would sign the user straight back in through the IdP.
	http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
}

// SignedOut is the page after sign-out (GET /signed-out).
func (a *Auth) SignedOut(w http.ResponseWriter, r *http.Request) {
	a.Render.Render(w, r, http.StatusOK, "signed_out", nil)
}
