// Package dbtest gives each test its own PostgreSQL database, cloned from a
// migrated template so that a test costs one CREATE DATABASE instead of a full
// migration run. Tests never share state and never depend on order.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/migrations"
)

const defaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the PostgreSQL server tests use: DATABASE_URL when set (its
// database name is ignored), else the local trust-auth server.
func ServerURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return defaultServerURL
}

// New creates a fresh, fully migrated database for t, dropped when t ends,
// and returns a pool on it.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("dbtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL creates a fresh, fully migrated database for t, dropped when t
// ends, and returns its connection URL (for code that opens its own pool).
func NewURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, cfg := connectAdmin(t)
	defer admin.Close(ctx)

	template, err := ensureTemplate(ctx, admin)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name := "portal_test_" + randomHex(t, 8)
	if err := createFromTemplate(ctx, admin, name, template); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, name) })
	return urlFor(cfg, name)
}

// NewEmptyURL creates an empty database (no migrations) for tests of the
// migrations themselves.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, cfg := connectAdmin(t)
	defer admin.Close(ctx)
	name := "portal_test_" + randomHex(t, 8)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("dbtest: create %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, name) })
	return urlFor(cfg, name)
}

func connectAdmin(t testing.TB) (*pgx.Conn, *pgx.ConnConfig) {
	t.Helper()
	cfg, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		t.Fatalf("dbtest: parse %s: %v", ServerURL(), err)
	}
	cfg.Database = "postgres"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("dbtest: PostgreSQL is needed at %s:%d (set DATABASE_URL): %v", cfg.Host, cfg.Port, err)
	}
	return conn, cfg
}

// ensureTemplate builds, once per schema version across every test process,
// a database migrated to the latest version. Its name carries a hash of the
// migration files, so a changed migration gets a fresh template.
func ensureTemplate(ctx context.Context, admin *pgx.Conn) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "portal_template_" + sum[:16]
	lockKey := int64(binary.BigEndian.Uint64([]byte(sum[:8])))
	// Test packages run in parallel processes; the advisory lock makes one of
	// them build the template while the others wait.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop stale template: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	if err := database.Migrate(urlFor(admin.Config(), building)); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("publish template: %w", err)
	}
	return name, nil
}

func createFromTemplate(ctx context.Context, admin *pgx.Conn, name, template string) error {
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	for attempt := 0; ; attempt++ {
		_, err := admin.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		// 55006: the template is briefly in use by a concurrent clone.
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 50 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("create %s from template: %w", name, err)
		}
		return nil
	}
}

func dropDatabase(t testing.TB, name string) {
	admin, _ := connectAdmin(t)
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("dbtest: drop %s: %v", name, err)
	}
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func urlFor(cfg *pgx.ConnConfig, database string) string {
	user := cfg.User
	if cfg.Password != "" {
		user += ":" + cfg.Password
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", user, cfg.Host, cfg.Port, database)
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("dbtest: random: %v", err)
	}
	return hex.EncodeToString(b)
}
