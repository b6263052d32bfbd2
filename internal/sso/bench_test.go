package sso_test

import (
	"context"
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
