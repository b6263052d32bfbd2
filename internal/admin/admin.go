// Package admin serves a site's administration pages at /admin: local admin
// sign-in (which keeps working when SSO is broken) and the site settings.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// SessionCookie is the name of the cookie that holds an admin's session
// token (__Host-admin_session on https).
const SessionCookie = "admin_session"

// Handler serves /admin on every site host.
type Handler struct {
	Sites *sites.Store
	// Lockouts is the per-account limit on sign-in, over all addresses.
	Lockouts *sites.Lockouts
	Metrics  *metrics.Metrics
	Sessions *session.Store
	Session  session.Cookie // the admin's session cookie
	// Resumes keep where an admin's session expired (resume.go).
	Resumes *session.Resumes
	Users   *users.Store
	SSO     *sso.Service
	Audit   *audit.Log
	Hosts   sites.Hosts
	Render  *web.Renderer
	Log     *slog.Logger
	// FetchMetadata fetches an IdP metadata URL under the operator's SSRF
	// rules (idpmeta.Fetch with PORTAL_METADATA_ALLOW_PRIVATE).
	FetchMetadata sso.Fetcher
	// Now is the portal's clock.
	Now func() time.Time
	// Meetings holds the site's meetings and meeting settings; Outbox the
	// e-mail kept for the development mail page.
	Meetings *meetings.Store
	Outbox   *mail.Outbox
}

type adminKey struct{}

// sessionKey holds the id of the signed-in admin's session.
type sessionKey struct{}

// sessionIDFrom is the session id of a request that passed RequireAdmin.
func sessionIDFrom(ctx context.Context) int64 {
	id, _ := ctx.Value(sessionKey{}).(int64)
	return id
}

// AdminFrom returns the signed-in admin of a request that passed RequireAdmin.
func AdminFrom(ctx context.Context) sites.Admin {
	a, _ := ctx.Value(adminKey{}).(sites.Admin)
	return a
}

// actor names the signed-in admin in the audit log: their e-mail address.
func (h *Handler) actor(r *http.Request) string { return AdminFrom(r.Context()).Email }

// record writes an audit entry for the signed-in admin, after a change that
// does not record itself in its own transaction; a failure to record is
// logged, not shown: the change itself has been made.
func (h *Handler) record(r *http.Request, action, detail string) {
	site, _ := web.SiteFrom(r.Context())
	if err := h.Audit.Record(r.Context(), site.ID, h.actor(r), action, detail); err != nil {
		h.Log.ErrorContext(r.Context(), "audit", "error", err.Error())
	}
}

// recordDetails is record with the details as fields.
func (h *Handler) recordDetails(r *http.Request, action string, details audit.Details) {
	site, _ := web.SiteFrom(r.Context())
	if _, err := h.Audit.RecordDetails(r.Context(), site.ID, h.actor(r), action, details); err != nil {
		h.Log.ErrorContext(r.Context(), "audit", "error", err.Error())
	}
}

// RequireAdmin lets through only a signed-in admin of this site; anyone else
// is sent to the sign-in form.
func (h *Handler) RequireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		admin, sess, ok, err := h.currentAdmin(w, r)
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		if !ok {
			h.sessionEnded(w, r)
			return
		}
		r = web.MarkSignedIn(r, "/admin/logout")
		ctx := context.WithValue(r.Context(), adminKey{}, admin)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, sessionKey{}, sess.ID)))
	})
}

// currentAdmin returns the request's signed-in admin, or ok false. An error
// is a failure to find out (the database), which must not sign the admin
// out or lose the form they posted: the caller shows an error page.
func (h *Handler) currentAdmin(w http.ResponseWriter, r *http.Request) (admin sites.Admin, sess session.Session, ok bool, err error) {
	sess, admin, ok, err = session.LookupWith(h.Session, w, r, adminSubject)
	if !ok || err != nil {
		return sites.Admin{}, session.Session{}, false, err
	}
	return admin, sess, true, nil
}

// adminSubject reads an admin session's account with the session.
var adminSubject = session.NewSubject[sites.Admin]("site_admins")

type signInPage struct {
	Email, Error string
	// Notice says why the sign-in form is shown (an expired session).
	Notice string
}

type homePage struct {
	Admin sites.Admin
	// MailCatcher: no SMTP server is configured, and the development mail
	// page lists what would have been sent.
	MailCatcher bool
	Banner      string
}

// homeNotices are the banners of the admin home after a change.
var homeNotices = web.Notices{
	"password": "Your password is changed. Your other admin sessions have ended; this one stays signed in.",
}

// Home is the admin sign-in form, or the admin home once signed in.
func (h *Handler) Home(w http.ResponseWriter, r *http.Request) {
	admin, _, ok, err := h.currentAdmin(w, r)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if !ok {
		h.Render.Render(w, r, http.StatusOK, "admin_login", signInPage{})
		return
	}
	r = web.MarkSignedIn(r, "/admin/logout")
	h.Render.Render(w, r, http.StatusOK, "admin_home", homePage{Admin: admin, MailCatcher: !h.Outbox.Delivers(), Banner: homeNotices.From(r, "done")})
}

// SignIn checks an admin's credentials (POST /admin/login). Besides the
// per-address rate limit of its route, an account (the e-mail address
// typed, known or not) that failed sites.FreeFailures times in a row is
// locked for a growing while, whatever address the guesses come from.
func (h *Handler) SignIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	email, pw := r.PostFormValue("email"), r.PostFormValue("password")
	locked, err := h.Lockouts.LockedFor(ctx, site.ID, email)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if locked > 0 {
		h.lockedOut(w, r, email, locked)
		return
	}
	admin, err := h.Sites.Authenticate(ctx, site.ID, email, pw)
	if errors.Is(err, sites.ErrBadCredentials) {
		h.failedSignIn(w, r, email)
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
	if err := h.Lockouts.Succeeded(ctx, site.ID, email); err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	token, err := h.Sessions.CreateFrom(ctx, nil, site.ID, session.Admin, admin.ID, session.AdminPolicy,
		session.Origin{UserAgent: r.UserAgent(), ClientIP: web.ClientFrom(ctx).IP})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Session.Start(w, r, token)
	h.Log.InfoContext(ctx, "admin signed in", "site", site.Name, "admin", admin.Email)
	http.Redirect(w, r, h.resumeAfterSignIn(r, admin.ID), http.StatusSeeOther)
}

// failedSignIn counts a wrong e-mail address or password against the
// account, and says so in the log and the metrics; a lockout it starts
// applies from the next attempt, so this answer is the same for every
// failure.
func (h *Handler) failedSignIn(w http.ResponseWriter, r *http.Request, email string) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	client := web.ClientFrom(ctx).IP
	f, err := h.Lockouts.Failed(ctx, site.ID, email, client)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Log.InfoContext(ctx, "admin sign-in refused", "site", site.Name, "client_ip", client, "failures", f.Failures, "addresses", f.Addresses)
	// In the audit too, where the site's admins look: never the password
	// typed, and the address typed only normalised and shortened, since
	// anyone can type anything there.
	details := audit.Details{{Name: "From", Value: client}, {Name: "Failures in a row", Value: strconv.Itoa(f.Failures)}}
	if f.LockedFor > 0 {
		details = append(details, audit.Field{Name: "Account locked for", Value: f.LockedFor.Round(time.Second).String()})
	}
	if _, err := h.Audit.RecordDetails(ctx, site.ID, signInName(email), "admin.sign-in-failed", details); err != nil {
		h.Log.ErrorContext(ctx, "audit", "error", err.Error())
	}
	if h.Metrics != nil {
		h.Metrics.AdminSignInFailures.Inc()
	}
	if f.LockedFor > 0 {
		distributed := f.Addresses > 1
		h.Log.WarnContext(ctx, "admin account locked after repeated failed sign-ins", "site", site.Name,
			"email", web.Shorten(email, web.MaxQuoted), "failures", f.Failures, "addresses", f.Addresses,
			"distributed", distributed, "locked_for", f.LockedFor.String())
		if h.Metrics != nil {
			h.Metrics.AdminLockouts.WithLabelValues(strconv.FormatBool(distributed)).Inc()
		}
	}
	h.Render.Render(w, r, http.StatusUnauthorized, "admin_login", signInPage{Email: email, Error: "Wrong e-mail address or password."})
}

// signInName is the e-mail address typed at a failed sign-in as the audit
// log names it: normalised when it is an address, else shortened.
func signInName(typed string) string {
	if email, err := sites.NormalizeEmail(typed); err == nil {
		return web.Shorten(email, web.MaxQuoted)
	}
	return web.Shorten(strings.TrimSpace(typed), 64)
}

// lockedOut refuses a sign-in to a locked account without checking the
// password: a guess there is worth nothing, known account or not.
func (h *Handler) lockedOut(w http.ResponseWriter, r *http.Request, email string, wait time.Duration) {
	minutes := int(math.Ceil(wait.Minutes()))
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	h.Render.Render(w, r, http.StatusTooManyRequests, "admin_login", signInPage{Email: email,
		Error: fmt.Sprintf("Too many failed sign-ins for this e-mail address. Try again in %d minute%s.", minutes, map[bool]string{true: "", false: "s"}[minutes == 1])})
}

// SignOut ends the admin's session (POST /admin/logout).
func (h *Handler) SignOut(w http.ResponseWriter, r *http.Request) {
	if err := h.Session.End(w, r); err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}
