package sso

import (
	"context"
	"strings"

	"github.com/meetings-portal/portal/internal/users"
)

// TestResult is what the Test SSO page shows of an accepted test: the
// assertion, which claim became which value of the account, what signing
// in would do to the accounts and why, and whether multi-factor sign-in
// was seen.
type TestResult struct {
	*Assertion
	Mapped  []MappedClaim
	Outcome users.Outcome
	// MFA: the response shows multi-factor authentication (Azure's
	// authnmethodsreferences, or one of the site's MFA contexts).
	MFA bool
}

// MappedClaim is one value of the account and the claim it came from
// ("" when no claim gave one).
type MappedClaim struct {
	What, Value, Claim string
}

// ExplainTest tells what the accepted test assertion a means for the
// site's accounts, without signing anyone in or changing any account.
func (s *Service) ExplainTest(ctx context.Context, accounts *users.Store, siteID int64, a *Assertion) (TestResult, error) {
	id := a.Identity
	role := id.Role
	if id.Claims.RoleGroup != "" {
		role += " (group " + id.Claims.RoleGroup + ")"
	}
	r := TestResult{Assertion: a, MFA: a.showsMFA(a.Settings.MFAContexts), Mapped: []MappedClaim{
		{"First name", id.FirstName, id.Claims.FirstName},
		{"Last name", id.LastName, id.Claims.LastName},
		{"E-mail", id.Email, id.Claims.Email},
		{"User ID (uid)", id.UID, id.Claims.UID},
		{"Object ID", id.ObjectID, id.Claims.ObjectID},
		{"Role from groups", strings.TrimSpace(role), orEmptyClaim(a.Settings.GroupClaim, id.Claims.RoleGroup)},
	}}
	outcome, err := accounts.Preview(ctx, siteID, id, users.Policy{
		AutoCreate: a.Settings.AutoCreate, AutoUpdate: a.Settings.AutoUpdate, Role: a.Settings.NewUserRole,
	})
	if err != nil {
		return TestResult{}, err
	}
	r.Outcome = outcome
	return r, nil
}

// orEmptyClaim names the group claim when a group gave the role.
func orEmptyClaim(claim, group string) string {
	if group == "" {
		return ""
	}
	return claim
}
