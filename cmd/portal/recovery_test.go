package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// settingsShown reads `portal sso show`'s lines into label → value (the
// first value of a label shown several times).
func settingsShown(out string) map[string]string {
	shown := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if label, value, ok := strings.Cut(line, "  "); ok {
			label = strings.TrimSpace(label)
			if _, seen := shown[label]; !seen {
				shown[label] = strings.TrimSpace(value)
			}
		}
	}
	return shown
}

func TestMigrateDownRefusesMoreStepsThanAreAppliedAndChangesNothing(t *testing.T) {
	tc := newTestCLI(t)
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := tc.run(nil, "migrate", "version")
	_, errOut, code := tc.run(nil, "migrate", "down", fmt.Sprint(len(all)+3), "--yes")
	if code != 2 || !strings.Contains(errOut, fmt.Sprintf("only %d are applied", len(all))) || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("down %d of %d: status %d, %q", len(all)+3, len(all), code, errOut)
	}
	if after, _, _ := tc.run(nil, "migrate", "version"); after != before {
		t.Fatalf("version after the refusal %q, want %q", after, before)
	}
	if out, _, code := tc.run(nil, "site", "list"); code != 0 || !strings.HasPrefix(out, "NAME") {
		t.Fatalf("site list after the refusal: %d %q", code, out)
	}
}

func TestMigrateDownAsksBeforeDroppingTablesWithRows(t *testing.T) {
	tc := newTestCLI(t)
	if _, errOut, code := tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test"); code != 0 {
		t.Fatalf("site create: %d %s", code, errOut)
	}
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := tc.run(nil, "migrate", "version")

	// Everything down would drop sites, which has a row: no terminal to ask
	// on, no --yes, so nothing happens.
	_, errOut, code := tc.run(nil, "migrate", "down", fmt.Sprint(len(all)))
	if code != 2 || !strings.Contains(errOut, "hold rows") || !strings.Contains(errOut, "sites") ||
		!strings.Contains(errOut, "--yes") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("down everything with a site: status %d, %q", code, errOut)
	}
	if after, _, _ := tc.run(nil, "migrate", "version"); after != before {
		t.Fatalf("version after the refusal %q, want %q", after, before)
	}
	if out, _, _ := tc.run(nil, "site", "list"); !strings.Contains(out, "acme") {
		t.Fatalf("the site is gone after a refused down:\n%s", out)
	}

	// The newest step drops only empty tables (the meetings'): no question.
	last := all[len(all)-1]
	out, errOut, code := tc.run(nil, "migrate", "down", "1")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("schema version %d", all[len(all)-2].Version)) {
		t.Fatalf("down 1 (%s, empty tables): %d %q %q", last.Name, code, out, errOut)
	}

	// --yes is the operator saying so.
	out, errOut, code = tc.run(nil, "migrate", "down", fmt.Sprint(len(all)-1), "--yes")
	if code != 0 || !strings.Contains(out, "schema version 0") {
		t.Fatalf("down the rest --yes: %d %q %q", code, out, errOut)
	}
}

func TestCommandsOnAnUnmigratedDatabaseSayWhatToRun(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["DATABASE_URL"] = dbtest.NewEmptyURL(t)
	const want = "the database is not migrated: run `portal migrate up`"
	for _, args := range [][]string{
		{"site", "list"},
		{"site", "create", "acme", "--admin-email", "admin@acme.test"},
		{"sso", "show", "--site", "acme"},
		{"sso", "export", "--site", "acme"},
		{"admin", "create", "--site", "acme", "--email", "second@acme.test"},
		{"user", "list", "--site", "acme"},
	} {
		_, errOut, code := tc.run(goodPassword, args...)
		if code != 2 || !strings.Contains(errOut, want) || strings.Contains(errOut, "relation") {
			t.Errorf("%s: status %d, %q; want 2 and %q", strings.Join(args, " "), code, errOut, want)
		}
	}
	// Migrated, the same command works.
	if _, errOut, code := tc.run(nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %d %s", code, errOut)
	}
	if _, errOut, code := tc.run(nil, "site", "list"); code != 0 {
		t.Fatalf("site list once migrated: %d %s", code, errOut)
	}
}

func TestHelpOnEverySubcommandPrintsItsOwnUsageAndExits0(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none" // help never needs the database
	for _, cmd := range commands {
		for _, flagName := range []string{"--help", "-h"} {
			args := append(strings.Fields(cmd.name), flagName)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, errOut, code := tc.run(nil, args...)
				if code != 0 || errOut != "" {
					t.Fatalf("status %d, stderr %q", code, errOut)
				}
				if !strings.HasPrefix(out, "usage: portal "+cmd.synopsis+"\n") {
					t.Fatalf("stdout does not start with its usage:\n%s", out)
				}
				for _, other := range commands {
					if other.name != cmd.name && strings.Contains(out, "portal "+other.synopsis) {
						t.Fatalf("the help of %s shows %s's usage too:\n%s", cmd.name, other.name, out)
					}
				}
			})
		}
	}
	// A group's help lists that group only.
	for _, group := range []string{"migrate", "site", "sso", "admin", "user"} {
		out, errOut, code := tc.run(nil, group, "--help")
		if code != 0 || errOut != "" || !strings.Contains(out, "portal "+group+" ") {
			t.Fatalf("%s --help: %d %q %q", group, code, out, errOut)
		}
		for _, other := range commands {
			if !strings.HasPrefix(other.name, group+" ") && strings.Contains(out, "portal "+other.synopsis) {
				t.Fatalf("%s --help lists %s:\n%s", group, other.name, out)
			}
		}
	}
	// The flags are described, and a mistake is still a mistake.
	if out, _, _ := tc.run(nil, "sso", "set", "--help"); !strings.Contains(out, "-authn-context") || !strings.Contains(out, "-idp-initiated") {
		t.Fatalf("sso set --help does not describe its flags:\n%s", out)
	}
	if _, errOut, code := tc.run(nil, "sso", "set", "--frobnicate"); code != 2 || !strings.Contains(errOut, "usage: portal sso set") {
		t.Fatalf("an unknown flag: %d %q", code, errOut)
	}
	if _, _, code := tc.run(nil, "sso", "frobnicate"); code != 2 {
		t.Fatalf("an unknown sso command: %d", code)
	}
}

func TestSSOShowListsEverySetting(t *testing.T) {
	// Every column of sso.Settings is shown, or said not to be.
	shown := map[string]bool{}
	for _, line := range shownSettings {
		shown[line.field] = true
	}
	fields := reflect.TypeFor[sso.Settings]()
	for i := range fields.NumField() {
		column := fields.Field(i).Tag.Get("db")
		if column == "" || column == "-" {
			continue
		}
		if _, hidden := notShownSettings[column]; !shown[column] && !hidden {
			t.Errorf("sso.Settings.%s (%s) is not printed by portal sso show: add it to shownSettings", fields.Field(i).Name, column)
		}
	}

	// And the values printed are the site's, for each setting changed alone.
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	p := portaltest.New(t, portaltest.WithPool(tc.pool()))
	site, err := p.App.Sites.ByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.App.SSO.UpdateSettings(context.Background(), site.ID, func(s *sso.Settings) error {
		s.RequireMFA, s.SignRequests, s.NewUserRole = true, false, "attendee"
		s.NameIDFormat, s.MFAContexts = sso.NameIDPersistent, []string{"https://refeds.org/profile/mfa"}
		s.DefaultTarget, s.ErrorPageURL = "/meetings", "https://help.acme.test/sso"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := tc.run(nil, "sso", "show", "--site", "acme")
	if code != 0 {
		t.Fatalf("sso show: %d %s", code, errOut)
	}
	got := settingsShown(out)
	for label, want := range map[string]string{
		"Require multi-factor sign-in":      "on",
		"MFA AuthnContextClassRef values":   "https://refeds.org/profile/mfa",
		"AuthnRequest Signed":               "off",
		"Create new accounts as attendees":  "on",
		"NameID Format":                     sso.NameIDPersistent,
		"Default target page after sign-in": "/meetings",
		"Customer SSO error page URL":       "https://help.acme.test/sso",
		"Auto Account Creation":             "on",
		"Auto Account Update":               "off",
		"SSO enabled":                       "off",
		"AuthnContextClassRef":              "(none)",
	} {
		if got[label] != want {
			t.Errorf("sso show: %s is %q, want %q", label, got[label], want)
		}
	}
	if !regexp.MustCompile(`SP certificate \(active\)\s+valid until`).MatchString(out) {
		t.Errorf("sso show lacks the SP certificate:\n%s", out)
	}
}

func TestAdminCreateRecordsAndPrintsTheAddressAsStored(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	out, errOut, code := tc.run(goodPassword, "admin", "create", "--site", "acme", "--email", " Spaced@acme.test ")
	if code != 0 || out != "created admin spaced@acme.test on acme\n" {
		t.Fatalf("admin create: %d %q %q", code, out, errOut)
	}
	var stored, audited string
	pool := tc.pool()
	if err := pool.QueryRow(context.Background(), `SELECT email FROM site_admins WHERE email LIKE 'spaced%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(context.Background(), `SELECT detail FROM admin_audit WHERE action = 'admin.add' AND actor = 'command line'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if stored != "spaced@acme.test" || audited != stored {
		t.Fatalf("stored %q, audited %q: want both as stored", stored, audited)
	}
	// The same address typed differently is the same admin.
	if _, errOut, code := tc.run(goodPassword, "admin", "create", "--site", "acme", "--email", "SPACED@ACME.TEST"); code != 2 || !strings.Contains(errOut, "spaced@acme.test") {
		t.Fatalf("the same admin again: %d %q", code, errOut)
	}
}

func TestASiteCreatedWithoutTheSecretKeyIsExplainedAndRekeyed(t *testing.T) {
	tc := newTestCLI(t)
	// Created while PORTAL_SECRET_KEY was unset: sealed under the
	// development key.
	delete(tc.env, "PORTAL_SECRET_KEY")
	if _, errOut, code := tc.run(goodPassword, "site", "create", "acme", "--admin-email", portaltest.AdminEmail("acme")); code != 0 {
		t.Fatalf("site create: %d %s", code, errOut)
	}

	// Served with the real key (portaltest's).
	tc.env["PORTAL_SECRET_KEY"] = hex.EncodeToString(portaltest.Key)
	logs := &portaltest.Logs{}
	p := portaltest.New(t, portaltest.WithPool(tc.pool()), portaltest.WithLog(slog.New(slog.NewTextHandler(logs, nil))))
	host := portaltest.Host("acme")
	resp, body := p.Get(host, "/saml/metadata")
	if resp.StatusCode == 500 || resp.StatusCode == 200 || !strings.Contains(body, "Single sign-on is not available") {
		t.Fatalf("metadata with an unreadable key: %d %.300s", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "portal sso rekey --site acme") {
		t.Fatalf("the log does not say what to run:\n%s", logs.String())
	}
	admin := p.SignInAdmin(host, portaltest.AdminEmail("acme"))
	resp, body = p.Get(host, "/admin/sso", admin)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="sp-key-unreadable"`) || !strings.Contains(body, "portal sso rekey --site acme") {
		t.Fatalf("admin SSO page with an unreadable key: %d %.3000s", resp.StatusCode, body)
	}
	if resp, body := p.Get(host, "/admin/sso/test", admin); resp.StatusCode == 500 || !strings.Contains(body, "Single sign-on is not available") {
		t.Fatalf("Test SSO with an unreadable key: %d %.300s", resp.StatusCode, body)
	}

	// The command line says the same, and offers the way out.
	if out, _, _ := tc.run(nil, "sso", "show", "--site", "acme"); !strings.Contains(out, "UNREADABLE") {
		t.Fatalf("sso show does not flag the key:\n%s", out)
	}
	if _, errOut, code := tc.run(nil, "sso", "export", "--site", "acme"); code != 2 || !strings.Contains(errOut, "portal sso rekey --site acme") {
		t.Fatalf("sso export with an unreadable key: %d %q", code, errOut)
	}
	out, errOut, code := tc.run(nil, "sso", "rekey", "--site", "acme")
	if code != 0 || !strings.Contains(out, "upload") || !strings.Contains(out, "portal sso export --site acme") {
		t.Fatalf("sso rekey: %d %q %q", code, out, errOut)
	}
	var audited int
	if err := tc.pool().QueryRow(context.Background(), `SELECT count(*) FROM admin_audit
WHERE action = 'sso.rekey' AND actor = 'command line'`).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("audit entries of the rekey: %d, %v", audited, err)
	}
	resp, body = p.Get(host, "/saml/metadata")
	if resp.StatusCode != 200 || !strings.Contains(body, "X509Certificate") {
		t.Fatalf("metadata after the rekey: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := p.Get(host, "/admin/sso", admin); strings.Contains(body, `id="sp-key-unreadable"`) {
		t.Fatalf("the page still warns after the rekey: %d", resp.StatusCode)
	}
	// A key that opens is not replaced.
	if _, errOut, code := tc.run(nil, "sso", "rekey", "--site", "acme"); code != 2 || !strings.Contains(errOut, "nothing to replace") {
		t.Fatalf("rekey of a readable key: %d %q", code, errOut)
	}
}
