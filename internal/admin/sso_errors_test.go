package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSSOImportFromURLExplainsWhatIsWrongAtTheTopAndAtTheField: a metadata
// URL that answers with something else than metadata is refused with the
// reason in the error summary at the top (a link to the field) and next to
// the field, which is marked invalid and described by its error.
func TestSSOImportFromURLExplainsWhatIsWrongAtTheTopAndAtTheField(t *testing.T) {
	p := newPortalWith(t, options{fetch: func(context.Context, string) ([]byte, error) {
		return []byte("<html><body>Sign in to continue</body></html>"), nil
	}})
	resp, body := p.adminPost("/admin/sso/import-url", url.Values{"metadata_url": {"https://idp.example.com/metadata"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	summary := body[strings.Index(body, `id="error-summary"`):]
	summary = summary[:strings.Index(summary, "</div>")]
	if !strings.Contains(summary, `<a href="#metadata_url">The metadata URL answered, but not with usable identity provider metadata: `) {
		t.Errorf("the error summary does not link the reason to the field:\n%s", summary)
	}
	block := fieldBlock(t, body, "metadata_url")
	for _, want := range []string{`aria-describedby="metadata_url-help metadata_url-error"`, `aria-invalid="true"`, `id="metadata_url-error">The metadata URL answered, but not`} {
		if !strings.Contains(block, want) {
			t.Errorf("the URL field lacks %s:\n%s", want, block)
		}
	}
}

// TestSSORefusedSaveListsEveryProblemAtTheTop: the options form refused
// for two fields lists both at the top, in the form's order, each a link
// to its field, and each field says it is invalid.
func TestSSORefusedSaveListsEveryProblemAtTheTop(t *testing.T) {
	p := newPortal(t)
	form := p.optionsForm()
	form.Set("error_page_url", "ftp://x")
	form.Set("authn_context", "nope")
	resp, body := p.adminPost("/admin/sso", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	authn, errorPage := strings.Index(body, `<li><a href="#authn_context">`), strings.Index(body, `<li><a href="#error_page_url">`)
	if authn < 0 || errorPage < 0 || authn > errorPage || !strings.Contains(body, `data-error-summary`) {
		t.Errorf("the summary does not list both problems in the form's order (%d, %d)", authn, errorPage)
	}
	for _, field := range []string{"authn_context", "error_page_url"} {
		if block := fieldBlock(t, body, field); !strings.Contains(block, `aria-invalid="true"`) || !strings.Contains(block, field+`-error"`) {
			t.Errorf("%s is not marked invalid:\n%s", field, block)
		}
	}
	if block := fieldBlock(t, body, "default_target"); strings.Contains(block, `aria-invalid`) {
		t.Errorf("a valid field is marked invalid:\n%s", block)
	}
}
