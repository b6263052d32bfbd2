package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// BenchmarkPages measures the pages a signed-in user and an admin open
// most, through the whole handler (no network): the session looked up,
// the page's reads, the template rendered.
func BenchmarkPages(b *testing.B) {
	p := portaltest.New(b)
	site := p.CreateSite("acme")
	host := "acme.localhost:8080"
	_, user := p.SignInUser(site, "alice@example.com", "Alice", "Liddell", "host")
	admin := p.SignInAdmin(host, portaltest.AdminEmail("acme"))
	// A full first page of events (50 rows), some refused with a reason.
	for i := range 60 {
		e := sso.Event{SiteID: site.ID, Reference: "AAAA-BBBB-CCCC", Result: sso.ResultSuccess,
			NameID: fmt.Sprintf("user%03d@example.com", i), ClientIP: "192.0.2.1"}
		if i%3 == 0 {
			e.Result, e.Reason, e.Detail = sso.ResultRefused, "audience-mismatch", "The assertion is for another service provider."
		}
		if err := p.App.SSO.RecordEvent(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, path string
		cookie     *http.Cookie
	}{
		{"home", "/", user},
		{"preferences", "/preferences", user},
		{"admin", "/admin", admin},
		{"admin-sso", "/admin/sso", admin},
		{"admin-events", "/admin/events", admin},
		{"admin-users", "/admin/users", admin},
		{"admin-audit", "/admin/audit", admin},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp := p.Serve(portaltest.Request("GET", host, c.path, nil, c.cookie))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", c.path, resp.StatusCode)
				}
			}
		})
	}
}
