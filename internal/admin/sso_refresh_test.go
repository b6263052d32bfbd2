package admin_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// metadataServer is an IdP's metadata URL whose document the test changes
// between fetches; nil serves a 503 (an outage).
type metadataServer struct {
	mu  sync.Mutex
	doc []byte
}

func (m *metadataServer) serve(doc []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.doc = doc
}

func (m *metadataServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.doc == nil {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(m.doc)
}

// withoutCertificate is the Azure fixture listing only its first signing
// certificate: the metadata before Azure's rollover added the second.
func withoutCertificate(t *testing.T, doc []byte, pemFile string) []byte {
	t.Helper()
	drop := base64.StdEncoding.EncodeToString(certificateFile(t, pemFile).Raw)
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, kd := range d.FindElements("//KeyDescriptor") {
		if c := kd.FindElement(".//X509Certificate"); c != nil && strings.TrimSpace(c.Text()) == drop {
			kd.Parent().RemoveChild(kd)
			removed++
		}
	}
	if removed == 0 {
		t.Fatal("the fixture does not list the certificate to drop")
	}
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSSOMetadataRefreshFollowsRolloverSurvivesOutageAndProposesNewEntityID(t *testing.T) {
	ctx := context.Background()
	azure := fixture(t, "azure-federation-metadata.xml")
	server := &metadataServer{doc: withoutCertificate(t, azure, "azure-signing-2.crt.pem")}
	ts := httptest.NewServer(server)
	defer ts.Close()
	metadataURL := ts.URL + "/federationmetadata/2007-06/federationmetadata.xml?appid=42"
	// httptest listens on 127.0.0.1: the operator's PORTAL_METADATA_ALLOW_PRIVATE=1.
	fetch := func(ctx context.Context, u string) ([]byte, error) {
		return idpmeta.Fetch(ctx, u, idpmeta.FetchOptions{AllowPrivate: true})
	}
	p := newPortalWith(t, options{fetch: fetch})
	clock := p.Clock
	clock.Set(time.Now().UTC().Truncate(time.Second))
	// The one clock moves admin sessions on too: sign in again after a day.
	advance := func(d time.Duration) {
		clock.Advance(d)
		p.acmeAdmin = p.SignInAdmin(acmeHost, "admin@acme.test")
	}

	resp, body := p.adminPost("/admin/sso/import-url", url.Values{"metadata_url": {metadataURL}})
	p.adminPost(p.followToReview(resp, body), url.Values{})
	if set := p.settings(); len(set.Certificates) != 1 || set.MetadataURL != metadataURL {
		t.Fatalf("after the import: %d certificates, URL %q", len(set.Certificates), set.MetadataURL)
	}

	// Azure's rollover: the new certificate is listed beside the old one.
	// The daily job picks it up.
	server.serve(azure)
	advance(25 * time.Hour)
	if n, err := p.App.SSO.RefreshDue(ctx, 10, fetch); err != nil || n != 1 {
		t.Fatalf("refresh job: %d refreshed, %v", n, err)
	}
	set := p.settings()
	if len(set.Certificates) != 2 || set.HasProposal() || set.IdPEntityID != azureEntityID || !set.MetadataFetchedAt.Equal(clock.Now()) {
		t.Fatalf("after the rollover refresh: %d certificates, proposal %t, fetched %v", len(set.Certificates), set.HasProposal(), set.MetadataFetchedAt)
	}
	_, body = p.adminGet("/admin/sso")
	if !strings.Contains(body, "Last fetched</th><td>"+clock.Now().Format("2006-01-02 15:04:05 UTC")) {
		t.Error("the page does not show the last fetch time")
	}

	// An outage keeps the configuration; the page shows the error and when.
	server.serve(nil)
	advance(25 * time.Hour)
	if n, _ := p.App.SSO.RefreshDue(ctx, 10, fetch); n != 0 {
		t.Fatalf("a failed refresh counted as done")
	}
	set = p.settings()
	if len(set.Certificates) != 2 || set.IdPEntityID != azureEntityID || set.RefreshError == "" || set.RefreshFailedAt == nil || !set.RefreshFailedAt.Equal(clock.Now()) {
		t.Fatalf("after the outage: %+v", set)
	}
	_, body = p.adminGet("/admin/sso")
	failed := clock.Now().Format("2006-01-02 15:04:05 UTC") + ": " + escaped(set.RefreshError)
	if !strings.Contains(body, `id="refresh-error">`+failed) || !strings.Contains(body, "The configuration in use has not changed.") {
		t.Errorf("the page does not show the failed refresh %q:\n%s", failed, body[strings.Index(body, `id="metadata-refresh"`):][:1200])
	}
	// "Refresh now" during the outage says so too, and is audited.
	resp, _ = p.adminPost("/admin/sso/refresh", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?problem=refresh-failed" {
		t.Fatalf("Refresh now during the outage: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = p.adminGet("/admin/sso?problem=refresh-failed"); !strings.Contains(body, "Fetching the metadata failed. The configuration in use has not changed") {
		t.Error("no banner after a failed Refresh now")
	}

	// A new entity ID and SSO URL are proposed, not applied.
	const newTenant = "0a1b2c3d-0000-4000-8000-000000000042"
	server.serve([]byte(strings.ReplaceAll(string(azure), "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e", newTenant)))
	resp, _ = p.adminPost("/admin/sso/refresh", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=refreshed" {
		t.Fatalf("Refresh now: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	set = p.settings()
	newEntityID := "https://sts.windows.net/" + newTenant + "/"
	if set.IdPEntityID != azureEntityID || set.SSOURL != azureSSOURL || set.ProposedEntityID != newEntityID || set.RefreshError != "" {
		t.Fatalf("after the refresh with a new entity ID: %+v", set)
	}
	_, body = p.adminGet("/admin/sso?done=refreshed")
	proposal := body[strings.Index(body, `id="proposal"`):]
	if !strings.Contains(proposal, azureEntityID+" → "+newEntityID) || !strings.Contains(proposal, `id="accept-proposal">Accept</button>`) {
		t.Errorf("the page does not show the proposal:\n%.1500s", proposal)
	}
	if strings.Contains(body, `id="refresh-error"`) {
		t.Error("the old refresh error is still shown after a good refresh")
	}
	resp, _ = p.adminPost("/admin/sso/refresh/accept", portaltest.FormValues(t, body, "accept-proposal-form"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=accepted" {
		t.Fatalf("Accept: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	set = p.settings()
	if set.IdPEntityID != newEntityID || !strings.Contains(set.SSOURL, newTenant) || set.HasProposal() {
		t.Errorf("after Accept: %+v", set)
	}
	if resp, _ := p.adminPost("/admin/sso/refresh/accept", url.Values{}); resp.StatusCode != http.StatusConflict {
		t.Errorf("Accept with nothing waiting: status %d", resp.StatusCode)
	}
	// Every change is in the audit log, by whoever made it: the daily
	// job's certificate rollover and the start of the outage by the portal,
	// the admin's two Refresh now and the Accept by the admin.
	want := []string{
		"admin@acme.test sso.import-metadata", "portal sso.refresh-metadata", "portal sso.refresh-metadata",
		"admin@acme.test sso.refresh-metadata", "admin@acme.test sso.refresh-metadata", "admin@acme.test sso.accept-refresh",
	}
	var got []string
	for _, e := range slices.Backward(p.recentAudit(p.acme)) {
		got = append(got, e.Actor+" "+e.Action)
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit %v, want %v", got, want)
	}
}
