package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
)

func TestUnauthenticatedSignInWorkIsRateLimitedPerClientAndSite(t *testing.T) {
	p := newPortal(t, portaltest.Configure(func(a *app.App) { a.SignInRate = 3 }))
	for i := 0; i < 3; i++ {
		if resp := p.do("GET", acme, "/meet/room", nil); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d limited", i+1)
		}
	}
	resp := p.do("GET", acme, "/meet/room", nil)
	if b := readBody(t, resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(b, "Too many sign-in attempts") {
		t.Fatalf("4th sign-in start: %d %.200s", resp.StatusCode, b)
	}
	// Garbage posted to the ACS is refused, and charged to the ACS's own
	// budget: the third refusal is the last one looked at.
	for i := range 4 {
		req := newFormRequest(acme, "/saml/acs", url.Values{"SAMLResponse": {"x"}})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		want := http.StatusForbidden
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp := serve(p, req); resp.StatusCode != want {
			t.Fatalf("ACS post %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	// Another site, or a signed-in page, is not affected.
	if resp := p.do("GET", "globex.localhost:8080", "/meet/room", nil); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("globex limited by acme's counter")
	}
	if resp := p.do("GET", acme, "/admin", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin sign-in page: %d", resp.StatusCode)
	}
}
