package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/migrations"
)

// Migration is one embedded migration, with what its down step destroys.
type Migration struct {
	Version uint
	Name    string // the file name without version and suffix: "sso_admin"
	// Drops are the tables its down step drops, or drops columns of: the
	// data in their rows is lost when it runs.
	Drops []string
}

// migrationFile is golang-migrate's file naming: NNNN_name.up.sql.
var migrationFile = regexp.MustCompile(`^([0-9]+)_(.+)\.(up|down)\.sql$`)

// Migrations lists the embedded migrations, oldest first.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	byVersion := map[uint]*Migration{}
	for _, file := range names {
		m := migrationFile.FindStringSubmatch(file)
		if m == nil {
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 0)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", file, err)
		}
		mig := byVersion[uint(v)]
		if mig == nil {
			mig = &Migration{Version: uint(v), Name: m[2]}
			byVersion[uint(v)] = mig
		}
		if m[3] == "down" {
			sql, err := fs.ReadFile(migrations.FS, file)
			if err != nil {
				return nil, fmt.Errorf("read migration %s: %w", file, err)
			}
			mig.Drops = droppedTables(string(sql))
		}
	}
	var out []Migration
	for _, mig := range byVersion {
		out = append(out, *mig)
	}
	slices.SortFunc(out, func(a, b Migration) int { return int(a.Version) - int(b.Version) })
	return out, nil
}

// LatestVersion is the newest embedded migration: the schema this portal
// needs.
func LatestVersion() (uint, error) {
	list, err := Migrations()
	if err != nil || len(list) == 0 {
		return 0, errors.Join(err, errors.New("no embedded migrations"))
	}
	return list[len(list)-1].Version, nil
}

var (
	sqlComment = regexp.MustCompile(`--[^\n]*`)
	dropTable  = regexp.MustCompile(`(?is)^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.+?)(?:\s+(?:CASCADE|RESTRICT))?\s*$`)
	dropColumn = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(\S+)\s.*\bDROP\s+COLUMN\b`)
)

// droppedTables reads a down migration for the two statements that destroy
// rows' data: DROP TABLE and ALTER TABLE … DROP COLUMN (written with the
// word COLUMN). It is a reading of our own files (one statement per ;, no ;
// inside strings), not a SQL parser; schema_test checks it against every
// embedded down file.
func droppedTables(sql string) []string {
	var tables []string
	for _, stmt := range strings.Split(sqlComment.ReplaceAllString(sql, ""), ";") {
		if m := dropTable.FindStringSubmatch(stmt); m != nil {
			for _, t := range strings.Split(m[1], ",") {
				tables = append(tables, unquote(t))
			}
		} else if m := dropColumn.FindStringSubmatch(stmt); m != nil {
			tables = append(tables, unquote(m[1]))
		}
	}
	return tables
}

func unquote(name string) string { return strings.Trim(strings.TrimSpace(name), `"`) }

// TablesWithRows returns those of tables that exist and hold at least one row.
func TablesWithRows(ctx context.Context, pool *pgxpool.Pool, tables []string) ([]string, error) {
	var out []string
	for _, t := range tables {
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&exists); err != nil {
			return nil, fmt.Errorf("look up table %s: %w", t, err)
		}
		if !exists {
			continue
		}
		var rows bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t}.Sanitize()+`)`).Scan(&rows); err != nil {
			return nil, fmt.Errorf("look into table %s: %w", t, err)
		}
		if rows {
			out = append(out, t)
		}
	}
	return out, nil
}

// SchemaError says the database's schema is not the one this portal needs.
type SchemaError struct {
	Version uint // 0: never migrated
	Want    uint
	Dirty   bool
}

func (e *SchemaError) Error() string {
	switch {
	case e.Dirty:
		return fmt.Sprintf("the database schema is dirty at version %d (a migration failed half-way): see `portal migrate version`", e.Version)
	case e.Version == 0:
		return "the database is not migrated: run `portal migrate up`"
	default:
		return fmt.Sprintf("the database schema is at version %d, this portal needs %d: run `portal migrate up`", e.Version, e.Want)
	}
}

// CheckSchema returns a *SchemaError unless the database is migrated to at
// least the newest embedded migration. A newer schema is accepted: during a
// rolling upgrade the old processes keep serving on the new schema.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := LatestVersion()
	if err != nil {
		return err
	}
	var version int64
	var dirty bool
	// schema_migrations is golang-migrate's table; it holds one row, none
	// once every migration was reverted.
	err = pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		version = 0
	case err != nil:
		return fmt.Errorf("read the schema version: %w", err)
	}
	if dirty || version < int64(want) {
		return &SchemaError{Version: uint(max(version, 0)), Want: want, Dirty: dirty}
	}
	return nil
}
