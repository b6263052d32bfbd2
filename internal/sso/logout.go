package sso

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Single Logout (saml-profiles §4.4), both ways, at <site URL>/saml/slo.
//
// SP-initiated: sign-out ends the portal session first, whatever follows;
// then, with the site's Single Logout on, StartLogout sends the browser to
// the IdP's single logout service with a LogoutRequest for that session
// (HTTP-Redirect, signed over the query string: the only binding Azure AD
// accepts for logout), naming the NameID exactly as the assertion gave it
// and its SessionIndex. The IdP's LogoutResponse comes back to /saml/slo
// (ConsumeLogoutResponse).
//
// IdP-initiated: a LogoutRequest arrives at /saml/slo with HTTP-Redirect or
// HTTP-POST (ConsumeLogoutRequest); once accepted, CompleteLogout ends the
// sessions it names, in PostgreSQL (so in every portal process), and the
// browser goes back to the IdP with a signed LogoutResponse
// (LogoutResponseURL).
//
// crewjam/saml verifies both messages: the signature with the configured
// certificates only (on the Redirect binding over the query string exactly
// as received, saml-bindings §3.4.4.1), the Destination (this site's SLO
// URL), the IssueInstant, the Issuer and the status. The portal adds what
// it leaves to the application: the structural guard before any signature
// code (xmlguard.CheckLogout); Azure AD's second issuer form for the same
// tenant (acceptedIssuer); a LogoutResponse only as the answer, once, to a
// LogoutRequest this site sent (the library checks InResponseTo against the
// IDs it is given; which are this site's live ones is the portal's to
// know); a LogoutRequest ID only once, in the replay cache every process
// shares (the library asks its ReplayCache, here the PostgreSQL one, and
// the portal records the ID in the transaction that ends the sessions); and
// its own bound on the IssueInstant, as for assertions (checkInstant).

// LogoutRequestLifetime is how long a LogoutRequest the portal sent waits
// for its answer.
const LogoutRequestLifetime = 10 * time.Minute

// ErrSingleLogoutUnavailable means a site has Single Logout on, but the
// identity provider cannot be asked: it has no logout URL, or the session
// holds no NameID (it started before Single Logout existed, or not through
// SAML). The portal session has ended all the same.
var ErrSingleLogoutUnavailable = errors.New("single logout is on but the identity provider cannot be asked")

// StartLogout is the SP-initiated half of Single Logout, for a session that
// has just ended: the URL of the IdP's single logout service with a signed
// LogoutRequest for it, which the site expects an answer to for
// LogoutRequestLifetime; "" when the site's Single Logout is off.
func (s *Service) StartLogout(ctx context.Context, site sites.Site, ended session.Session) (string, error) {
	set, err := s.Settings(ctx, site.ID)
	if err != nil {
		return "", err
	}
	if !set.SLOEnabled || !set.Configured() {
		return "", nil
	}
	if set.SLOURL == "" || ended.NameID == "" {
		return "", ErrSingleLogoutUnavailable
	}
	p, err := s.provider(ctx, site, true)
	if err != nil {
		return "", err
	}
	var requestID string
	target, err := p.sp.MakeRedirectLogoutRequest(ended.NameID, "", func(req *saml.LogoutRequest) {
		requestID = req.ID
		// The NameID exactly as the assertion gave it: an IdP matches its
		// session by the NameID with all its qualifiers (saml-core §3.7.3.1,
		// §8.3), and crewjam would otherwise put in qualifiers of its own.
		req.NameID = &saml.NameID{Value: ended.NameID, Format: ended.NameIDFormat,
			NameQualifier: ended.NameQualifier, SPNameQualifier: ended.SPNameQualifier}
	}, saml.WithSessionIndex(ended.SessionIndex))
	if err != nil {
		return "", fmt.Errorf("make LogoutRequest: %w", err)
	}
	now := s.now()
	_, err = s.pool.Exec(ctx, `INSERT INTO logout_requests (site_id, request_id, name_id, user_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)`, site.ID, requestID, ended.NameID, ended.SubjectID, now, now.Add(LogoutRequestLifetime))
	if err != nil {
		return "", fmt.Errorf("store LogoutRequest: %w", err)
	}
	return target.String(), nil
}

// LogoutAnswer is what a valid LogoutResponse answered: the request it
// answers and whom that signed out.
type LogoutAnswer struct {
	RequestID string
	NameID    string
	UserID    *int64
}

// ConsumeLogoutResponse checks a LogoutResponse received at /saml/slo: the
// IdP's answer to a LogoutRequest of this site. An error is a
// *RefusalError (with what is known of the request it names) or a failure
// of the portal; nil means the IdP confirmed the sign-out, and the request
// is marked answered (once: a second answer is refused).
func (s *Service) ConsumeLogoutResponse(ctx context.Context, site sites.Site, r *http.Request) (LogoutAnswer, error) {
	var answer LogoutAnswer
	p, root, err := s.logoutMessage(ctx, site, r, "SAMLResponse", "LogoutResponse")
	if err != nil {
		return answer, err
	}
	answer.RequestID = root.SelectAttrValue("InResponseTo", "")
	pending, err := s.pendingLogout(ctx, site.ID, answer.RequestID)
	answer.NameID, answer.UserID = pending.nameID, pending.userID
	if err != nil {
		return answer, err
	}
	p.sp.IDPMetadata.EntityID = acceptedIssuer(p.settings.IdPEntityID, unverifiedIssuer(root))
	resp, err := p.sp.ParseLogoutResponse(r, []string{answer.RequestID})
	if err != nil {
		return answer, classify(err)
	}
	if err := s.checkInstant("LogoutResponse", resp.IssueInstant); err != nil {
		return answer, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE logout_requests SET answered_at = $3
WHERE site_id = $1 AND request_id = $2 AND answered_at IS NULL AND expires_at > $3`, site.ID, answer.RequestID, s.now())
	if err != nil {
		return answer, fmt.Errorf("mark LogoutRequest %s answered: %w", answer.RequestID, err)
	}
	if tag.RowsAffected() != 1 {
		return answer, refuse(ReasonRequestUsed, "the LogoutRequest %s was already answered", answer.RequestID)
	}
	return answer, nil
}

// pendingLogout is what the site keeps of one of its LogoutRequests.
type pendingLogout struct {
	nameID string
	userID *int64
}

// pendingLogout finds a LogoutRequest this site sent and still waits on.
func (s *Service) pendingLogout(ctx context.Context, siteID int64, requestID string) (pendingLogout, error) {
	var p pendingLogout
	var expired, answered bool
	err := s.pool.QueryRow(ctx, `SELECT name_id, user_id, expires_at <= $3, answered_at IS NOT NULL
FROM logout_requests WHERE site_id = $1 AND request_id = $2`, siteID, requestID, s.now()).Scan(&p.nameID, &p.userID, &expired, &answered)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return p, refuse(ReasonUnknownRequest, "InResponseTo %q matches no LogoutRequest this site sent", shorten(requestID))
	case err != nil:
		return p, fmt.Errorf("look up LogoutRequest: %w", err)
	case answered:
		return p, refuse(ReasonRequestUsed, "the LogoutRequest %s was already answered", requestID)
	case expired:
		return p, refuse(ReasonRequestExpired, "the LogoutRequest %s is older than %s", requestID, LogoutRequestLifetime)
	}
	return p, nil
}

// IdPLogout is a LogoutRequest from the identity provider that passed
// every check, and what ending it needs.
type IdPLogout struct {
	ID             string
	NameID         string
	NameIDFormat   string
	SessionIndexes []string
	RelayState     string
	replay         replayEntry
}

// ConsumeLogoutRequest checks a LogoutRequest received at /saml/slo from
// the site's identity provider (IdP-initiated Single Logout). An error is a
// *RefusalError (unverified, what is known of it in lr) or a failure of the
// portal. A refused request ends nothing.
func (s *Service) ConsumeLogoutRequest(ctx context.Context, site sites.Site, r *http.Request) (lr IdPLogout, err error) {
	p, root, err := s.logoutMessage(ctx, site, r, "SAMLRequest", "LogoutRequest")
	if err != nil {
		return lr, err
	}
	// Read unverified only to name the refused request in its event.
	lr.ID = root.SelectAttrValue("ID", "")
	if nameID := xmlguard.Child(root, saml2("NameID")); nameID != nil {
		lr.NameID = strings.TrimSpace(nameID.Text())
	}
	p.sp.IDPMetadata.EntityID = acceptedIssuer(p.settings.IdPEntityID, unverifiedIssuer(root))
	replays := &replayCache{}
	p.sp.ReplayCache = replays
	req, err := p.sp.ValidateLogoutRequest(r)
	if err != nil {
		return lr, classify(err)
	}
	if err := s.checkInstant("LogoutRequest", req.IssueInstant); err != nil {
		return lr, err
	}
	if req.NameID == nil || strings.TrimSpace(req.NameID.Value) == "" {
		return lr, refuse(ReasonMissingElement, "the LogoutRequest names nobody (no NameID)")
	}
	lr = IdPLogout{ID: req.ID, NameID: req.NameID.Value, NameIDFormat: req.NameID.Format, replay: replays.seen}
	for _, index := range req.AllSessionIndexes() {
		if v := strings.TrimSpace(index.Value); v != "" {
			lr.SessionIndexes = append(lr.SessionIndexes, v)
		}
	}
	if r.Method == http.MethodGet {
		lr.RelayState = r.URL.Query().Get("RelayState")
	} else {
		lr.RelayState = r.PostForm.Get("RelayState")
	}
	return lr, nil
}

// CompleteLogout ends what an accepted LogoutRequest names, in ONE
// transaction: its ID enters the replay cache (a second delivery is
// refused as replayed; of two at once, one loses on the primary key), end
// ends the sessions and reports how many and whose, and the event e
// records it. Either all of it happens or none.
func (s *Service) CompleteLogout(ctx context.Context, lr IdPLogout, e Event, end func(tx pgx.Tx) (users []int64, ended int64, err error)) (int64, error) {
	var ended int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := recordReplay(ctx, tx, e.SiteID, lr.replay); err != nil {
			return err
		}
		users, n, err := end(tx)
		if err != nil {
			return err
		}
		ended = n
		if len(users) == 1 {
			e.UserID = &users[0]
		}
		e.Detail = fmt.Sprintf("the identity provider signed %s out: %d session(s) ended", lr.NameID, n)
		if len(lr.SessionIndexes) > 0 {
			e.Detail += " (SessionIndex " + strings.Join(lr.SessionIndexes, ", ") + ")"
		}
		return s.recordEvent(ctx, tx, e)
	})
	return ended, err
}

// LogoutResponseURL is the IdP's single logout service with the signed
// LogoutResponse (HTTP-Redirect) to lr; "" when the site knows no logout
// URL to answer at.
func (s *Service) LogoutResponseURL(ctx context.Context, site sites.Site, lr IdPLogout) (string, error) {
	p, err := s.provider(ctx, site, true)
	if err != nil {
		return "", err
	}
	if p.settings.SLOURL == "" {
		return "", nil
	}
	target, err := p.sp.MakeRedirectLogoutResponse(lr.ID, lr.RelayState)
	if err != nil {
		return "", fmt.Errorf("make LogoutResponse: %w", err)
	}
	return target.String(), nil
}

// logoutMessage is the site's service provider and the message param of a
// request to /saml/slo, which must be a tag, once readLogoutMessage's checks
// have passed.
func (s *Service) logoutMessage(ctx context.Context, site sites.Site, r *http.Request, param, tag string) (*provider, *etree.Element, error) {
	p, err := s.provider(ctx, site, false)
	if err != nil {
		return nil, nil, err
	}
	if !p.settings.Configured() {
		return nil, nil, refuse(ReasonNotEnabled, "no identity provider is configured for this site")
	}
	root, err := s.readLogoutMessage(r, param, p.settings)
	if err != nil {
		return nil, nil, err
	}
	if root.Tag != tag {
		return nil, nil, refuse(xmlguard.ReasonNotLogoutMessage, "%s carries a %s", param, root.Tag)
	}
	return p, root, nil
}

// readLogoutMessage decodes the SAML message param of a request to
// /saml/slo and runs the portal's checks that come before crewjam's: the
// structural guard (xmlguard.CheckLogout) and, for the HTTP-Redirect
// binding, the query-string signature (verifyQuerySignature). HTTP-Redirect
// carries base64 of the deflated XML in the query, signed over the query
// string; HTTP-POST carries base64 in the form, signed in the XML.
func (s *Service) readLogoutMessage(r *http.Request, param string, set Settings) (*etree.Element, error) {
	var raw []byte
	querySigned := false
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		deflated, err := base64.StdEncoding.DecodeString(q.Get(param))
		if err != nil {
			return nil, refuse(xmlguard.ReasonMalformedBase64, "%s: %v", param, err)
		}
		// One byte over the limit tells xmlguard that it is too large.
		raw, err = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), xmlguard.MaxResponseBytes+1))
		if err != nil {
			return nil, refuse(ReasonMalformed, "%s is not deflated: %v", param, err)
		}
		if querySigned = q.Has("Signature") || q.Has("SigAlg"); querySigned {
			certs, err := set.signingCertificates()
			if err != nil {
				return nil, err
			}
			if err := s.verifyQuerySignature(r.URL.RawQuery, param, certs); err != nil {
				return nil, err
			}
		}
	} else {
		encoded := strings.Join(strings.Fields(r.PostForm.Get(param)), "")
		var err error
		if raw, err = base64.StdEncoding.Strict().DecodeString(encoded); err != nil {
			return nil, refuse(xmlguard.ReasonMalformedBase64, "%s: %v", param, err)
		}
	}
	root, err := xmlguard.CheckLogout(raw, querySigned)
	if err != nil {
		return nil, classify(err)
	}
	return root, nil
}

// querySigAlgs are the signature algorithms accepted on the HTTP-Redirect
// binding: RSA with SHA-256 or stronger (no SHA-1, as for XML signatures).
var querySigAlgs = map[string]x509.SignatureAlgorithm{
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": x509.SHA256WithRSA,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": x509.SHA384WithRSA,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": x509.SHA512WithRSA,
}

// verifyQuerySignature checks the query-string signature of an
// HTTP-Redirect binding message (saml-bindings §3.4.4.1) with the
// configured IdP certificates only, before crewjam (which checks it again)
// and with a refusal that names it: the signed octets are
// "param=value&RelayState=value&SigAlg=value" built from the values
// exactly as they appear in the received URL, never re-encoded (IdPs
// percent-encode differently: ADFS in lower case), and a parameter given
// twice is refused, so that the signed and the processed message cannot
// differ.
func (s *Service) verifyQuerySignature(rawQuery, param string, certs []*x509.Certificate) error {
	values := map[string]string{}
	for _, pair := range strings.Split(rawQuery, "&") {
		name, value, _ := strings.Cut(pair, "=")
		switch name {
		case param, "RelayState", "SigAlg", "Signature":
		default:
			continue
		}
		if _, twice := values[name]; twice {
			return refuse(ReasonMalformed, "the query carries %s twice", name)
		}
		values[name] = value
	}
	sigAlg, err1 := url.QueryUnescape(values["SigAlg"])
	encoded, err2 := url.QueryUnescape(values["Signature"])
	signature, err3 := base64.StdEncoding.DecodeString(encoded)
	if err := errors.Join(err1, err2, err3); err != nil || len(signature) == 0 {
		return refuse(ReasonSignatureInvalid, "the query-string signature cannot be read")
	}
	algorithm, ok := querySigAlgs[sigAlg]
	if !ok {
		if strings.HasSuffix(sigAlg, "sha1") {
			return refuse(xmlguard.ReasonSHA1, "SigAlg %q", shorten(sigAlg))
		}
		return refuse(ReasonSignatureInvalid, "SigAlg %q is not accepted", shorten(sigAlg))
	}
	signed := param + "=" + values[param]
	if relayState, ok := values["RelayState"]; ok {
		signed += "&RelayState=" + relayState
	}
	signed += "&SigAlg=" + values["SigAlg"]
	now := s.now()
	for _, cert := range certs {
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			continue
		}
		if cert.CheckSignature(algorithm, []byte(signed), signature) == nil {
			return nil
		}
	}
	return refuse(ReasonSignatureInvalid, "the query-string signature does not verify with the configured IdP certificates")
}

// unverifiedIssuer is a message's Issuer, read before any check to choose
// which of a tenant's names crewjam is to expect.
func unverifiedIssuer(root *etree.Element) string {
	if issuer := xmlguard.Child(root, nameIssuer); issuer != nil {
		return strings.TrimSpace(issuer.Text())
	}
	return ""
}

// Azure AD names a tenant two ways: its SAML entity ID (the Azure AD
// Identifier the admin configures) is https://sts.windows.net/<tenant>/,
// while its logout messages may carry https://login.microsoftonline.com/
// <tenant>/. Both are accepted for the configured tenant, and nothing else:
// another tenant, or another path, is an issuer mismatch.
const (
	azureSTSHost   = "sts.windows.net"
	azureLoginHost = "login.microsoftonline.com"
)

// acceptedIssuer is the issuer crewjam is to require of a logout message:
// issuer when it is the configured entity ID's other Azure form, the
// configured entity ID otherwise. crewjam then checks that the signed
// message carries exactly it, signed with the configured certificates.
func acceptedIssuer(configured, issuer string) string {
	tenant, host, ok := azureTenant(configured)
	if !ok {
		return configured
	}
	other := azureLoginHost
	if host == azureLoginHost {
		other = azureSTSHost
	}
	if issuer == "https://"+other+"/"+tenant+"/" {
		return issuer
	}
	return configured
}

// azureTenant reads an Azure AD issuer of either form: the tenant (a GUID)
// and the host.
func azureTenant(issuer string) (tenant, host string, ok bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || (u.Host != azureSTSHost && u.Host != azureLoginHost) || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false
	}
	tenant, ok = strings.CutPrefix(u.Path, "/")
	tenant, ok2 := strings.CutSuffix(tenant, "/")
	if !ok || !ok2 || !isGUID(tenant) {
		return "", "", false
	}
	return tenant, u.Host, true
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hexadecimal form,
// as Azure writes tenant IDs.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// DeleteExpiredLogoutRequests removes at most limit LogoutRequests past
// their expiry (answered or not), for the housekeeping job.
func (s *Service) DeleteExpiredLogoutRequests(ctx context.Context, limit int) (int64, error) {
	return s.deleteExpired(ctx, "logout_requests", limit)
}
