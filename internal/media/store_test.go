package media

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
)

func newSite(t *testing.T, pool *pgxpool.Pool, name string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), "INSERT INTO sites (name) VALUES ($1) RETURNING id", name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStoreOneOwnerPerRoomAndTakeoverWhenTheOwnerIsGone(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	acme := newSite(t, pool, "acme")
	globex := newSite(t, pool, "globex")
	p1 := NewStore(pool, "proc-1", "https://media-1.example.com", 30*time.Second)
	p2 := NewStore(pool, "proc-2", "https://media-2.example.com", 30*time.Second)

	// staleOwner makes the room's owner look dead (no heartbeat for a minute).
	staleOwner := func(site int64, key string) {
		if _, err := pool.Exec(ctx, "UPDATE media_rooms SET heartbeat_at = now() - interval '1 minute' WHERE site_id = $1 AND meeting_key = $2", site, key); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name      string
		before    func()
		store     *Store
		site      int64
		key       string
		wantOwner string
		wantURL   string
		wantSelf  bool
	}{
		{"first claim wins", nil, p1, acme, "meeting:1", "proc-1", "https://media-1.example.com", true},
		{"second process is told the owner", nil, p2, acme, "meeting:1", "proc-1", "https://media-1.example.com", false},
		{"owner claims again", nil, p1, acme, "meeting:1", "proc-1", "https://media-1.example.com", true},
		{"same meeting key on another site is another room", nil, p2, globex, "meeting:1", "proc-2", "https://media-2.example.com", true},
		{"stale owner is taken over", func() { staleOwner(acme, "meeting:1") }, p2, acme, "meeting:1", "proc-2", "https://media-2.example.com", true},
		{"former owner is now told the new one", nil, p1, acme, "meeting:1", "proc-2", "https://media-2.example.com", false},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		o, err := st.store.Claim(ctx, st.site, st.key)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if o.ProcessID != st.wantOwner || o.MediaURL != st.wantURL || o.Self != st.wantSelf {
			t.Fatalf("%s: owner %+v, want %s at %s (self %v)", st.name, o, st.wantOwner, st.wantURL, st.wantSelf)
		}
	}
}

func TestStoreHeartbeatKeepsTheClaimAndReleaseFreesIt(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	acme := newSite(t, pool, "acme")
	p1 := NewStore(pool, "proc-1", "https://media-1.example.com", 30*time.Second)
	p2 := NewStore(pool, "proc-2", "https://media-2.example.com", 30*time.Second)
	for _, key := range []string{"meeting:1", "meeting:2"} {
		if _, err := p1.Claim(ctx, acme, key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "UPDATE media_rooms SET heartbeat_at = now() - interval '1 minute'"); err != nil {
		t.Fatal(err)
	}
	if n, err := p1.Heartbeat(ctx); err != nil || n != 2 {
		t.Fatalf("heartbeat renewed %d claims (%v), want 2", n, err)
	}
	if o, err := p2.Claim(ctx, acme, "meeting:1"); err != nil || o.ProcessID != "proc-1" {
		t.Fatalf("after a heartbeat the room went to %+v (%v)", o, err)
	}
	// Another process cannot release a room it does not own.
	if err := p2.Release(ctx, acme, "meeting:1"); err != nil {
		t.Fatal(err)
	}
	if o, _ := p2.Claim(ctx, acme, "meeting:1"); o.ProcessID != "proc-1" {
		t.Fatalf("a release by a non-owner freed the room: %+v", o)
	}
	if err := p1.Release(ctx, acme, "meeting:1"); err != nil {
		t.Fatal(err)
	}
	if o, _ := p2.Claim(ctx, acme, "meeting:1"); o.ProcessID != "proc-2" {
		t.Fatalf("after release the room is still %+v", o)
	}
	if err := p1.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if o, _ := p2.Claim(ctx, acme, "meeting:2"); o.ProcessID != "proc-2" {
		t.Fatalf("after ReleaseAll meeting:2 is still %+v", o)
	}
}
