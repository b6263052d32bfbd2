package sso

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// CertificateCollector reports, at every scrape, how many days each site's
// IdP signing certificates and SP certificates have left, so operators can
// alert before a sign-in breaks: an expired IdP certificate refuses every
// sign-in (ReasonIdPCertExpired), and an IdP may refuse requests signed with
// an expired SP certificate.
type CertificateCollector struct {
	svc     *Service
	timeout time.Duration
	expiry  *prometheus.Desc
	up      *prometheus.Desc
}

// NewCertificateCollector returns the collector; each scrape queries the
// database for at most timeout (a slow database must not hang /metrics).
func NewCertificateCollector(svc *Service, timeout time.Duration) *CertificateCollector {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &CertificateCollector{
		svc:     svc,
		timeout: timeout,
		expiry: prometheus.NewDesc("portal_saml_certificate_expiry_days",
			"Days until a SAML certificate expires (negative once expired), by site, kind (idp: the IdP's signing certificate, sp: this portal's) and SHA-256 fingerprint.",
			[]string{"site", "kind", "sha256"}, nil),
		up: prometheus.NewDesc("portal_saml_certificate_expiry_up",
			"1 if the certificate expiry gauges could be read from the database at this scrape, 0 if not (the gauges are then missing).",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *CertificateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.expiry
	ch <- c.up
}

// siteCertificate is one stored certificate with the site it belongs to.
type siteCertificate struct {
	Site        string `db:"site"`
	Kind        string `db:"kind"`
	Certificate []byte `db:"certificate"`
}

// Every site's certificates at once: this is an operator's view across
// tenants, so unlike the pages it is not filtered by site.
const selectAllCertificates = `
SELECT s.name AS site, 'idp' AS kind, c.certificate FROM idp_certificates c JOIN sites s ON s.id = c.site_id
UNION ALL
SELECT s.name AS site, 'sp' AS kind, k.certificate FROM sp_keys k JOIN sites s ON s.id = k.site_id
ORDER BY site, kind`

// Collect implements prometheus.Collector.
func (c *CertificateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	certs, err := c.certificates(ctx)
	if err != nil {
		// One failing collector must not fail the whole scrape: report it
		// as a gauge operators can alert on, and log the cause.
		c.svc.log.Warn("certificate expiry metrics", "error", err.Error())
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	now := c.svc.now()
	seen := map[[3]string]bool{}
	for _, sc := range certs {
		cert, err := x509.ParseCertificate(sc.Certificate)
		if err != nil {
			c.svc.log.Warn("certificate expiry metrics: unparsable stored certificate", "site", sc.Site, "kind", sc.Kind, "error", err.Error())
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		labels := [3]string{sc.Site, sc.Kind, hex.EncodeToString(sum[:])}
		if seen[labels] {
			// The same certificate twice (say, one SP certificate in two
			// states) would make the registry refuse the whole scrape.
			continue
		}
		seen[labels] = true
		days := cert.NotAfter.Sub(now).Hours() / 24
		ch <- prometheus.MustNewConstMetric(c.expiry, prometheus.GaugeValue, days, labels[:]...)
	}
}

func (c *CertificateCollector) certificates(ctx context.Context) ([]siteCertificate, error) {
	rows, err := c.svc.pool.Query(ctx, selectAllCertificates)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	certs, err := pgx.CollectRows(rows, pgx.RowToStructByName[siteCertificate])
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return certs, nil
}
