package main

import (
	"context"
	"errors"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/sites"
)

// env is the portal as the commands use it: built once by open, the same
// way for serve and for every administrative command.
type env struct {
	*app.App
}

// openEnv reads the configuration from the environment and builds the
// portal, for the administrative commands: it fails at once when PostgreSQL
// is not there, and with a sentence saying what to run when the schema is
// not migrated (rather than the first query's "relation does not exist").
func (c *cli) openEnv(ctx context.Context) (*env, error) {
	cfg, validate := c.loadConfig(nil)
	if err := validate(); err != nil {
		return nil, err
	}
	log, err := c.logger(cfg)
	if err != nil {
		return nil, err
	}
	appConfig, err := cfg.appConfig(log, false)
	if err != nil {
		return nil, err
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := database.CheckSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &env{App: app.New(pool, appConfig)}, nil
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
