package sso_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/users"
)

// account is one user row as the tests read it.
func (p *portal) account(uid string) (users.User, bool) {
	p.t.Helper()
	list, err := users.NewStore(p.pool, session.NewStore(p.pool, time.Now), time.Now).List(context.Background(), p.acme.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, u := range list {
		if u.UID == uid {
			return u, true
		}
	}
	return users.User{}, false
}

func (p *portal) userSessions(userID int64) int {
	p.t.Helper()
	var n int
	if err := p.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM sessions WHERE site_id = $1 AND kind = 'user' AND subject_id = $2`, p.acme.ID, userID).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// signIn posts an IdP-initiated response for nameID with attributes to
// acme and requires it to be accepted; it returns the session cookie.
func (p *portal) signIn(nameID string, attributes map[string][]string) *http.Cookie {
	p.t.Helper()
	resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.NameID, o.Attributes = nameID, attributes }), "")
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("sign-in of %s: status %d: %s", nameID, resp.StatusCode, body(p.t, resp))
	}
	return userCookie(p.t, resp)
}

// refusedSignIn posts like signIn and requires a refusal with reason.
func (p *portal) refusedSignIn(nameID string, attributes map[string][]string, reason string, page ...string) {
	p.t.Helper()
	before := p.lastEventID(p.acme)
	resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.NameID, o.Attributes = nameID, attributes }), "")
	requireRefused(p.t, p, p.acme, before, resp, reason, page...)
}

// claims are the tutorial's four custom claims plus an object ID.
func claims(uid, email, first, last, objectID string) map[string][]string {
	c := map[string][]string{"uid": {uid}, "email": {email}, "firstname": {first}, "lastname": {last}}
	if objectID != "" {
		c[ssotest.ClaimObjectID] = []string{objectID}
	}
	return c
}

// TestJITAccounts covers issue 3's "Just-in-time accounts" through the
// ACS, on one portal; each subtest signs in its own user.
func TestJITAccounts(t *testing.T) {
	root := newPortal(t)

	t.Run("AutoCreateMakesTheAccountFromTheCustomClaims", func(t *testing.T) {
		p := root.forTest(t)
		// The NameID differs from uid: the account key is uid.
		cookie := p.signIn("someone-else@contoso.com", claims("Carol.Diaz@Contoso.com", "carol@contoso.com", "Carol", "Díaz", "0a1b2c3d-0000-4000-8000-000000000001"))
		u, ok := p.account("carol.diaz@contoso.com")
		if !ok {
			t.Fatalf("no account with uid carol.diaz@contoso.com")
		}
		if u.Email != "carol@contoso.com" || u.FirstName != "Carol" || u.LastName != "Díaz" ||
			u.ObjectID != "0a1b2c3d-0000-4000-8000-000000000001" || u.CreatedBy != "jit" || !u.Active || u.LastSignInAt == nil {
			t.Errorf("account %+v", u)
		}
		if _, ok := p.account("someone-else@contoso.com"); ok {
			t.Errorf("an account was keyed on the NameID instead of uid")
		}
		if e := p.lastEvent(p.acme); e.Result != sso.ResultSuccess || e.UserID == nil || *e.UserID != u.ID {
			t.Errorf("event %+v", e)
		}
		if home := body(t, p.get(acmeHost, "/", cookie)); !strings.Contains(home, "Welcome, Carol Díaz") {
			t.Errorf("home: %s", home)
		}
	})

	t.Run("AzureDefaultClaimsWhenTheShortNamesAreMissing", func(t *testing.T) {
		p := root.forTest(t)
		p.signIn("dan@contoso.com", map[string][]string{
			ssotest.ClaimGivenName:    {"Dan"},
			ssotest.ClaimSurname:      {"Evans"},
			ssotest.ClaimEmailAddress: {"Dan.Evans@contoso.com"},
			ssotest.ClaimName:         {"dan.upn@contoso.com"},
			ssotest.ClaimObjectID:     {"0A1B2C3D-0000-4000-8000-000000000002"},
		})
		u, ok := p.account("dan.evans@contoso.com")
		if !ok {
			t.Fatalf("no account keyed on the emailaddress claim")
		}
		// The e-mail address is stored normalised (RFC 8265, case-mapped).
		if u.Email != "dan.evans@contoso.com" || u.FirstName != "Dan" || u.LastName != "Evans" || u.ObjectID != "0a1b2c3d-0000-4000-8000-000000000002" {
			t.Errorf("account %+v", u)
		}
	})

	t.Run("UIDIsComparedCaseInsensitively", func(t *testing.T) {
		p := root.forTest(t)
		before := p.countUsers(p.acme)
		p.signIn("B.Simon@contoso.com", claims("B.Simon@contoso.com", "B.Simon@contoso.com", "B", "Simon", ssotest.DefaultObjectID))
		first := *p.lastEvent(p.acme).UserID
		p.signIn("b.simon@contoso.com", claims("b.simon@CONTOSO.com", "b.simon@contoso.com", "B", "Simon", ssotest.DefaultObjectID))
		second := *p.lastEvent(p.acme).UserID
		if first != second || p.countUsers(p.acme) != before+1 {
			t.Errorf("B.Simon@ and b.simon@ gave users %d and %d, %d new accounts; want one", first, second, p.countUsers(p.acme)-before)
		}
	})

	t.Run("AutoCreateOffRefusesAnUnknownUser", func(t *testing.T) {
		p := root.forTest(t)
		p.set(p.acme, func(s *sso.Settings) { s.AutoCreate = false })
		t.Cleanup(func() { p.set(p.acme, func(s *sso.Settings) { s.AutoCreate = true }) })
		before := p.countUsers(p.acme)
		p.refusedSignIn("erin@contoso.com", claims("erin@contoso.com", "erin@contoso.com", "Erin", "Fox", ""), sso.ReasonNoAccount,
			"You do not have an account on this site yet", "Ask your site administrator")
		if n := p.countUsers(p.acme); n != before {
			t.Errorf("an account was created with Auto Account Creation off")
		}
		// An existing account still signs in.
		p.signIn("b.simon@contoso.com", claims("b.simon@contoso.com", "b.simon@contoso.com", "B", "Simon", ssotest.DefaultObjectID))
	})

	t.Run("MissingAttributesAreNamedAndNothingIsCreated", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			attrs   map[string][]string
			missing string
		}{
			{"OnlyUID", map[string][]string{"uid": {"gail@contoso.com"}}, "email, firstname, lastname"},
			{"NoLastName", map[string][]string{"uid": {"gail@contoso.com"}, "email": {"gail@contoso.com"}, "firstname": {"Gail"}}, "lastname"},
			{"EmptyFirstName", map[string][]string{"uid": {"gail@contoso.com"}, "email": {"gail@contoso.com"}, "firstname": {"  "}, "lastname": {"Hart"}}, "firstname"},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := root.forTest(t)
				before := p.countUsers(p.acme)
				p.refusedSignIn("gail@contoso.com", c.attrs, sso.ReasonMissingAttributes,
					"did not send everything needed", "<code>"+c.missing+"</code>")
				if e := p.lastEvent(p.acme); !strings.Contains(e.Detail, "did not send "+c.missing+",") {
					t.Errorf("event detail %q does not name exactly %q", e.Detail, c.missing)
				}
				if n := p.countUsers(p.acme); n != before {
					t.Errorf("an account was created without %s", c.missing)
				}
			})
		}
	})

	t.Run("AutoUpdateOnRefreshesNamesAndEmail", func(t *testing.T) {
		p := root.forTest(t)
		p.set(p.acme, func(s *sso.Settings) { s.AutoUpdate = true })
		t.Cleanup(func() { p.set(p.acme, func(s *sso.Settings) { s.AutoUpdate = false }) })
		p.signIn("hank@contoso.com", claims("hank@contoso.com", "hank@contoso.com", "Hank", "Ito", "0a1b2c3d-0000-4000-8000-000000000003"))
		p.signIn("hank@contoso.com", claims("hank@contoso.com", "hank.ito@fabrikam.com", "Henry", "Ito-Jones", "0a1b2c3d-0000-4000-8000-000000000003"))
		if u, _ := p.account("hank@contoso.com"); u.Email != "hank.ito@fabrikam.com" || u.FirstName != "Henry" || u.LastName != "Ito-Jones" {
			t.Errorf("with Auto Account Update on, account %+v was not refreshed", u)
		}
	})

	t.Run("AutoUpdateOffKeepsNamesAndEmail", func(t *testing.T) {
		p := root.forTest(t)
		p.set(p.acme, func(s *sso.Settings) { s.AutoUpdate = false })
		p.signIn("ivy@contoso.com", claims("ivy@contoso.com", "ivy@contoso.com", "Ivy", "Jones", "0a1b2c3d-0000-4000-8000-000000000004"))
		p.signIn("ivy@contoso.com", claims("ivy@contoso.com", "ivy.k@fabrikam.com", "Ivy", "King", "0a1b2c3d-0000-4000-8000-000000000004"))
		if u, _ := p.account("ivy@contoso.com"); u.Email != "ivy@contoso.com" || u.FirstName != "Ivy" || u.LastName != "Jones" || u.LastSignInAt == nil {
			t.Errorf("with Auto Account Update off, account %+v changed", u)
		}
	})

	t.Run("DeactivatedAccountIsRefusedAndItsSessionsEnd", func(t *testing.T) {
		p := root.forTest(t)
		attrs := claims("jack@contoso.com", "jack@contoso.com", "Jack", "Lee", "0a1b2c3d-0000-4000-8000-000000000005")
		cookie := p.signIn("jack@contoso.com", attrs)
		u, _ := p.account("jack@contoso.com")
		if p.userSessions(u.ID) != 1 {
			t.Fatalf("want one session before deactivation")
		}
		store := users.NewStore(p.pool, session.NewStore(p.pool, time.Now), time.Now)
		if _, err := store.SetActive(context.Background(), p.acme.ID, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if n := p.userSessions(u.ID); n != 0 {
			t.Errorf("%d sessions left after deactivation", n)
		}
		if resp := p.get(acmeHost, "/", cookie); resp.StatusCode != http.StatusFound {
			t.Errorf("the old session still opens the home page: status %d", resp.StatusCode)
		}
		p.refusedSignIn("jack@contoso.com", attrs, sso.ReasonDeactivated, "has been deactivated")
		if n := p.userSessions(u.ID); n != 0 {
			t.Errorf("a refused sign-in left %d sessions", n)
		}
	})

	t.Run("ObjectIDChangeIsRefused", func(t *testing.T) {
		p := root.forTest(t)
		p.signIn("kim@contoso.com", claims("kim@contoso.com", "kim@contoso.com", "Kim", "Moe", "0a1b2c3d-0000-4000-8000-000000000006"))
		// The address now belongs to someone else in the directory.
		p.refusedSignIn("kim@contoso.com", claims("kim@contoso.com", "kim@contoso.com", "Kim", "New", "0a1b2c3d-0000-4000-8000-0000000000ff"),
			sso.ReasonIdentityChanged, "belongs to an existing account of someone else")
		if u, _ := p.account("kim@contoso.com"); u.ObjectID != "0a1b2c3d-0000-4000-8000-000000000006" || u.LastName != "Moe" {
			t.Errorf("account changed by the refused sign-in: %+v", u)
		}
	})

	t.Run("HTMLInAttributesIsRenderedEscaped", func(t *testing.T) {
		p := root.forTest(t)
		cookie := p.signIn("lou@contoso.com", claims("lou@contoso.com", "lou@contoso.com", "<script>alert(1)</script>", `<img src=x onerror="alert(2)">`, ""))
		home := body(t, p.get(acmeHost, "/", cookie))
		if strings.Contains(home, "<script>alert(1)") || strings.Contains(home, "<img src=x") {
			t.Fatalf("attribute HTML rendered as markup: %s", home)
		}
		if !strings.Contains(home, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(home, "&lt;img src=x") {
			t.Errorf("the escaped names are not on the home page: %s", home)
		}
	})
}

// TestConcurrentFirstSignInsCreateOneAccount sends two first sign-ins of one
// new user, with two different assertions, at the same moment: one
// account, two successful sign-ins, two sessions.
func TestConcurrentFirstSignInsCreateOneAccount(t *testing.T) {
	p := newPortal(t)
	// Three users, so that the race is run three times.
	for i, uid := range []string{"nina@contoso.com", "omar@contoso.com", "pia@contoso.com"} {
		attrs := claims(uid, uid, "First", "Last", fmt.Sprintf("0a1b2c3d-0000-4000-8000-00000000010%d", i))
		// Two different assertions (their own IDs), as two browser tabs
		// signing in at once would bring.
		responses := []string{
			p.respondWith(func(o *ssotest.Options) { o.NameID, o.Attributes = uid, attrs }),
			p.respondWith(func(o *ssotest.Options) { o.NameID, o.Attributes = strings.ToUpper(uid), attrs }),
		}
		start := make(chan struct{})
		results := make([]*http.Response, len(responses))
		var wg sync.WaitGroup
		for k, r := range responses {
			wg.Go(func() {
				<-start
				results[k] = p.postACS(acmeHost, r, "")
			})
		}
		close(start)
		wg.Wait()

		tokens := map[string]bool{}
		for i, resp := range results {
			if resp.StatusCode != http.StatusSeeOther || !hasUserCookie(resp) {
				t.Fatalf("%s sign-in %d: status %d: %s", uid, i, resp.StatusCode, body(t, resp))
			}
			tokens[userCookie(t, resp).Value] = true
		}
		if len(tokens) != 2 {
			t.Errorf("%s: the two sign-ins got %d distinct sessions", uid, len(tokens))
		}
		var accounts int
		if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE site_id = $1 AND uid = $2`, p.acme.ID, uid).Scan(&accounts); err != nil {
			t.Fatal(err)
		}
		if accounts != 1 {
			t.Fatalf("%s: %d accounts, want 1", uid, accounts)
		}
		u, _ := p.account(uid)
		if n := p.userSessions(u.ID); n != 2 {
			t.Errorf("%s: %d sessions, want 2", uid, n)
		}
		events, err := p.sso.RecentEvents(context.Background(), p.acme.ID, sso.EventFilter{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Result != sso.ResultSuccess || e.UserID == nil || *e.UserID != u.ID {
				t.Errorf("%s: event %+v", uid, e)
			}
		}
	}
}

// TestOneAssertionPostedManyTimesAtOnceSignsInOnce posts one response eight
// times at the same moment, first sign-in and returning user alike: one
// sign-in, one session, seven refusals as replayed, and the account
// written once.
func TestOneAssertionPostedManyTimesAtOnceSignsInOnce(t *testing.T) {
	p := newPortal(t)
	const uid = "quinn@contoso.com"
	attrs := claims(uid, uid, "Quinn", "Lee", "0a1b2c3d-0000-4000-8000-000000000201")
	for round, what := range []string{"first sign-in", "returning user"} {
		response := p.respondWith(func(o *ssotest.Options) { o.NameID, o.Attributes = uid, attrs })
		start := make(chan struct{})
		results := make([]*http.Response, 8)
		var wg sync.WaitGroup
		for k := range results {
			wg.Go(func() {
				<-start
				results[k] = p.postACS(acmeHost, response, "")
			})
		}
		close(start)
		wg.Wait()
		signedIn := 0
		for k, resp := range results {
			switch {
			case resp.StatusCode == http.StatusSeeOther && hasUserCookie(resp):
				signedIn++
			case resp.StatusCode == http.StatusForbidden && !hasUserCookie(resp):
			default:
				t.Fatalf("%s, post %d: status %d: %s", what, k, resp.StatusCode, body(t, resp))
			}
		}
		if signedIn != 1 {
			t.Fatalf("%s: %d of 8 posts of one assertion signed in, want 1", what, signedIn)
		}
		u, _ := p.account(uid)
		if n := p.userSessions(u.ID); n != round+1 {
			t.Errorf("%s: %d sessions, want %d", what, n, round+1)
		}
		var replays int
		if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM signin_events WHERE site_id = $1 AND reason = $2`,
			p.acme.ID, sso.ReasonReplayed).Scan(&replays); err != nil {
			t.Fatal(err)
		}
		if want := 7 * (round + 1); replays != want {
			t.Errorf("%s: %d replay refusals recorded, want %d", what, replays, want)
		}
	}
}
