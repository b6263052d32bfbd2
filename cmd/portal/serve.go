package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
	"golang.org/x/net/netutil"
)

// logger is the portal's log on standard error: JSON lines, or short text
// lines with PORTAL_LOG_FORMAT=text.
func (c *cli) logger(cfg *config) (*slog.Logger, error) {
	log, err := web.NewLogger(c.stderr, cfg.LogFormat)
	if err != nil {
		return nil, badInputf("PORTAL_LOG_FORMAT: %v", err)
	}
	return log, nil
}

// shutdownTimeout bounds how long requests in flight may take to finish
// once the listeners are closed.
const shutdownTimeout = 20 * time.Second

// serve runs the portal. It listens first — /healthz answers at once, so an
// orchestrator sees a live process — and builds the portal in the
// background, waiting for PostgreSQL and migrating it, while /readyz
// answers 503 with the reason. On SIGTERM (ctx ends) /readyz turns 503 at
// once, the portal keeps serving for the grace period so the load balancer
// stops sending new requests first, then the listeners close and requests
// in flight finish.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", c)
	cfg, validate := c.loadConfig(fs)
	fs.BoolVar(&cfg.NoMigrate, "no-migrate", false, "do not apply database migrations at start (the portal is not ready until another process has)")
	fs.BoolVar(&cfg.DevIdP, "dev-idp", false, "also serve a development identity provider at idp.<base host> (never in production)")
	pos, err := c.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return badInputf("serve: unexpected argument %q", pos[0])
	}
	if err := validate(); err != nil {
		return err
	}
	if err := cfg.checkAddresses(); err != nil {
		return err
	}
	log, err := c.logger(cfg)
	if err != nil {
		return err
	}
	appConfig, err := cfg.appConfig(log, true)
	if err != nil {
		return err
	}
	sso.SetClockSkew(cfg.ClockSkew)

	front, err := server.NewFront(log, appConfig.Hosts.HTTPS())
	if err != nil {
		return err
	}
	siteListener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("portal server: %w", err)
	}
	// net/http itself accepts without limit: under a flood every
	// connection costs a goroutine, buffers and, for a slow client, a
	// ReadHeaderTimeout's wait. netutil.LimitListener stops accepting at
	// the cap; further clients wait in the kernel's backlog until one
	// closes.
	if cfg.MaxConnections > 0 {
		siteListener = netutil.LimitListener(siteListener, cfg.MaxConnections)
	}
	metricsListener, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		siteListener.Close()
		return fmt.Errorf("metrics server: %w", err)
	}
	site := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var metricsHandler atomic.Pointer[http.Handler]
	metricsSrv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h := metricsHandler.Load(); h != nil {
				(*h).ServeHTTP(w, r)
				return
			}
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
	}
	errs := make(chan error, 2)
	go func() { errs <- serveOn(site, siteListener, "portal") }()
	go func() { errs <- serveOn(metricsSrv, metricsListener, "metrics") }()
	if c.listening != nil {
		c.listening(siteListener.Addr(), metricsListener.Addr())
	}
	log.Info("portal listening; starting", "addr", siteListener.Addr().String(), "metrics_addr", metricsListener.Addr().String(),
		"base_url", appConfig.Hosts.BaseURL(), "example_site", appConfig.Hosts.SiteURL("acme"))

	// Start in the background; SIGTERM while starting stops that too.
	startCtx, stopStarting := context.WithCancel(ctx)
	defer stopStarting()
	started := make(chan *env, 1)
	go func() { started <- c.start(startCtx, cfg, appConfig, front) }()

	var portal *env
	var runErr error
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case runErr = <-errs:
			break wait
		case portal = <-started:
			started = nil // a nil channel is never ready again
			if portal == nil {
				break wait // ctx ended while starting
			}
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", portal.Metrics.Handler())
			if cfg.Pprof {
				mux.HandleFunc("/debug/pprof/", pprof.Index)
				mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			}
			var h http.Handler = mux
			metricsHandler.Store(&h)
			go portal.Housekeeping().Run(ctx)
			// Each process listens for meeting changes (the live pages it
			// serves) and sends mail, both on connections of their own.
			// Once ctx ends the Watcher stops and the pages' event streams
			// end with it, so Shutdown is not held up by them.
			go portal.Watcher.Run(ctx)
			// Media: this process's claims on the meetings it hosts are
			// renewed while it runs (another process takes them over once
			// they lapse).
			go portal.Media.RunHeartbeat(ctx)
			// Sites and their SSO configuration are kept in memory while
			// every change (by any process) is heard.
			go portal.WatchConfig(ctx)
			if worker := portal.MailWorker(); worker != nil {
				log.Info("invitations are sent by e-mail", "smtp", portal.SMTP.String(), "from", portal.MailFrom.String())
				go worker.Run(ctx)
			} else {
				log.Warn("PORTAL_SMTP_URL is not set: invitation e-mails are not sent; each site's admin sees them at /admin/mail")
			}
			log.Info("portal ready")
		}
	}

	front.Drain()
	if portal != nil && runErr == nil && cfg.ShutdownGrace > 0 {
		log.Info("draining: /readyz answers 503; still serving until the grace period ends", "grace", cfg.ShutdownGrace.String())
		time.Sleep(cfg.ShutdownGrace)
	}
	log.Info("shutting down: closing the listeners, letting requests in flight finish")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	runErr = errors.Join(runErr, site.Shutdown(shutdownCtx), metricsSrv.Shutdown(shutdownCtx))
	if portal != nil {
		// Shutdown does not wait for WebSockets (hijacked connections):
		// the media connections are hung up after it, as lost, so that
		// browsers reconnect to another process, which takes the meetings
		// over.
		runErr = errors.Join(runErr, portal.Media.Close(shutdownCtx))
	}
	stopStarting()
	if started != nil {
		// A migration in progress does not stop with the context: wait for
		// it as long as for requests in flight, no longer.
		select {
		case portal = <-started:
		case <-shutdownCtx.Done():
			log.Warn("still starting at shutdown; exiting without waiting for it")
		}
	}
	if portal != nil {
		portal.close()
	}
	return runErr
}

// start builds the portal once PostgreSQL answers and the schema is ready,
// retrying every step that fails (with the start-up backoff) and telling
// front why it is not ready yet. It returns nil only when ctx ends first.
func (c *cli) start(ctx context.Context, cfg *config, appConfig app.Config, front *server.Front) *env {
	log := appConfig.Log
	front.NotReady(server.ReasonNoDatabase)
	pool, err := database.OpenWithRetry(ctx, cfg.DatabaseURL, log, nil)
	if err != nil {
		return nil
	}
	portal := &env{App: app.New(pool, appConfig)}
	backoff := database.NewBackoff()
	for {
		srv, err := c.prepare(ctx, cfg, portal, front)
		if err == nil {
			front.Serve(srv)
			return portal
		}
		reason := server.ReasonStarting
		var schema *database.SchemaError
		switch {
		case errors.As(err, &schema):
			reason = schema.Error()
		case database.Unavailable(err):
			reason = server.ReasonNoDatabase
		}
		front.NotReady(reason)
		log.Warn("not ready yet, retrying", "reason", reason, "error", err.Error())
		if !backoff.Sleep(ctx) {
			pool.Close()
			return nil
		}
	}
}

// prepare is every step between an open pool and a portal that can serve:
// the schema, the SP keys, the development IdP, the handler.
func (c *cli) prepare(ctx context.Context, cfg *config, portal *env, front *server.Front) (*server.Server, error) {
	if cfg.NoMigrate {
		// Another process (or `portal migrate up`) migrates: not ready until
		// it has.
		if err := database.CheckSchema(ctx, portal.Pool); err != nil {
			return nil, err
		}
	} else {
		front.NotReady(server.ReasonMigrating)
		if err := database.Migrate(cfg.directURL()); err != nil {
			return nil, err
		}
	}
	// Sites made before SP keys were created with the site get theirs
	// now, so that no request has to make one.
	if n, err := portal.SSO.BackfillSPKeys(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		portal.Log.Info("created SP key pairs for sites that had none", "sites", n)
	}
	logUnreadableSPKeys(ctx, portal)
	if cfg.DevIdP && portal.DevIdP == nil {
		if err := c.startDevIdP(ctx, portal); err != nil {
			return nil, err
		}
	}
	if portal.Media.SFU() == nil {
		if err := portal.StartMedia(); err != nil {
			return nil, err
		}
		logMedia(portal.Log, portal.App, cfg.BaseURL)
	}
	return server.New(portal.App)
}

// logUnreadableSPKeys says at start which sites cannot sign (their SP key
// was sealed under another PORTAL_SECRET_KEY) and what to run: the
// operator reads the log before anyone reports a broken sign-in.
func logUnreadableSPKeys(ctx context.Context, portal *env) {
	unreadable, err := portal.SSO.UnreadableSPKeys(ctx)
	if err != nil {
		portal.Log.Warn("could not check the sites' SP keys", "error", err.Error())
		return
	}
	for _, u := range unreadable {
		portal.Log.Error("SP key unreadable: sign-in, Test SSO and the SP metadata of this site fail until it is replaced",
			"site", u.Site, "error", u.Error())
	}
}

func serveOn(s *http.Server, ln net.Listener, what string) error {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s server on %s: %w", what, ln.Addr(), err)
	}
	return nil
}

// logMedia says where meetings' media is served, and warns when a real
// deployment (an https base URL) leaves the media port to chance: a
// firewall cannot be opened for a port that changes at every start.
func logMedia(log *slog.Logger, a *app.App, baseURL string) {
	sfu := a.Media.SFU()
	udp := make([]string, 0, len(sfu.UDPAddrs()))
	for _, addr := range sfu.UDPAddrs() {
		udp = append(udp, addr.String())
	}
	tcp := "off"
	if addr := sfu.TCPAddr(); addr != nil {
		tcp = addr.String()
	}
	log.Info("meeting media", "udp", strings.Join(udp, " "), "ice_tcp", tcp,
		"public_ip", strings.Join(a.Media.PublicIPs(), " "), "ice_servers", len(sfu.ICEServers()),
		"internal_url", a.Media.InternalURL(), "process", a.Media.ProcessID())
	if strings.HasPrefix(baseURL, "https://") && a.Config.Media.SFU.UDPPort == 0 {
		log.Warn("PORTAL_MEDIA_UDP is not set: meeting media uses a free port chosen at start, which a firewall cannot be opened for. " +
			"Set PORTAL_MEDIA_UDP (and PORTAL_MEDIA_TCP) to fixed ports and open them.")
	}
}
