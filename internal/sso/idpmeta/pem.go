package idpmeta

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// ParseCertificatesPEM reads one or more PEM certificates (several during
// an IdP's certificate rollover). Anything else in the text is refused
// rather than ignored: a pasted private key must not be kept by accident.
func ParseCertificatesPEM(text string) ([]*x509.Certificate, error) {
	rest := []byte(strings.TrimSpace(text))
	if len(rest) == 0 {
		return nil, fmt.Errorf("paste the identity provider's signing certificate: the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
	}
	var certs []*x509.Certificate
	for n := 1; len(rest) > 0; n++ {
		block, next := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("certificate %d is not PEM text: each certificate must start with -----BEGIN CERTIFICATE----- and end with -----END CERTIFICATE-----", n)
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("block %d is a %q, not a CERTIFICATE: paste only the identity provider's certificates", n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d could not be read as an X.509 certificate", n)
		}
		certs = append(certs, c)
		rest = []byte(strings.TrimSpace(string(next)))
	}
	return certs, nil
}
