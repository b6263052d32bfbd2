package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/housekeeping"
	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/web"
)

func newLogger() *slog.Logger {
	return slog.New(web.LogHandler{Handler: slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})})
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", c)
	cfg, validate, _ := c.loadConfig(fs)
	fs.BoolVar(&cfg.NoMigrate, "no-migrate", false, "do not apply database migrations at start")
	fs.BoolVar(&cfg.DevIdP, "dev-idp", false, "also serve a development identity provider at idp.<base host> (never in production)")
	if err := fs.Parse(args); err != nil {
		return badInput(err)
	}
	if fs.NArg() > 0 {
		return badInputf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := validate(); err != nil {
		return err
	}
	log := newLogger()
	hosts, _ := sites.ParseBaseURL(cfg.BaseURL)
	proxies, _ := web.ParseTrustedProxies(cfg.TrustedProxies)

	pool, err := database.OpenWithRetry(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if !cfg.NoMigrate {
		if err := database.Migrate(cfg.DatabaseURL); err != nil {
			return err
		}
	}
	box, err := cfg.secretBox(log)
	if err != nil {
		return err
	}
	sso.SetClockSkew(cfg.ClockSkew)
	ssoService := sso.New(pool, box, hosts, log, nil)
	siteStore, err := sites.NewStore(pool)
	if err != nil {
		return err
	}
	var devIdP http.Handler
	if cfg.DevIdP {
		if devIdP, err = c.startDevIdP(ctx, pool, box, hosts, ssoService, siteStore, log); err != nil {
			return err
		}
	}
	fetch := func(ctx context.Context, url string) ([]byte, error) {
		return idpmeta.Fetch(ctx, url, idpmeta.FetchOptions{AllowPrivate: cfg.MetadataAllowPrivate})
	}
	m := metrics.New()
	m.Registry.MustRegister(sso.NewCertificateCollector(ssoService, 2*time.Second))
	srv, err := server.New(server.Options{
		Pool: pool, Hosts: hosts, TrustedProxies: proxies, Log: log, Metrics: m, SSO: ssoService, DevIdP: devIdP,
		FetchMetadata: fetch,
	})
	if err != nil {
		return err
	}
	sessions := session.NewStore(pool, time.Now)
	keeper := &housekeeping.Runner{
		Pool: pool, Interval: 5 * time.Minute, BatchSize: 1000, Log: log,
		Jobs: []housekeeping.Job{
			{Name: "sessions", Run: sessions.DeleteExpired},
			{Name: "pending-requests", Run: ssoService.DeleteExpiredRequests},
			{Name: "replay-cache", Run: ssoService.DeleteExpiredReplays},
			{Name: "metadata-drafts", Run: ssoService.DeleteExpiredDrafts},
			{Name: "signin-events", Run: func(ctx context.Context, limit int) (int64, error) {
				return ssoService.DeleteOldEvents(ctx, limit, cfg.EventRetention)
			}},
			{Name: "metadata-refresh", Run: func(ctx context.Context, limit int) (int64, error) {
				// A fetch takes up to 10 seconds: a few per round.
				return ssoService.RefreshDue(ctx, min(limit, 20), fetch)
			}},
		},
	}
	go keeper.Run(ctx)

	site := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", m.Handler())
	metricsSrv := &http.Server{
		Addr: cfg.MetricsAddr, Handler: metricsMux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
	}

	errs := make(chan error, 2)
	go func() { errs <- listen(site, "portal") }()
	go func() { errs <- listen(metricsSrv, "metrics") }()
	log.Info("portal listening", "addr", cfg.Addr, "base_url", hosts.BaseURL(), "metrics_addr", cfg.MetricsAddr,
		"example_site", hosts.SiteURL("acme"))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return errors.Join(runErr, site.Shutdown(shutdownCtx), metricsSrv.Shutdown(shutdownCtx))
}

func listen(s *http.Server, what string) error {
	if err := s.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s server on %s: %w", what, s.Addr, err)
	}
	return nil
}
