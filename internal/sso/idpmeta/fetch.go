package idpmeta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// DefaultFetchTimeout bounds a whole fetch: connecting, every redirect
	// and reading the body.
	DefaultFetchTimeout = 10 * time.Second

	// maxRedirects is how many redirects Fetch follows. Azure's metadata
	// URL answers directly; a few hops allow for a vanity address.
	maxRedirects = 3

	// maxResponseHeaderBytes keeps a hostile server from sending endless
	// headers, which the 1 MiB body cap does not cover.
	maxResponseHeaderBytes = 64 << 10
)

// FetchOptions configure Fetch.
type FetchOptions struct {
	// AllowPrivate lets Fetch reach loopback, link-local and private
	// addresses, and use plain http for loopback hosts. It is the
	// operator's PORTAL_METADATA_ALLOW_PRIVATE=1, for an IdP on the same
	// network or a development IdP; never the admin's choice.
	AllowPrivate bool

	// Timeout bounds the whole fetch; zero means DefaultFetchTimeout.
	Timeout time.Duration

	// Client replaces the HTTP client, for tests only: it does not get the
	// dial-time address check, though redirects are still checked. nil
	// builds the safe client.
	Client *http.Client
}

// Fetch downloads IdP metadata, such as Azure's App Federation Metadata URL
// (https://login.microsoftonline.com/<tenant>/federationmetadata/2007-06/federationmetadata.xml?appid=<app>),
// for Parse.
//
// The URL comes from a site administrator but is fetched by the portal
// from inside its network, so it is a server-side request forgery vector
// (issue 4): without care an admin could make the portal read a cloud
// metadata service (169.254.169.254) or an internal admin API and show
// the answer back in an error. Hence: https with certificate verification
// only; at most three redirects, each checked like the first URL; the IP
// address actually dialed must be public, checked in the dialer's Control
// function after DNS resolution so that a name that resolves differently
// the second time (DNS rebinding) cannot slip through; no proxy, whose
// address would be the one checked; a total timeout; and a body larger
// than MaxBytes is an error rather than silently truncated metadata.
// Every refusal is an *Error.
func Fetch(ctx context.Context, rawURL string, o FetchOptions) ([]byte, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	target, err := checkFetchURL("The metadata URL", rawURL, o.AllowPrivate)
	if err != nil {
		return nil, err
	}

	var client http.Client
	if o.Client != nil {
		client = *o.Client
	} else {
		client = http.Client{Transport: safeTransport(o.AllowPrivate, timeout)}
	}
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return refuse(ReasonTooManyRedirect, fmt.Sprintf("The metadata URL redirected more than %d times.", maxRedirects))
		}
		_, err := checkFetchURL("The metadata URL redirected to", req.URL.String(), o.AllowPrivate)
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, refuseWithCause(ReasonBadMetadataURL, "The metadata URL "+showURL(rawURL)+" is not a valid address.", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")

	resp, err := client.Do(req)
	if err != nil {
		return nil, fetchError(err, target.Host, timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The status text is rebuilt from the code: the server's own
		// reason phrase is untrusted text.
		status := strconv.Itoa(resp.StatusCode)
		if text := http.StatusText(resp.StatusCode); text != "" {
			status += " " + text
		}
		return nil, refuse(ReasonHTTPStatus, "The metadata URL answered "+status+" instead of the metadata.")
	}
	if resp.ContentLength > MaxBytes {
		return nil, refuse(ReasonTooLarge, "The metadata at this URL is larger than 1 MiB.")
	}
	// Read one byte more than allowed to tell "exactly 1 MiB" from "more".
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBytes+1))
	if err != nil {
		return nil, fetchError(err, target.Host, timeout)
	}
	if len(body) > MaxBytes {
		return nil, refuse(ReasonTooLarge, "The metadata at this URL is larger than 1 MiB.")
	}
	return body, nil
}

// checkFetchURL applies the endpoint rules to a metadata URL or redirect
// target (plain http only for loopback, and only when private addresses
// are allowed) and refuses an IP literal that is not public up front, for
// a clearer message than the dial-time check gives. Host names are left
// to the dial-time check, which sees the address they resolve to.
func checkFetchURL(what, raw string, allowPrivate bool) (*url.URL, error) {
	var plainHTTP func(string) bool
	if allowPrivate {
		plainHTTP = isLoopbackHost
	}
	target, problem := checkURL(what, raw, plainHTTP)
	if problem != nil {
		return nil, refuseWithCause(ReasonBadMetadataURL, problem.Message, problem.cause)
	}
	if addr, err := netip.ParseAddr(target.Hostname()); err == nil && !allowPrivate && !isPublicAddress(addr) {
		return nil, privateAddressError(addr)
	}
	return target, nil
}

// safeTransport is an http.Transport that dials only public addresses
// (unless allowPrivate), verifies certificates and goes direct.
func safeTransport(allowPrivate bool, timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{
		Timeout: timeout,
		// Control runs for every connection attempt with the resolved
		// address about to be dialed, so what is checked is exactly
		// what is connected to.
		Control: func(network, address string, _ syscall.RawConn) error {
			return checkDialAddress(address, allowPrivate)
		},
	}
	dial := dialer.DialContext
	if allowPrivate {
		dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, loopbackName(address))
		}
	}
	return &http.Transport{
		// No proxy: through one, the dialed address would be the proxy's
		// and the check above would see nothing of the real target.
		Proxy:                  nil,
		DialContext:            dial,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ForceAttemptHTTP2:      true,
		// A fetch happens once a day per site: keep no idle connections.
		DisableKeepAlives: true,
	}
}

// loopbackName turns a host:port whose host is a name under .localhost
// into 127.0.0.1:port. RFC 6761 reserves those names for loopback and
// browsers resolve them so, but the resolver does not: without this the
// development IdP's metadata URL (http://idp.localhost:8080/metadata),
// which the admin's browser opens, could not be imported by URL. Used only
// when private addresses are allowed, loopback being one.
func loopbackName(address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.HasSuffix(host, ".localhost") {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return address
}

// checkDialAddress refuses to connect to a non-public IP address.
// address is the "ip:port" the dialer is about to connect to.
func checkDialAddress(address string, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuseWithCause(ReasonAddressRefused, "The metadata URL leads to an address that could not be checked.", err)
	}
	if !isPublicAddress(addrPort.Addr()) {
		return privateAddressError(addrPort.Addr())
	}
	return nil
}

func privateAddressError(addr netip.Addr) *Error {
	return refuse(ReasonAddressRefused, fmt.Sprintf(
		"The metadata URL leads to %s, an address on a private or local network. "+
			"The portal does not fetch metadata from such addresses unless its operator allows it.", addr.Unmap().WithZone("")))
}

// isPublicAddress reports whether addr may be fetched from: not loopback,
// link-local (which includes the cloud metadata service 169.254.169.254),
// private (RFC 1918, fc00::/7), unspecified, multicast, shared CGNAT
// space (100.64.0.0/10, often the provider's internal network) or another
// special-purpose range. IPv4-mapped and IPv4-embedding IPv6 addresses
// (NAT64, 6to4) are judged by the IPv4 address they carry, since a
// gateway turns them into it.
func isPublicAddress(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsMulticast() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() {
		return false
	}
	if addr.Is4() {
		for _, special := range []string{
			"0.0.0.0/8",       // "this network"; Linux connects 0.x to the host itself
			"100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
			"192.0.0.0/24",    // IETF protocol assignments
			"198.18.0.0/15",   // benchmarking
			"240.0.0.0/4",     // reserved, and the broadcast address
			"192.88.99.0/24",  // 6to4 relay anycast
			"192.0.2.0/24",    // documentation
			"198.51.100.0/24", // documentation
			"203.0.113.0/24",  // documentation
		} {
			if netip.MustParsePrefix(special).Contains(addr) {
				return false
			}
		}
		return true
	}
	bytes := addr.As16()
	switch {
	case netip.MustParsePrefix("64:ff9b::/96").Contains(addr): // NAT64 (RFC 6052)
		return isPublicAddress(netip.AddrFrom4([4]byte(bytes[12:16])))
	case netip.MustParsePrefix("2002::/16").Contains(addr): // 6to4 (RFC 3056)
		return isPublicAddress(netip.AddrFrom4([4]byte(bytes[2:6])))
	}
	for _, special := range []string{
		"::/96",          // IPv4-compatible, deprecated
		"64:ff9b:1::/48", // local-use NAT64 (RFC 8215)
		"2001::/32",      // Teredo, which tunnels to an embedded IPv4 address
		"2001:db8::/32",  // documentation
		"fec0::/10",      // site-local, deprecated but still routed by some
	} {
		if netip.MustParsePrefix(special).Contains(addr) {
			return false
		}
	}
	return true
}

// fetchError turns a transport error into an *Error, keeping our own
// refusals (from the redirect policy or the dialer) as they are.
func fetchError(err error, host string, timeout time.Duration) error {
	var refusal *Error
	if errors.As(err, &refusal) {
		return refusal
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return refuseWithCause(ReasonFetchTimeout, fmt.Sprintf(
			"The metadata URL did not answer within %s.", timeout), err)
	}
	var verification *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &verification) || errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return refuseWithCause(ReasonUntrustedTLS, fmt.Sprintf(
			"The server %s presented a certificate that is not trusted, so the metadata was not downloaded.", showURL(host)), err)
	}
	return refuseWithCause(ReasonFetchFailed, fmt.Sprintf(
		"The metadata could not be downloaded from %s.", showURL(host)), err)
}
