package session

import (
	"errors"
	"net/http"

	"github.com/meetings-portal/portal/internal/web"
)

// Cookie is one kind of session as a browser holds it: the cookie's name,
// the kind of session its token opens, and the session's limits. Admins and
// users each have one.
type Cookie struct {
	Store   *Store
	Cookies web.Cookies
	Name    string // "admin_session", "session"
	Kind    Kind
	Policy  Policy
}

// LookupWith returns the live session the request's cookie opens on its
// site with the session's account, read from subject's table in the same
// statement, or ok false (clearing a cookie that opens nothing, or a
// session whose account is gone). An error is a failure to find out (the
// database), which must not sign anyone out.
func LookupWith[A any](c Cookie, w http.ResponseWriter, r *http.Request, subject Subject[A]) (sess Session, account A, ok bool, err error) {
	token := c.Cookies.Get(r, c.Name)
	if token == "" {
		return Session{}, account, false, nil
	}
	site, _ := web.SiteFrom(r.Context())
	sess, account, err = lookupWith(r.Context(), c.Store, site.ID, c.Kind, token, c.Policy, subject)
	if errors.Is(err, ErrNotFound) {
		c.Clear(w)
		return Session{}, account, false, nil
	}
	if err != nil {
		return Session{}, account, false, err
	}
	return sess, account, true, nil
}

// Start gives the browser the session token of a sign-in. The token is
// always new (a planted token never becomes a session), and a session the
// browser already had of this kind on this site is ended.
func (c Cookie) Start(w http.ResponseWriter, r *http.Request, token string) {
	if old := c.Cookies.Get(r, c.Name); old != "" {
		site, _ := web.SiteFrom(r.Context())
		_ = c.Store.Delete(r.Context(), site.ID, c.Kind, old)
	}
	c.Cookies.Set(w, c.Name, token, c.Policy.Absolute)
}

// End ends the request's session (sign-out) and clears the cookie.
func (c Cookie) End(w http.ResponseWriter, r *http.Request) error {
	_, _, err := c.Take(w, r)
	return err
}

// Take is End, returning the session that ended (ok false when the request
// had none).
func (c Cookie) Take(w http.ResponseWriter, r *http.Request) (sess Session, ok bool, err error) {
	site, _ := web.SiteFrom(r.Context())
	sess, ok, err = c.Store.Take(r.Context(), site.ID, c.Kind, c.Cookies.Get(r, c.Name))
	if err != nil {
		return Session{}, false, err
	}
	c.Clear(w)
	return sess, ok, nil
}

// Clear removes the cookie from the browser.
func (c Cookie) Clear(w http.ResponseWriter) { c.Cookies.Clear(w, c.Name) }
