package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
)

// testCLI runs the portal command against its own database.
type testCLI struct {
	t   *testing.T
	env map[string]string
}

func newTestCLI(t *testing.T) *testCLI {
	sso.SetClockSkew(3 * time.Minute)
	return &testCLI{t: t, env: map[string]string{
		"DATABASE_URL":      dbtest.NewURL(t),
		"PORTAL_SECRET_KEY": strings.Repeat("ab", 32),
	}}
}

// run returns stdout, stderr and the exit status main would use.
func (tc *testCLI) run(extraEnv map[string]string, args ...string) (string, string, int) {
	tc.t.Helper()
	var stdout, stderr bytes.Buffer
	c := tc.cli(extraEnv, &stdout, &stderr)
	err := c.run(context.Background(), args)
	code := 0
	if err != nil {
		code = 1
		var e *exitError
		if errors.As(err, &e) {
			code = e.code
		}
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), code
}

// cli is the command with the test's environment, extraEnv over tc.env.
func (tc *testCLI) cli(extraEnv map[string]string, stdout, stderr io.Writer) *cli {
	lookup := func(k string) (string, bool) {
		if v, ok := extraEnv[k]; ok {
			return v, true
		}
		v, ok := tc.env[k]
		return v, ok
	}
	return &cli{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, lookupEnv: lookup,
		getenv: func(k string) string { v, _ := lookup(k); return v }}
}

func (tc *testCLI) pool() *pgxpool.Pool {
	tc.t.Helper()
	pool, err := pgxpool.New(context.Background(), tc.env["DATABASE_URL"])
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(pool.Close)
	return pool
}

var goodPassword = map[string]string{"PORTAL_ADMIN_PASSWORD": "a good long password"}

func TestSiteCreateRefusesBadInputWithStatus2AndWritesNothing(t *testing.T) {
	tc := newTestCLI(t)
	if out, errOut, code := tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test"); code != 0 {
		t.Fatalf("create acme: %d %s %s", code, out, errOut)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad name", goodPassword, []string{"site", "create", "-x-", "--admin-email", "a@b.test"}, ""},
		{"reserved name", goodPassword, []string{"site", "create", "www", "--admin-email", "a@b.test"}, "reserved"},
		{"duplicate", goodPassword, []string{"site", "create", "ACME", "--admin-email", "a@b.test"}, "already exists"},
		{"weak password", map[string]string{"PORTAL_ADMIN_PASSWORD": "short"}, []string{"site", "create", "globex", "--admin-email", "a@b.test"}, "at least 12"},
		{"bad e-mail", goodPassword, []string{"site", "create", "globex", "--admin-email", "not-an-email"}, "not an e-mail"},
		{"no password", map[string]string{"PORTAL_ADMIN_PASSWORD": ""}, []string{"site", "create", "globex", "--admin-email", "a@b.test"}, "no admin password"},
		{"no e-mail", goodPassword, []string{"site", "create", "globex"}, "usage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := tc.run(c.env, c.args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("status %d, stderr %q; want 2 and %q", code, errOut, c.want)
			}
		})
	}
	out, _, _ := tc.run(nil, "site", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "acme ") {
		t.Fatalf("site list after refusals:\n%s", out)
	}
}

func TestSiteCreateReadsThePasswordFromAFile(t *testing.T) {
	tc := newTestCLI(t)
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("a good long password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := tc.run(nil, "site", "create", "acme", "--admin-email", "admin@acme.test", "--admin-password-file", file); code != 0 {
		t.Fatalf("status %d: %s", code, errOut)
	}
}

func TestSSOCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	metadata := filepath.Join("..", "..", "internal", "sso", "idpmeta", "testdata")
	azure, err := filepath.Glob(filepath.Join(metadata, "*zure*.xml"))
	if err != nil || len(azure) == 0 {
		t.Fatalf("Azure fixture: %v %v", azure, err)
	}

	// Bad metadata: status 2, a clear message, the old configuration kept.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	_ = os.WriteFile(bad, []byte("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x/>"), 0o600)
	if _, errOut, code := tc.run(nil, "sso", "import", "--site", "acme", "--metadata", bad); code != 2 || errOut == "" {
		t.Fatalf("DTD metadata: %d %q", code, errOut)
	}
	if _, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--enabled"); code != 2 || !strings.Contains(errOut, "--enabled: No identity provider is set up yet") {
		t.Fatalf("enable without IdP: %d %q", code, errOut)
	}
	out, errOut, code := tc.run(nil, "sso", "import", "--site", "acme", "--metadata", azure[0])
	if code != 0 || !strings.Contains(out, "https://sts.windows.net/") {
		t.Fatalf("import Azure metadata: %d %q %q", code, out, errOut)
	}
	out, errOut, code = tc.run(nil, "sso", "set", "--site", "acme", "--enabled", "--auto-update=true", "--idp-initiated=false",
		"--authn-context", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport;urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
	if code != 0 {
		t.Fatalf("sso set: %d %q", code, errOut)
	}
	shown := settingsShown(out)
	for label, want := range map[string]string{
		"SSO enabled": "on", "Auto Account Update": "on", "IdP-initiated sign-in (SSO Profile)": "off",
		"AuthnContextClassRef": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport;urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
	} {
		if shown[label] != want {
			t.Errorf("sso set output shows %s %q, want %q:\n%s", label, shown[label], want, out)
		}
	}
	// Single Logout needs the IdP's logout URL: Azure's metadata has one.
	out, errOut, code = tc.run(nil, "sso", "set", "--site", "acme", "--slo=true", "--require-encryption=true")
	if code != 0 {
		t.Fatalf("sso set --slo: %d %q", code, errOut)
	}
	for _, want := range []string{`(?m)^Single Logout +on$`, `(?m)^Require encrypted assertions +on$`, `(?m)^SP Single Logout URL +http://acme\.localhost:8080/saml/slo$`,
		`(?m)^IdP SLO URL \(Logout URL\) +https://login\.microsoftonline\.com/`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("sso set --slo output lacks %q:\n%s", want, out)
		}
	}
	if shown, _, _ := tc.run(nil, "sso", "show", "--site", "acme"); !regexp.MustCompile(`(?m)^Single Logout +on$`).MatchString(shown) {
		t.Errorf("sso show after --slo=true:\n%s", shown)
	}
	if _, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--slo=false", "--require-encryption=false"); code != 0 {
		t.Fatalf("sso set --slo=false: %d %q", code, errOut)
	}
	if _, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", "--authn-context", "not a uri"); code != 2 {
		t.Fatalf("bad authn context: %d %q", code, errOut)
	}
	out, _, code = tc.run(nil, "sso", "export", "--site", "acme")
	if code != 0 || !strings.Contains(out, `entityID="http://acme.localhost:8080/saml/metadata"`) || strings.Contains(out, "validUntil") {
		t.Fatalf("export: %d\n%s", code, out)
	}
	if _, errOut, code := tc.run(nil, "sso", "show", "--site", "nobody"); code != 2 || !strings.Contains(errOut, "no site named") {
		t.Fatalf("unknown site: %d %q", code, errOut)
	}
	var audited int
	if err := tc.pool().QueryRow(context.Background(), `SELECT count(*) FROM admin_audit WHERE actor = 'command line'
AND action IN ('sso.import-metadata', 'sso.save-options')`).Scan(&audited); err != nil || audited != 4 {
		t.Fatalf("audit entries of the command line: %d, %v", audited, err)
	}
	out, _, code = tc.run(nil, "user", "list", "--site", "acme")
	if code != 0 || !strings.HasPrefix(out, "UID") {
		t.Fatalf("user list: %d %q", code, out)
	}
}

func TestAdminResetPasswordEndsSessions(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	out, errOut, code := tc.run(map[string]string{"PORTAL_ADMIN_PASSWORD": "another long password"}, "admin", "reset-password", "--site", "acme", "--email", "admin@acme.test")
	if code != 0 || !strings.Contains(out, "reset") {
		t.Fatalf("reset: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := tc.run(goodPassword, "admin", "reset-password", "--site", "acme", "--email", "nobody@acme.test"); code != 2 {
		t.Fatalf("unknown admin: %d %q", code, errOut)
	}
	if _, errOut, code := tc.run(goodPassword, "admin", "create", "--site", "acme", "--email", "second@acme.test"); code != 0 {
		t.Fatalf("admin create: %d %q", code, errOut)
	}
}

func TestMigrateCommands(t *testing.T) {
	tc := newTestCLI(t)
	out, _, code := tc.run(nil, "migrate", "version")
	if code != 0 || !strings.HasPrefix(out, "schema version ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if _, _, code := tc.run(nil, "migrate", "down", "zero"); code != 2 {
		t.Fatalf("bad N: %d", code)
	}
	if _, _, code := tc.run(nil, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}

func TestHTTPSDeploymentNeedsASecretKey(t *testing.T) {
	tc := newTestCLI(t)
	delete(tc.env, "PORTAL_SECRET_KEY")
	_, errOut, code := tc.run(map[string]string{"PORTAL_BASE_URL": "https://meet.example.com"}, "sso", "show", "--site", "acme")
	if code != 2 || !strings.Contains(errOut, "PORTAL_SECRET_KEY must be set") {
		t.Fatalf("status %d: %q", code, errOut)
	}
}

func TestMailSettingsAreCheckedBeforeAnythingStarts(t *testing.T) {
	tc := newTestCLI(t)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORTAL_SMTP_URL": "http://mail.example.com"}, "PORTAL_SMTP_URL: SMTP URL: scheme must be smtp or smtps"},
		{map[string]string{"PORTAL_SMTP_URL": "smtp://mail.example.com/inbox"}, "PORTAL_SMTP_URL"},
		{map[string]string{"PORTAL_MAIL_FROM": "not an address"}, `PORTAL_MAIL_FROM "not an address"`},
	} {
		if _, errOut, code := tc.run(c.env, "serve"); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d: %q", c.env, code, errOut)
		}
	}
	// Good values pass the check (the command then runs as usual).
	if _, errOut, code := tc.run(map[string]string{"PORTAL_SMTP_URL": "smtps://meet%40acme:p%2Fss@mail.example.com", "PORTAL_MAIL_FROM": "Acme Meetings <meet@acme.example.com>"},
		"site", "list"); code != 0 {
		t.Errorf("good mail settings: status %d: %q", code, errOut)
	}
}

func TestServeRefusesABadConnectionCap(t *testing.T) {
	tc := newTestCLI(t)
	for _, bad := range []string{"0", "-5", "many"} {
		_, errOut, code := tc.run(map[string]string{"PORTAL_MAX_CONNECTIONS": bad}, "serve", "--no-migrate")
		if code != 2 || !strings.Contains(errOut, "PORTAL_MAX_CONNECTIONS") {
			t.Errorf("PORTAL_MAX_CONNECTIONS=%s: status %d: %q", bad, code, errOut)
		}
	}
}

func TestMediaSettingsAreCheckedBeforeAnythingStarts(t *testing.T) {
	tc := newTestCLI(t)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORTAL_MEDIA_UDP": "70000"}, `PORTAL_MEDIA_UDP "70000": want a port number`},
		{map[string]string{"PORTAL_MEDIA_UDP": "udp"}, `PORTAL_MEDIA_UDP "udp"`},
		{map[string]string{"PORTAL_MEDIA_TCP": "-1"}, `PORTAL_MEDIA_TCP "-1": want a port number (0 to 65535; 0 picks a free one), or off`},
		{map[string]string{"PORTAL_MEDIA_PUBLIC_IP": "203.0.113.7, media.example.com"}, `PORTAL_MEDIA_PUBLIC_IP: public media address "media.example.com" is not an IP address`},
		{map[string]string{"PORTAL_ICE_SERVERS": "https://turn.example.com"}, "PORTAL_ICE_SERVERS: ICE server \"https://turn.example.com\": scheme must be stun, stuns, turn or turns"},
		{map[string]string{"PORTAL_ICE_SERVERS": `[{"urls": "turn:turn.example.com"`}, "PORTAL_ICE_SERVERS: ICE servers JSON"},
		{map[string]string{"PORTAL_INTERNAL_URL": "10.0.0.5:8080"}, `PORTAL_INTERNAL_URL "10.0.0.5:8080": want http://host:port`},
		{map[string]string{"PORTAL_INTERNAL_URL": "http://10.0.0.5:8080/portal"}, "PORTAL_INTERNAL_URL"},
	} {
		if _, errOut, code := tc.run(c.env, "serve", "--no-migrate"); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: status %d: %q", c.env, code, errOut)
		}
	}
	// Good values pass the check (the command then runs as usual).
	if _, errOut, code := tc.run(map[string]string{"PORTAL_MEDIA_UDP": "7882", "PORTAL_MEDIA_TCP": "off",
		"PORTAL_MEDIA_PUBLIC_IP": "203.0.113.7,2001:db8::7", "PORTAL_INTERNAL_URL": "http://10.0.0.5:8080/",
		"PORTAL_ICE_SERVERS": `[{"urls":["turn:turn.example.com:3478?transport=udp"],"username":"portal","credential":"s3cret"}]`},
		"site", "list"); code != 0 {
		t.Errorf("good media settings: status %d: %q", code, errOut)
	}
}

func TestInternalURLIsTheListenAddressOrThisMachinesAddress(t *testing.T) {
	for _, c := range []struct{ value, addr, want string }{
		{"http://10.0.0.5:8080/", ":8080", "http://10.0.0.5:8080"},
		{"", "127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"", "[::1]:9000", "http://[::1]:9000"},
	} {
		if got, err := internalURL(c.value, c.addr); err != nil || got != c.want {
			t.Errorf("internalURL(%q, %q) = %q, %v; want %q", c.value, c.addr, got, err, c.want)
		}
	}
	// Listening on every interface: an address of this machine that other
	// machines can reach, never the unspecified one.
	got, err := internalURL("", ":8080")
	if err != nil || !strings.HasPrefix(got, "http://") || !strings.HasSuffix(got, ":8080") || strings.Contains(got, "0.0.0.0") || strings.Contains(got, "[::]") {
		t.Errorf("internalURL for :8080 = %q, %v", got, err)
	}
}

func TestLogFormatIsChecked(t *testing.T) {
	tc := newTestCLI(t)
	for _, bad := range []string{"yaml", "JSON", "txt"} {
		_, errOut, code := tc.run(map[string]string{"PORTAL_LOG_FORMAT": bad}, "serve", "--no-migrate")
		if code != 2 || !strings.Contains(errOut, `PORTAL_LOG_FORMAT "`+bad+`": want json or text`) {
			t.Errorf("PORTAL_LOG_FORMAT=%s: status %d: %q", bad, code, errOut)
		}
	}
	if _, errOut, code := tc.run(map[string]string{"PORTAL_LOG_FORMAT": "text"}, "site", "list"); code != 0 {
		t.Errorf("PORTAL_LOG_FORMAT=text: status %d: %q", code, errOut)
	}
	if out, _, _ := tc.run(nil, "help"); !strings.Contains(out, "PORTAL_LOG_FORMAT") {
		t.Errorf("portal help does not list PORTAL_LOG_FORMAT:\n%s", out)
	}
}

// The one-shot commands say nothing of the development key: `make run`
// runs several before serve, which says it once.
func TestOnlyServeWarnsOfTheDevelopmentKey(t *testing.T) {
	tc := newTestCLI(t)
	delete(tc.env, "PORTAL_SECRET_KEY")
	if _, _, code := tc.run(nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: status %d", code)
	}
	_, errOut, code := tc.run(nil, "site", "list")
	if code != 0 || strings.Contains(errOut, "DEVELOPMENT key") {
		t.Errorf("site list: status %d, stderr %q", code, errOut)
	}
	var cfg config
	var out bytes.Buffer
	log, err := web.NewLogger(&out, "text")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.secretBox(log, true); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "DEVELOPMENT key"); n != 1 {
		t.Errorf("serve's secret box warned %d times: %q", n, out.String())
	}
}

// A boolean flag given an empty value as the next argument (--enabled "")
// says what went wrong, not only the usage line; nothing is changed.
func TestSSOSetBooleanFlagWithASeparateEmptyValue(t *testing.T) {
	tc := newTestCLI(t)
	for _, flag := range []string{"--enabled", "--slo", "--require-encryption"} {
		_, errOut, code := tc.run(nil, "sso", "set", "--site", "acme", flag, "")
		if code != 2 || !strings.Contains(errOut, `unexpected argument ""`) || !strings.Contains(errOut, "=true or =false") {
			t.Errorf("sso set %s \"\": status %d: %q", flag, code, errOut)
		}
	}
}
