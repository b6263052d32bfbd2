package web

import (
	"net/http"
	"time"
)

// Cookies names and sets the session cookies. With an https base URL the
// names carry the __Host- prefix, which makes browsers insist on Secure,
// Path=/ and no Domain: the cookie stays on the one site host that set it.
type Cookies struct {
	HTTPS bool
}

// Name returns the cookie name for base ("admin_session", "session").
func (c Cookies) Name(base string) string {
	if c.HTTPS {
		return "__Host-" + base
	}
	return base
}

// Set writes a session cookie. It is host-only (no Domain), HttpOnly and
// SameSite=Lax, and lives for maxAge.
func (c Cookies) Set(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(base), Value: value, Path: "/",
		MaxAge: int(maxAge.Seconds()), HttpOnly: true, Secure: c.HTTPS, SameSite: http.SameSiteLaxMode,
	})
}

// Clear removes a session cookie.
func (c Cookies) Clear(w http.ResponseWriter, base string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(base), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.HTTPS, SameSite: http.SameSiteLaxMode,
	})
}

// Get returns the cookie's value, or "".
func (c Cookies) Get(r *http.Request, base string) string {
	ck, err := r.Cookie(c.Name(base))
	if err != nil {
		return ""
	}
	return ck.Value
}

// SetCrossSite writes a cookie that a browser sends on a cross-site POST
// (an identity provider's form posting to the ACS): SameSite=None, which
// browsers accept only with Secure — on plain http too, where browsers keep
// it on localhost and *.localhost only (see sso.Binding). HttpOnly, host-only,
// __Host- prefixed on https.
func (c Cookies) SetCrossSite(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(base), Value: value, Path: "/",
		MaxAge: int(maxAge.Seconds()), HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
}

// ClearCrossSite removes a cookie SetCrossSite wrote.
func (c Cookies) ClearCrossSite(w http.ResponseWriter, base string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(base), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
}
