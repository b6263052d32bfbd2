package sso_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

func certificateExpiringAt(t *testing.T, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ssotest.SelfSign(t, key, &x509.Certificate{Subject: pkix.Name{CommonName: "idp test"},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter})
}

func fingerprintHex(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func TestCertificateCollectorReportsDaysLeftOfEveryIdPAndSPCertificate(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	svc, pool, acme, _ := newClockedService(t, now)
	// acme: an Azure rollover, the old certificate expired two days ago and
	// the new one valid for 30 more days; globex has no IdP yet.
	expired := certificateExpiringAt(t, now.Add(-48*time.Hour))
	fresh := certificateExpiringAt(t, now.Add(30*24*time.Hour))
	if err := svc.SaveIdP(ctx, acme.ID, &idpmeta.IdP{EntityID: "https://sts.windows.net/x/", SSOURL: "https://login.example/saml2",
		Certificates: []*x509.Certificate{expired, fresh}}); err != nil {
		t.Fatal(err)
	}
	spCerts := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT s.name, k.certificate FROM sp_keys k JOIN sites s ON s.id = k.site_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var der []byte
		if err := rows.Scan(&name, &der); err != nil {
			t.Fatal(err)
		}
		spCerts[name] = fingerprintHex(der)
	}
	if rows.Err() != nil || len(spCerts) != 2 {
		t.Fatalf("SP certificates %v, %v", spCerts, rows.Err())
	}

	collector := sso.NewCertificateCollector(svc, time.Second)
	// The SP certificate is made for ten years from (the fake) now.
	want := sortedLines(fmt.Sprintf(`
portal_saml_certificate_expiry_days{kind="idp",sha256=%q,site="acme"} gauge -2
portal_saml_certificate_expiry_days{kind="idp",sha256=%q,site="acme"} gauge 30
portal_saml_certificate_expiry_days{kind="sp",sha256=%q,site="acme"} gauge 3650
portal_saml_certificate_expiry_days{kind="sp",sha256=%q,site="globex"} gauge 3650
portal_saml_certificate_expiry_up{} gauge 1
`, fingerprintHex(expired.Raw), fingerprintHex(fresh.Raw), spCerts["acme"], spCerts["globex"]))
	if got := scrape(t, collector); got != want {
		t.Fatalf("scraped:\n%s\nwant:\n%s", got, want)
	}
}

// scrape registers c alone in a registry (which checks its descriptors and
// label consistency, as the portal's registry does) and renders what one
// scrape gathers, a line per sample, sorted.
//
// prometheus/testutil would do this, but it needs a module
// (kylelemons/godebug) that go.mod does not list.
func scrape(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no help text", f.GetName())
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			lines = append(lines, fmt.Sprintf("%s{%s} %s %g", f.GetName(), strings.Join(labels, ","),
				strings.ToLower(f.GetType().String()), m.GetGauge().GetValue()))
		}
	}
	return sortedLines(strings.Join(lines, "\n"))
}

func sortedLines(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
