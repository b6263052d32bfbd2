package main

import (
	"context"
	"strings"
	"testing"
)

func TestUserCreateMakesAnAccountForASiteWithoutAutoAccountCreation(t *testing.T) {
	tc := newTestCLI(t)
	if _, errOut, code := tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test"); code != 0 {
		t.Fatalf("create acme: %d %s", code, errOut)
	}
	if _, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--auto-create=false"); code != 0 {
		t.Fatalf("auto-create off: %d %s", code, errOut)
	}
	out, errOut, code := tc.run(nil, "user", "create", "--site", "acme", "--email", " B.Simon@Acme.Test ",
		"--first-name", "B", "--last-name", "Simon", "--role", "attendee")
	if code != 0 || !strings.Contains(out, "created user b.simon@acme.test (b.simon@acme.test, attendee) on acme") {
		t.Fatalf("user create: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Each optional flag alone: only --email.
	if _, errOut, code := tc.run(nil, "user", "create", "--email", "a.lee@acme.test", "--site", "acme"); code != 0 {
		t.Fatalf("user create with --email alone: %d %s", code, errOut)
	}
	list, _, _ := tc.run(nil, "user", "list", "--site", "acme")
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	want := []string{
		"a.lee@acme.test a.lee@acme.test a.lee@acme.test host admin true never",
		"b.simon@acme.test B Simon b.simon@acme.test attendee admin true never",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("user list:\n%s\nwant rows:\n%s", list, strings.Join(want, "\n"))
	}
	var entries int
	if err := tc.pool().QueryRow(context.Background(), `SELECT count(*) FROM admin_audit
WHERE actor = 'command line' AND action = 'user.create'`).Scan(&entries); err != nil || entries != 2 {
		t.Errorf("%d user.create entries by the command line (%v), want 2", entries, err)
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no e-mail", []string{"--site", "acme"}, "usage: portal user create"},
		{"no site", []string{"--email", "x@acme.test"}, "usage: portal user create"},
		{"bad e-mail", []string{"--site", "acme", "--email", "not-an-address"}, "--email: Enter an e-mail address"},
		{"bad role", []string{"--site", "acme", "--email", "c@acme.test", "--role", "owner"}, "--role: Choose host or attendee."},
		{"name too long", []string{"--site", "acme", "--email", "c@acme.test", "--last-name", strings.Repeat("x", 201)}, "--last-name: At most 200 characters."},
		{"uid with a space", []string{"--site", "acme", "--email", "c@acme.test", "--uid", "c d"}, "--uid:"},
		{"duplicate", []string{"--site", "acme", "--email", "B.SIMON@acme.test"}, "uid b.simon@acme.test: an account with this uid already exists"},
		{"unknown site", []string{"--site", "globex", "--email", "c@acme.test"}, `no site named "globex"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := tc.run(nil, append([]string{"user", "create"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("status %d, stderr %q; want 2 and %q", code, errOut, c.want)
			}
		})
	}
	if after, _, _ := tc.run(nil, "user", "list", "--site", "acme"); after != list {
		t.Errorf("refused commands changed the users:\n%s", after)
	}
}

func TestSSOSetAuthnContextEmptyMeansNone(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	if _, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--authn-context", "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"); code != 0 {
		t.Fatalf("set a context: %d %s", code, errOut)
	}
	out, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--authn-context", "")
	if code != 0 || !strings.Contains(out, "AuthnContextClassRef") {
		t.Fatalf(`--authn-context "": status %d, stdout %q, stderr %q`, code, out, errOut)
	}
	var refs []string
	if err := tc.pool().QueryRow(context.Background(), `SELECT authn_context FROM sso_settings s JOIN sites ON sites.id = s.site_id
WHERE sites.name = 'acme'`).Scan(&refs); err != nil || len(refs) != 0 {
		t.Errorf("stored AuthnContextClassRefs %q (%v), want none", refs, err)
	}
}

// TestSSOSetClaimMappingAndShowIt: the attribute and role mapping is set
// from the command line, flag by flag, and `sso show` lists it; a mapping
// that cannot work is refused naming the flag.
func TestSSOSetClaimMappingAndShowIt(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	const hosts = "5f1c8a2e-0b7d-4c3e-9a61-2d8f4b6e1c07"
	out, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--uid-claims", "employeeid;uid", "--host-groups", hosts)
	if code != 0 {
		t.Fatalf("sso set: status %d: %s", code, errOut)
	}
	for _, want := range []string{"User ID (uid) claims", "employeeid;uid", "Groups of hosts", hosts,
		"Group claim", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
		"E-mail claims", "email;http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "Groups of attendees"} {
		if !strings.Contains(out, want) {
			t.Errorf("sso set's settings do not show %q:\n%s", want, out)
		}
	}
	_, errOut, code = tc.run(nil, "sso", "set", "--site", "acme", "--group-claim", "", "--host-groups", hosts)
	if code != 2 || !strings.Contains(errOut, "--group-claim") {
		t.Errorf("a group list without a group claim: status %d, stderr %q", code, errOut)
	}
	_, errOut, code = tc.run(nil, "sso", "set", "--site", "acme", "--email-claims", "")
	if code != 2 || !strings.Contains(errOut, "--email-claims: Enter at least one claim name.") {
		t.Errorf("no e-mail claim: status %d, stderr %q", code, errOut)
	}
}

// TestSSOSetClaimFlagsRefuseTextPostgreSQLCannotStore: invalid UTF-8 in any
// claim flag is a usage error (exit 2) naming the flag, not a raw SQL error,
// and changes nothing.
func TestSSOSetClaimFlagsRefuseTextPostgreSQLCannotStore(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	before, _, _ := tc.run(nil, "sso", "show", "--site", "acme")
	for _, args := range [][]string{
		{"--uid-claims", "a\xffb"}, {"--email-claims", "\xff"}, {"--first-name-claims", "x\xc3"}, {"--last-name-claims", "a\xffb"},
		{"--group-claim", "g\xff"}, {"--group-claim", "g", "--host-groups", "h\xff"}, {"--group-claim", "g", "--attendee-groups", "\xc3"},
	} {
		_, errOut, code := tc.run(nil, append([]string{"sso", "set", "--site", "acme"}, args...)...)
		if code != 2 || strings.Contains(errOut, "SQLSTATE") || !strings.Contains(errOut, args[len(args)-2]) {
			t.Errorf("sso set %q: status %d, %q; want 2 naming %s", args, code, errOut, args[len(args)-2])
		}
	}
	if after, _, _ := tc.run(nil, "sso", "show", "--site", "acme"); after != before {
		t.Errorf("refused flags changed the settings:\n%s\nwas\n%s", after, before)
	}
}
