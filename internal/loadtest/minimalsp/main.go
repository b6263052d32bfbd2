// Command minimalsp is the smallest crewjam samlsp service provider: the
// library's own middleware, one IdP from a metadata file, IdP-initiated
// sign-in allowed, its default cookie session. The load test runs it beside
// the portal as the yardstick "a minimal samlsp SP".
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"flag"
	"log"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	rootURL := flag.String("url", "", "the SP's root URL; the entity ID is <url>/saml/metadata, the ACS <url>/saml/acs")
	metadataFile := flag.String("idp-metadata", "", "the IdP's metadata")
	flag.Parse()

	data, err := os.ReadFile(*metadataFile)
	if err != nil {
		log.Fatal(err)
	}
	var idp saml.EntityDescriptor
	if err := xml.Unmarshal(data, &idp); err != nil {
		log.Fatal(err)
	}
	root, err := url.Parse(*rootURL)
	if err != nil {
		log.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "minimal sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sp, err := samlsp.New(samlsp.Options{
		URL: *root, Key: key, Certificate: cert, IDPMetadata: &idp, AllowIDPInitiated: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/saml/", sp)
	if err := http.ListenAndServe(*addr, mux); err != nil {
		log.Fatal(err)
	}
}
