package idpmeta

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// CertificateInfo is what the admin review page shows of a signing
// certificate, so the admin can compare it with what Azure displays
// (Azure shows the SHA-1 thumbprint too; SHA-256 is what we compare).
type CertificateInfo struct {
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	// SHA256 is the fingerprint of the DER certificate, upper-case hex
	// pairs separated by colons (AA:BB:…), the way openssl prints it.
	SHA256 string
}

// Describe summarises a certificate for the admin review page.
func Describe(c *x509.Certificate) CertificateInfo {
	return CertificateInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		SHA256:    Fingerprint(c.Raw),
	}
}

// Fingerprint is a certificate's SHA-256 fingerprint from its DER, as
// Describe gives it: colon-separated hexadecimal pairs.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(pairs, ":")
}
