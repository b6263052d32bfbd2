package users

import "strings"

// Claim names Azure AD (Entra ID) sends, all in one place. The tutorial adds
// the short names firstname, lastname, email and uid; when one of those is
// absent, the matching default claim is used instead (IdentityFrom).
const (
	ClaimGivenName    = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	ClaimSurname      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	ClaimEmailAddress = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	ClaimName         = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	ClaimObjectID     = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	// ClaimGroups is where Azure sends the object IDs of the user's
	// groups when the app has a group claim (Attributes & Claims → Add a
	// group claim).
	ClaimGroups = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"

	// ClaimAuthnMethods lists how the user authenticated; Azure puts
	// AzureMFAMethod in it when the user passed multi-factor
	// authentication.
	ClaimAuthnMethods = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	AzureMFAMethod    = "http://schemas.microsoft.com/claims/multipleauthn"
)

// ClaimMapping says which claims make an account: each attribute is a
// list of claim names tried in order (the first with a value wins), and an
// optional group claim whose values make the user a host or an attendee.
// The zero value of a list means its default (DefaultClaimMapping).
type ClaimMapping struct {
	UID, Email, FirstName, LastName []string
	// GroupClaim names the claim carrying the user's groups; HostGroups
	// and AttendeeGroups are the values (Azure: group object IDs) that
	// give each role. Host wins when a user is in both.
	GroupClaim                 string
	HostGroups, AttendeeGroups []string
}

// DefaultClaimMapping is the tutorial's short names first, then Azure AD's
// default claims: what the portal reads when the admin changed nothing.
func DefaultClaimMapping() ClaimMapping {
	return ClaimMapping{
		UID:        []string{"uid", ClaimEmailAddress, ClaimName},
		Email:      []string{"email", ClaimEmailAddress},
		FirstName:  []string{"firstname", ClaimGivenName},
		LastName:   []string{"lastname", ClaimSurname},
		GroupClaim: ClaimGroups,
	}
}

// withDefaults fills the empty lists of m from DefaultClaimMapping.
func (m ClaimMapping) withDefaults() ClaimMapping {
	d := DefaultClaimMapping()
	for _, f := range []struct{ got, def *[]string }{
		{&m.UID, &d.UID}, {&m.Email, &d.Email}, {&m.FirstName, &d.FirstName}, {&m.LastName, &d.LastName},
	} {
		if len(*f.got) == 0 {
			*f.got = *f.def
		}
	}
	return m
}

// roleFromGroups is the role the user's groups give under m: "host",
// "attendee", or "" when no listed group is among them.
func (m ClaimMapping) roleFromGroups(attrs map[string][]string) (role, group string) {
	if m.GroupClaim == "" {
		return "", ""
	}
	for _, r := range []struct {
		role   string
		groups []string
	}{{"host", m.HostGroups}, {"attendee", m.AttendeeGroups}} {
		for _, value := range attrs[m.GroupClaim] {
			value = strings.TrimSpace(value)
			for _, g := range r.groups {
				if strings.EqualFold(value, g) {
					return r.role, g
				}
			}
		}
	}
	return "", ""
}
