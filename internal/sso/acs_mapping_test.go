package sso_test

import (
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
)

// The object IDs of two Azure groups, as a group claim sends them.
const (
	hostsGroup     = "0b6e2f8c-1d3a-4e5f-8a7b-9c0d1e2f3a4b"
	attendeesGroup = "7c4d1a9e-2b3f-4a5c-8d6e-0f1a2b3c4d5e"
	otherGroup     = "3e2d1c0b-9a8f-4e7d-b6c5-a4f3e2d1c0b9"
)

// TestRoleMappingFromAzureGroupClaim signs users in with signed responses
// carrying Azure's groups claim: a member of the hosts' group is created a
// host, of the attendees' group an attendee (though new accounts are hosts
// by default), of both a host, of neither the site's default; with Auto
// Account Update a user moved between groups changes role at the next
// sign-in, and without it keeps the role.
func TestRoleMappingFromAzureGroupClaim(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) {
		s.HostGroups, s.AttendeeGroups = []string{hostsGroup}, []string{attendeesGroup}
		s.NewUserRole = "host"
	})
	claims := func(email string, groups ...string) map[string][]string {
		c := p.idp.AzureClaims(email, "Ada", "Lovelace", "")
		delete(c, users.ClaimObjectID)
		if groups != nil {
			c[users.ClaimGroups] = groups
		}
		return c
	}
	cases := []struct {
		email  string
		groups []string
		role   string
	}{
		{"host@contoso.com", []string{otherGroup, hostsGroup}, "host"},
		{"attendee@contoso.com", []string{attendeesGroup}, "attendee"},
		{"both@contoso.com", []string{attendeesGroup, hostsGroup}, "host"},
		{"neither@contoso.com", []string{otherGroup}, "host"},
		{"no-claim@contoso.com", nil, "host"},
		// Azure sends object IDs in lower case; an admin may paste them
		// in upper case.
		{"upper@contoso.com", []string{"7C4D1A9E-2B3F-4A5C-8D6E-0F1A2B3C4D5E"}, "attendee"},
	}
	for _, c := range cases {
		p.signIn(c.email, claims(c.email, c.groups...))
		if u, ok := p.account(c.email); !ok || u.Role != c.role {
			t.Errorf("%s in %v: account %v role %q, want %q", c.email, c.groups, ok, u.Role, c.role)
		}
	}

	// Moved from the attendees to the hosts: without Auto Account Update
	// the account keeps its role, with it the role follows the groups.
	p.signIn("attendee@contoso.com", claims("attendee@contoso.com", hostsGroup))
	if u, _ := p.account("attendee@contoso.com"); u.Role != "attendee" {
		t.Errorf("without Auto Account Update the role changed to %q", u.Role)
	}
	p.set(p.acme, func(s *sso.Settings) { s.AutoUpdate = true })
	p.signIn("attendee@contoso.com", claims("attendee@contoso.com", hostsGroup))
	if u, _ := p.account("attendee@contoso.com"); u.Role != "host" {
		t.Errorf("with Auto Account Update the role is %q, want host", u.Role)
	}
	// Taken out of every listed group: the site's default role, not the
	// host role the groups gave before — a privilege the IdP withdrew is
	// withdrawn here too.
	p.set(p.acme, func(s *sso.Settings) { s.NewUserRole = "attendee" })
	p.signIn("attendee@contoso.com", claims("attendee@contoso.com", otherGroup))
	if u, _ := p.account("attendee@contoso.com"); u.Role != "attendee" {
		t.Errorf("in no listed group the role is %q, want the default, attendee", u.Role)
	}
	// No group claim at all (taken out of the IdP's claims, or Azure's
	// groups.link for a user in more than 150 groups): the groups are not
	// known, and the host stays a host.
	for _, c := range []map[string][]string{
		claims("host@contoso.com"),
		func() map[string][]string {
			c := claims("host@contoso.com")
			c["http://schemas.microsoft.com/claims/groups.link"] = []string{"https://graph.windows.net/contoso/users/x/getMemberObjects"}
			return c
		}(),
	} {
		p.signIn("host@contoso.com", c)
		if u, _ := p.account("host@contoso.com"); u.Role != "host" {
			t.Errorf("without the group claim the role became %q, want host as it was", u.Role)
		}
	}
}

// TestAttributeMappingReadsTheConfiguredClaims: a site that maps the uid
// to another claim finds the account by it, and the names by theirs.
func TestAttributeMappingReadsTheConfiguredClaims(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) {
		s.AttrUID = []string{"employeeid"}
		s.AttrFirstName = []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"}
	})
	c := p.idp.AzureClaims("b.simon@contoso.com", "Britta", "Simon", "")
	delete(c, users.ClaimObjectID)
	c["employeeid"] = []string{"E-1042"}
	c["firstname"] = []string{"Not this one"}
	p.signIn("b.simon@contoso.com", c)
	u, ok := p.account("e-1042")
	if !ok || u.FirstName != "Britta" || u.Email != "b.simon@contoso.com" {
		t.Errorf("account by the mapped uid: %v %+v", ok, u)
	}
}
