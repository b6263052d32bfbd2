package idpmeta

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks Parse's contract on any input: either an *Error with a
// reason and a message for the admin, or an IdP that satisfies every rule
// (entity ID, a signing certificate, a valid Redirect SSO URL). The seed
// corpus is every fixture, run by plain `go test`.
func FuzzParse(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, fixture := range fixtures {
		data, err := os.ReadFile(fixture)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		idp, err := Parse(data)
		if err != nil {
			var refusal *Error
			if !errors.As(err, &refusal) || refusal.Reason == "" || refusal.Message == "" {
				t.Fatalf("Parse error %T %v is not an *Error with a reason and a message", err, err)
			}
			return
		}
		if idp.EntityID == "" || len(idp.Certificates) == 0 {
			t.Fatalf("accepted an IdP without entity ID or certificate: %+v", idp)
		}
		if err := ValidateEndpoint(idp.SSOURL); err != nil {
			t.Fatalf("accepted SSO URL %q: %v", idp.SSOURL, err)
		}
		if idp.SLOURL != "" {
			if err := ValidateEndpoint(idp.SLOURL); err != nil {
				t.Fatalf("accepted SLO URL %q: %v", idp.SLOURL, err)
			}
		}
	})
}
