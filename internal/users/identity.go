package users

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/meetings-portal/portal/internal/identifier"
)

// The bounds of what an account stores from the identity provider's
// claims. Beyond them a sign-in is refused (claim-too-large), never
// truncated: a shortened identifier could name someone else. A uid or an
// e-mail address is at most an e-mail address's 254 octets; a name a few
// hundred characters; Azure's object ID is a 36-character GUID.
const (
	MaxUID      = identifier.MaxLength
	MaxEmail    = identifier.MaxLength
	MaxName     = 256 // characters
	MaxObjectID = 64  // octets
)

// Refusals of IdentityFrom, matched with errors.Is on a *ClaimError.
var (
	// ErrClaimTooLarge refuses a claim longer than the account stores.
	ErrClaimTooLarge = errors.New("claim too large")
	// ErrIdentifierRefused refuses a uid or e-mail address that RFC 8265
	// (PRECIS) or the e-mail rules refuse.
	ErrIdentifierRefused = errors.New("identifier refused")
)

// ClaimError is a claim the portal will not store: Claim names it as the
// admin configures it in the IdP, Err is ErrClaimTooLarge or
// ErrIdentifierRefused.
type ClaimError struct {
	Claim  string
	Err    error
	Detail string
}

func (e *ClaimError) Error() string { return e.Claim + ": " + e.Err.Error() + ": " + e.Detail }
func (e *ClaimError) Unwrap() error { return e.Err }

// Identity is who an identity provider says signed in, reduced to what an
// account needs, normalised and within the bounds above.
type Identity struct {
	UID       string // the account key: identifier.Normalize of the Webex UserID (an e-mail address)
	Email     string // identifier.NormalizeEmail
	FirstName string
	LastName  string
	ObjectID  string // Azure's stable object ID, when sent
	// Role is the role the user's groups give ("host" or "attendee"),
	// "" when the mapping names none of them: the site's default then.
	Role string
	// RoleFromGroups says that the site maps groups to roles and the
	// response carries the group claim: a user in none of its groups then
	// has the site's default role, at creation and (with Auto Account
	// Update) at every sign-in — someone taken out of the hosts' group
	// stops being a host. Without the claim (removed from the IdP's
	// claims, or Azure's groups.link sent instead for a user in more than
	// 150 groups) the role is not known and an account keeps its own, as
	// it keeps its name when the name claim is missing.
	RoleFromGroups bool
	// Claims says which claim gave each value, for the Test SSO page.
	Claims IdentityClaims
}

// IdentityClaims names the claim each value of an Identity came from ("" for
// none; "NameID" for a uid taken from the NameID), and the group that gave
// the role.
type IdentityClaims struct {
	UID, Email, FirstName, LastName, ObjectID string
	RoleGroup                                 string
}

// IdentityFrom maps a NameID and SAML attributes to an Identity with the
// default mapping: the account key is the uid attribute, else Azure's
// emailaddress claim, else its name claim (the UPN), else the NameID.
func IdentityFrom(nameID string, attrs map[string][]string) (Identity, error) {
	return IdentityWith(nameID, attrs, DefaultClaimMapping())
}

// IdentityWith maps a NameID and SAML attributes to an Identity with the
// site's mapping m; the uid is the NameID when none of m's uid claims has
// a value. It refuses a claim beyond its bound and an identifier PRECIS
// refuses, with a *ClaimError.
func IdentityWith(nameID string, attrs map[string][]string, m ClaimMapping) (Identity, error) {
	m = m.withDefaults()
	first := func(names ...string) (string, string) {
		for _, n := range names {
			for _, v := range attrs[n] {
				if v = strings.TrimSpace(v); v != "" {
					return v, n
				}
			}
		}
		return "", ""
	}
	uid, uidClaim := first(m.UID...)
	if uid == "" && strings.TrimSpace(nameID) != "" {
		uid, uidClaim = strings.TrimSpace(nameID), "NameID"
	}
	email, emailClaim := first(m.Email...)
	firstName, firstClaim := first(m.FirstName...)
	lastName, lastClaim := first(m.LastName...)
	objectID, objectClaim := first(ClaimObjectID)
	role, group := m.roleFromGroups(attrs)

	id := Identity{FirstName: firstName, LastName: lastName, ObjectID: strings.ToLower(objectID), Role: role,
		RoleFromGroups: m.GroupClaim != "" && len(m.HostGroups)+len(m.AttendeeGroups) > 0 && attrs[m.GroupClaim] != nil,
		Claims:         IdentityClaims{UID: uidClaim, Email: emailClaim, FirstName: firstClaim, LastName: lastClaim, ObjectID: objectClaim, RoleGroup: group}}
	for _, c := range []struct {
		claim, value string
		tooLong      bool
		limit        string
	}{
		{uidClaim, uid, len(uid) > MaxUID, fmt.Sprintf("%d octets", MaxUID)},
		{emailClaim, email, len(email) > MaxEmail, fmt.Sprintf("%d octets", MaxEmail)},
		{firstClaim, firstName, utf8.RuneCountInString(firstName) > MaxName, fmt.Sprintf("%d characters", MaxName)},
		{lastClaim, lastName, utf8.RuneCountInString(lastName) > MaxName, fmt.Sprintf("%d characters", MaxName)},
		{objectClaim, objectID, len(objectID) > MaxObjectID, fmt.Sprintf("%d octets", MaxObjectID)},
	} {
		if c.tooLong {
			return Identity{}, &ClaimError{Claim: c.claim, Err: ErrClaimTooLarge,
				Detail: fmt.Sprintf("%d octets; at most %s are accepted", len(c.value), c.limit)}
		}
	}
	var err error
	if uid != "" {
		if id.UID, err = identifier.Normalize(uid); err != nil {
			return Identity{}, refusedIdentifier(uidClaim, err)
		}
	}
	if email != "" {
		if id.Email, err = identifier.NormalizeEmail(email); err != nil {
			return Identity{}, refusedIdentifier(emailClaim, err)
		}
	}
	return id, nil
}

func refusedIdentifier(claim string, err error) error {
	var refused *identifier.Error
	if errors.As(err, &refused) {
		return &ClaimError{Claim: claim, Err: ErrIdentifierRefused, Detail: fmt.Sprintf("%q: %s", refused.Value, refused.Reason)}
	}
	return err
}

// Missing lists the attributes a new account needs that the identity lacks,
// by the names an admin configures in Azure.
func (id Identity) Missing() []string {
	var missing []string
	if id.UID == "" {
		missing = append(missing, "uid")
	}
	if id.Email == "" {
		missing = append(missing, "email")
	}
	if id.FirstName == "" {
		missing = append(missing, "firstname")
	}
	if id.LastName == "" {
		missing = append(missing, "lastname")
	}
	sort.Strings(missing)
	return missing
}

// DisplayName is "First Last".
func (id Identity) DisplayName() string { return strings.TrimSpace(id.FirstName + " " + id.LastName) }
