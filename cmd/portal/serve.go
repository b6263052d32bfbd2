package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
)

func newLogger() *slog.Logger {
	return slog.New(web.LogHandler{Handler: slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})})
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := newFlagSet("serve", c)
	cfg, validate := c.loadConfig(fs)
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
	sso.SetClockSkew(cfg.ClockSkew)
	portal, err := c.open(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer portal.close()
	if !cfg.NoMigrate {
		if err := database.Migrate(cfg.DatabaseURL); err != nil {
			return err
		}
	}
	// Sites made before SP keys were created with the site get theirs
	// now, so that no request has to make one.
	if n, err := portal.SSO.BackfillSPKeys(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Info("created SP key pairs for sites that had none", "sites", n)
	}
	if cfg.DevIdP {
		if err := c.startDevIdP(ctx, portal); err != nil {
			return err
		}
	}
	if err := portal.StartMedia(); err != nil {
		return err
	}
	srv, err := server.New(portal.App)
	if err != nil {
		return err
	}
	go portal.Housekeeping().Run(ctx)
	// Each process listens for meeting changes (the live pages it serves)
	// and sends mail; both on connections of their own. Once ctx ends, the
	// Watcher stops and the pages' event streams end with it, so Shutdown
	// is not held up by them.
	go portal.Watcher.Run(ctx)
	// Media: this process's claims on the meetings it hosts are renewed
	// while it runs (another process takes them over once they lapse).
	go portal.Media.RunHeartbeat(ctx)
	logMedia(log, portal.App, cfg.BaseURL)
	if worker := portal.MailWorker(); worker != nil {
		log.Info("invitations are sent by e-mail", "smtp", portal.SMTP.String(), "from", portal.MailFrom.String())
		go worker.Run(ctx)
	} else {
		log.Warn("PORTAL_SMTP_URL is not set: invitation e-mails are not sent; each site's admin sees them at /admin/mail")
	}

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
	metricsMux.Handle("GET /metrics", portal.Metrics.Handler())
	metricsSrv := &http.Server{
		Addr: cfg.MetricsAddr, Handler: metricsMux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
	}

	errs := make(chan error, 2)
	go func() { errs <- listen(site, "portal", cfg.MaxConnections) }()
	go func() { errs <- listen(metricsSrv, "metrics", 0) }()
	log.Info("portal listening", "addr", cfg.Addr, "base_url", portal.Hosts.BaseURL(), "metrics_addr", cfg.MetricsAddr,
		"example_site", portal.Hosts.SiteURL("acme"))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Shutdown does not wait for WebSockets (hijacked connections): the
	// media connections are hung up after it, as lost, so that browsers
	// reconnect to another process, which takes the meetings over.
	shutdownErr := errors.Join(site.Shutdown(shutdownCtx), metricsSrv.Shutdown(shutdownCtx))
	return errors.Join(runErr, shutdownErr, portal.Media.Close(shutdownCtx))
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

// listen serves s, holding at most maxConns connections open at once (0:
// no cap). net/http itself accepts without limit: under a flood every
// connection costs a goroutine, buffers and, for a slow client, a
// ReadHeaderTimeout's wait. netutil.LimitListener stops accepting at the
// cap; further clients wait in the kernel's backlog until one closes.
func listen(s *http.Server, what string, maxConns int) error {
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("%s server on %s: %w", what, s.Addr, err)
	}
	if maxConns > 0 {
		l = netutil.LimitListener(l, maxConns)
	}
	if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s server on %s: %w", what, s.Addr, err)
	}
	return nil
}
