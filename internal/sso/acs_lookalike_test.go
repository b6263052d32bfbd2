package sso_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/users"
)

// lookAlike is b.simon@contoso.com with U+0130 (İ) for the i: strings.ToLower
// folds it into b.simon@contoso.com.
const lookAlike = "b.s\u0130mon@contoso.com"

// A uid that only looks like an existing account's never signs in to it
// and never becomes an account of its own: the sign-in is refused with
// account-look-alike, recorded against the account it imitates, whether
// that account is linked to an IdP object yet or not.
func TestALookAlikeUIDNeverTakesOverAnAccount(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	evilObject := "0a1b2c3d-0000-4000-8000-0000000000ee"

	t.Run("AccountLinkedToAnObject", func(t *testing.T) {
		p := p.forTest(t)
		p.signIn("b.simon@contoso.com", claims("b.simon@contoso.com", "b.simon@contoso.com", "B", "Simon", ssotest.DefaultObjectID))
		victim, _ := p.account("b.simon@contoso.com")
		accounts := p.countUsers(p.acme)
		p.refusedSignIn(lookAlike, claims(lookAlike, lookAlike, "B", "Simon", evilObject), sso.ReasonLookAlike, "looks like the name of another person")
		e := p.lastEvent(p.acme)
		if e.UserID == nil || *e.UserID != victim.ID || e.ClaimedUID != "b.si\u0307mon@contoso.com" || e.ClaimedObjectID != evilObject {
			t.Errorf("event %+v: want it on account %d with the claimed identity", e, victim.ID)
		}
		if !strings.Contains(e.Detail, "U+0307 COMBINING DOT ABOVE") {
			t.Errorf("the event does not say which character differs: %s", e.Detail)
		}
		if after, _ := p.account("b.simon@contoso.com"); after.ObjectID != ssotest.DefaultObjectID || p.countUsers(p.acme) != accounts || p.userSessions(victim.ID) != 1 {
			t.Errorf("the account changed, or an account or session was made: %+v", after)
		}
	})

	t.Run("AccountNotLinkedYet", func(t *testing.T) {
		p := p.forTest(t)
		// Made by hand before its first sign-in: no object ID, no
		// skeleton computed yet.
		var id int64
		if err := p.pool.QueryRow(ctx, `INSERT INTO users (site_id, uid, email, first_name, last_name, created_by, created_at, updated_at)
VALUES ($1, 'k.ivanova@contoso.com', 'k.ivanova@contoso.com', 'Katya', 'Ivanova', 'admin', now(), now()) RETURNING id`, p.acme.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		// Cyrillic і (U+0456) for the Latin i.
		imitation := "k.\u0456vanova@contoso.com"
		p.refusedSignIn(imitation, claims(imitation, imitation, "Katya", "Ivanova", evilObject), sso.ReasonLookAlike)
		u, err := p.App.Users.ByID(ctx, p.acme.ID, id)
		if err != nil || u.ObjectID != "" || u.LastSignInAt != nil || p.userSessions(id) != 0 {
			t.Errorf("the unlinked account was taken: %+v %v", u, err)
		}
		if _, ok := p.account("k.\u0456vanova@contoso.com"); ok {
			t.Errorf("the look-alike got an account of its own")
		}
		// Its real owner still signs in, and links it.
		p.signIn("k.ivanova@contoso.com", claims("K.Ivanova@contoso.com", "k.ivanova@contoso.com", "Katya", "Ivanova", "0a1b2c3d-0000-4000-8000-0000000000aa"))
		if u, _ := p.App.Users.ByID(ctx, p.acme.ID, id); u.ObjectID != "0a1b2c3d-0000-4000-8000-0000000000aa" {
			t.Errorf("the owner's sign-in did not link the account: %+v", u)
		}
	})

	t.Run("IdentifierPRECISRefuses", func(t *testing.T) {
		p := p.forTest(t)
		for _, uid := range []string{"b simon@contoso.com", "b.simon\u200d@contoso.com"} {
			p.refusedSignIn(uid, claims(uid, "b.simon@contoso.com", "B", "Simon", evilObject), sso.ReasonIdentifierRefused, "cannot use")
			if e := p.lastEvent(p.acme); !strings.Contains(e.Detail, "uid") {
				t.Errorf("the event does not name the claim: %s", e.Detail)
			}
		}
	})

	// An account stored before PRECIS in another form of the same
	// identifier (NFD, as strings.ToLower kept it) is the same account.
	t.Run("LegacyFormOfTheSameUID", func(t *testing.T) {
		p := p.forTest(t)
		var id int64
		if err := p.pool.QueryRow(ctx, `INSERT INTO users (site_id, uid, email, first_name, last_name, created_at, updated_at)
VALUES ($1, 'mu`+"\u0308"+`ller@contoso.com', 'mu`+"\u0308"+`ller@contoso.com', 'Jo', 'Müller', now(), now()) RETURNING id`, p.acme.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p.signIn("Müller@contoso.com", claims("Müller@contoso.com", "Müller@contoso.com", "Jo", "Müller", "0a1b2c3d-0000-4000-8000-0000000000bb"))
		if e := p.lastEvent(p.acme); e.UserID == nil || *e.UserID != id {
			t.Errorf("signed in to account %v, want the existing %d", e.UserID, id)
		}
		if u, _ := p.App.Users.ByID(ctx, p.acme.ID, id); u.UID != "müller@contoso.com" {
			t.Errorf("uid %q, want it re-keyed to its normalised form", u.UID)
		}
	})

	// Accounts found beside a new uid that are not in its way: an ASCII
	// uid sharing its skeleton ("rn" looks like "m", but real colleagues
	// have such addresses), and one whose skeleton is not known yet. The
	// new user gets an account, and the skeleton is stored on the way.
	t.Run("AccountsBesideANewUIDThatAreNotInItsWay", func(t *testing.T) {
		p := p.forTest(t)
		if _, err := p.pool.Exec(ctx, `INSERT INTO users (site_id, uid, email, first_name, last_name, created_at, updated_at, uid_skeleton)
VALUES ($1, 'rnorris@contoso.com', 'rnorris@contoso.com', 'R', 'Norris', now(), now(), $2),
       ($1, 'a.unrelated@contoso.com', 'a.unrelated@contoso.com', 'A', 'Unrelated', now(), now(), NULL)`,
			p.acme.ID, identifier.Skeleton("rnorris@contoso.com")); err != nil {
			t.Fatal(err)
		}
		if identifier.Skeleton("rnorris@contoso.com") != identifier.Skeleton("morris@contoso.com") {
			t.Fatal("the test needs two ASCII uids with one skeleton")
		}
		p.signIn("morris@contoso.com", claims("morris@contoso.com", "morris@contoso.com", "M", "Orris", "0a1b2c3d-0000-4000-8000-0000000000cc"))
		if u, ok := p.account("morris@contoso.com"); !ok || u.CreatedBy != "jit" || u.LastSignInAt == nil {
			t.Errorf("no account made for morris: %+v", u)
		}
		var unknown int
		if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE site_id = $1 AND uid_skeleton IS NULL`, p.acme.ID).Scan(&unknown); err != nil || unknown != 0 {
			t.Errorf("%d skeletons still unknown (%v)", unknown, err)
		}
	})

	// Two first sign-ins of look-alike uids at once: never two accounts.
	t.Run("ConcurrentFirstSignIns", func(t *testing.T) {
		p := p.forTest(t)
		store := users.NewStore(p.pool, p.App.Sessions, time.Now)
		results := make(chan error, 2)
		for _, uid := range []string{"z.ilic@contoso.com", "z.\u0131lic@contoso.com"} {
			go func() {
				id, err := users.IdentityFrom(uid, claims(uid, uid, "Z", "Ilic", ""))
				if err == nil {
					_, _, err = store.SignIn(ctx, p.acme.ID, id, users.Policy{AutoCreate: true})
				}
				results <- err
			}()
		}
		errs := []error{<-results, <-results}
		var n int
		if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE site_id = $1 AND uid LIKE 'z.%lic@contoso.com'`, p.acme.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d accounts for two look-alike uids (errors %v)", n, errs)
		}
	})
}
