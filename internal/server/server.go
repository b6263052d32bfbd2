// Package server is the portal's HTTP handler: the middleware every request
// passes, the probes, the dispatch from Host header to site, and the route
// table of a site (routes.go).
package server

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/web"
	"github.com/meetings-portal/portal/web/static"
)

// Server is the portal's root handler.
type Server struct {
	app    *app.App
	render *web.Renderer
	site   http.Handler // routes of one site, after the site is resolved
	root   http.Handler
}

// New builds the handler of the portal a built.
func New(a *app.App) (*Server, error) {
	assets, err := web.NewAssets(static.FS)
	if err != nil {
		return nil, err
	}
	render, err := web.NewRenderer(a.Log, assets)
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, render: render}
	s.site = s.siteRoutes()

	root := chi.NewRouter()
	root.Use(headAsGet, web.RequestIDs, a.TrustedProxies.Clients, web.Observe(web.AccessLog(a.Log), a.Metrics.Observe),
		render.Recover, web.SecurityHeaders(a.Hosts.HTTPS()), web.LimitBodies, web.Deadline(a.RequestTimeout))
	root.Get("/healthz", healthz)
	root.Get("/readyz", s.ready)
	root.Handle("/static/*", assets)
	root.Get("/favicon.ico", favicon)
	root.Handle("/*", http.HandlerFunc(s.dispatch))
	s.root = root
	return s, nil
}

// favicon answers /favicon.ico, which browsers ask every host for on their
// own (pages name the icon, but the development IdP's and raw error
// answers do not): the portal's SVG icon, never a 404 or a sign-in
// redirect that an admin would see in the log at every page.
func favicon(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(static.FS, "favicon.svg")
	if err != nil {
		http.Error(w, "no icon", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
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
	if err := s.app.Pool.Ping(ctx); err != nil {
		s.app.Log.WarnContext(r.Context(), "not ready: database unreachable", "error", err.Error())
		notReadyAnswer(w, "database unreachable")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ready\n"))
}

// dispatch sends a request to the site, alias, landing page or service its
// Host header names. An unknown host gets a 404 page and never another
// site's content.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	hosts := s.app.Hosts
	kind, name := hosts.Classify(r.Host)
	switch kind {
	case sites.HostBase:
		if r.URL.Path != "/" {
			s.render.NotFound(w, r)
			return
		}
		s.render.Render(w, r, http.StatusOK, "landing", struct{ Example string }{hosts.SiteURL("yourcompany")})
	case sites.HostAlias:
		// Cookies and the ACS live on the canonical host only.
		target := hosts.SiteURL(name) + r.URL.RequestURI()
		http.Redirect(w, r, target, http.StatusFound)
	case sites.HostService:
		if name == "idp" && s.app.DevIdP != nil {
			s.app.DevIdP.ServeHTTP(w, r)
			return
		}
		s.unknownSite(w, r)
	case sites.HostSite:
		site, err := s.app.Sites.ByName(r.Context(), name)
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
