package sso_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// BenchmarkConsume measures the ACS pipeline for one Azure-shaped,
// IdP-initiated response: xmlguard, signature and condition checks, the
// replay-cache insert and the settings and key loads from PostgreSQL.
// Responses are signed before the timer starts.
func BenchmarkConsume(b *testing.B) {
	ctx := context.Background()
	tp := portaltest.New(b)
	svc := tp.App.SSO
	idp := ssotest.NewIdP(b)
	site := trustingSite(b, tp, "acme", idp)
	responses := make([]string, b.N)
	for i := range responses {
		responses[i] = ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Consume(ctx, site, responses[i], "", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkXMLGuard measures the portal's structural pre-checks alone.
func BenchmarkXMLGuard(b *testing.B) {
	idp := ssotest.NewIdP(b)
	form := ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID}))
	b.ReportAllocs()
	b.SetBytes(int64(len(form)))
	for i := 0; i < b.N; i++ {
		if _, err := xmlguard.Decode(form); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkACSHandler measures a whole IdP-initiated sign-in of an existing
// user through the portal's handler (no network): routing, the ACS checks,
// the account, session and event written in one transaction, the redirect.
func BenchmarkACSHandler(b *testing.B) {
	tp := portaltest.New(b)
	idp := ssotest.NewIdP(b)
	trustingSite(b, tp, "acme", idp)
	post := func(response string) *http.Response {
		req := portaltest.Request("POST", acmeHost, "/saml/acs", url.Values{"SAMLResponse": {response}})
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return tp.Serve(req)
	}
	// The user exists: the first sign-in made the account.
	if resp := post(ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID}))); resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("first sign-in: %d", resp.StatusCode)
	}
	responses := make([]string, b.N)
	for i := range responses {
		responses[i] = ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if resp := post(responses[i]); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("sign-in %d: %d", i, resp.StatusCode)
		}
	}
}
