package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleReportsCSPViolations proves the check every browser test relies
// on can fail: a page with inline script and style under a strict policy
// must produce violations, and a clean page none.
func TestConsoleReportsCSPViolations(t *testing.T) {
	requireChromium(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/dirty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><title>dirty</title><style>p{color:red}</style>` +
			`<p>hello</p><script>document.title = "ran"</script>`))
	})
	mux.HandleFunc("/clean", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		_, _ = w.Write([]byte(`<!doctype html><title>clean</title><p>hello</p>`))
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	ctx := startBrowser(t, browser{timeout: Timeout})
	env := &Env{t: t, Ctx: ctx, console: watchConsole(t, ctx, "the first window")}

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/clean")); err != nil {
		t.Fatal(err)
	}
	if v := env.CSPViolations(); len(v) != 0 {
		t.Errorf("clean page: violations %q", v)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/dirty")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "dirty" {
		t.Errorf("the inline script ran (title %q): the policy was not applied", title)
	}
	v := env.CSPViolations()
	script := slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, "script") })
	style := slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, "style") })
	if !script || !style {
		t.Errorf("want an inline-script and an inline-style violation, got %q", v)
	}
}
