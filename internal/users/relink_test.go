package users

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
)

func TestRelinkLetsTheNewOwnerSignInAndEndsTheOldOwnersSessions(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	siteStore := sites.NewStore(pool)
	acme, err := siteStore.Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	globex, err := siteStore.Create(ctx, "globex", "admin@globex.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewStore(pool, time.Now)
	store := NewStore(pool, sessions, time.Now)
	policy := Policy{AutoCreate: true}
	oldOwner := Identity{UID: "b.simon@contoso.com", Email: "b.simon@contoso.com", FirstName: "B", LastName: "Simon", ObjectID: "object-a"}
	newOwner := oldOwner
	newOwner.ObjectID = "object-b"

	user, oldToken, err := store.SignIn(ctx, acme.ID, oldOwner, policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.SignIn(ctx, acme.ID, newOwner, policy); !errors.Is(err, ErrIdentityChanged) {
		t.Fatalf("sign-in with another object ID before re-link: %v, want ErrIdentityChanged", err)
	}

	if _, err := store.Relink(ctx, globex.ID, user.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("re-link through another site: %v, want ErrNotFound", err)
	}
	if _, err := store.Relink(ctx, acme.ID, 987654); !errors.Is(err, ErrNotFound) {
		t.Fatalf("re-link of an unknown account: %v, want ErrNotFound", err)
	}
	if _, err := sessions.Lookup(ctx, acme.ID, session.User, oldToken, session.UserPolicy); err != nil {
		t.Fatalf("a refused re-link ended the session: %v", err)
	}

	if changed, err := store.Relink(ctx, acme.ID, user.ID); err != nil || !changed {
		t.Fatalf("re-link: changed %v, %v", changed, err)
	}
	if changed, err := store.Relink(ctx, acme.ID, user.ID); err != nil || changed {
		t.Fatalf("re-link again: changed %v, %v; want nothing changed", changed, err)
	}
	if _, err := sessions.Lookup(ctx, acme.ID, session.User, oldToken, session.UserPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the old owner's session survived the re-link: %v", err)
	}
	relinked, _, err := store.SignIn(ctx, acme.ID, newOwner, policy)
	if err != nil {
		t.Fatalf("sign-in after re-link: %v", err)
	}
	if relinked.ID != user.ID || relinked.ObjectID != "object-b" {
		t.Fatalf("after re-link: id %d object %q, want id %d object-b", relinked.ID, relinked.ObjectID, user.ID)
	}
	// The account is now the new owner's: the old object ID is refused.
	if _, _, err := store.SignIn(ctx, acme.ID, oldOwner, policy); !errors.Is(err, ErrIdentityChanged) {
		t.Fatalf("old owner after re-link: %v, want ErrIdentityChanged", err)
	}
}
