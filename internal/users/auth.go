package users

import (
	"context"
	"html"
	"html/template"
	"net/http"
	"strings"

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
	// SingleLogout, when set, says where a browser goes once sign-out has
	// ended its session: the identity provider with a LogoutRequest for
	// that session (the site's Single Logout), or a signed-out page saying
	// why not. The session has ended whatever it answers.
	SingleLogout func(r *http.Request, ended session.Session) (target string)
}

type userKey struct{}

type sessionKey struct{}

// UserFrom returns the signed-in user of a request that passed RequireUser
// (or WithUser: a zero User, ID 0, when nobody is signed in).
func UserFrom(ctx context.Context) User {
	u, _ := ctx.Value(userKey{}).(User)
	return u
}

// SessionFrom returns the session of a request that passed RequireUser.
func SessionFrom(ctx context.Context) session.Session {
	s, _ := ctx.Value(sessionKey{}).(session.Session)
	return s
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

// withCurrentUser returns r carrying its signed-in user and session for
// UserFrom and SessionFrom (and the layout's sign-out button), or r itself
// and false when nobody is signed in.
func (a *Auth) withCurrentUser(w http.ResponseWriter, r *http.Request) (*http.Request, bool, error) {
	user, sess, ok, err := a.current(w, r)
	if !ok || err != nil {
		return r, false, err
	}
	r = web.MarkSignedIn(r, "/logout")
	ctx := context.WithValue(context.WithValue(r.Context(), userKey{}, user), sessionKey{}, sess)
	return r.WithContext(ctx), true, nil
}

// current returns the request's signed-in, active user and their session,
// or ok false (and the stale cookie cleared). An error is a failure to find
// out.
func (a *Auth) current(w http.ResponseWriter, r *http.Request) (User, session.Session, bool, error) {
	sess, user, ok, err := session.LookupWith(a.Session, w, r, sessionSubject)
	if !ok || err != nil {
		return User{}, session.Session{}, false, err
	}
	if !user.Active {
		a.Session.Clear(w)
		return User{}, session.Session{}, false, nil
	}
	return user, sess, true, nil
}

// sessionSubject reads a user session's account with the session.
var sessionSubject = session.NewSubject[User]("users")

// StartSession gives the browser the session of a user who just signed in.
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, token string) {
	a.Session.Start(w, r, token)
}

// Logout ends the user's session (POST /logout), first and whatever
// follows; then, with the site's Single Logout on, the browser goes on to
// the identity provider to end the session there too.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	ended, ok, err := a.Session.Take(w, r)
	if err != nil {
		a.Render.ServerError(w, r, err)
		return
	}
	a.signedOut(w, r, ended, ok)
}

// signedOut sends a browser whose session has ended to the identity
// provider (Single Logout) or to the signed-out page. Not "/": that would
// sign the user straight back in through the identity provider.
func (a *Auth) signedOut(w http.ResponseWriter, r *http.Request, ended session.Session, ok bool) {
	target := "/signed-out"
	if ok && a.SingleLogout != nil {
		target = a.SingleLogout(r, ended)
	}
	if strings.HasPrefix(target, "/") {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	// To the identity provider through a page of this site, not a redirect
	// of the sign-out form: the Content-Security-Policy's form-action
	// 'self' also covers where a form's answer redirects (CSP Level 3), so
	// browsers would refuse to follow this POST's redirect to another
	// origin. The page moves on by itself (a meta refresh, allowed under
	// the policy) and offers a link.
	a.Render.Render(w, r, http.StatusOK, "signing_out", signingOutPage{
		Refresh: template.HTML(`<meta http-equiv="refresh" content="0;url=` + html.EscapeString(target) + `">`), Target: target,
	})
}

// signingOutPage is the page between sign-out and the identity provider.
type signingOutPage struct {
	// Refresh is the meta element that moves on to Target: made here,
	// whole, because html/template refuses a computed value in a meta
	// element's content (it cannot tell what the browser makes of it).
	// Target is the portal's own LogoutRequest URL, never from the request.
	Refresh template.HTML
	Target  string
}

// signedOutNotices say how a sign-out went, on the signed-out page
// (?slo=…); without one the page says that the identity provider may still
// have the user signed in.
var signedOutNotices = web.Notices{
	// The identity provider confirmed (a valid LogoutResponse).
	"done": "You have signed out of this site and of your company's identity provider.",
	// It answered, but the answer was refused or not a success.
	"failed": "You are signed out of this site, but your company's identity provider did not confirm that it signed you out there. " +
		"Close your browser to be sure nobody can use its session.",
	// The identity provider asked this site to sign the user out, and the
	// site has no logout URL to answer at.
	"idp": "Your company's identity provider signed you out of this site.",
	// Single Logout is on but could not be asked for (no logout URL, or
	// the session is from before Single Logout).
	"unavailable": "You are signed out of this site. Your company's identity provider could not be asked to sign you out too, " +
		"so it may still have you signed in: close your browser to be sure.",
}

type signedOutPage struct {
	// Notice is how the sign-out went; "" when only this site was signed
	// out of.
	Notice string
}

// SignedOut is the page after sign-out (GET /signed-out). It never signs
// anyone in: signing in again is the person's choice.
func (a *Auth) SignedOut(w http.ResponseWriter, r *http.Request) {
	page := signedOutPage{Notice: signedOutNotices.From(r, "slo")}
	a.Render.Render(w, r, http.StatusOK, "signed_out", page)
}
