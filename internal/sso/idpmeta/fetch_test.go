package idpmeta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

func wantRefusal(t *testing.T, err error, reason string) *Error {
	t.Helper()
	var refusal *Error
	if !errors.As(err, &refusal) {
		t.Fatalf("error %T %v is not an *Error with reason %q", err, err, reason)
	}
	if refusal.Reason != reason {
		t.Fatalf("Reason = %q, want %q (message %q, error %v)", refusal.Reason, reason, refusal.Message, err)
	}
	return refusal
}

func serveBytes(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(data)
	}
}

func TestFetchRefusesLoopbackWithoutAllowPrivate(t *testing.T) {
	server := httptest.NewTLSServer(serveBytes(readTestdata(t, "azure-federation-metadata.xml")))
	defer server.Close()

	_, err := Fetch(context.Background(), server.URL+"/federationmetadata.xml", FetchOptions{})
	refusal := wantRefusal(t, err, ReasonAddressRefused)
	const want = "The metadata URL leads to 127.0.0.1, an address on a private or local network. " +
		"The portal does not fetch metadata from such addresses unless its operator allows it " +
		"(PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."
	if refusal.Message != want {
		t.Errorf("Message = %q\nwant      %q", refusal.Message, want)
	}
}

// A host name is not refused for what it looks like but for the address it
// resolves to, checked when dialing: the same check stops DNS rebinding.
func TestFetchRefusesHostNameResolvingToLoopbackAtDialTime(t *testing.T) {
	server := httptest.NewTLSServer(serveBytes(readTestdata(t, "azure-federation-metadata.xml")))
	defer server.Close()
	_, port, err := net.SplitHostPort(server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fetch(context.Background(), "https://localhost:"+port+"/federationmetadata.xml", FetchOptions{})
	refusal := wantRefusal(t, err, ReasonAddressRefused)
	if !strings.HasPrefix(refusal.Message, "The metadata URL leads to 127.0.0.1,") && !strings.HasPrefix(refusal.Message, "The metadata URL leads to ::1,") {
		t.Errorf("Message = %q, want it to name the loopback address", refusal.Message)
	}
}

func TestFetchWithAllowPrivateDownloadsOverLoopbackHTTP(t *testing.T) {
	metadata := readTestdata(t, "azure-federation-metadata-bom.xml")
	server := httptest.NewServer(serveBytes(metadata))
	defer server.Close()

	got, err := Fetch(context.Background(), server.URL+"/federationmetadata.xml", FetchOptions{AllowPrivate: true})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(got, metadata) {
		t.Fatalf("got %d bytes, want the %d bytes served", len(got), len(metadata))
	}
	if _, err := Parse(got); err != nil {
		t.Errorf("Parse of the fetched metadata: %v", err)
	}
}

// The development IdP is at idp.localhost, which browsers resolve to
// loopback and the resolver does not: with private addresses allowed, a
// name under .localhost is dialed at 127.0.0.1; without, it is refused.
func TestFetchReachesLocalhostNamesOnlyWhenPrivateIsAllowed(t *testing.T) {
	metadata := readTestdata(t, "azure-federation-metadata.xml")
	server := httptest.NewServer(serveBytes(metadata))
	defer server.Close()
	_, port, err := net.SplitHostPort(server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	metadataURL := "http://idp.localhost:" + port + "/metadata"
	got, err := Fetch(context.Background(), metadataURL, FetchOptions{AllowPrivate: true})
	if err != nil {
		t.Fatalf("Fetch %s: %v", metadataURL, err)
	}
	if !bytes.Equal(got, metadata) {
		t.Fatalf("got %d bytes, want the %d bytes served", len(got), len(metadata))
	}
	_, err = Fetch(context.Background(), metadataURL, FetchOptions{})
	wantRefusal(t, err, ReasonBadMetadataURL)
}

func TestFetchVerifiesServerCertificates(t *testing.T) {
	server := httptest.NewUnstartedServer(serveBytes([]byte("<x/>")))
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	server.StartTLS()                                   // self-signed, trusted by nobody
	defer server.Close()

	_, err := Fetch(context.Background(), server.URL, FetchOptions{AllowPrivate: true})
	wantRefusal(t, err, ReasonUntrustedTLS)
}

func TestFetchFollowsAtMostThreeRedirects(t *testing.T) {
	metadata := readTestdata(t, "azure-federation-metadata.xml")
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			_, _ = w.Write(metadata)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	server := httptest.NewServer(mux)
	defer server.Close()

	tests := []struct {
		redirects int
		reason    string
	}{
		{0, ""},
		{3, ""},
		{4, ReasonTooManyRedirect},
		{10, ReasonTooManyRedirect},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.redirects), func(t *testing.T) {
			got, err := Fetch(context.Background(), fmt.Sprintf("%s/hop/%d", server.URL, tt.redirects), FetchOptions{AllowPrivate: true})
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if !bytes.Equal(got, metadata) {
					t.Errorf("got %d bytes, want the metadata", len(got))
				}
				return
			}
			refusal := wantRefusal(t, err, tt.reason)
			if refusal.Message != "The metadata URL redirected more than 3 times." {
				t.Errorf("Message = %q", refusal.Message)
			}
		})
	}
}

// The first hop must be public for this test, which a test server on
// 127.0.0.1 is not, so the test client pretends: it sends every connection
// for example.com (a name in httptest's certificate) to the test server.
// The redirect policy under test is Fetch's own, installed on that client.
func TestFetchRefusesRedirectToPrivateOrInsecureAddress(t *testing.T) {
	tests := []struct {
		location string
		reason   string
		message  string
	}{
		{"https://169.254.169.254/latest/meta-data/", ReasonAddressRefused,
			"The metadata URL leads to 169.254.169.254, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
		{"https://10.1.2.3/admin", ReasonAddressRefused,
			"The metadata URL leads to 10.1.2.3, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
		{"https://[fd00:ec2::254]/latest/meta-data/", ReasonAddressRefused,
			"The metadata URL leads to fd00:ec2::254, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
		{"https://100.100.100.200/latest/meta-data/", ReasonAddressRefused,
			"The metadata URL leads to 100.100.100.200, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
		{"http://example.com/metadata", ReasonBadMetadataURL,
			"The metadata URL redirected to http://example.com/metadata is not an https address."},
		{"file:///etc/passwd", ReasonBadMetadataURL,
			"The metadata URL redirected to file:///etc/passwd is not an https address."},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tt.location, http.StatusFound)
			}))
			defer server.Close()
			client := server.Client()
			transport := client.Transport.(*http.Transport).Clone()
			transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, server.Listener.Addr().String())
			}
			client.Transport = transport

			_, err := Fetch(context.Background(), "https://example.com/federationmetadata.xml", FetchOptions{Client: client})
			refusal := wantRefusal(t, err, tt.reason)
			if refusal.Message != tt.message {
				t.Errorf("Message = %q\nwant      %q", refusal.Message, tt.message)
			}
		})
	}
}

func TestFetchRefusesBodyOverOneMiB(t *testing.T) {
	tests := []struct {
		name          string
		size          int
		contentLength bool
		wantErr       bool
	}{
		{"exactly 1 MiB", MaxBytes, true, false},
		{"one byte over, with Content-Length", MaxBytes + 1, true, true},
		{"one byte over, chunked", MaxBytes + 1, false, true},
		{"4 MiB chunked", 4 * MaxBytes, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(tt.size))
				} else {
					w.(http.Flusher).Flush() // headers out now: no Content-Length
				}
				_, _ = w.Write(bytes.Repeat([]byte("x"), tt.size))
			}))
			defer server.Close()

			got, err := Fetch(context.Background(), server.URL, FetchOptions{AllowPrivate: true})
			if !tt.wantErr {
				if err != nil || len(got) != tt.size {
					t.Fatalf("Fetch = %d bytes, %v; want %d bytes", len(got), err, tt.size)
				}
				return
			}
			refusal := wantRefusal(t, err, ReasonTooLarge)
			if refusal.Message != "The metadata at this URL is larger than 1 MiB." {
				t.Errorf("Message = %q", refusal.Message)
			}
		})
	}
}

func TestFetchTimesOutOnSlowServer(t *testing.T) {
	// The servers hold the response until the test releases them, not
	// until the request's context ends: a response finished as the client
	// times out can still reach it (see TestFetchNamesTheCauseOfEachFailure).
	tests := []struct {
		name    string
		handler func(release <-chan struct{}) http.HandlerFunc
	}{
		{"no headers", func(release <-chan struct{}) http.HandlerFunc {
			return func(http.ResponseWriter, *http.Request) { <-release }
		}},
		{"body trickles", func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("<EntityDescriptor"))
				w.(http.Flusher).Flush()
				<-release
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			server := httptest.NewServer(tt.handler(release))
			defer server.Close()
			defer close(release)

			start := time.Now()
			_, err := Fetch(context.Background(), server.URL, FetchOptions{AllowPrivate: true, Timeout: 200 * time.Millisecond})
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Fetch took %s with a 200ms timeout", elapsed)
			}
			refusal := wantRefusal(t, err, ReasonFetchTimeout)
			if refusal.Message != "The metadata URL did not answer within 200ms." {
				t.Errorf("Message = %q", refusal.Message)
			}
		})
	}
}

func TestFetchRefusesNonOKStatus(t *testing.T) {
	tests := []struct {
		status  int
		message string
	}{
		{http.StatusNotFound, "The metadata URL answered 404 Not Found instead of the metadata."},
		{http.StatusInternalServerError, "The metadata URL answered 500 Internal Server Error instead of the metadata."},
		{http.StatusNoContent, "The metadata URL answered 204 No Content instead of the metadata."},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
			}))
			defer server.Close()

			_, err := Fetch(context.Background(), server.URL, FetchOptions{AllowPrivate: true})
			refusal := wantRefusal(t, err, ReasonHTTPStatus)
			if refusal.Message != tt.message {
				t.Errorf("Message = %q\nwant      %q", refusal.Message, tt.message)
			}
		})
	}
}

func TestFetchRefusesBadURLs(t *testing.T) {
	tests := []struct {
		raw          string
		allowPrivate bool
		reason       string
		message      string
	}{
		{"", false, ReasonBadMetadataURL, "The metadata URL is empty."},
		{"ftp://login.microsoftonline.com/x", false, ReasonBadMetadataURL, "The metadata URL ftp://login.microsoftonline.com/x is not an https address."},
		{"http://login.microsoftonline.com/x", false, ReasonBadMetadataURL, "The metadata URL http://login.microsoftonline.com/x is not an https address."},
		{"http://127.0.0.1:8080/x", false, ReasonBadMetadataURL, "The metadata URL http://127.0.0.1:8080/x is not an https address."},
		{"http://10.0.0.1/x", true, ReasonBadMetadataURL, "The metadata URL http://10.0.0.1/x is not an https address (plain http is accepted only for this computer, such as localhost, during development)."},
		{"federationmetadata.xml", false, ReasonBadMetadataURL, "The metadata URL federationmetadata.xml is not a complete address: it must start with https://."},
		{"https://admin:secret@login.microsoftonline.com/x", false, ReasonBadMetadataURL, "The metadata URL https://admin:secret@login.microsoftonline.com/x contains a user name or password; remove the part before @."},
		{"https://169.254.169.254/latest/meta-data/", false, ReasonAddressRefused, "The metadata URL leads to 169.254.169.254, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
		{"https://[::ffff:192.168.1.1]/", false, ReasonAddressRefused, "The metadata URL leads to 192.168.1.1, an address on a private or local network. The portal does not fetch metadata from such addresses unless its operator allows it (PORTAL_METADATA_ALLOW_PRIVATE=1, for an identity provider on the same network)."},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := Fetch(context.Background(), tt.raw, FetchOptions{AllowPrivate: tt.allowPrivate})
			refusal := wantRefusal(t, err, tt.reason)
			if refusal.Message != tt.message {
				t.Errorf("Message = %q\nwant      %q", refusal.Message, tt.message)
			}
		})
	}
}

func TestCheckDialAddressRefusesNonPublicAddresses(t *testing.T) {
	tests := []struct {
		address string
		public  bool
	}{
		{"20.190.151.68:443", true}, // login.microsoftonline.com
		{"8.8.8.8:443", true},
		{"[2606:4700:4700::1111]:443", true},
		{"[64:ff9b::808:808]:443", true}, // NAT64 of 8.8.8.8
		{"127.0.0.1:443", false},
		{"127.8.9.10:443", false},
		{"[::1]:443", false},
		{"169.254.169.254:80", false},
		{"[::ffff:169.254.169.254]:80", false},
		{"[64:ff9b::a9fe:a9fe]:80", false}, // NAT64 of 169.254.169.254
		{"[2002:a9fe:a9fe::1]:80", false},  // 6to4 of 169.254.169.254
		{"[fe80::1%25eth0]:80", false},
		{"[fe80::1]:80", false},
		{"10.0.0.1:443", false},
		{"172.16.0.1:443", false},
		{"172.31.255.255:443", false},
		{"192.168.1.1:443", false},
		{"[fd00:ec2::254]:80", false},
		{"[fc00::1]:443", false},
		{"0.0.0.0:443", false},
		{"0.1.2.3:443", false},
		{"[::]:443", false},
		{"224.0.0.1:443", false},
		{"[ff02::1]:443", false},
		{"100.64.0.1:443", false},
		{"100.127.255.254:443", false},
		{"255.255.255.255:443", false},
		{"not-an-address:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			address := strings.Replace(tt.address, "%25", "%", 1)
			err := checkDialAddress(address, false)
			if tt.public && err != nil {
				t.Errorf("checkDialAddress(%q) = %v, want nil", address, err)
			}
			if !tt.public {
				wantRefusal(t, err, ReasonAddressRefused)
			}
			if err := checkDialAddress(address, true); err != nil {
				t.Errorf("with AllowPrivate, checkDialAddress(%q) = %v, want nil", address, err)
			}
		})
	}
	// 100.63.255.255 and 100.128.0.0 are just outside CGNAT space.
	for _, edge := range []string{"100.63.255.255", "100.128.0.0", "172.32.0.1", "172.15.255.255"} {
		if !isPublicAddress(netip.MustParseAddr(edge)) {
			t.Errorf("isPublicAddress(%s) = false, want true", edge)
		}
	}
}
