// Package app builds the portal once: every store and service, over one
// PostgreSQL pool, from one configuration. `portal serve`, every other
// `portal` command and the tests all start here, so a new store or service
// is added in one place and reaches all of them.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/devidp"
	"github.com/meetings-portal/portal/internal/housekeeping"
	"github.com/meetings-portal/portal/internal/metrics"
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
	// AdminSignInLimit is how many admin sign-in attempts one client may
	// make on one site per minute; 0 means 10.
	AdminSignInLimit int
	// SignInStartLimit bounds SP-initiated sign-in starts and ACS posts per
	// client (IPv6: per /64), site and minute; 0 means 300, generous
	// because a whole office may share one address.
	SignInStartLimit int
}

// App is every store and service of the portal.
type App struct {
	Config
	Pool  *pgxpool.Pool
	Sites *sites.Store
	// AdminLockouts is the per-account limit on admin sign-in.
	AdminLockouts *sites.Lockouts
	Sessions      *session.Store
	Users         *users.Store
	SSO           *sso.Service
	Audit         *audit.Log
	Metrics       *metrics.Metrics
	// FetchMetadata fetches IdP metadata URLs under the operator's SSRF
	// rules.
	FetchMetadata sso.Fetcher
	// DevIdP, when set, is served at idp.<base host> (serve --dev-idp).
	DevIdP *devidp.IdP
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
	if cfg.AdminSignInLimit == 0 {
		cfg.AdminSignInLimit = 10
	}
	if cfg.SignInStartLimit == 0 {
		cfg.SignInStartLimit = 300
	}
	if !cfg.Hosts.HTTPS() && cfg.Hosts.Host != "localhost" && !strings.HasSuffix(cfg.Hosts.Host, ".localhost") {
		// See sso.Binding: the sign-in cookie must be Secure to reach the
		// ACS on the IdP's cross-site POST.
		cfg.Log.Warn("PORTAL_BASE_URL is plain http on a host other than localhost: browsers drop the Secure sign-in cookie there, " +
			"so SP-initiated sign-ins will be refused (browser-mismatch). Serve the portal over https.")
	}
	sessions := session.NewStore(pool, cfg.Now)
	a := &App{
		Config:        cfg,
		Pool:          pool,
		Sites:         sites.NewStore(pool),
		AdminLockouts: sites.NewLockouts(pool, cfg.Now),
		Sessions:      sessions,
		Users:         users.NewStore(pool, sessions, cfg.Now),
		SSO:           sso.New(pool, cfg.Box, cfg.Hosts, cfg.Log, cfg.Now),
		Audit:         audit.New(pool, cfg.Now),
		Metrics:       metrics.New(),
	}
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
		Pool: a.Pool, Interval: 5 * time.Minute, BatchSize: 1000, Log: a.Log,
		Jobs: []housekeeping.Job{
			{Name: "sessions", Run: a.Sessions.DeleteExpired},
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
