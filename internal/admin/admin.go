// Package admin serves a site's administration pages at /admin: local admin
// sign-in (which keeps working when SSO is broken) and the site settings.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

const cookieName = "admin_session"

// Handler serves /admin on every site host.
type Handler struct {
	Sites    *sites.Store
	Sessions *session.Store
	Users    *users.Store
	SSO      *sso.Service
	Audit    *audit.Log
	Hosts    sites.Hosts
	Render   *web.Renderer
	Cookies  web.Cookies
	Log      *slog.Logger
	// FetchMetadata fetches an IdP metadata URL under the operator's SSRF
	// rules (idpmeta.Fetch with PORTAL_METADATA_ALLOW_PRIVATE).
	FetchMetadata sso.Fetcher
	// SignInLimit is how many sign-in attempts one client may make on one
	// site per minute. The counters live in each process (httprate's memory
	// store): behind a load balancer with N processes a client gets up to N
	// times this, which still stops password guessing at scale.
	SignInLimit int
}

type adminKey struct{}

// AdminFrom returns the signed-in admin of a request that passed RequireAdmin.
func AdminFrom(ctx context.Context) sites.Admin {
	a, _ := ctx.Value(adminKey{}).(sites.Admin)
	return a
}

// Routes mounts the admin pages on r (already scoped to one site).
func (h *Handler) Routes(r chi.Router) {
	limit := h.SignInLimit
	if limit == 0 {
		limit = 10
	}
	r.Get("/admin", h.home)
	r.With(httprate.LimitBy(limit, time.Minute, web.RateKey,
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			h.Render.Error(w, r, http.StatusTooManyRequests, "Too many sign-in attempts",
				"Please wait a minute before trying again.")
		}),
	)).Post("/admin/login", h.signIn)
	r.Post("/admin/logout", h.signOut)
	r.Group(func(r chi.Router) {
		r.Use(h.RequireAdmin)
		h.ssoRoutes(r)
		h.eventsRoutes(r)
		h.usersRoutes(r)
		h.adminsRoutes(r)
		h.auditRoutes(r)
	})
}

// record writes an audit entry for the signed-in admin; a failure to record
// is logged, not shown: the change itself has been made.
func (h *Handler) record(r *http.Request, action, detail string) {
	site, _ := web.SiteFrom(r.Context())
	if err := h.Audit.Record(r.Context(), site.ID, AdminFrom(r.Context()).Email, action, detail); err != nil {
		h.Log.ErrorContext(r.Context(), "audit", "error", err.Error())
	}
}

// RequireAdmin lets through only a signed-in admin of this site; anyone else
// is sent to the sign-in form.
func (h *Handler) RequireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admin, ok, err := h.currentAdmin(w, r)
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		if !ok {
			http.Redirect(w, r, "/admin", http.StatusSeeOther)
			return
		}
		r = web.MarkSignedIn(r, "/admin/logout")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminKey{}, admin)))
	})
}

// currentAdmin returns the request's signed-in admin, or ok false. An error
// is a failure to find out (the database), which must not sign the admin
// out or lose the form they posted: the caller shows an error page.
func (h *Handler) currentAdmin(w http.ResponseWriter, r *http.Request) (admin sites.Admin, ok bool, err error) {
	site, _ := web.SiteFrom(r.Context())
	token := h.Cookies.Get(r, cookieName)
	if token == "" {
		return sites.Admin{}, false, nil
	}
	sess, err := h.Sessions.Lookup(r.Context(), site.ID, session.Admin, token, session.AdminPolicy)
	if err == nil {
		admin, err = h.Sites.AdminByID(r.Context(), site.ID, sess.SubjectID)
	}
	switch {
	case err == nil:
		return admin, true, nil
	case errors.Is(err, session.ErrNotFound) || errors.Is(err, sites.ErrNotFound):
		h.Cookies.Clear(w, cookieName)
		return sites.Admin{}, false, nil
	default:
		return sites.Admin{}, false, err
	}
}

type signInPage struct {
	Email, Error string
}

type homePage struct {
	Admin sites.Admin
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	admin, ok, err := h.currentAdmin(w, r)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if !ok {
		h.Render.Render(w, r, http.StatusOK, "admin_login", signInPage{})
		return
	}
	r = web.MarkSignedIn(r, "/admin/logout")
	h.Render.Render(w, r, http.StatusOK, "admin_home", homePage{Admin: admin})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	email, pw := r.PostFormValue("email"), r.PostFormValue("password")
	admin, err := h.Sites.Authenticate(r.Context(), site.ID, email, pw)
	if errors.Is(err, sites.ErrBadCredentials) {
		h.Log.InfoContext(r.Context(), "admin sign-in refused", "site", site.Name, "client_ip", web.ClientFrom(r.Context()).IP)
		h.Render.Render(w, r, http.StatusUnauthorized, "admin_login", signInPage{Email: email, Error: "Wrong e-mail address or password."})
		return
	}
	if errors.Is(err, sites.ErrBusy) {
		h.Render.Error(w, r, http.StatusServiceUnavailable, "Busy", "Too many sign-ins are being checked at this moment. Please try again in a few seconds.")
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	// A fresh token at every sign-in, and the old one (if any) ended: a token
	// planted before sign-in never becomes an admin session.
	if old := h.Cookies.Get(r, cookieName); old != "" {
		_ = h.Sessions.Delete(r.Context(), site.ID, session.Admin, old)
	}
	token, err := h.Sessions.Create(r.Context(), nil, site.ID, session.Admin, admin.ID, session.AdminPolicy)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Cookies.Set(w, cookieName, token, session.AdminPolicy.Absolute)
	h.Log.InfoContext(r.Context(), "admin signed in", "site", site.Name, "admin", admin.Email)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	if token := h.Cookies.Get(r, cookieName); token != "" {
		if err := h.Sessions.Delete(r.Context(), site.ID, session.Admin, token); err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
	}
	h.Cookies.Clear(w, cookieName)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}
