package loadtest

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

var pageRequestsFlag = flag.Int("loadgen.page-requests", 20, "requests of each page (TestPages)")

// page is one page a signed-in user or admin opens.
type page struct {
	who  string // "user" or "admin"
	path string
}

// pages are what TestPages opens: every page of a signed-in user and of an
// admin that reads the site's data, the admin's with the filters and
// searches they use.
var pages = []page{
	{"user", "/"},
	{"user", "/preferences"},
	{"user", "/meetings/new"},
	{"user", "/meetings/past"},
	{"admin", "/admin"},
	{"admin", "/admin/sso"},
	{"admin", "/admin/events"},
	{"admin", "/admin/events?result=refused"},
	{"admin", "/admin/events?user=user000001"},
	{"admin", "/admin/events?page=5"},
	{"admin", "/admin/events?reference=LOAD-0000-0000"}, // the first site's first seeded event
	{"admin", "/admin/users"},
	{"admin", "/admin/admins"},
	{"admin", "/admin/audit"},
	{"admin", "/admin/meetings"},
}

// TestPages measures the pages of a signed-in user and of an admin, on the
// database TestLoad loads (-loadgen.database for the 10,000-site one): each
// page alone (one client: its latency), then all of them mixed with many
// clients (the peak rate), then the mix at half of that rate, open loop
// (the tail latency under load).
func TestPages(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "portal")
	build(t, bin, "../../cmd/portal")
	dbURL, idp := loadDatabase(t)
	portal, port, metrics, hosts := startPortal(t, bin, dbURL)
	site := SiteName(0)
	siteURL := hosts.SiteURL(site)
	host := strings.TrimPrefix(siteURL, "http://")
	server := fmt.Sprintf("http://127.0.0.1:%d", port)
	cookies := map[string]string{
		"user":  userSession(t, server, host, idp, siteURL),
		"admin": adminSession(t, server, host, site),
	}

	var mixed []Request
	report := &strings.Builder{}
	tw := tabwriter.NewWriter(report, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "page\twho\tp50\tp95\tp99\tmax\tstatuses\t\n")
	for _, p := range pages {
		requests := make([]Request, *pageRequestsFlag)
		for i := range requests {
			requests[i] = Request{Host: host, Path: p.path, Cookie: cookies[p.who], Forwarded: fmt.Sprintf("10.1.%d.%d", i>>8&255, i&255)}
		}
		mixed = append(mixed, requests...)
		got := Run(context.Background(), requests, Load{URL: server, Clients: 1})
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\t\n", p.path, p.who, ms(got.Percentile(50)), ms(got.Percentile(95)),
			ms(got.Percentile(99)), ms(got.Percentile(100)), got.ByStatus)
		if got.OK != len(requests) {
			t.Errorf("%s: %d of %d answered 200: %v", p.path, got.OK, len(requests), got.ByStatus)
		}
	}
	tw.Flush()

	// The mix, interleaved so that every moment has every kind of page.
	interleaved := make([]Request, 0, len(mixed))
	for i := range *pageRequestsFlag {
		for j := range pages {
			interleaved = append(interleaved, mixed[j**pageRequestsFlag+i])
		}
	}
	profileDone := profile(t, metrics)
	before, pgBefore, genBefore := stats(t, portal.Process.Pid), PostgresCPU(), stats(t, os.Getpid())
	peak := Run(context.Background(), interleaved, Load{URL: server, Clients: *clientsFlag})
	after, pgCPU, genAfter := stats(t, portal.Process.Pid), PostgresCPU()-pgBefore, stats(t, os.Getpid())
	profileDone()
	heapProfile(t, metrics)
	half := Run(context.Background(), interleaved, Load{URL: server, Clients: *clientsFlag, Rate: peak.PerSecond() / 2})
	each := func(d time.Duration) time.Duration {
		return (d / time.Duration(max(peak.OK, 1))).Round(time.Microsecond)
	}
	fmt.Fprintf(report, "\nevery page mixed, %d clients, closed loop: %.0f requests/s, p50 %s, p99 %s, portal CPU %s, PostgreSQL CPU %s and the generator's CPU %s a request, peak RSS %.0f MiB, %v\n",
		*clientsFlag, peak.PerSecond(), ms(peak.Percentile(50)), ms(peak.Percentile(99)),
		each(after.CPU-before.CPU), each(pgCPU), each(genAfter.CPU-genBefore.CPU), float64(after.PeakRSS)/(1<<20), peak.ByStatus)
	fmt.Fprintf(report, "every page mixed at half that rate (%.0f/s, open loop): p50 %s, p95 %s, p99 %s, %v\n",
		peak.PerSecond()/2, ms(half.Percentile(50)), ms(half.Percentile(95)), ms(half.Percentile(99)), half.ByStatus)
	t.Logf("%d sites, %d users each, %d events; site %s; %d requests of each page\n%s",
		*sitesFlag, *usersFlag, *eventsFlag, site, *pageRequestsFlag, report)
	for _, r := range []Result{peak, half} {
		if r.OK != len(interleaved) || r.Errors != 0 {
			t.Errorf("mixed pages: %d of %d answered 200, %d transport errors, %v; the portal's log ends:\n%s",
				r.OK, len(interleaved), r.Errors, r.ByStatus, logTail(portal))
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// userSession signs seeded user 0 in through the ACS and returns the
// Cookie header of its session.
func userSession(t *testing.T, server, host string, idp *ssotest.IdP, siteURL string) string {
	t.Helper()
	site := strings.SplitN(host, ".", 2)[0]
	uid := UserID(site, 0)
	doc := idp.Response(t, ssotest.Options{ACS: siteURL + "/saml/acs", Audience: siteURL + "/saml/metadata", NameID: uid,
		Attributes: idp.AzureClaims(uid, "User", "0", ObjectID(site, 0))})
	return cookiesOf(t, "user sign-in", post(t, server+"/saml/acs", host, url.Values{"SAMLResponse": {ssotest.Encode(doc)}}))
}

// adminSession signs the site's seeded admin in with their password.
func adminSession(t *testing.T, server, host, site string) string {
	t.Helper()
	return cookiesOf(t, "admin sign-in", post(t, server+"/admin/login", host,
		url.Values{"email": {"admin@" + site + ".example"}, "password": {AdminPassword}}))
}

func post(t *testing.T, u, host string, form url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// cookiesOf is the Cookie header a browser would send back after resp, a
// redirect that signed someone in.
func cookiesOf(t *testing.T, what string, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("%s: status %d", what, resp.StatusCode)
	}
	var pairs []string
	for _, c := range resp.Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	if len(pairs) == 0 {
		t.Fatalf("%s: no cookie", what)
	}
	return strings.Join(pairs, "; ")
}
