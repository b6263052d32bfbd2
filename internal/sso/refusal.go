package sso

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Reason codes of refused sign-ins beyond xmlguard's own (which pass through
// unchanged). They are stored in sign-in events, shown on the admin page and
// used as the metric label; reasons (below) says what each means to the
// user and to the admin.
const (
	ReasonNotEnabled          = "sso-not-enabled"
	ReasonMissingResponse     = "missing-response"
	ReasonIdPStatus           = "idp-status"
	ReasonSignatureInvalid    = "signature-invalid"
	ReasonIdPCertExpired      = "idp-certificate-expired"
	ReasonIssuerMismatch      = "issuer-mismatch"
	ReasonDestinationMismatch = "destination-mismatch"
	ReasonAudienceMismatch    = "audience-mismatch"
	ReasonExpired             = "expired"
	ReasonNotYetValid         = "not-yet-valid"
	ReasonMissingElement      = "missing-element"
	ReasonMalformed           = "malformed-response"
	ReasonUnsolicited         = "unsolicited-not-allowed"
	ReasonUnknownRequest      = "unknown-request"
	ReasonRequestExpired      = "request-expired"
	ReasonRequestUsed         = "request-already-used"
	ReasonRelayStateMismatch  = "relay-state-mismatch"
	ReasonReplayed            = "replayed"
	ReasonUnsupported         = "unsupported"
	ReasonInvalid             = "invalid-response"
	ReasonMFARequired         = "mfa-required"
	// ReasonTestPassed is not a refusal: the reason of a Test SSO event
	// whose response passed every check.
	ReasonTestPassed = "all-checks-passed"
	// Account reasons, decided after the response is accepted.
	ReasonNoAccount         = "no-account"
	ReasonDeactivated       = "account-deactivated"
	ReasonIdentityChanged   = "account-identity-changed"
	ReasonMissingAttributes = "missing-attributes"
	ReasonLookAlike         = "account-look-alike"
	// Claim reasons: a claim the portal will not store.
	ReasonClaimTooLarge     = "claim-too-large"
	ReasonIdentifierRefused = "identifier-refused"
	// ReasonBrowserMismatch refuses an answer to a sign-in that another
	// browser started (login CSRF), or whose binding cookie did not come
	// back.
	ReasonBrowserMismatch = "browser-mismatch"
	// Encrypted assertions (decrypt.go).
	ReasonUndecryptable      = "decryption-failed"
	ReasonUnauthenticatedCBC = "encrypted-cbc-unsigned"
	ReasonNotEncrypted       = "assertion-not-encrypted"
)

// genericUserMessage is what a refused user reads when the reason is the
// response itself, which they cannot fix.
const genericUserMessage = "The sign-in response from your company's identity provider was not accepted. Try again from the start; if it keeps happening, give your administrator the reference below."

// reason is what the portal says about one refusal reason.
type reason struct {
	// user is the sentence the refused person reads; "" is
	// genericUserMessage.
	user string
	// hint tells the site admin what to do about it, from what the
	// response said and what the site expects; nil, or "", keeps the
	// refusal's technical detail alone.
	hint func(f hintFacts) string
}

// hintFacts are what an admin hint may quote.
type hintFacts struct {
	got      Received // what the response said, unverified
	settings Settings
	entityID string // this site's SP entity ID
	acsURL   string
	now      time.Time
	refusal  *RefusalError
}

// reasons is every refusal reason of the ACS beyond xmlguard's structural
// ones: the code, the user's message, the admin's hint. A reason with
// neither gets the generic message, and the admin the technical detail.
var reasons = map[string]reason{
	ReasonMissingResponse:   {},
	ReasonMissingElement:    {},
	ReasonMalformed:         {},
	ReasonUnsupported:       {},
	ReasonInvalid:           {},
	ReasonTestPassed:        {},
	ReasonNotEnabled:        {user: "Single sign-on is not enabled for this site."},
	ReasonNoAccount:         {user: "You do not have an account on this site yet. Ask your site administrator to create one for you."},
	ReasonDeactivated:       {user: "Your account on this site has been deactivated. Ask your site administrator."},
	ReasonIdentityChanged:   {user: "Your e-mail address belongs to an existing account of someone else on this site. Ask your site administrator to link the account to you."},
	ReasonLookAlike:         {user: "Your user name looks like the name of another person's account on this site, so no account can be made for it. Ask your site administrator."},
	ReasonClaimTooLarge:     {user: "Your company's identity provider sent a value too long for this site. Your administrator can see which one.", hint: claimHint},
	ReasonIdentifierRefused: {user: "Your company's identity provider sent a user name or e-mail address this site cannot use. Your administrator can see which one.", hint: claimHint},
	ReasonBrowserMismatch: {user: "This sign-in was started in another browser, or your browser did not keep the sign-in cookie. Open the site again in this browser to sign in.",
		hint: func(hintFacts) string {
			return "The response answers a sign-in that was started in another browser: someone may be trying to sign this browser in as themselves (login CSRF). " +
				"If users report it while signing in normally, their browser drops the portal's sign-in cookie (it needs https, or a *.localhost host, and cross-site cookies allowed for this site)."
		}},
	ReasonMissingAttributes: {user: "Your company's identity provider did not send everything needed to create your account. Your administrator must add these claims in the identity provider:"},
	ReasonIdPStatus:         {user: "Your company's identity provider did not sign you in."},
	ReasonMFARequired:       {user: "This site requires multi-factor sign-in. Sign in again and complete the second step your company asks for."},
	ReasonSignatureInvalid:  {hint: signatureHint},
	xmlguard.ReasonUnsigned: {hint: signatureHint},
	ReasonIdPCertExpired: {hint: func(hintFacts) string {
		return "The IdP's signing certificate configured for this site has expired or is not valid yet. Import the IdP's current metadata."
	}},
	ReasonIssuerMismatch: {hint: func(f hintFacts) string {
		return fmt.Sprintf("The response comes from issuer %s, but this site trusts %s. Import the metadata of the identity provider you use.",
			quote(f.got.Issuer), f.settings.IdPEntityID)
	}},
	ReasonAudienceMismatch: {hint: func(f hintFacts) string {
		return fmt.Sprintf("Audience %s does not match this site's entity ID %s. Set the Identifier (Entity ID) in the IdP to %s.",
			quote(strings.Join(f.got.Audiences, ", ")), f.entityID, f.entityID)
	}},
	ReasonDestinationMismatch: {hint: func(f hintFacts) string {
		addressed := f.got.Recipient
		if f.got.Destination != "" && f.got.Destination != f.acsURL {
			addressed = f.got.Destination
		}
		return fmt.Sprintf("The response was addressed to %s, but this site's Reply URL (ACS) is %s. Set the Reply URL in the IdP to %s.",
			quote(addressed), f.acsURL, f.acsURL)
	}},
	ReasonNotYetValid: {hint: func(f hintFacts) string {
		if f.got.NotBefore.IsZero() {
			return ""
		}
		return fmt.Sprintf("The assertion is not valid until %s; the clocks differ by %s. Check the time on the IdP and on the portal servers.",
			f.got.NotBefore.UTC().Format("15:04:05 UTC"), f.got.NotBefore.Sub(f.now).Round(time.Second))
	}},
	ReasonExpired: {hint: func(f hintFacts) string {
		if f.got.NotOnOrAfter.IsZero() || f.now.Before(f.got.NotOnOrAfter) {
			return ""
		}
		return fmt.Sprintf("The assertion expired at %s, %s ago. If the user did not simply take too long, check the clocks.",
			f.got.NotOnOrAfter.UTC().Format("15:04:05 UTC"), f.now.Sub(f.got.NotOnOrAfter).Round(time.Second))
	}},
	xmlguard.ReasonSHA1: {hint: func(hintFacts) string {
		return "The IdP signed with SHA-1, which this portal refuses. Set the signing algorithm to SHA-256 in the IdP (in Azure: SAML Signing Certificate › Signing Algorithm)."
	}},
	ReasonUnknownRequest: {hint: func(hintFacts) string {
		return "The response answers a sign-in this site did not start (or started on another site). If users start from the IdP, allow IdP-initiated sign-in."
	}},
	ReasonRequestExpired: {hint: func(hintFacts) string {
		return fmt.Sprintf("The user took longer than %s at the IdP. Signing in again works.", PendingRequestLifetime)
	}},
	ReasonRelayStateMismatch: {hint: func(hintFacts) string {
		return "The response came back with another RelayState than the sign-in request it answers. If the IdP rewrites RelayState, configure it to return it unchanged."
	}},
	ReasonRequestUsed: {hint: usedOnceHint},
	ReasonReplayed:    {hint: usedOnceHint},
	ReasonUndecryptable: {hint: func(hintFacts) string {
		return "The assertion is encrypted to a key this site does not hold, or it was damaged or altered on the way. " +
			"Give the identity provider this site's current SP certificate for encryption (export the SP metadata; in Azure: Token encryption › Import certificate). " +
			"The certificates the SP metadata publishes are the ones that decrypt."
	}},
	ReasonUnauthenticatedCBC: {hint: func(hintFacts) string {
		return "The identity provider encrypts the assertion with AES-CBC, which cannot be checked before it is decrypted, and does not sign the Response. " +
			"Have it sign the response too (in Azure: Signing Option › Sign SAML response and assertion), or encrypt with AES-GCM."
	}},
	ReasonNotEncrypted: {hint: func(hintFacts) string {
		return "This site requires encrypted assertions and the identity provider sent one in the clear. " +
			"Turn on token encryption in the identity provider with this site's SP certificate, or turn off Require encrypted assertions."
	}},
	xmlguard.ReasonEncryptionAlgorithm: {hint: func(hintFacts) string {
		return "The identity provider encrypts with an algorithm this site refuses. Accepted: AES-128 or AES-256 in GCM (preferred) or CBC mode, " +
			"with RSA-OAEP key transport; RSA 1.5 key transport and 3DES are refused."
	}},
	ReasonUnsolicited: {hint: func(hintFacts) string {
		return "The IdP started this sign-in (IdP-initiated, such as the Azure My Apps tile), and this site allows only SP-initiated sign-in. Allow IdP-initiated sign-in, or set the Sign on URL in Azure to the site's sign-on URL."
	}},
}

func signatureHint(f hintFacts) string {
	var fps []string
	for _, der := range f.settings.CertificatesDER {
		fps = append(fps, idpmeta.Fingerprint(der))
	}
	return fmt.Sprintf("The signature did not verify with the configured certificates (fingerprints %s). "+
		"The IdP may have rolled over its certificate: re-import the metadata.", strings.Join(fps, ", "))
}

func usedOnceHint(hintFacts) string {
	return "This response was already used to sign in once; a response is accepted only once (the browser's back button or a replay)."
}

// UserMessage is what a person refused for code reads.
func UserMessage(code string) string {
	if m := reasons[code].user; m != "" {
		return m
	}
	return genericUserMessage
}

// MetricLabel is code as the sign-in metric's reason label: the codes are a
// closed set, so anything else (never expected) is counted as "other"
// rather than growing the label's values.
func MetricLabel(code string) string {
	if _, ok := reasons[code]; ok || code == "" || slices.Contains(xmlguard.Reasons, code) {
		return code
	}
	return "other"
}

// explain adds to a refusal's Detail what the site admin can do about it,
// from the reasons table. The result is stored in the sign-in event and
// shown on the events and Test SSO pages.
func (s *Service) explain(refusal *RefusalError, set Settings, siteName string, decoded []byte) *RefusalError {
	r, ok := reasons[refusal.Reason]
	if !ok || r.hint == nil {
		return refusal
	}
	text := r.hint(hintFacts{got: Peek(decoded), settings: set, entityID: s.EntityID(siteName), acsURL: s.ACSURL(siteName), now: s.now(), refusal: refusal})
	if text == "" {
		return refusal
	}
	out := *refusal
	out.Detail = text + " (" + refusal.Detail + ")"
	return &out
}

func quote(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// RefusalError is a refused sign-in: Reason is the stable code, Detail the
// explanation for the admin's event log (never shown to the user as is).
type RefusalError struct {
	Reason string
	Detail string
	// Status and StatusMessage are the IdP's, for ReasonIdPStatus.
	Status, StatusMessage string
	// Missing names the attributes a new account lacks, for
	// ReasonMissingAttributes.
	Missing []string
	// Claim names the claim refused, for ReasonClaimTooLarge and
	// ReasonIdentifierRefused.
	Claim string
	// Account is the existing account a sign-in was refused for
	// (ReasonIdentityChanged, ReasonLookAlike); nil otherwise.
	Account *int64
}

func (e *RefusalError) Error() string { return "sign-in refused: " + e.Reason + ": " + e.Detail }

func refuse(reason, format string, args ...any) *RefusalError {
	return &RefusalError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// classify turns the errors of xmlguard and crewjam/saml into refusals.
// crewjam wraps the real cause in InvalidResponseError.PrivateErr and
// classifies it with sentinel errors.
func classify(err error) *RefusalError {
	var refusal *RefusalError
	if errors.As(err, &refusal) {
		return refusal
	}
	var guard *xmlguard.Error
	if errors.As(err, &guard) {
		return &RefusalError{Reason: guard.Reason, Detail: guard.Detail}
	}
	detail := err.Error()
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		err = ire.PrivateErr
		detail = err.Error()
	}
	var bad saml.ErrBadStatus
	if errors.As(err, &bad) {
		return &RefusalError{Reason: ReasonIdPStatus, Detail: "the identity provider answered " + bad.Status, Status: bad.Status}
	}
	for _, c := range []struct {
		target error
		reason string
	}{
		{saml.ErrAssertionReplayed, ReasonReplayed},
		{saml.ErrCertificateNotValidNow, ReasonIdPCertExpired},
		{saml.ErrUntrustedCertificate, ReasonSignatureInvalid},
		{saml.ErrInvalidSignature, ReasonSignatureInvalid},
		{saml.ErrIssuerMismatch, ReasonIssuerMismatch},
		{saml.ErrDestinationMismatch, ReasonDestinationMismatch},
		{saml.ErrAudienceMismatch, ReasonAudienceMismatch},
		{saml.ErrRequestIDMismatch, ReasonUnknownRequest},
		{saml.ErrExpired, ReasonExpired},
		{saml.ErrNotYetValid, ReasonNotYetValid},
		{saml.ErrMissingElement, ReasonMissingElement},
		{saml.ErrMalformedMessage, ReasonMalformed},
		{saml.ErrUnsupported, ReasonUnsupported},
	} {
		if errors.Is(err, c.target) {
			return &RefusalError{Reason: c.reason, Detail: detail}
		}
	}
	return &RefusalError{Reason: ReasonInvalid, Detail: detail}
}
