package database_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"

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
	// Down as many steps as there are migrations: numbers may leave gaps
	// (branches reserve ranges), so the latest version is not the count.
	ups, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Down(len(ups)); err != nil {
		t.Fatalf("down %d: %v", len(ups), err)
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
