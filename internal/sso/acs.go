package sso

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
	"github.com/meetings-portal/portal/internal/users"
)

// Flow says how a sign-in started.
type Flow string

const (
	FlowSP      Flow = "sp"      // the user opened the site; we sent an AuthnRequest
	FlowIdP     Flow = "idp"     // unsolicited: the Azure My Apps tile
	FlowUnknown Flow = "unknown" // refused before the response could tell
	// Single Logout (logout.go), recorded with the sign-in events.
	FlowLogoutSP  Flow = "slo-sp"  // the IdP's answer to a sign-out on this site
	FlowLogoutIdP Flow = "slo-idp" // a LogoutRequest from the IdP
)

// Assertion is what an accepted response says, reduced to what the portal
// uses. It comes only from the signed assertion crewjam verified.
type Assertion struct {
	Flow         Flow
	Issuer       string
	NameID       string
	NameIDFormat string
	// The NameID's qualifiers as received, for the LogoutRequest that
	// names this sign-in (saml-core §2.2.2, §3.7.1).
	NameQualifier, SPNameQualifier string
	Attributes                     map[string][]string
	AuthnContext                   []string
	SessionIndex                   string
	// ReturnPath is where to send the user: the path of the pending request,
	// or a safe IdP-initiated RelayState, or "/".
	ReturnPath string
	// Test marks an admin's Test SSO request: show, do not sign in.
	Test bool
	// Staged marks a Test SSO of the staged identity provider: Settings
	// then hold it in place of the live one.
	Staged bool
	// Settings are the site's settings the response was checked against.
	Settings Settings
	// Identity is the account the assertion names, normalised and bounded.
	Identity users.Identity
}

// Result is what Consume learnt of a response: what is known of the
// sign-in attempt even when it is refused (once the response got far enough to
// tell), and the verified assertion when it was accepted.
type Result struct {
	// Assertion is the accepted assertion; nil when refused.
	Assertion *Assertion
	Flow      Flow
	// Test marks the answer to an admin's Test SSO request: the result is
	// shown to the admin, and nobody is signed in.
	Test bool
	// ErrorPageURL is the site's customer error page, "" for the portal's.
	ErrorPageURL string
	// Received is the decoded response of a test, to show the admin what
	// arrived even when it was refused (unverified, for reading only).
	Received []byte
	// Claims are what the verified assertion carried (see Event.Claims),
	// kept with the event whether the sign-in then succeeds or is refused.
	Claims map[string][]string

	// What Complete writes, in the transaction that signs the user in: the
	// assertion's replay-cache entry and the request it answers.
	replay    replayEntry
	pendingID string
}

// Consume runs every check on a SAMLResponse posted to site's ACS; binding
// is the browser's binding token (the BindingCookie), "" if it sent none.
// The error is a *RefusalError saying why the response was refused, or a
// failure of the portal itself (the database).
func (s *Service) Consume(ctx context.Context, site sites.Site, samlResponse, relayState, binding string) (Result, error) {
	result := Result{Flow: FlowUnknown}
	if strings.TrimSpace(samlResponse) == "" {
		return result, refuse(ReasonMissingResponse, "the POST carried no SAMLResponse")
	}
	p, err := s.provider(ctx, site, false)
	if err != nil {
		return result, err
	}
	result.ErrorPageURL = p.settings.ErrorPageURL
	if !p.settings.Configured() {
		return result, refuse(ReasonNotEnabled, "single sign-on is not configured for this site")
	}

	// The portal's own structural checks come first: nothing that fails
	// them reaches the signature code.
	decoded, root, err := xmlguard.DecodeParsed(samlResponse)
	if err != nil {
		h, guard, ok := guardedHeader(samlResponse)
		if !ok {
			return result, classify(err)
		}
		result.Flow = h.flow()
		if isIdPFailure(h, guard) {
			return result, s.idpFailure(ctx, site.ID, p.settings, h)
		}
		// The answer to an admin's Test SSO is shown on the test page,
		// however it failed (without what it says: it is refused unread).
		if h.inResponseTo != "" {
			if pending, err := s.pendingState(ctx, site.ID, h.inResponseTo); err == nil {
				result.Test = pending.test
			}
		}
		return result, classify(err)
	}
	// The tree the checks parsed, read again rather than parsed again.
	header, err := headerOf(root)
	if err != nil {
		return result, err
	}
	result.Flow = header.flow()
	explained := func(err error) error {
		// A failure of the portal itself (the database) is not a refusal:
		// the user gets an error page and the operator a log line.
		var storeErr *storageError
		if errors.As(err, &storeErr) {
			return storeErr.err
		}
		return s.explain(classify(err), p.settings, site.Name, decoded)
	}

	// InResponseTo is read here, before verification, only to find the
	// pending request; crewjam then checks it against the signed
	// SubjectConfirmationData too.
	var pending pendingRequest
	var possibleIDs []string
	if header.inResponseTo != "" {
		pending, err = s.pendingState(ctx, site.ID, header.inResponseTo)
		result.Test = pending.test
		if result.Test {
			result.Received = decoded
		}
		var refusal *RefusalError
		if err != nil && !errors.As(err, &refusal) {
			return result, err
		}
		if err != nil {
			return result, explained(err)
		}
		// A Test SSO of the staged identity provider is checked against
		// it, and only that test: every other response meets the live one.
		if pending.test && pending.staged {
			staged, err := s.providerFor(ctx, site, false, true)
			if errors.Is(err, ErrNoPending) {
				return result, explained(refuse(ReasonUnknownRequest, "the staged identity provider this test was for was activated or discarded since: start Test SSO again"))
			}
			if err != nil {
				return result, err
			}
			p = staged
		}
		// The IdP echoes the RelayState it was sent (saml-bindings §3.4.3,
		// §3.5.3). Some IdPs drop it, so an absent one is tolerated; a
		// different one means the response was not for this browser's
		// request (or was moved between sign-ins).
		if relayState != "" && relayState != pending.relayState {
			return result, explained(refuse(ReasonRelayStateMismatch, "the RelayState %q is not the one sent with request %s", shorten(relayState), pending.requestID))
		}
		// The answer to a request is accepted only from the browser that
		// started it (login CSRF); an unsolicited response has no request
		// and is governed by the site's IdP-initiated switch instead.
		if err := checkBinding(pending, binding); err != nil {
			return result, explained(err)
		}
		possibleIDs = []string{pending.requestID}
	}
	// A test runs whether or not SSO is switched on: that is how an admin
	// checks the configuration before enabling it.
	if !p.settings.Enabled && !result.Test {
		return result, refuse(ReasonNotEnabled, "single sign-on is not enabled for this site")
	}
	if header.status != "" && header.status != saml.StatusSuccess {
		return result, s.idpFailure(ctx, site.ID, p.settings, header)
	}
	if header.inResponseTo == "" && !p.settings.IdPInitiated {
		return result, explained(refuse(ReasonUnsolicited, "the response answers no sign-in request (IdP-initiated) and this site allows only SP-initiated sign-in"))
	}

	if header.encrypted {
		// decrypt.go: decrypted, then checked as a plain response is.
		if p.keys, err = s.spKeys(ctx, site); err != nil {
			return result, err
		}
		if decoded, err = s.openEncrypted(p, decoded, possibleIDs); err != nil {
			return result, explained(err)
		}
		if result.Test {
			result.Received = decoded
		}
	} else if p.settings.RequireEncryption {
		return result, explained(refuse(ReasonNotEncrypted, "the assertion is not encrypted, and this site requires encrypted assertions"))
	}

	replays := &replayCache{}
	p.sp.ReplayCache = replays
	verified, err := p.sp.ParseXMLResponse(decoded, possibleIDs, p.sp.AcsURL)
	if err != nil {
		return result, explained(err)
	}
	if err := s.checkIssueInstants(header, verified); err != nil {
		return result, explained(err)
	}
	if err := checkClaimBounds(verified); err != nil {
		return result, explained(err)
	}
	result.replay, result.pendingID = replays.seen, pending.requestID

	a := &Assertion{
		Flow:       result.Flow,
		Issuer:     verified.Issuer.Value,
		Attributes: AttributeValues(verified),
		ReturnPath: p.settings.DefaultTarget,
		Test:       result.Test,
		Staged:     result.Test && pending.staged,
		Settings:   p.settings,
	}
	if verified.Subject != nil && verified.Subject.NameID != nil {
		id := verified.Subject.NameID
		a.NameID, a.NameIDFormat, a.NameQualifier, a.SPNameQualifier = id.Value, id.Format, id.NameQualifier, id.SPNameQualifier
	}
	for _, st := range verified.AuthnStatements {
		if st.AuthnContext.AuthnContextClassRef != nil {
			a.AuthnContext = append(a.AuthnContext, st.AuthnContext.AuthnContextClassRef.Value)
		}
		if a.SessionIndex == "" {
			a.SessionIndex = st.SessionIndex
		}
	}
	// Every claim, the authentication context too, is kept with the event,
	// whether the identity below can be read from them or not.
	result.Claims = claimsOf(a)
	if a.Identity, err = users.IdentityWith(a.NameID, a.Attributes, p.settings.Mapping()); err != nil {
		return result, explained(claimRefusal(err))
	}
	if p.settings.RequireMFA && !a.showsMFA(p.settings.MFAContexts) {
		return result, refuse(ReasonMFARequired,
			"this site requires multi-factor sign-in, and the assertion shows none (authentication methods %s; authentication context %s)",
			orNone(strings.Join(a.Attributes[users.ClaimAuthnMethods], ", ")), orNone(strings.Join(a.AuthnContext, ", ")))
	}
	switch {
	case pending.requestID != "" && pending.returnPath != "/":
		a.ReturnPath = pending.returnPath
	case pending.requestID == "" && session.SafeReturnPath(relayState) && relayState != "/":
		// Azure's "Relay State" setting for the My Apps tile: a path on
		// this site only, never another host.
		a.ReturnPath = relayState
	}
	result.Assertion = a
	return result, nil
}

// AttributeValues flattens an assertion's attribute statements into values
// by attribute Name, which is how accounts look claims up.
func AttributeValues(a *saml.Assertion) map[string][]string {
	values := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, attr := range st.Attributes {
			for _, v := range attr.Values {
				values[attr.Name] = append(values[attr.Name], v.Value)
			}
		}
	}
	return values
}

// showsMFA reports whether the assertion says the user passed multi-factor
// authentication: Azure's authnmethodsreferences claim, or an
// AuthnContextClassRef the site lists as MFA.
func (a *Assertion) showsMFA(mfaContexts []string) bool {
	for _, m := range a.Attributes[users.ClaimAuthnMethods] {
		if m == users.AzureMFAMethod {
			return true
		}
	}
	for _, ref := range a.AuthnContext {
		for _, mfa := range mfaContexts {
			if ref == mfa {
				return true
			}
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkIssueInstants bounds the age of the Response and the Assertion:
// at most MaxIssueAge plus the clock skew (saml.MaxClockSkew, set once by
// SetClockSkew). crewjam checks both with its MaxIssueDelay too, which
// SetClockSkew sets to the same bound; checking here keeps the bound even if
// that global were left at the library's default or changed.
func (s *Service) checkIssueInstants(h responseHeader, a *saml.Assertion) error {
	if err := s.checkInstant("response", h.issueInstant); err != nil {
		return err
	}
	return s.checkInstant("assertion", a.IssueInstant)
}

// checkInstant bounds the age of one message's IssueInstant (what names
// it): at most MaxIssueAge plus the clock skew old, at most the clock skew
// ahead.
func (s *Service) checkInstant(what string, instant time.Time) error {
	now := s.now()
	limit := MaxIssueAge + saml.MaxClockSkew
	if instant.IsZero() {
		return refuse(ReasonMissingElement, "the %s has no IssueInstant", what)
	}
	if age := now.Sub(instant); age > limit {
		return refuse(ReasonExpired, "the %s was issued at %s, %s ago; at most %s is accepted",
			what, instant.UTC().Format(time.RFC3339), age.Round(time.Second), limit)
	}
	if instant.Sub(now) > saml.MaxClockSkew {
		return refuse(ReasonNotYetValid, "the %s is dated %s, %s in the future: the clocks differ",
			what, instant.UTC().Format(time.RFC3339), instant.Sub(now).Round(time.Second))
	}
	return nil
}

// responseHeader is what is read from the unverified Response to route it:
// never trusted for anything that signs someone in.
type responseHeader struct {
	// encrypted: the assertion is an EncryptedAssertion.
	encrypted     bool
	issuer        string
	inResponseTo  string
	issueInstant  time.Time
	status        string
	subStatus     string
	statusMessage string
}

func (h responseHeader) flow() Flow {
	if h.inResponseTo != "" {
		return FlowSP
	}
	return FlowIdP
}

// readHeader reads what routes a response, without verifying it: only
// SAML 2.0 protocol and assertion elements where the schema puts them
// (xmlguard refuses anything else there), never an element found by its
// local name alone.
func readHeader(decoded []byte) (responseHeader, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(decoded); err != nil {
		return responseHeader{}, refuse(ReasonMalformed, "%v", err)
	}
	return headerOf(doc.Root())
}

// headerOf is readHeader of a document already parsed.
func headerOf(root *etree.Element) (responseHeader, error) {
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != xmlguard.ProtocolNS {
		return responseHeader{}, refuse(ReasonMalformed, "the root element is not a SAML 2.0 Response")
	}
	h := responseHeader{inResponseTo: root.SelectAttrValue("InResponseTo", ""), encrypted: xmlguard.EncryptedAssertion(root) != nil}
	if issuer := xmlguard.Child(root, nameIssuer); issuer != nil {
		h.issuer = strings.TrimSpace(issuer.Text())
	}
	if v := root.SelectAttrValue("IssueInstant", ""); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return responseHeader{}, refuse(ReasonMalformed, "IssueInstant %q is not a date", shorten(v))
		}
		h.issueInstant = t
	}
	status := xmlguard.Child(root, nameStatus)
	if code := xmlguard.Child(status, nameStatusCode); code != nil {
		h.status = code.SelectAttrValue("Value", "")
		if sub := xmlguard.Child(code, nameStatusCode); sub != nil {
			h.subStatus = sub.SelectAttrValue("Value", "")
		}
	}
	if message := xmlguard.Child(status, nameStatusMessage); message != nil {
		h.statusMessage = strings.TrimSpace(message.Text())
	}
	return h, nil
}

// The elements the unverified reads look for, by namespace and local name.
var (
	nameIssuer        = saml2("Issuer")
	nameStatus        = xmlguard.Name{Space: xmlguard.ProtocolNS, Local: "Status"}
	nameStatusCode    = xmlguard.Name{Space: xmlguard.ProtocolNS, Local: "StatusCode"}
	nameStatusMessage = xmlguard.Name{Space: xmlguard.ProtocolNS, Local: "StatusMessage"}
	nameAssertion     = saml2("Assertion")
)

// maxStatusMessage caps the IdP's message shown to the user.
const maxStatusMessage = 300

// idpFailure is the refusal of a response whose status is not Success. The
// status is read before (and without) any signature check, because IdPs send
// failures unsigned. So the IdP's free-text message is shown to the user
// only when the response answers a live request of this site and names the
// configured IdP as issuer: anyone can post an unsigned Response to the ACS,
// and its text must not become a phishing message on the customer's own
// domain. The admin's event keeps the message, marked as unverified.
func (s *Service) idpFailure(ctx context.Context, siteID int64, set Settings, h responseHeader) *RefusalError {
	status := strings.TrimPrefix(h.status, "urn:oasis:names:tc:SAML:2.0:status:")
	if h.subStatus != "" {
		status += " / " + strings.TrimPrefix(h.subStatus, "urn:oasis:names:tc:SAML:2.0:status:")
	}
	detail := "the identity provider did not sign the user in: " + status
	if h.statusMessage != "" {
		detail += ": " + h.statusMessage + " (message not verified)"
	}
	r := &RefusalError{Reason: ReasonIdPStatus, Detail: detail, Status: status}
	if h.statusMessage == "" || h.inResponseTo == "" || h.issuer != set.IdPEntityID {
		return r
	}
	if _, err := s.pendingState(ctx, siteID, h.inResponseTo); err != nil {
		return r
	}
	r.StatusMessage = h.statusMessage
	if len(r.StatusMessage) > maxStatusMessage {
		r.StatusMessage = strings.ToValidUTF8(r.StatusMessage[:maxStatusMessage], "") + "…"
	}
	return r
}

// guardedHeader reads the header of a response xmlguard refused for its
// structure only (a well-formed SAML 2.0 Response, without DTD, comments or
// processing instructions, whose elements or signatures are not as they
// must be): enough to tell an IdP's failure from an attack, and an admin's
// Test SSO request from a real sign-in. Nothing else of such a response is
// ever read.
func guardedHeader(samlResponse string) (responseHeader, *xmlguard.Error, bool) {
	compact := strings.Join(strings.Fields(samlResponse), "")
	if len(compact) > base64.StdEncoding.EncodedLen(xmlguard.MaxResponseBytes) {
		return responseHeader{}, nil, false
	}
	decoded, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return responseHeader{}, nil, false
	}
	var guard *xmlguard.Error
	if err := xmlguard.Check(decoded); !errors.As(err, &guard) || !structural[guard.Reason] {
		return responseHeader{}, nil, false
	}
	h, err := readHeader(decoded)
	if err != nil {
		return responseHeader{}, nil, false
	}
	return h, guard, true
}

// structural are the xmlguard reasons given only once the document parsed
// as a well-formed SAML 2.0 Response.
var structural = map[string]bool{
	xmlguard.ReasonAssertionCount: true, xmlguard.ReasonSignaturePlacement: true, xmlguard.ReasonSignatureMalformed: true,
	xmlguard.ReasonSignatureTransform: true, xmlguard.ReasonSHA1: true, xmlguard.ReasonSignatureReference: true,
	xmlguard.ReasonKeyInfo: true, xmlguard.ReasonUnsigned: true, xmlguard.ReasonEncrypted: true,
	xmlguard.ReasonEncryptionMalformed: true, xmlguard.ReasonEncryptionAlgorithm: true, xmlguard.ReasonUnexpectedElement: true,
}

// isIdPFailure reports whether a response xmlguard refused is an IdP
// reporting a failure: Azure's "AADSTS..." errors come as an unsigned
// Response with no assertion, and the user should see the IdP's message
// rather than "unsigned".
func isIdPFailure(h responseHeader, guard *xmlguard.Error) bool {
	return (guard.Reason == xmlguard.ReasonUnsigned || guard.Reason == xmlguard.ReasonAssertionCount) &&
		h.status != "" && h.status != saml.StatusSuccess
}

// storageError marks a failure of the portal's own storage inside a call
// to crewjam, so that it is not mistaken for a refused response.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// replayCache is crewjam's AssertionReplayCache for one response: crewjam
// asks it only once every other check has passed, and it keeps the
// assertion's ID for Complete, which writes it in the transaction that
// signs the user in. The primary key (site, assertion ID) refuses a replay
// there — whichever portal process it reaches, and whether the first use
// committed long ago or is committing at the same moment — so no separate
// lookup is made first: an assertion is burnt exactly when its sign-in
// commits.
type replayCache struct {
	seen replayEntry
}

// replayEntry is an assertion to record as used until expiresAt.
type replayEntry struct {
	assertionID string
	expiresAt   time.Time
}

func (c *replayCache) Consume(assertionID string, expiresAt time.Time) error {
	c.seen = replayEntry{assertionID: assertionID, expiresAt: expiresAt}
	return nil
}

// insertReplay writes the replay-cache entry of an accepted assertion; no
// row means that another sign-in with it committed first.
const insertReplay = `INSERT INTO assertion_replay (site_id, assertion_id, expires_at)
VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`

// recordReplay writes the replay-cache entry of an accepted message; a
// refusal when another with its ID committed first.
func recordReplay(ctx context.Context, tx pgx.Tx, siteID int64, e replayEntry) error {
	if e.assertionID == "" {
		return nil
	}
	tag, err := tx.Exec(ctx, insertReplay, siteID, e.assertionID, e.expiresAt)
	if err != nil {
		return fmt.Errorf("record assertion %s in the replay cache: %w", e.assertionID, err)
	}
	if tag.RowsAffected() == 0 {
		return replayed(e)
	}
	return nil
}

// replayed is the refusal of an assertion already used.
func replayed(e replayEntry) *RefusalError {
	refusal := refuse(ReasonReplayed, "the assertion %s was already used", e.assertionID)
	refusal.Detail = reasons[ReasonReplayed].hint(hintFacts{}) + " (" + refusal.Detail + ")"
	return refusal
}

// Complete finishes an accepted sign-in in ONE transaction: the pending
// request it answers, the account and session (signIn, nil for a Test SSO
// answer, which signs nobody in), the assertion's replay-cache entry and
// the event e. Either all of them are written or none: no session exists
// without its event, and an assertion is not burnt by a sign-in that
// failed — the same response can be posted again (the browser's reload)
// once the failure has passed. A *RefusalError is a replay or a second
// answer that lost the race; signIn's own errors are returned as they are.
func (s *Service) Complete(ctx context.Context, r Result, e Event, signIn func(tx pgx.Tx) (userID int64, err error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if r.pendingID != "" {
			if err := s.consumePending(ctx, tx, e.SiteID, r.pendingID); err != nil {
				return err
			}
		}
		if signIn != nil {
			userID, err := signIn(tx)
			if err != nil {
				return err
			}
			e.UserID = &userID
		}
		// The replay entry and the event go in one round trip, last: a
		// replay is refused at the primary key all the same, and the
		// transaction is rolled back whole (the second of two posts of
		// one assertion waits there, or on the account's row, for the
		// first to commit).
		batch := &pgx.Batch{}
		if r.replay.assertionID != "" {
			batch.Queue(insertReplay, e.SiteID, r.replay.assertionID, r.replay.expiresAt)
		}
		batch.Queue(insertEvent, s.eventArgs(e)...)
		results := tx.SendBatch(ctx, batch)
		defer results.Close()
		if r.replay.assertionID != "" {
			tag, err := results.Exec()
			if err != nil {
				return fmt.Errorf("record assertion %s in the replay cache: %w", r.replay.assertionID, err)
			}
			if tag.RowsAffected() == 0 {
				return replayed(r.replay)
			}
		}
		if _, err := results.Exec(); err != nil {
			return fmt.Errorf("record sign-in event: %w", err)
		}
		return results.Close()
	})
}

// DeleteExpiredReplays removes at most limit replay-cache entries whose
// assertions could no longer be accepted anyway.
func (s *Service) DeleteExpiredReplays(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM assertion_replay WHERE ctid IN (
  SELECT ctid FROM assertion_replay WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.now().Add(-saml.MaxClockSkew), limit)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
