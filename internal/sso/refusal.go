package sso

import (
	"errors"
	"fmt"

	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Reason codes of refused sign-ins beyond xmlguard's own (which pass through
// unchanged). They are stored in sign-in events and shown on the admin page.
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
	// Account reasons, decided after the response is accepted.
	ReasonNoAccount         = "no-account"
	ReasonDeactivated       = "account-deactivated"
	ReasonIdentityChanged   = "account-identity-changed"
	ReasonMissingAttributes = "missing-attributes"
)

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
