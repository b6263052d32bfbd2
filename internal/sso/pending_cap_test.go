package sso_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/sso"
)

// Anonymous traffic writes a pending request per page view; a site keeps
// at most its cap of them, the oldest evicted first. An evicted request's
// answer is refused (unknown-request, sign in again); the kept ones sign in.
func TestPendingRequestsAreCappedPerSiteOldestFirst(t *testing.T) {
	p := newPortal(t)
	const capacity = 5
	p.sso.PendingRequestCap = capacity
	p.Clock.Set(time.Now())
	pending := func(siteID int64) int {
		var n int
		if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM pending_requests WHERE site_id = $1`, siteID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A flood of anonymous page views, each from a browser keeping nothing.
	for range 3 * capacity {
		p.startSignInFrom(newBrowser(), acmeHost, "/")
		p.Clock.Advance(time.Second)
	}
	if n := pending(p.acme.ID); n != capacity {
		t.Fatalf("%d pending requests after %d anonymous starts, want the cap %d", n, 3*capacity, capacity)
	}
	// Another site's requests are not evicted by acme's.
	p.startSignInFrom(newBrowser(), globexHost, "/")

	// A real user's sign-in, then more anonymous traffic than the cap.
	first, firstRelay := p.startSignIn(acmeHost, "/meet/first")
	p.Clock.Advance(time.Second)
	for range capacity {
		p.startSignInFrom(newBrowser(), acmeHost, "/")
		p.Clock.Advance(time.Second)
	}
	last, lastRelay := p.startSignIn(acmeHost, "/meet/last")
	if n, g := pending(p.acme.ID), pending(p.globex.ID); n != capacity || g != 1 {
		t.Fatalf("acme %d, globex %d pending requests; want %d and 1", n, g, capacity)
	}
	before := p.lastEventID(p.acme)
	requireRefused(t, p, p.acme, before, p.postACS(acmeHost, p.respond(azure(first.SelectAttrValue("ID", ""))), firstRelay), sso.ReasonUnknownRequest)
	resp := p.postACS(acmeHost, p.respond(azure(last.SelectAttrValue("ID", ""))), lastRelay)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/meet/last" {
		t.Fatalf("the newest request: status %d: %s", resp.StatusCode, body(t, resp))
	}
}
