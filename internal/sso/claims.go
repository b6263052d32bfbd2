package sso

import (
	"errors"
	"fmt"

	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/users"
)

// The bounds of the attributes an accepted assertion may carry. Azure AD's
// default claims with the tutorial's four are 13 attributes of 1 value and
// under 2 KiB; even a user in hundreds of groups stays far below (Azure
// sends at most 150 group claims in a SAML token, then an overage claim).
// Beyond them a response is refused with claim-too-large, rather than
// stored, shown or logged in full.
const (
	MaxAttributes      = 100      // distinct attribute names
	MaxAttributeValues = 1000     // values, all attributes together
	MaxAttributeBytes  = 64 << 10 // names and values, all together
	// MaxNameID is the longest NameID: it is the account key when no uid
	// claim is sent, and is stored in every sign-in event.
	MaxNameID = 512
)

// checkClaimBounds refuses an assertion whose NameID or attributes exceed
// the bounds above, naming the claim for the admin.
func checkClaimBounds(a *saml.Assertion) error {
	if a.Subject != nil && a.Subject.NameID != nil && len(a.Subject.NameID.Value) > MaxNameID {
		return claimTooLarge("NameID", "%d octets; at most %d are accepted", len(a.Subject.NameID.Value), MaxNameID)
	}
	names := map[string]bool{}
	values, size := 0, 0
	for _, st := range a.AttributeStatements {
		for _, attr := range st.Attributes {
			names[attr.Name] = true
			size += len(attr.Name)
			for _, v := range attr.Values {
				values++
				size += len(v.Value)
			}
			switch {
			case len(names) > MaxAttributes:
				return claimTooLarge(attr.Name, "the assertion has more than %d attributes", MaxAttributes)
			case values > MaxAttributeValues:
				return claimTooLarge(attr.Name, "the assertion has more than %d attribute values", MaxAttributeValues)
			case size > MaxAttributeBytes:
				return claimTooLarge(attr.Name, "the attributes add up to more than %d KiB", MaxAttributeBytes>>10)
			}
		}
	}
	return nil
}

func claimTooLarge(claim, format string, args ...any) *RefusalError {
	r := refuse(ReasonClaimTooLarge, "the claim %s is too large: "+format, append([]any{shorten(claim)}, args...)...)
	r.Claim = shorten(claim)
	return r
}

// claimRefusal turns users.IdentityFrom's refusals into the sign-in's.
func claimRefusal(err error) error {
	var claim *users.ClaimError
	if !errors.As(err, &claim) {
		return err
	}
	reason := ReasonClaimTooLarge
	if errors.Is(err, users.ErrIdentifierRefused) {
		reason = ReasonIdentifierRefused
	}
	r := refuse(reason, "the claim %s: %s", shorten(claim.Claim), claim.Detail)
	r.Claim = shorten(claim.Claim)
	return r
}

// claimHint names the claim to change in the IdP.
func claimHint(f hintFacts) string {
	switch f.refusal.Reason {
	case ReasonIdentifierRefused:
		return fmt.Sprintf("The identity provider sent the claim %s with a value this portal cannot use as an account identifier "+
			"(spaces, symbols, invisible or mixed-up characters; RFC 8265). Map %s to an attribute holding the user's e-mail address or UPN (in Azure: Attributes & Claims).",
			f.refusal.Claim, f.refusal.Claim)
	default:
		return fmt.Sprintf("The identity provider sent the claim %s larger than this portal stores (an e-mail address is at most %d octets, a name %d characters, "+
			"%d attributes of %d values in all). Map %s to a shorter source attribute, or remove it (in Azure: Attributes & Claims).",
			f.refusal.Claim, users.MaxEmail, users.MaxName, MaxAttributes, MaxAttributeValues, f.refusal.Claim)
	}
}
