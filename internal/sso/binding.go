package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/meetings-portal/portal/internal/web"
)

// A browser binding ties each pending sign-in (and each Test SSO request)
// to the browser that started it, against login CSRF: without it, someone
// could start a sign-in in their own browser, sign in at the company IdP as
// themselves, and have another person's browser post that response, which
// would sign that browser in as them — IdP-initiated sign-in switched off
// or not, since the response answers a real request.
//
// The browser holds a random token in the BindingCookie; each pending
// request stores its SHA-256 (pending_requests.binding_hash), so a read of
// the table binds nothing. The ACS requires the cookie of a response to a
// request to hash to that request's value.
//
// One token per browser, not one cookie per request: every sign-in a
// browser starts, in as many tabs as it likes, shares it, so each tab's
// answer still signs in, and the browser holds one small cookie however many
// pages it opened while signed out (a cookie per request would pile up in
// the Cookie header until the server refused it). The ACS clears the cookie
// when the request it answers was the browser's last one pending.
//
// The cookie must come back on the IdP's cross-site POST, so it is
// SameSite=None, which browsers accept only with Secure; HttpOnly, Path=/,
// and __Host- prefixed on https (web.Cookies). On a plain-http base URL it
// is Secure all the same: Chromium and Firefox treat http://localhost and
// http://*.localhost as secure contexts and keep Secure cookies there, so
// the development setup (make run, the development IdP posting from
// idp.localhost) works unchanged (internal/browsertest signs in through it).
// On any other plain-http host the browser drops the cookie, and an
// SP-initiated sign-in is refused as browser-mismatch: such a portal must
// be served over https (the log warns at start). A SameSite=Lax cookie
// would not help there: browsers do not send it on the IdP's cross-site
// POST.

// bindingTokenBytes is the size of a binding token: 256 random bits.
const bindingTokenBytes = 32

// Binding is the request's browser binding token, made (and set in the
// BindingCookie) when the browser has none yet. StartSignIn stores its hash
// with the pending request.
func Binding(w http.ResponseWriter, r *http.Request, cookies web.Cookies) (string, error) {
	token := cookies.Get(r, BindingCookie)
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) != bindingTokenBytes {
		b := make([]byte, bindingTokenBytes)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("binding token: %w", err)
		}
		token = base64.RawURLEncoding.EncodeToString(b)
	}
	// Set again at every start, so it outlives the newest pending request.
	cookies.SetCrossSite(w, BindingCookie, token, PendingRequestLifetime)
	return token, nil
}

// bindingHash is what is stored of a token.
func bindingHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// checkBinding refuses a response to request whose browser is not the one
// that started it.
func checkBinding(pending pendingRequest, token string) error {
	if token == "" {
		return refuse(ReasonBrowserMismatch, "the browser sent no sign-in cookie with the answer to request %s: it was started in another browser, or the cookie was blocked", pending.requestID)
	}
	if len(pending.bindingHash) == 0 || subtle.ConstantTimeCompare(pending.bindingHash, bindingHash(token)) != 1 {
		return refuse(ReasonBrowserMismatch, "request %s was started in another browser", pending.requestID)
	}
	return nil
}

// EndBinding clears the BindingCookie after an answered request when the
// browser has no other sign-in pending on the site.
func (s *Service) EndBinding(ctx context.Context, w http.ResponseWriter, siteID int64, token string, cookies web.Cookies) error {
	if token == "" {
		return nil
	}
	var pending bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pending_requests
WHERE site_id = $1 AND binding_hash = $2 AND consumed_at IS NULL AND expires_at > $3)`, siteID, bindingHash(token), s.now()).Scan(&pending)
	if err != nil {
		return fmt.Errorf("find the browser's pending sign-ins: %w", err)
	}
	if !pending {
		cookies.ClearCrossSite(w, BindingCookie)
	}
	return nil
}
