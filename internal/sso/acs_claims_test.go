package sso_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// Every identifier and attribute the portal stores is bounded: beyond, the
// signed response is refused with claim-too-large naming the claim (never
// an HTTP 500 from a database limit), and no log line or event holds the
// whole value.
func TestACSRefusesOversizedClaims(t *testing.T) {
	// Requests are served one at a time here, so a plain buffer will do.
	var log bytes.Buffer
	p := newPortal(t, portaltest.WithLog(slog.New(slog.NewJSONHandler(&log, nil))))
	long := func(n int) string { return strings.Repeat("a", n) }
	base := func() map[string][]string {
		return claims("carol@contoso.com", "carol@contoso.com", "Carol", "Diaz", "0a1b2c3d-0000-4000-8000-000000000001")
	}
	with := func(name string, values ...string) map[string][]string {
		c := base()
		c[name] = values
		return c
	}
	many := func(n int) map[string][]string {
		c := base()
		for i := range n {
			c[fmt.Sprintf("extra%03d", i)] = []string{"x"}
		}
		return c
	}
	cases := []struct {
		name   string
		nameID string
		attrs  map[string][]string
		claim  string
		value  string // the oversized value, never to be logged or stored whole
	}{
		{"UID6000Characters", "", with("uid", long(6000)+"@contoso.com"), "uid", long(6000)},
		{"EmailOver254Octets", "", with("email", long(250)+"@contoso.com"), "email", long(250)},
		{"FirstNameOver256Characters", "", with("firstname", strings.Repeat("é", 257)), "firstname", strings.Repeat("é", 257)},
		{"ObjectIDOver64Octets", "", with(ssotest.ClaimObjectID, long(65)), ssotest.ClaimObjectID, long(65)},
		{"NameIDOver512Octets", long(600) + "@contoso.com", base(), "NameID", long(600)},
		{"MoreThan100Attributes", "", many(sso.MaxAttributes), "extra", ""},
		{"MoreThan1000Values", "", with("groups", strings.Split(strings.Repeat("g,", sso.MaxAttributeValues), ",")...), "groups", ""},
		{"AttributesOver64KiB", "", with("groups", long(40<<10), long(30<<10)), "groups", long(30 << 10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			users := p.countUsers(p.acme)
			before := p.lastEventID(p.acme)
			resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) {
				o.Attributes = c.attrs
				if c.nameID != "" {
					o.NameID = c.nameID
				}
			}), "")
			requireRefused(t, p, p.acme, before, resp, sso.ReasonClaimTooLarge, "sent a value too long for this site")
			e := p.lastEvent(p.acme)
			if !strings.Contains(e.Detail, c.claim) {
				t.Errorf("the event does not name the claim %s: %s", c.claim, e.Detail)
			}
			if c.value != "" && (strings.Contains(e.Detail, c.value) || strings.Contains(e.NameID, c.value)) {
				t.Errorf("the event holds the whole value")
			}
			if c.value != "" && strings.Contains(log.String(), c.value) {
				t.Errorf("a log line holds the whole value")
			}
			if p.countUsers(p.acme) != users {
				t.Errorf("an account was created")
			}
		})
	}

	// At the bounds, the same claims are accepted.
	t.Run("AtTheBounds", func(t *testing.T) {
		p := p.forTest(t)
		uid := long(254-len("@contoso.com")) + "@contoso.com"
		attrs := claims(uid, uid, strings.Repeat("é", 256), "Diaz", long(64))
		resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.Attributes = attrs }), "")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
		}
		if _, ok := p.account(uid); !ok {
			t.Errorf("no account %s", uid)
		}
	})
}
