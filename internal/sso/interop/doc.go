// Package interop checks the portal's SAML service provider settings against
// identity providers that are not written in Go (Debian's python3-pysaml2,
// which signs through xmlsec1), so that crewjam/saml agreeing with itself
// cannot hide a wire-format or signature bug. It holds only tests; run them
// with `go test ./internal/sso/interop/`, with /usr/bin/python3,
// python3-pysaml2 and xmlsec1 installed.
package interop
