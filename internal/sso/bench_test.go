package sso_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// BenchmarkConsume measures the ACS pipeline for one Azure-shaped,
// IdP-initiated response: xmlguard, signature and condition checks, the
// replay-cache insert and the settings and key loads from PostgreSQL.
// Responses are signed before the timer starts.
func BenchmarkConsume(b *testing.B) {
	ctx := context.Background()
	pool := dbtest.New(b)
	box, _ := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	svc := sso.New(pool, box, hosts, slog.New(slog.DiscardHandler), nil)
	store, _ := sites.NewStore(pool)
	site, err := store.Create(ctx, "acme", "admin@acme.test", "a good long password")
	if err != nil {
		b.Fatal(err)
	}
	idp := ssotest.NewIdP(b)
	if err := svc.SaveIdP(ctx, site.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		b.Fatal(err)
	}
	on := true
	if err := svc.SetOptions(ctx, site.ID, sso.Options{Enabled: &on}); err != nil {
		b.Fatal(err)
	}
	responses := make([]string, b.N)
	for i := range responses {
		responses[i] = ssotest.Encode(idp.Response(b, ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, Now: time.Now()}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := svc.Consume(ctx, site, responses[i], ""); err != nil {
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
