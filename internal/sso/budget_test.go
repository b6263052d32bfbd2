package sso_test

import (
	"net/http"
	"testing"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
)

func TestTheSignInBudgetChargesStartsRefusalsAndUnsolicitedResponsesOnly(t *testing.T) {
	// A company behind one NAT address: every request comes from
	// 192.0.2.10. The budget is 3 a minute.
	p := newPortal(t, portaltest.Configure(func(a *app.App) { a.SignInRate = 3 }))

	// Three people sign in from the site: three starts, and their answers
	// are free (the third one's answer passes with the budget spent).
	for i := range 3 {
		b := newBrowser()
		request, relayState := p.startSignInFrom(b, acmeHost, "/")
		resp := p.postACSFrom(b, acmeHost, p.respond(azure(request.SelectAttrValue("ID", ""))), relayState)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in %d: %d %s", i+1, resp.StatusCode, body(t, resp))
		}
	}
	// A fourth start is over the budget.
	if resp := p.get(acmeHost, "/"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the fourth start: %d, want 429", resp.StatusCode)
	}

	// Unsolicited responses (the My Apps tile) are charged on the ACS's
	// own budget: three pass, the fourth is refused before it is read.
	for i := range 4 {
		resp := p.postACS(acmeHost, p.respond(azure("")), "")
		want := http.StatusSeeOther
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("unsolicited response %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.Header.Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}
}
