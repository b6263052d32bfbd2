// Package app builds the portal once: every store and service, over one
// PostgreSQL pool, from one configuration. `portal serve`, every other
// `portal` command and the tests all start here, so a new store or service
// is added in one place and reaches all of them.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/devidp"
	"github.com/meetings-portal/portal/internal/housekeeping"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/pgnotify"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// Config is the portal's configuration, parsed and checked (cmd/portal reads
// it from the environment and flags; tests set it directly).
type Config struct {
	Hosts          sites.Hosts
	TrustedProxies web.TrustedProxies
	// Box seals private keys at rest (PORTAL_SECRET_KEY).
	Box *seal.Box
	Log *slog.Logger
	// Now is the one clock of the portal; nil means time.Now.
	Now func() time.Time
	// MetadataAllowPrivate lets IdP metadata URLs reach private addresses
	// (PORTAL_METADATA_ALLOW_PRIVATE).
	MetadataAllowPrivate bool
	// EventRetention is how long sign-in events are kept; 0 means 90 days.
	EventRetention time.Duration
	// AdminSignInRate is how many admin sign-in attempts one client may
	// make on one site per minute (PORTAL_ADMIN_SIGNIN_RATE); 0 means 10.
	// Per-account lockouts (sites.Lockouts) hold across addresses.
	AdminSignInRate int
	// SignInRate is the sign-in budget of one client address (IPv6: its
	// /64) on one site per minute (PORTAL_SIGNIN_RATE): sign-in starts,
	// refused responses and unsolicited (IdP-initiated) ones are charged,
	// the answer to a started sign-in is not. 0 means 1200: a company
	// behind one NAT address signs in one unit a person.
	SignInRate int
	// SMTP is the mail server invitations are sent through
	// (PORTAL_SMTP_URL); nil keeps them in the outbox for the development
	// mail page instead.
	SMTP *mail.SMTPConfig
	// MailFrom is the From of every e-mail (PORTAL_MAIL_FROM); nil means
	// "Meetings <meetings@<base host>>".
	MailFrom *netmail.Address
	// Direct reaches PostgreSQL itself, not through a transaction-pooling
	// proxy such as PgBouncer (PORTAL_DIRECT_DATABASE_URL): for what needs
	// a session of its own — LISTEN (the configuration cache, live
	// meetings, mail), the housekeeping lock, migrations. nil means the
	// pool's server.
	Direct *pgx.ConnConfig
	// RequestTimeout is how long a request may take before its database
	// calls give up and it answers 503; 0 means 10 seconds.
	RequestTimeout time.Duration
	// Media is where meetings' audio and video are served (the SFU's
	// ports and addresses) and how other processes reach this one's
	// signalling (PORTAL_MEDIA_UDP, PORTAL_MEDIA_TCP,
	// PORTAL_MEDIA_PUBLIC_IP, PORTAL_ICE_SERVERS, PORTAL_INTERNAL_URL).
	Media meetings.MediaConfig
}

// App is every store and service of the portal.
type App struct {
	Config
	Pool  *pgxpool.Pool
	Sites *sites.Store
	// AdminLockouts is the per-account limit on admin sign-in.
	AdminLockouts *sites.Lockouts
	Sessions      *session.Store
	// Resumes take an admin whose session expired back where they were.
	Resumes *session.Resumes
	Users   *users.Store
	SSO     *sso.Service
	Audit   *audit.Log
	Metrics *metrics.Metrics
	// FetchMetadata fetches IdP metadata URLs under the operator's SSRF
	// rules.
	FetchMetadata sso.Fetcher
	// DevIdP, when set, is served at idp.<base host> (serve --dev-idp).
	DevIdP *devidp.IdP

	// Meetings schedules meetings and keeps rooms, preferences and the
	// site's meeting settings; Lobby runs live meetings; Watcher wakes the
	// live pages of this process when any process changes a meeting (run
	// it once per process); Outbox queues e-mail for the mail worker.
	Meetings *meetings.Store
	Lobby    *meetings.Lobby
	Watcher  *meetings.Watcher
	Outbox   *mail.Outbox
	// Media carries meetings' audio and video through this process's SFU;
	// StartMedia opens its sockets (serve and the tests do, the
	// administrative commands do not).
	Media *meetings.Media
}

// New builds the portal over pool. It does no I/O.
func New(pool *pgxpool.Pool, cfg Config) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	// No value from outside is ever logged whole, whoever logs it.
	cfg.Log = slog.New(web.ShortValues(cfg.Log.Handler()))
	if cfg.EventRetention == 0 {
		cfg.EventRetention = 90 * 24 * time.Hour
	}
	if cfg.AdminSignInRate == 0 {
		cfg.AdminSignInRate = 10
	}
	if cfg.SignInRate == 0 {
		cfg.SignInRate = 1200
	}
	if cfg.MailFrom == nil {
		host, _, err := net.SplitHostPort(cfg.Hosts.Host)
		if err != nil {
			host = cfg.Hosts.Host
		}
		cfg.MailFrom = &netmail.Address{Name: "Meetings", Address: "meetings@" + host}
	}
	if !cfg.Hosts.HTTPS() && cfg.Hosts.Host != "localhost" && !strings.HasSuffix(cfg.Hosts.Host, ".localhost") {
		// See sso.Binding: the sign-in cookie must be Secure to reach the
		// ACS on the IdP's cross-site POST.
		cfg.Log.Warn("PORTAL_BASE_URL is plain http on a host other than localhost: browsers drop the Secure sign-in cookie there, " +
			"so SP-initiated sign-ins will be refused (browser-mismatch). Serve the portal over https.")
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	sessions := session.NewStore(pool, cfg.Now)
	a := &App{
		Config:        cfg,
		Pool:          pool,
		Sites:         sites.NewStore(pool),
		AdminLockouts: sites.NewLockouts(pool, cfg.Now),
		Sessions:      sessions,
		Resumes:       session.NewResumes(pool, cfg.Box, cfg.Now),
		Users:         users.NewStore(pool, sessions, cfg.Now),
		SSO:           sso.New(pool, cfg.Box, cfg.Hosts, cfg.Log, cfg.Now),
		Audit:         audit.New(pool, cfg.Now),
		Metrics:       metrics.New(),
		Outbox:        mail.NewOutbox(pool, cfg.Now, cfg.SMTP != nil),
		Lobby:         meetings.NewLobby(pool, cfg.Now),
		Watcher:       meetings.NewWatcher(direct(pool, cfg), cfg.Log),
	}
	a.Meetings = meetings.NewStore(pool, a.Outbox, cfg.Now)
	a.Media = meetings.NewMedia(pool, a.Lobby, a.Watcher, cfg.Media, cfg.Log)
	allowPrivate := cfg.MetadataAllowPrivate
	a.FetchMetadata = func(ctx context.Context, url string) ([]byte, error) {
		return idpmeta.Fetch(ctx, url, idpmeta.FetchOptions{AllowPrivate: allowPrivate})
	}
	a.Metrics.Registry.MustRegister(sso.NewCertificateCollector(a.SSO, 2*time.Second))
	return a
}

// CreateSite makes a site, its first admin and its SP key pair, all or
// nothing: a site never exists without the key its metadata publishes.
func (a *App) CreateSite(ctx context.Context, name, adminEmail, adminPassword string) (sites.Site, error) {
	// The RSA key is generated before the transaction (it takes a moment)
	// and stored inside it.
	key, err := a.SSO.NewSPKey(name)
	if err != nil {
		return sites.Site{}, err
	}
	return a.Sites.Create(ctx, name, adminEmail, adminPassword, func(ctx context.Context, tx pgx.Tx, site sites.Site) error {
		return a.SSO.StoreSPKey(ctx, tx, site.ID, key, sso.KeyActive)
	})
}

// Housekeeping is the background job that deletes what has expired and
// refreshes IdP metadata URLs.
func (a *App) Housekeeping() *housekeeping.Runner {
	return &housekeeping.Runner{
		Lock: direct(a.Pool, a.Config),
		Pool: a.Pool, Interval: 5 * time.Minute, BatchSize: 1000, Log: a.Log,
		Jobs: []housekeeping.Job{
			{Name: "sessions", Run: a.Sessions.DeleteExpired},
			{Name: "session-resumes", Run: a.Resumes.DeleteExpired},
			{Name: "pending-requests", Run: a.SSO.DeleteExpiredRequests},
			{Name: "logout-requests", Run: a.SSO.DeleteExpiredLogoutRequests},
			{Name: "replay-cache", Run: a.SSO.DeleteExpiredReplays},
			{Name: "metadata-drafts", Run: a.SSO.DeleteExpiredDrafts},
			{Name: "admin-signin-failures", Run: a.AdminLockouts.DeleteForgotten},
			{Name: "signin-events", Run: func(ctx context.Context, limit int) (int64, error) {
				return a.SSO.DeleteOldEvents(ctx, limit, a.EventRetention)
			}},
			{Name: "metadata-refresh", Run: func(ctx context.Context, limit int) (int64, error) {
				// A fetch takes up to 10 seconds: a few per round. What a
				// refresh changes is in the site's audit log (actor "portal").
				return a.SSO.RefreshDue(ctx, min(limit, 20), a.FetchMetadata)
			}, Did: "housekeeping refreshed IdP metadata", Unit: "sites"},
		},
	}
}

// StartMedia opens the SFU's media sockets (one UDP port for every
// meeting, one ICE-TCP port) and registers its metrics. Run
// Media.RunHeartbeat beside the server, and Media.Close at shutdown.
func (a *App) StartMedia() error {
	if err := a.Media.Start(a.Metrics.Registry); err != nil {
		return fmt.Errorf("meeting media: %w", err)
	}
	return nil
}

// MailWorker is the background job that sends the outbox through the SMTP
// server, or nil when none is configured (mail is then kept for the
// development mail page). Run one per process: they share the work.
func (a *App) MailWorker() *mail.Worker {
	if a.SMTP == nil {
		return nil
	}
	return &mail.Worker{Pool: a.Pool, Listen: direct(a.Pool, a.Config), Sender: &mail.SMTPSender{Config: *a.SMTP}, From: a.MailFrom, Now: a.Now, Log: a.Log}
}

// StartDevIdP builds the development identity provider (serve --dev-idp),
// which trusts every site of this portal, and serves it from then on.
func (a *App) StartDevIdP(ctx context.Context, password string) (*devidp.IdP, error) {
	base, err := url.Parse(a.Hosts.ServiceURL("idp"))
	if err != nil {
		return nil, fmt.Errorf("development IdP URL: %w", err)
	}
	idp, err := devidp.New(ctx, a.Pool, devidp.Config{
		BaseURL: base, Password: password, Box: a.Box, Logger: a.Log,
		ServiceProvider: func(ctx context.Context, entityID string) (*saml.EntityDescriptor, error) {
			return a.SSO.ServiceProviderByEntityID(ctx, a.Sites, entityID)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("development IdP: %w", err)
	}
	a.DevIdP = idp
	return idp, nil
}

// configChannel is where triggers announce changes to the sites and their
// SSO configuration (migrations/0035_config_notify.up.sql).
const configChannel = "portal_config"

// fullRefresh is how often the process drops everything it keeps, in case
// a change went unheard (a notification cannot be lost while listening,
// but a belt for the braces costs one read per site and interval).
const fullRefresh = time.Minute

// WatchConfig keeps the sites and their SSO configuration in memory for as
// long as it hears every change, made by any process, on portal_config;
// while it does not (before it connects, after a lost connection), every
// read goes to PostgreSQL. Run it once per process, until ctx ends.
func (a *App) WatchConfig(ctx context.Context) {
	preload := func() {
		if err := a.Sites.Preload(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("keep sites in memory", "error", err.Error())
		}
		if err := a.SSO.PreloadSettings(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("keep SSO settings in memory", "error", err.Error())
		}
	}
	caches := func(on bool) {
		if on {
			a.Sites.CacheOn()
			a.SSO.CacheOn()
			preload()
		} else {
			a.Sites.CacheOff()
			a.SSO.CacheOff()
		}
	}
	listener := pgnotify.Listener{
		Config: direct(a.Pool, a.Config), Channels: []string{configChannel}, Log: a.Log,
		Connected:    func() { caches(true) },
		Disconnected: func() { caches(false) },
		Notified: func(n *pgconn.Notification) {
			if n.Payload == "sites" {
				a.Sites.Forget()
				return
			}
			if id, ok := strings.CutPrefix(n.Payload, "site:"); ok {
				if siteID, err := strconv.ParseInt(id, 10, 64); err == nil {
					a.SSO.Forget(siteID)
				}
			}
		},
	}
	go func() {
		tick := time.NewTicker(fullRefresh)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				a.Sites.Forget()
				a.SSO.ForgetAll()
				preload()
			}
		}
	}()
	listener.Run(ctx)
	caches(false)
}

// direct is a connection configuration straight to PostgreSQL: Direct, else
// the pool's.
func direct(pool *pgxpool.Pool, cfg Config) *pgx.ConnConfig {
	if cfg.Direct != nil {
		return cfg.Direct.Copy()
	}
	return pool.Config().ConnConfig.Copy()
}
