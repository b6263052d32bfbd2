package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
)

// BindingCookie is the name of the cookie that binds a browser's pending
// sign-ins to it (__Host-sso_binding on https).
const BindingCookie = "sso_binding"

// StartSignIn begins an SP-initiated sign-in: it records a pending
// AuthnRequest for returnPath, bound to the browser whose binding token
// (Binding) is given, and returns the IdP URL (HTTP-Redirect binding,
// signed with the site's key) to send the browser to. test marks an admin's
// "Test SSO" request, which shows the result instead of signing anyone in.
func (s *Service) StartSignIn(ctx context.Context, site sites.Site, returnPath string, test bool, binding string) (string, error) {
	return s.start(ctx, site, returnPath, test, false, binding)
}

// StartTest begins an admin's Test SSO: against the staged identity
// provider when staged (ErrNoPending when there is none), else the one in
// use.
func (s *Service) StartTest(ctx context.Context, site sites.Site, binding string, staged bool) (string, error) {
	return s.start(ctx, site, "/", true, staged, binding)
}

func (s *Service) start(ctx context.Context, site sites.Site, returnPath string, test, staged bool, binding string) (string, error) {
	p, err := s.providerFor(ctx, site, true, staged)
	if err != nil {
		return "", err
	}
	if !p.settings.Configured() {
		return "", ErrNotConfigured
	}
	if !p.settings.Enabled && !test {
		return "", ErrNotEnabled
	}
	if !session.SafeReturnPath(returnPath) {
		returnPath = "/"
	}
	req, err := p.sp.MakeAuthenticationRequest(p.settings.SSOURL, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", fmt.Errorf("make AuthnRequest: %w", err)
	}
	relayState, err := newRelayState()
	if err != nil {
		return "", err
	}
	now := s.now()
	_, err = s.pool.Exec(ctx, `INSERT INTO pending_requests (site_id, request_id, relay_state, return_path, is_test, created_at, expires_at, binding_hash, uses_pending_idp)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, site.ID, req.ID, relayState, returnPath, test, now, now.Add(PendingRequestLifetime), bindingHash(binding), staged)
	if err != nil {
		return "", fmt.Errorf("store pending request: %w", err)
	}
	if err := s.evictPending(ctx, site.ID); err != nil {
		return "", err
	}
	u, err := req.Redirect(relayState, p.sp)
	if err != nil {
		return "", fmt.Errorf("encode AuthnRequest: %w", err)
	}
	return u.String(), nil
}

// DefaultPendingRequestCap is how many pending requests a site keeps unless
// the portal is configured otherwise (docs/RELIABILITY.md, "Anonymous
// traffic"): far more than a site's users start in PendingRequestLifetime,
// far fewer than anonymous traffic from many addresses could write.
const DefaultPendingRequestCap = 10000

// evictPending keeps at most the site's cap of pending requests, deleting
// the oldest first: every unauthenticated page view writes one, so without
// a cap anonymous traffic from many addresses (each within its rate limit)
// grows the table without bound. A request evicted before its answer
// arrives is refused as unknown-request, and signing in again works. Each
// start deletes at most a hundred, so its cost stays bounded while the cap
// converges.
func (s *Service) evictPending(ctx context.Context, siteID int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM pending_requests WHERE ctid IN (
  SELECT ctid FROM pending_requests WHERE site_id = $1
  ORDER BY created_at DESC, request_id DESC OFFSET $2 LIMIT 100)`, siteID, s.PendingRequestCap)
	if err != nil {
		return fmt.Errorf("evict the oldest pending requests: %w", err)
	}
	return nil
}

// newRelayState is an opaque 128-bit token: the IdP echoes it, and it never
// carries the path (saml-bindings §3.4.3 caps it at 80 bytes; this is 22).
func newRelayState() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("relay state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

type pendingRequest struct {
	requestID   string
	relayState  string
	returnPath  string
	test        bool
	bindingHash []byte
	// staged: a Test SSO of the staged identity provider (pending.go),
	// whose answer is checked against it.
	staged bool
}

// pendingState tells apart the ways an InResponseTo can fail, for an event
// an admin can act on; it does not consume anything.
func (s *Service) pendingState(ctx context.Context, siteID int64, requestID string) (pendingRequest, error) {
	var pr pendingRequest
	var expired, consumed bool
	err := s.pool.QueryRow(ctx, `SELECT request_id, relay_state, return_path, is_test, binding_hash, expires_at <= $3, consumed_at IS NOT NULL, uses_pending_idp
FROM pending_requests WHERE site_id = $1 AND request_id = $2`, siteID, requestID, s.now()).
		Scan(&pr.requestID, &pr.relayState, &pr.returnPath, &pr.test, &pr.bindingHash, &expired, &consumed, &pr.staged)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return pr, refuse(ReasonUnknownRequest, "InResponseTo %q matches no sign-in this site started", requestID)
	case err != nil:
		return pr, fmt.Errorf("look up pending request: %w", err)
	case consumed:
		return pr, refuse(ReasonRequestUsed, "the sign-in request %s was already answered", requestID)
	case expired:
		return pr, refuse(ReasonRequestExpired, "the sign-in request %s is older than %s", requestID, PendingRequestLifetime)
	}
	return pr, nil
}

// consumePending marks the request answered, atomically: of two responses to
// one request, only the first signs in.
func (s *Service) consumePending(ctx context.Context, tx pgx.Tx, siteID int64, requestID string) error {
	tag, err := tx.Exec(ctx, `UPDATE pending_requests SET consumed_at = $3
WHERE site_id = $1 AND request_id = $2 AND consumed_at IS NULL AND expires_at > $3`, siteID, requestID, s.now())
	if err != nil {
		return fmt.Errorf("consume pending request: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return refuse(ReasonRequestUsed, "the sign-in request %s was already answered", requestID)
	}
	return nil
}

// DeleteExpiredRequests removes at most limit pending requests past their
// expiry (answered or not), for the housekeeping job.
func (s *Service) DeleteExpiredRequests(ctx context.Context, limit int) (int64, error) {
	return s.deleteExpired(ctx, "pending_requests", limit)
}

// deleteExpired removes at most limit rows of table (pending_requests or
// logout_requests: a constant, never input) past their expires_at.
func (s *Service) deleteExpired(ctx context.Context, table string, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE ctid IN (
  SELECT ctid FROM `+table+` WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.now(), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired %s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}
