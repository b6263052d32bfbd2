package database_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/migrations"
)

func TestMigrationsGoUpDownAndUpAgain(t *testing.T) {
	url := dbtest.NewEmptyURL(t)
	g, err := database.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	if err := g.Up(); err != nil {
		t.Fatalf("first up: %v", err)
	}
	latest, dirty, err := g.Version()
	if err != nil || dirty || latest == 0 {
		t.Fatalf("after up: version %d dirty %v err %v", latest, dirty, err)
	}
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Down(len(all)); err != nil {
		t.Fatalf("down %d: %v", len(all), err)
	}
	if v, _, _ := g.Version(); v != 0 {
		t.Fatalf("after full down: version %d, want 0", v)
	}
	if n := countTables(t, url); n != 1 { // only golang-migrate's schema_migrations is left
		t.Fatalf("after full down: %d tables left, want only schema_migrations", n)
	}
	if err := g.Up(); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if v, _, _ := g.Version(); v != latest {
		t.Fatalf("after second up: version %d, want %d", v, latest)
	}
}

func TestDownRefusesMoreStepsThanAreAppliedAndChangesNothing(t *testing.T) {
	url := dbtest.NewURL(t)
	g, err := database.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := g.Version()
	tables := countTables(t, url)

	err = g.Down(len(all) + 1)
	var short *database.ShortError
	if !errors.As(err, &short) || short.Applied != len(all) || short.Steps != len(all)+1 {
		t.Fatalf("down %d of %d: %v, want a ShortError", len(all)+1, len(all), err)
	}
	if !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("message %q does not say nothing changed", err)
	}
	if v, _, _ := g.Version(); v != before {
		t.Fatalf("version %d after a refused down, want %d", v, before)
	}
	if n := countTables(t, url); n != tables {
		t.Fatalf("%d tables after a refused down, want %d", n, tables)
	}

	// One step less than everything is allowed, and plans the newest first.
	plan, err := g.PlanDown(2)
	if err != nil || len(plan) != 2 || plan[0].Version != before || plan[1].Version >= plan[0].Version {
		t.Fatalf("plan of down 2: %+v, %v", plan, err)
	}
}

func TestEveryDownMigrationNamesTheTablesItDestroys(t *testing.T) {
	all, err := database.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	// What each down file destroys, read by hand from migrations/. A
	// migration not listed here must at least be seen to drop something
	// when its down file says DROP TABLE or DROP COLUMN.
	want := map[uint][]string{
		1:  {"sessions", "site_admins", "sites"},
		2:  {"signin_events", "assertion_replay", "pending_requests", "idp_certificates", "sso_settings", "sp_keys"},
		3:  {"devidp_key"},
		4:  {"users"},
		5:  {"admin_audit", "metadata_drafts", "sso_settings"},
		20: {"mail_outbox", "meeting_participants", "meeting_instances", "meeting_invitees", "meeting_overrides", "meetings", "personal_rooms", "user_preferences", "meeting_settings"},
	}
	for _, m := range all {
		w, ok := want[m.Version]
		if !ok {
			down, err := fs.ReadFile(migrations.FS, fmt.Sprintf("%04d_%s.down.sql", m.Version, m.Name))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ToUpper(string(down))
			if (strings.Contains(text, "DROP TABLE") || strings.Contains(text, "DROP COLUMN")) && len(m.Drops) == 0 {
				t.Errorf("migration %d (%s) drops tables or columns, but none were read from its down file", m.Version, m.Name)
			}
			continue
		}
		if !slices.Equal(m.Drops, w) {
			t.Errorf("migration %d (%s) drops %v, want %v", m.Version, m.Name, m.Drops, w)
		}
	}
}

func TestCheckSchemaSaysWhatToRun(t *testing.T) {
	ctx := context.Background()
	empty, err := pgxpool.New(ctx, dbtest.NewEmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	var schemaErr *database.SchemaError
	if err := database.CheckSchema(ctx, empty); !errors.As(err, &schemaErr) || schemaErr.Version != 0 ||
		err.Error() != "the database is not migrated: run `portal migrate up`" {
		t.Fatalf("empty database: %v", err)
	}

	url := dbtest.NewURL(t)
	migrated, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	if err := database.CheckSchema(ctx, migrated); err != nil {
		t.Fatalf("migrated database: %v", err)
	}
	g, err := database.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Down(1); err != nil {
		t.Fatal(err)
	}
	if err := database.CheckSchema(ctx, migrated); !errors.As(err, &schemaErr) || schemaErr.Version == 0 ||
		!strings.Contains(err.Error(), "run `portal migrate up`") {
		t.Fatalf("one migration behind: %v", err)
	}
}

func countTables(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
