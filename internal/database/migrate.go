package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meetings-portal/portal/migrations"
)

// Migrator applies the embedded migrations. golang-migrate takes a PostgreSQL
// advisory lock, so several portal processes starting together are safe.
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator prepares migrations against the database at databaseURL.
func NewMigrator(databaseURL string) (*Migrator, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	// golang-migrate picks its driver by URL scheme; ours is pgx v5.
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", err)
	}
	return &Migrator{m: m}, nil
}

// Up applies every migration not yet applied.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// ShortError refuses to revert more migrations than are applied:
// golang-migrate would revert every one of them (dropping every table) and
// only then report the shortfall.
type ShortError struct {
	Steps, Applied int
	Version        uint
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("cannot revert %d migrations: only %d are applied (schema version %d); nothing was changed",
		e.Steps, e.Applied, e.Version)
}

// PlanDown returns the migrations Down(n) would revert, newest first, or a
// *ShortError when fewer than n are applied.
func (g *Migrator) PlanDown(n int) ([]Migration, error) {
	if n <= 0 {
		return nil, fmt.Errorf("migrate down: need a positive number of steps, got %d", n)
	}
	version, _, err := g.Version()
	if err != nil {
		return nil, err
	}
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []Migration
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Version <= version {
			applied = append(applied, all[i])
		}
	}
	if n > len(applied) {
		return nil, &ShortError{Steps: n, Applied: len(applied), Version: version}
	}
	return applied[:n], nil
}

// Down reverts the last n migrations; it changes nothing when fewer than n
// are applied (*ShortError).
func (g *Migrator) Down(n int) error {
	if _, err := g.PlanDown(n); err != nil {
		return err
	}
	if err := g.m.Steps(-n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate down %d: %w", n, err)
	}
	return nil
}

// Version reports the current schema version and whether a failed migration
// left it dirty. Version 0 means nothing is applied.
func (g *Migrator) Version() (uint, bool, error) {
	v, dirty, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("migration version: %w", err)
	}
	return v, dirty, nil
}

// Close releases the migrator's connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Migrate is the common case: bring the schema at databaseURL up to date.
func Migrate(databaseURL string) error {
	g, err := NewMigrator(databaseURL)
	if err != nil {
		return err
	}
	defer g.Close()
	return g.Up()
}

// EnsureDatabase creates the database named in databaseURL if it does not
// exist, connecting to the server's "postgres" database to do so. It is what
// lets `make run` work on a fresh machine.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}
