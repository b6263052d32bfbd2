// Package server assembles the portal's HTTP handler: the middleware every
// request passes, the probes, and the dispatch from Host header to site.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/admin"
	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
	"github.com/meetings-portal/portal/web/static"
)

// Options are what the server is built from.
type Options struct {
	Pool           *pgxpool.Pool
	Hosts          sites.Hosts
	TrustedProxies web.TrustedProxies
	Log            *slog.Logger
	Metrics        *metrics.Metrics
	Now            func() time.Time // nil means time.Now
	SignInLimit    int              // admin sign-in attempts per client, site and minute; 0 means 10
	// SignInStartLimit bounds SP-initiated sign-in starts and ACS posts
	// per client (IPv6: per /64), site and minute; 0 means 300, generous
	// because a whole office may share one address.
	SignInStartLimit int
	// SSO is the sites' service provider; nil builds one over Pool with a
	// random sealing key (tests).
	SSO *sso.Service
	// FetchMetadata fetches IdP metadata URLs; nil means idpmeta.Fetch
	// refusing private addresses.
	FetchMetadata sso.Fetcher
	// DevIdP, when set, serves the development identity provider at
	// idp.<base host>.
	DevIdP http.Handler
}

// Server is the portal's root handler.
type Server struct {
	opts   Options
	sites  *sites.Store
	render *web.Renderer
	site   http.Handler // routes of one site, after the site is resolved
	root   http.Handler
}

// New builds the handler.
func New(o Options) (*Server, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	render, err := web.NewRenderer(o.Log)
	if err != nil {
		return nil, err
	}
	siteStore, err := sites.NewStore(o.Pool)
	if err != nil {
		return nil, err
	}
	if o.SSO == nil {
		key := make([]byte, seal.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		box, err := seal.New(key)
		if err != nil {
			return nil, err
		}
		o.SSO = sso.New(o.Pool, box, o.Hosts, o.Log, nil)
	}
	if o.FetchMetadata == nil {
		o.FetchMetadata = func(ctx context.Context, url string) ([]byte, error) {
			return idpmeta.Fetch(ctx, url, idpmeta.FetchOptions{})
		}
	}
	s := &Server{opts: o, sites: siteStore, render: render}
	cookies := web.Cookies{HTTPS: o.Hosts.HTTPS()}
	sessions := session.NewStore(o.Pool, o.Now)
	userStore := users.NewStore(o.Pool, sessions, o.Now)
	signInLimit := o.SignInStartLimit
	if signInLimit == 0 {
		signInLimit = 300
	}
	ssoHandler := &sso.Handler{
		SSO: o.SSO, Users: userStore, Sessions: sessions, Render: render, Cookies: cookies, Log: o.Log, Metrics: o.Metrics,
		Limiter: httprate.NewRateLimiter(signInLimit, time.Minute,
			httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
				render.Error(w, r, http.StatusTooManyRequests, "Too many sign-in attempts",
					"Too many sign-ins were started from your network in the last minute. Please wait a minute and try again.")
			})),
	}
	adminHandler := &admin.Handler{
		Sites: siteStore, Sessions: sessions, Users: userStore, SSO: o.SSO, Audit: audit.New(o.Pool, o.Now),
		Hosts: o.Hosts, Render: render, Cookies: cookies, Log: o.Log, SignInLimit: o.SignInLimit,
		FetchMetadata: o.FetchMetadata,
	}
	meetingsHandler := &meetings.Handler{
		Render: render, Hosts: o.Hosts,
		CurrentUser: func(r *http.Request) users.User { return sso.UserFrom(r.Context()) },
	}

	site := chi.NewRouter()
	adminHandler.Routes(site)
	ssoHandler.Routes(site)
	meetingsHandler.Routes(site, ssoHandler.RequireUser)
	site.NotFound(render.NotFound)
	site.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		render.Error(w, r, http.StatusMethodNotAllowed, "Not allowed", "This page cannot be used that way.")
	})
	// Go's CrossOriginProtection refuses state-changing requests that the
	// browser marks as cross-origin (Sec-Fetch-Site, else Origin vs Host)
	// without tokens in every form. Sibling sites are "same-site" to the
	// browser but not same-origin, so one tenant cannot post into another.
	// The ACS is exempt: the IdP's form posts to it cross-site by design and
	// it is protected by the SAML checks instead.
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("POST /saml/acs")
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render.Error(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so it was not accepted. Go back, reload the page and try again.")
	}))
	s.site = csrf.Handler(site)

	root := chi.NewRouter()
	root.Use(headAsGet, web.RequestIDs, o.TrustedProxies.Clients, web.AccessLog(o.Log), render.Recover,
		o.Metrics.Middleware, web.SecurityHeaders(o.Hosts.HTTPS()), web.LimitBodies)
	root.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	root.Get("/readyz", s.ready)
	root.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	root.Handle("/*", http.HandlerFunc(s.dispatch))
	s.root = root
	return s, nil
}

// headAsGet routes HEAD like GET, for probes and link checkers; net/http
// sends no body in the answer to a HEAD.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.root.ServeHTTP(w, r) }

// ready answers 503 while PostgreSQL is unreachable, so a load balancer stops
// sending traffic to a process that cannot serve it.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.opts.Pool.Ping(ctx); err != nil {
		s.opts.Log.WarnContext(r.Context(), "not ready: database unreachable", "error", err.Error())
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// dispatch sends a request to the site, alias, landing page or service its
// Host header names. An unknown host gets a 404 page and never another
// site's content.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	kind, name := s.opts.Hosts.Classify(r.Host)
	switch kind {
	case sites.HostBase:
		if r.URL.Path != "/" {
			s.render.NotFound(w, r)
			return
		}
		s.render.Render(w, r, http.StatusOK, "landing", struct{ Example string }{s.opts.Hosts.SiteURL("yourcompany")})
	case sites.HostAlias:
		// Cookies and the ACS live on the canonical host only.
		target := s.opts.Hosts.SiteURL(name) + r.URL.RequestURI()
		http.Redirect(w, r, target, http.StatusFound)
	case sites.HostService:
		if name == "idp" && s.opts.DevIdP != nil {
			s.opts.DevIdP.ServeHTTP(w, r)
			return
		}
		s.unknownSite(w, r)
	case sites.HostSite:
		site, err := s.sites.ByName(r.Context(), name)
		if errors.Is(err, sites.ErrNotFound) {
			s.unknownSite(w, r)
			return
		}
		if err != nil {
			s.render.ServerError(w, r, err)
			return
		}
		s.site.ServeHTTP(w, r.WithContext(web.WithSite(r.Context(), site)))
	default:
		s.unknownSite(w, r)
	}
}

func (s *Server) unknownSite(w http.ResponseWriter, r *http.Request) {
	s.render.Error(w, r, http.StatusNotFound, "No site here",
		"There is no meetings site at this address. Check the address your administrator gave you.")
}
