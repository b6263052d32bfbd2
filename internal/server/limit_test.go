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
	p := newPortal(t, portaltest.Configure(func(a *app.App) { a.SignInStartLimit = 3 }))
	for i := 0; i < 3; i++ {
		if resp := p.do("GET", acme, "/meet/room", nil); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("request %d limited", i+1)
		}
	}
	resp := p.do("GET", acme, "/meet/room", nil)
	if b := readBody(t, resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(b, "Too many sign-in attempts") {
		t.Fatalf("4th sign-in start: %d %.200s", resp.StatusCode, b)
	}
	// The ACS shares the budget: garbage posted to it is limited too.
	req := newFormRequest(acme, "/saml/acs", url.Values{"SAMLResponse": {"x"}})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp := serve(p, req); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("ACS post over the limit: %d", resp.StatusCode)
	}
	// Another site, or a signed-in page, is not affected.
	if resp := p.do("GET", "globex.localhost:8080", "/meet/room", nil); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("globex limited by acme's counter")
	}
	if resp := p.do("GET", acme, "/admin", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin sign-in page: %d", resp.StatusCode)
	}
}
