package sso_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
)

// The replay-cache entry, the answered request, the account, the session
// and the success event are written in one transaction: a failure injected
// at the last step (the event's INSERT, by a trigger) leaves none of them —
// no session without its event, no assertion burnt by a sign-in that
// failed — and the same response, posted again once the failure has
// passed (the browser's reload), signs the user in.
func TestSignInStepsCommitTogether(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := p.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := p.pool.QueryRow(ctx, sql, p.acme.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	state := func() (sessions, accounts, replays, answered, successes int) {
		return count(`SELECT count(*) FROM sessions WHERE site_id = $1`),
			count(`SELECT count(*) FROM users WHERE site_id = $1`),
			count(`SELECT count(*) FROM assertion_replay WHERE site_id = $1`),
			count(`SELECT count(*) FROM pending_requests WHERE site_id = $1 AND consumed_at IS NOT NULL`),
			count(`SELECT count(*) FROM signin_events WHERE site_id = $1 AND result = 'success'`)
	}
	adminSessions, _, _, _, _ := state()

	exec(`CREATE FUNCTION fail_success_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.result = 'success' THEN RAISE EXCEPTION 'injected failure'; END IF;
  RETURN NEW;
END $$`)
	exec(`CREATE TRIGGER fail_success_events BEFORE INSERT ON signin_events FOR EACH ROW EXECUTE FUNCTION fail_success_events()`)

	req, relayState := p.startSignIn(acmeHost, "/meet/b.simon")
	response := p.respond(azure(req.SelectAttrValue("ID", "")))
	resp := p.postACS(acmeHost, response, relayState)
	if resp.StatusCode < 500 || hasUserCookie(resp) {
		t.Fatalf("with the event failing: status %d, session cookie %v; want the error page and no session", resp.StatusCode, hasUserCookie(resp))
	}
	if sessions, accounts, replays, answered, successes := state(); sessions != adminSessions || accounts != 0 || replays != 0 || answered != 0 || successes != 0 {
		t.Fatalf("after the failure: %d sessions (%d before), %d accounts, %d replay entries, %d answered requests, %d success events; want none written",
			sessions, adminSessions, accounts, replays, answered, successes)
	}

	exec(`DROP TRIGGER fail_success_events ON signin_events`)
	resp = p.postACS(acmeHost, response, relayState)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/meet/b.simon" || !hasUserCookie(resp) {
		t.Fatalf("the same response after the failure: status %d location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
	}
	if sessions, accounts, replays, answered, successes := state(); sessions != adminSessions+1 || accounts != 1 || replays != 1 || answered != 1 || successes != 1 {
		t.Fatalf("after the retry: %d sessions, %d accounts, %d replay entries, %d answered requests, %d success events; want one of each",
			sessions-adminSessions, accounts, replays, answered, successes)
	}
	if e := p.lastEvent(p.acme); e.Result != sso.ResultSuccess || e.UserID == nil {
		t.Errorf("event %+v", e)
	}
	// Once signed in, the response is used up.
	before := p.lastEventID(p.acme)
	requireRefused(t, p, p.acme, before, p.postACS(acmeHost, response, relayState), sso.ReasonRequestUsed)
}
