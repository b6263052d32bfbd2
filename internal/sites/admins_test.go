package sites

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/meetings-portal/portal/internal/dbtest"
)

const testPassword = "a good long password"

func newAdminsFixture(t *testing.T) (*Store, Site, Site) {
	t.Helper()
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	acme, err := s.Create(ctx, "acme", "first@acme.test", testPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	globex, err := s.Create(ctx, "globex", "first@globex.test", testPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, acme, globex
}

func adminByEmail(t *testing.T, s *Store, siteID int64, email string) Admin {
	t.Helper()
	list, err := s.ListAdmins(context.Background(), siteID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Email == email {
			return a
		}
	}
	t.Fatalf("no admin %s in %v", email, list)
	return Admin{}
}

func TestListAdminsReturnsOnlyThisSitesAdminsByEmail(t *testing.T) {
	ctx := context.Background()
	s, acme, globex := newAdminsFixture(t)
	for _, e := range []string{"zed@acme.test", "Bea@acme.test"} {
		if err := s.CreateAdmin(ctx, acme.ID, e, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListAdmins(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range list {
		if a.SiteID != acme.ID {
			t.Errorf("admin %s of site %d listed for acme", a.Email, a.SiteID)
		}
		got = append(got, a.Email)
	}
	want := []string{"bea@acme.test", "first@acme.test", "zed@acme.test"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if other, _ := s.ListAdmins(ctx, globex.ID); len(other) != 1 || other[0].Email != "first@globex.test" {
		t.Fatalf("globex admins: %v", other)
	}
}

func TestRemoveAdmin(t *testing.T) {
	ctx := context.Background()
	s, acme, globex := newAdminsFixture(t)
	if err := s.CreateAdmin(ctx, acme.ID, "second@acme.test", testPassword); err != nil {
		t.Fatal(err)
	}
	first := adminByEmail(t, s, acme.ID, "first@acme.test")
	second := adminByEmail(t, s, acme.ID, "second@acme.test")
	globexAdmin := adminByEmail(t, s, globex.ID, "first@globex.test")

	if _, err := s.RemoveAdmin(ctx, acme.ID, first.ID, first.ID); !errors.Is(err, ErrRemoveSelf) {
		t.Errorf("removing oneself: %v, want ErrRemoveSelf", err)
	}
	if _, err := s.RemoveAdmin(ctx, acme.ID, globexAdmin.ID, first.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing another site's admin: %v, want ErrNotFound", err)
	}
	if _, err := s.RemoveAdmin(ctx, acme.ID, 987654, first.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing an unknown admin: %v, want ErrNotFound", err)
	}
	removed, err := s.RemoveAdmin(ctx, acme.ID, second.ID, first.ID)
	if err != nil || removed.Email != "second@acme.test" {
		t.Fatalf("remove second: %+v, %v", removed, err)
	}
	if _, err := s.Authenticate(ctx, acme.ID, "second@acme.test", testPassword); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("removed admin still signs in: %v", err)
	}
	// first is now the only admin: even another actor (the command line, a
	// stale page) cannot remove it.
	if _, err := s.RemoveAdmin(ctx, acme.ID, first.ID, second.ID); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("removing the last admin: %v, want ErrLastAdmin", err)
	}
	if _, err := s.AdminByID(ctx, globex.ID, globexAdmin.ID); err != nil {
		t.Errorf("globex admin touched: %v", err)
	}
}

// Two admins removing each other at the same moment must not leave the site
// with none: the removals are serialised on the site's admin rows.
func TestConcurrentRemovalsKeepOneAdmin(t *testing.T) {
	ctx := context.Background()
	s, acme, _ := newAdminsFixture(t)
	if err := s.CreateAdmin(ctx, acme.ID, "second@acme.test", testPassword); err != nil {
		t.Fatal(err)
	}
	first := adminByEmail(t, s, acme.ID, "first@acme.test")
	second := adminByEmail(t, s, acme.ID, "second@acme.test")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]int64{{first.ID, second.ID}, {second.ID, first.ID}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.RemoveAdmin(ctx, acme.ID, pair[0], pair[1])
		}()
	}
	wg.Wait()
	list, err := s.ListAdmins(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d admins left (errors %v)", len(list), errs)
	}
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrLastAdmin) || errors.Is(errs[1], ErrLastAdmin)) {
		t.Fatalf("want one removal and one ErrLastAdmin, got %v", errs)
	}
}
