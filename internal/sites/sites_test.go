package sites

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/dbtest"
)

func TestNormalizeName(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"acme", "acme", true},
		{"ACME", "acme", true},
		{"  Acme-2 ", "acme-2", true},
		{"a", "a", true},
		{"0day", "0day", true},
		{strings.Repeat("a", 63), strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), "", false},
		{"", "", false},
		{"-acme", "", false},
		{"acme-", "", false},
		{"ac_me", "", false},
		{"ac.me", "", false},
		{"acmé", "", false},
		{"ac me", "", false},
		{"www", "", false},
		{"MY", "", false},
		{"admin", "", false},
		{"api", "", false},
		{"idp", "", false},
		{"static", "", false},
	}
	for _, c := range cases {
		got, err := NormalizeName(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeName(%q) = %q, %v; want ErrInvalid", c.in, got, err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	cases := map[string]bool{
		"admin@acme.test":       true,
		"Admin@Acme.Test":       true,
		"b.simon@contoso.com":   true,
		"":                      false,
		"admin":                 false,
		"admin@localhost":       false,
		"Bob <bob@acme.test>":   false,
		"a@b@acme.test":         false,
		"admin@acme.test extra": false,
	}
	for in, ok := range cases {
		_, err := NormalizeEmail(in)
		if (err == nil) != ok {
			t.Errorf("NormalizeEmail(%q) err = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestCreateWritesSiteAndAdminOrNothing(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	site, err := s.Create(ctx, "Acme", "Admin@Acme.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	if site.Name != "acme" {
		t.Fatalf("name = %q", site.Name)
	}
	if _, err := s.Authenticate(ctx, site.ID, "admin@acme.test", "a good long password"); err != nil {
		t.Fatalf("first admin cannot sign in: %v", err)
	}

	refusals := []struct {
		name, email, pw string
		want            error
	}{
		{"acme", "other@acme.test", "a good long password", ErrExists},
		{"bad_name", "a@acme.test", "a good long password", ErrInvalid},
		{"globex", "not-an-email", "a good long password", ErrInvalid},
		{"globex", "a@globex.test", "short", ErrInvalid},
	}
	for _, r := range refusals {
		if _, err := s.Create(ctx, r.name, r.email, r.pw, nil); !errors.Is(err, r.want) {
			t.Errorf("Create(%q, %q) = %v, want %v", r.name, r.email, err, r.want)
		}
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Admins != 1 {
		t.Fatalf("after refusals: %+v, want only acme with one admin", list)
	}
}

func TestAuthenticateGivesOneAnswerForWrongEmailAndWrongPassword(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	acme, _ := s.Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	globex, _ := s.Create(ctx, "globex", "admin@globex.test", "another long password", nil)

	for _, c := range []struct {
		site      int64
		email, pw string
	}{
		{acme.ID, "admin@acme.test", "wrong password!!"},
		{acme.ID, "nobody@acme.test", "a good long password"},
		{acme.ID, "admin@globex.test", "another long password"}, // an admin of another site
		{globex.ID, "admin@acme.test", "a good long password"},
	} {
		if _, err := s.Authenticate(ctx, c.site, c.email, c.pw); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%d, %s) = %v, want ErrBadCredentials", c.site, c.email, err)
		}
	}
	if _, err := s.Authenticate(ctx, acme.ID, " ADMIN@acme.test", "a good long password"); err != nil {
		t.Errorf("e-mail should match case-insensitively: %v", err)
	}
}

func TestSetAdminPasswordReplacesTheOldOne(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	acme, _ := s.Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	if _, err := s.SetAdminPassword(ctx, acme.ID, "admin@acme.test", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, acme.ID, "admin@acme.test", "a good long password"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := s.Authenticate(ctx, acme.ID, "admin@acme.test", "a brand new password"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	if _, err := s.SetAdminPassword(ctx, acme.ID, "nobody@acme.test", "a brand new password"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown admin: %v, want ErrNotFound", err)
	}
}

func TestAuthenticateIsBusyWhenEveryHashingSlotIsTaken(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	acme, _ := s.Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	for i := 0; i < cap(s.verifySlots); i++ {
		s.verifySlots <- struct{}{}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Authenticate(short, acme.ID, "admin@acme.test", "a good long password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("all slots taken: %v, want ErrBusy", err)
	}
	<-s.verifySlots
	if _, err := s.Authenticate(ctx, acme.ID, "admin@acme.test", "a good long password"); err != nil {
		t.Fatalf("a slot free: %v", err)
	}
}

// Preload keeps every site by name in one read: a lookup afterwards asks
// PostgreSQL nothing (here: the sites table renamed away would make it
// fail). A change heard while it reads wins: nothing read before it is
// kept.
func TestPreloadKeepsSitesWithoutALookupEach(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	s := NewStore(pool)
	acme, _ := s.Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	globex, _ := s.Create(ctx, "globex", "admin@globex.test", "another long password", nil)
	s.CacheOn()
	if err := s.Preload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE sites RENAME TO sites_away`); err != nil {
		t.Fatal(err)
	}
	for _, want := range []Site{acme, globex} {
		got, err := s.ByName(ctx, strings.ToUpper(want.Name))
		if err != nil || got.ID != want.ID {
			t.Errorf("ByName(%s) = %+v, %v: not kept by Preload", want.Name, got, err)
		}
	}
	if _, err := s.ByName(ctx, "initech"); err == nil {
		t.Errorf("a site not in the database was found")
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE sites_away RENAME TO sites`); err != nil {
		t.Fatal(err)
	}

	// Forgotten (a change to the sites table) while a preload was reading:
	// what it read is not kept.
	s.Forget()
	epoch := s.byName.Epoch()
	s.Forget()
	s.byName.Put("acme", epoch, acme)
	if _, _, ok := s.byName.Get("acme"); ok {
		t.Errorf("a site read before a change was kept")
	}
	// Off (not listening): nothing is kept.
	s.CacheOff()
	if err := s.Preload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.byName.Get("acme"); ok {
		t.Errorf("kept while the cache is off")
	}
}
