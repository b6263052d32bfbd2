package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
)

// signInFrom posts the admin sign-in form from the client address addr.
func (p *portal) signInFrom(addr, email, password string) (*http.Response, string) {
	p.t.Helper()
	req := portaltest.Request("POST", acmeHost, "/admin/login", url.Values{"email": {email}, "password": {password}})
	req.RemoteAddr = addr + ":40000"
	resp := p.Serve(req)
	return resp, readBody(p.t, resp)
}

// Password guessing spread over many addresses: 25 wrong passwords from 25
// addresses, then the right one, does not sign in; after the back-off it
// does. An e-mail address without an account gets exactly the same answers,
// so the limit reveals nothing.
func TestAdminSignInRatePerAccountHoldsAcrossAddresses(t *testing.T) {
	p := newPortal(t)
	p.Clock.Set(time.Now())
	type answer struct {
		status int
		text   string
	}
	guess := func(email string) []answer {
		var answers []answer
		for i := range 25 {
			resp, body := p.signInFrom(fmt.Sprintf("198.51.100.%d", 10+i), email, fmt.Sprintf("guess number %d", i))
			text := "wrong"
			if strings.Contains(body, "Too many failed sign-ins for this e-mail address") {
				text = "locked"
			}
			answers = append(answers, answer{resp.StatusCode, text})
		}
		return answers
	}
	known := guess("admin@acme.test")
	unknown := guess("nobody@acme.test")
	for i := range known {
		want := answer{http.StatusUnauthorized, "wrong"}
		if i >= sites.FreeFailures {
			want = answer{http.StatusTooManyRequests, "locked"}
		}
		if known[i] != want {
			t.Errorf("guess %d at the known account: %+v, want %+v", i+1, known[i], want)
		}
		if unknown[i] != known[i] {
			t.Errorf("guess %d: the unknown address answered %+v, the known one %+v", i+1, unknown[i], known[i])
		}
	}

	// The right password, from yet another address, during the lockout.
	resp, body := p.signInFrom("203.0.113.5", "ADMIN@acme.test", adminPassword)
	if resp.StatusCode != http.StatusTooManyRequests || portaltest.Cookie(resp, "admin_session") != nil ||
		resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Try again in 1 minute") {
		t.Fatalf("the right password during the lockout: status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := testutil.ToFloat64(p.App.Metrics.AdminLockouts.WithLabelValues("true")); got != 2 {
		t.Errorf("distributed lockouts counted %v, want 2", got)
	}

	// After the back-off, the right password signs in (and the count
	// starts again); a wrong one for the unknown address is just wrong.
	p.Clock.Advance(sites.FirstLockout + time.Second)
	resp, _ = p.signInFrom("203.0.113.5", "admin@acme.test", adminPassword)
	if resp.StatusCode != http.StatusSeeOther || portaltest.Cookie(resp, "admin_session") == nil {
		t.Fatalf("after the back-off: status %d", resp.StatusCode)
	}
	if resp, _ := p.signInFrom("203.0.113.5", "nobody@acme.test", "another guess"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the unknown address after the back-off: status %d", resp.StatusCode)
	}
	// That failure (its sixth) locked it again, for twice as long.
	p.Clock.Advance(sites.FirstLockout + time.Second)
	if _, body := p.signInFrom("203.0.113.6", "nobody@acme.test", "x"); !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("the back-off did not grow: %s", body)
	}
}
