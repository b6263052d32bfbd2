package admin_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// spCertificates lists acme's SP certificates, active first.
func (p *portal) spCertificates() []sso.SPCertificate {
	p.t.Helper()
	certs, err := p.App.SSO.SPCertificates(context.Background(), p.acme.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	return certs
}

// pressTwice sends the same form twice at once, as a double click or two
// tabs do, and returns both answers as "status location".
func (p *portal) pressTwice(path string, form url.Values) []string {
	p.t.Helper()
	answers := make([]string, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			resp := p.Do("POST", acmeHost, path, form, p.acmeAdmin)
			answers[i] = resp.Status + " " + resp.Header.Get("Location")
		})
	}
	wg.Wait()
	return answers
}

// auditWith lists acme's audit entries of action, oldest first.
func (p *portal) auditWith(action string) []string {
	p.t.Helper()
	var out []string
	for _, e := range slices.Backward(p.recentAudit(p.acme)) {
		if e.Action == action {
			out = append(out, e.Details.String())
		}
	}
	return out
}

func TestSPCertificateButtonsPressedTwiceChangeAndRecordOnce(t *testing.T) {
	p := newPortal(t)
	first := p.spCertificate("active")
	both := []string{"303 See Other /admin/sso?done=sp-key-created", "303 See Other /admin/sso?done=sp-key-created"}

	// Create next SP certificate, double-clicked: one key, one entry.
	create := p.pageForm(p.acmeAdmin, "create-sp-certificate-form")
	if got := p.pressTwice("/admin/sso/sp-certificates/next", create); !slices.Equal(got, both) {
		t.Errorf("Create next pressed twice: %q, want both %q", got, both[0])
	}
	certs := p.spCertificates()
	if len(certs) != 2 {
		t.Fatalf("after Create next pressed twice: %d SP certificates, want 2", len(certs))
	}
	next := p.spCertificate("next")
	if got := p.auditWith("sso.sp-key-create"); len(got) != 1 || !strings.Contains(got[0], next.SHA256) {
		t.Errorf("sso.sp-key-create entries %q, want one naming %s", got, next.SHA256)
	}

	// Activate, double-clicked: one activation, one entry.
	activate := "/admin/sso/sp-certificates/" + itoa(next.ID) + "/activate"
	want := []string{"303 See Other /admin/sso?done=sp-key-activated", "303 See Other /admin/sso?done=sp-key-activated"}
	if got := p.pressTwice(activate, url.Values{}); !slices.Equal(got, want) {
		t.Errorf("Activate pressed twice: %q", got)
	}
	if active, previous := p.spCertificate("active"), p.spCertificate("previous"); active.ID != next.ID || previous.ID != first.ID {
		t.Errorf("after Activate: active %d previous %d, want %d and %d", active.ID, previous.ID, next.ID, first.ID)
	}
	if got := p.auditWith("sso.sp-key-activate"); len(got) != 1 || strings.Contains(got[0], "deleted") {
		t.Errorf("sso.sp-key-activate entries %q, want one that deletes nothing", got)
	}

	// A second rollover while the previous certificate is still published:
	// activating deletes it, and the entry says so.
	p.post(acmeHost, "/admin/sso/sp-certificates/next", p.pageForm(p.acmeAdmin, "create-sp-certificate-form"), "/admin/sso?done=sp-key-created", p.acmeAdmin)
	third := p.spCertificate("next")
	p.post(acmeHost, "/admin/sso/sp-certificates/"+itoa(third.ID)+"/activate", url.Values{}, "/admin/sso?done=sp-key-activated", p.acmeAdmin)
	got := p.auditWith("sso.sp-key-activate")
	if len(got) != 2 || !strings.Contains(got[1], "the earlier previous SP certificate SHA-256 "+first.SHA256+" was deleted from the SP metadata") {
		t.Errorf("activating over a previous certificate: entries %q; want the second to say %s was deleted", got, first.SHA256)
	}
	if certs := p.spCertificates(); len(certs) != 2 || slices.ContainsFunc(certs, func(c sso.SPCertificate) bool { return c.ID == first.ID }) {
		t.Errorf("after the second rollover: %+v", certs)
	}

	// Remove, double-clicked: one removal, one entry; both answers say done.
	previous := p.spCertificate("previous")
	remove := "/admin/sso/sp-certificates/" + itoa(previous.ID) + "/remove"
	want = []string{"303 See Other /admin/sso?done=sp-key-removed", "303 See Other /admin/sso?done=sp-key-removed"}
	if got := p.pressTwice(remove, url.Values{}); !slices.Equal(got, want) {
		t.Errorf("Remove pressed twice: %q", got)
	}
	if got := p.auditWith("sso.sp-key-remove"); len(got) != 1 || !strings.Contains(got[0], previous.SHA256) {
		t.Errorf("sso.sp-key-remove entries %q", got)
	}
	if certs := p.spCertificates(); len(certs) != 1 {
		t.Errorf("after Remove: %+v", certs)
	}
}

func TestImportPressedTwiceOnTheReviewImportsAndRecordsOnce(t *testing.T) {
	p := newPortal(t)
	resp, body := p.upload("FederationMetadata.xml", fixture(t, "azure-federation-metadata.xml"))
	review := p.followToReview(resp, body)
	form := portaltest.FormValues(t, p.get(acmeHost, review, p.acmeAdmin), "confirm-import-form")
	want := []string{"303 See Other /admin/sso?done=imported", "303 See Other /admin/sso?done=imported"}
	if got := p.pressTwice(review, form); !slices.Equal(got, want) {
		t.Errorf("Import pressed twice: %q, want both %q", got, want[0])
	}
	if got := p.auditWith("sso.import-metadata"); len(got) != 1 || !strings.Contains(got[0], azureEntityID) {
		t.Errorf("sso.import-metadata entries %q, want one", got)
	}
	if set := p.settings(); set.IdPEntityID != azureEntityID || set.Revision != 1 {
		t.Errorf("after Import pressed twice: entity ID %q, revision %d; want one import", set.IdPEntityID, set.Revision)
	}
}
