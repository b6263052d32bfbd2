package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
)

// env is what the administrative commands share: the configuration, an open
// pool and the stores.
type env struct {
	cfg      *config
	log      *slog.Logger
	pool     *pgxpool.Pool
	hosts    sites.Hosts
	sites    *sites.Store
	sessions *session.Store
	users    *users.Store
	sso      *sso.Service
	audit    *audit.Log
}

func (c *cli) openEnv(ctx context.Context) (*env, error) {
	cfg, validate, _ := c.loadConfig(nil)
	if err := validate(); err != nil {
		return nil, err
	}
	pool, err := cfg.openPool(ctx)
	if err != nil {
		return nil, err
	}
	siteStore, err := sites.NewStore(pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	hosts, _ := sites.ParseBaseURL(cfg.BaseURL)
	log := newLogger()
	box, err := cfg.secretBox(log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	sessions := session.NewStore(pool, time.Now)
	return &env{
		cfg: cfg, log: log, pool: pool, hosts: hosts, sites: siteStore, sessions: sessions,
		users: users.NewStore(pool, sessions, time.Now),
		sso:   sso.New(pool, box, hosts, log, nil),
		audit: audit.New(pool, time.Now),
	}, nil
}

func (e *env) close() { e.pool.Close() }

// site looks a site up by name; an unknown one is bad input.
func (e *env) site(ctx context.Context, name string) (sites.Site, error) {
	s, err := e.sites.ByName(ctx, name)
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
	return e.audit.Record(ctx, site.ID, "command line", action, detail)
}

// afterSiteCreated prepares what a new site needs beyond its row.
func (e *env) afterSiteCreated(ctx context.Context, site sites.Site) error {
	return e.sso.EnsureSPKey(ctx, site.ID, site.Name)
}
