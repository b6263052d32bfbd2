package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/sites"
)

// env is the portal as the commands use it: built once by open, the same
// way for serve and for every administrative command.
type env struct {
	*app.App
}

// open builds the portal from cfg. patient is for serve: it waits for
// PostgreSQL (with backoff, logging each try) instead of failing at once,
// as a command run by hand should.
func (c *cli) open(ctx context.Context, cfg *config, log *slog.Logger, patient bool) (*env, error) {
	appConfig, err := cfg.appConfig(log)
	if err != nil {
		return nil, err
	}
	var pool *pgxpool.Pool
	if patient {
		pool, err = database.OpenWithRetry(ctx, cfg.DatabaseURL, log, nil)
	} else {
		pool, err = database.Open(ctx, cfg.DatabaseURL)
	}
	if err != nil {
		return nil, err
	}
	return &env{App: app.New(pool, appConfig)}, nil
}

// openEnv reads the configuration from the environment and builds the
// portal, for the administrative commands.
func (c *cli) openEnv(ctx context.Context) (*env, error) {
	cfg, validate := c.loadConfig(nil)
	if err := validate(); err != nil {
		return nil, err
	}
	return c.open(ctx, cfg, newLogger(), false)
}

func (e *env) close() { e.Pool.Close() }

// site looks a site up by name; an unknown one is bad input.
func (e *env) site(ctx context.Context, name string) (sites.Site, error) {
	s, err := e.Sites.ByName(ctx, name)
	if errors.Is(err, sites.ErrNotFound) {
		return sites.Site{}, badInputf("no site named %q", name)
	}
	return s, err
}

// withSite opens the environment, looks up the site named name and runs fn:
// the shape of every command that works on one site.
func (c *cli) withSite(ctx context.Context, name string, fn func(*env, sites.Site) error) error {
	e, err := c.openEnv(ctx)
	if err != nil {
		return err
	}
	defer e.close()
	site, err := e.site(ctx, name)
	if err != nil {
		return err
	}
	return fn(e, site)
}

// record writes an audit entry for a change made from the command line, so
// the site's Admin audit page shows operators' changes too.
func (e *env) record(ctx context.Context, site sites.Site, action, detail string) error {
	return e.Audit.Record(ctx, site.ID, "command line", action, detail)
}
