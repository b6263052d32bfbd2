package idpmeta

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFetchNamesTheCauseOfEachFailure: a metadata URL that cannot be used
// says why, in words an admin can act on, with its own reason code — a
// private address (and the setting that allows it), a name DNS does not
// know, a closed port, a server that does not speak TLS, an untrusted
// certificate, an HTTP error, a timeout, a body too large. Each against a
// real listener on this machine.
func TestFetchNamesTheCauseOfEachFailure(t *testing.T) {
	metadata := readTestdata(t, "azure-federation-metadata.xml")

	tlsServer := httptest.NewTLSServer(serveBytes(metadata))
	defer tlsServer.Close()
	// A server that speaks another protocol than TLS (here SSH's
	// greeting) on the https port.
	notTLS, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer notTLS.Close()
	go func() {
		for {
			conn, err := notTLS.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			conn.Close()
		}
	}()
	notFound := httptest.NewTLSServer(http.NotFoundHandler())
	defer notFound.Close()
	// A server that never answers while the test runs. Not until the
	// request's context ends: that happens when the client, timing out,
	// starts closing the connection, and the empty 200 the handler then
	// sends can still reach the client's transport, which uses a response
	// that races its own cancellation (seen once in CI: the timeout case
	// got a nil error after 0.30 s).
	release := make(chan struct{})
	slow := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		<-release
	}))
	defer slow.Close()
	defer close(release)
	huge := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", MaxBytes+10)))
	}))
	defer huge.Close()
	// A port nothing listens on: taken, then given back.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "https://" + closed.Addr().String() + "/metadata.xml"
	closed.Close()

	trusting := func(server *httptest.Server) *http.Client {
		// The test server's own certificate, trusted, and the safe
		// transport otherwise: a client that verifies.
		transport := safeTransport(true, time.Second)
		transport.TLSClientConfig = server.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		return &http.Client{Transport: transport}
	}

	cases := []struct {
		name    string
		url     string
		options FetchOptions
		reason  string
		message string // a part of the message the admin reads
	}{
		{"private address", tlsServer.URL + "/metadata.xml", FetchOptions{}, ReasonAddressRefused,
			"PORTAL_METADATA_ALLOW_PRIVATE=1"},
		{"unknown name", "https://no-such-idp.invalid/metadata.xml", FetchOptions{AllowPrivate: true, Timeout: 5 * time.Second}, ReasonDNS,
			"The name no-such-idp.invalid could not be found (DNS)"},
		{"connection refused", closedURL, FetchOptions{AllowPrivate: true}, ReasonConnectionRefused,
			"refused the connection"},
		{"not TLS", "https://" + notTLS.Addr().String() + "/metadata.xml", FetchOptions{AllowPrivate: true}, ReasonTLS,
			"The secure (TLS) connection to"},
		{"untrusted certificate", tlsServer.URL + "/metadata.xml", FetchOptions{AllowPrivate: true}, ReasonUntrustedTLS,
			"presented a certificate that is not trusted"},
		{"HTTP 404", notFound.URL + "/metadata.xml", FetchOptions{AllowPrivate: true, Client: trusting(notFound)}, ReasonHTTPStatus,
			"answered 404 Not Found"},
		{"timeout", slow.URL + "/metadata.xml", FetchOptions{AllowPrivate: true, Client: trusting(slow), Timeout: 300 * time.Millisecond}, ReasonFetchTimeout,
			"did not answer within 300ms"},
		{"too large", huge.URL + "/metadata.xml", FetchOptions{AllowPrivate: true, Client: trusting(huge)}, ReasonTooLarge,
			"larger than 1 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Fetch(context.Background(), c.url, c.options)
			refusal := wantRefusal(t, err, c.reason)
			if !strings.Contains(refusal.Message, c.message) {
				t.Errorf("message %q does not say %q", refusal.Message, c.message)
			}
		})
	}
	// And a URL that works, through the same trusting client, fetches.
	if _, err := Fetch(context.Background(), tlsServer.URL+"/metadata.xml", FetchOptions{AllowPrivate: true, Client: trusting(tlsServer)}); err != nil {
		t.Errorf("the working URL: %v", err)
	}
}
