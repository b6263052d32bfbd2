package sso

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

const userCookie = "session"

// Handler serves the SAML endpoints of every site, signs users in and out,
// and guards the user pages.
type Handler struct {
	SSO      *Service
	Users    *users.Store
	Sessions *session.Store
	Render   *web.Renderer
	Cookies  web.Cookies
	Log      *slog.Logger
	Metrics  *metrics.Metrics
	// Limiter bounds, per client and site, the work anyone can cause
	// without signing in: sign-in starts (a stored pending request and an
	// RSA signature each) and ACS posts (a stored event each), keyed by
	// web.RateKey. Nil means no limit.
	Limiter *httprate.RateLimiter
}

// Routes mounts the SAML endpoints and sign-out on a site router.
func (h *Handler) Routes(r chi.Router) {
	r.Get("/saml/metadata", h.metadata)
	r.With(h.limit).Post("/saml/acs", h.acs)
	r.Post("/logout", h.logout)
	r.Get("/signed-out", h.signedOut)
}

type userKey struct{}

// UserFrom returns the signed-in user of a request that passed RequireUser.
func UserFrom(ctx context.Context) users.User {
	u, _ := ctx.Value(userKey{}).(users.User)
	return u
}

// overLimit counts the request against the client's budget and, when it is
// spent, answers it (429) and reports true.
func (h *Handler) overLimit(w http.ResponseWriter, r *http.Request) bool {
	if h.Limiter == nil {
		return false
	}
	key, _ := web.RateKey(r)
	return h.Limiter.RespondOnLimit(w, r, key)
}

func (h *Handler) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.overLimit(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// RequireUser lets signed-in users through. Anyone else, on a site with SSO
// enabled, is sent to the IdP with an AuthnRequest (SP-initiated sign-in)
// and comes back to the page first asked for.
func (h *Handler) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site, _ := web.SiteFrom(r.Context())
		if token := h.Cookies.Get(r, userCookie); token != "" {
			sess, err := h.Sessions.Lookup(r.Context(), site.ID, session.User, token, session.UserPolicy)
			if err == nil {
				user, err := h.Users.ByID(r.Context(), site.ID, sess.SubjectID)
				if err == nil && user.Active {
					r = web.MarkSignedIn(r, "/logout")
					next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
					return
				}
			} else if !errors.Is(err, session.ErrNotFound) {
				h.Render.ServerError(w, r, err)
				return
			}
			h.Cookies.Clear(w, userCookie)
		}
		if r.Method != http.MethodGet {
			h.Render.Error(w, r, http.StatusForbidden, "Please sign in", "Your session has ended. Open the page again to sign in.")
			return
		}
		if h.overLimit(w, r) {
			return
		}
		target, err := h.SSO.StartSignIn(r.Context(), site, r.URL.RequestURI(), false)
		if errors.Is(err, ErrNotConfigured) || errors.Is(err, ErrNotEnabled) {
			h.Render.Render(w, r, http.StatusOK, "sso_unavailable", nil)
			return
		}
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}

func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	doc, err := h.SSO.Metadata(r.Context(), site)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	if r.URL.Query().Has("download") {
		w.Header().Set("Content-Disposition", `attachment; filename="`+site.Name+`-sp-metadata.xml"`)
	}
	_, _ = w.Write(doc)
}

func (h *Handler) acs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	if err := r.ParseForm(); err != nil {
		h.refused(w, r, Attempt{Flow: FlowUnknown}, "", refuse(bodyReason(err), "the POST could not be read: %v", err))
		return
	}
	a, attempt, err := h.SSO.Consume(ctx, site, r.PostForm.Get("SAMLResponse"), r.PostForm.Get("RelayState"))
	if err != nil {
		var refusal *RefusalError
		if !errors.As(err, &refusal) {
			h.Render.ServerError(w, r, err)
			return
		}
		h.refused(w, r, attempt, "", refusal)
		return
	}
	if a.Test {
		h.showTest(w, r, a)
		return
	}
	identity := users.IdentityFrom(a.NameID, a.Attributes)
	user, token, err := h.Users.SignIn(ctx, site.ID, identity, users.Policy{
		AutoCreate: a.Settings.AutoCreate, AutoUpdate: a.Settings.AutoUpdate, Role: a.Settings.NewUserRole,
	})
	if err != nil {
		if refusal := accountRefusal(err, identity); refusal != nil {
			h.refused(w, r, attempt, a.NameID, refusal)
			return
		}
		h.Render.ServerError(w, r, err)
		return
	}
	// The session token is always new (a planted token never becomes a
	// session). The IdP's cross-site POST usually carries no SameSite=Lax
	// cookie; when a same-site one does come, its session is ended too.
	if old := h.Cookies.Get(r, userCookie); old != "" {
		_ = h.Sessions.Delete(ctx, site.ID, session.User, old)
	}
	h.Cookies.Set(w, userCookie, token, session.UserPolicy.Absolute)
	h.record(r, Event{SiteID: site.ID, Reference: web.RequestID(ctx), Flow: a.Flow, Result: ResultSuccess,
		NameID: a.NameID, UserID: &user.ID, ClientIP: web.ClientFrom(ctx).IP})
	h.Log.InfoContext(ctx, "user signed in", "site", site.Name, "uid", user.UID, "flow", a.Flow)
	http.Redirect(w, r, a.ReturnPath, http.StatusSeeOther)
}

// bodyReason names an unreadable POST: too large, or malformed.
func bodyReason(err error) string {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return "response-too-large"
	}
	return ReasonMalformed
}

// accountRefusal turns the account errors of a sign-in into refusals.
func accountRefusal(err error, id users.Identity) *RefusalError {
	var missing *users.MissingAttributesError
	switch {
	case errors.As(err, &missing):
		r := refuse(ReasonMissingAttributes, "the identity provider did not send %s, needed to create the account %s",
			strings.Join(missing.Names, ", "), id.UID)
		r.Missing = missing.Names
		return r
	case errors.Is(err, users.ErrNoAccount):
		return refuse(ReasonNoAccount, "no account %s on this site and Auto Account Creation is off", id.UID)
	case errors.Is(err, users.ErrDeactivated):
		return refuse(ReasonDeactivated, "the account %s is deactivated", id.UID)
	case errors.Is(err, users.ErrIdentityChanged):
		return refuse(ReasonIdentityChanged, "the account %s belongs to another person in the identity provider (object ID %s differs from the one on file); an admin must re-link it", id.UID, id.ObjectID)
	}
	return nil
}

type refusedPage struct {
	Message   string
	Missing   string
	IdPStatus string
	Reference string
}

func (h *Handler) refused(w http.ResponseWriter, r *http.Request, attempt Attempt, nameID string, refusal *RefusalError) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	ref := web.RequestID(ctx)
	result := ResultRefused
	if attempt.Test {
		result = ResultTest
	}
	h.record(r, Event{SiteID: site.ID, Reference: ref, Flow: attempt.Flow, Result: result, Reason: refusal.Reason,
		Detail: refusal.Detail, NameID: nameID, ClientIP: web.ClientFrom(ctx).IP})
	h.Log.WarnContext(ctx, "sign-in refused", "site", site.Name, "reason", refusal.Reason, "detail", refusal.Detail, "flow", attempt.Flow, "test", attempt.Test)
	if attempt.Test {
		h.Render.Render(w, r, http.StatusOK, "sso_test_failed", testFailure{
			Reason: refusal.Reason, Explanation: refusal.Detail,
			Received: Peek(attempt.Received), Reference: ref,
		})
		return
	}
	if attempt.ErrorPageURL != "" {
		// The customer's own error page, told which sign-in failed and why.
		target, err := url.Parse(attempt.ErrorPageURL)
		if err == nil {
			q := target.Query()
			q.Set("reference", ref)
			q.Set("reason", refusal.Reason)
			target.RawQuery = q.Encode()
			http.Redirect(w, r, target.String(), http.StatusSeeOther)
			return
		}
	}
	page := refusedPage{Reference: ref}
	switch refusal.Reason {
	case ReasonNoAccount:
		page.Message = "You do not have an account on this site yet. Ask your site administrator to create one for you."
	case ReasonDeactivated:
		page.Message = "Your account on this site has been deactivated. Ask your site administrator."
	case ReasonIdentityChanged:
		page.Message = "Your e-mail address belongs to an existing account of someone else on this site. Ask your site administrator to link the account to you."
	case ReasonMissingAttributes:
		page.Message = "Your company's identity provider did not send everything needed to create your account. Your administrator must add these claims in the identity provider:"
		page.Missing = strings.Join(refusal.Missing, ", ")
	case ReasonIdPStatus:
		page.Message = "Your company's identity provider did not sign you in."
		page.IdPStatus = refusal.Status
		if refusal.StatusMessage != "" {
			page.IdPStatus += ": " + refusal.StatusMessage
		}
	case ReasonNotEnabled:
		page.Message = "Single sign-on is not enabled for this site."
	case ReasonMFARequired:
		page.Message = "This site requires multi-factor sign-in. Sign in again and complete the second step your company asks for."
	default:
		page.Message = "The sign-in response from your company's identity provider was not accepted. Try again from the start; if it keeps happening, give your administrator the reference below."
	}
	h.Render.Render(w, r, http.StatusForbidden, "signin_refused", page)
}

func (h *Handler) record(r *http.Request, e Event) {
	if err := h.SSO.RecordEvent(r.Context(), e); err != nil {
		h.Log.ErrorContext(r.Context(), "record sign-in event", "error", err.Error())
	}
	if h.Metrics != nil {
		h.Metrics.SignIns.WithLabelValues(e.Result, e.Reason).Inc()
	}
}

// testFailure is the Test SSO page of a refused response.
type testFailure struct {
	Reason, Explanation, Reference string
	Received                       Received
}

// showTest shows an admin what a Test SSO sign-in sent, signing nobody in.
func (h *Handler) showTest(w http.ResponseWriter, r *http.Request, a *Assertion) {
	site, _ := web.SiteFrom(r.Context())
	h.record(r, Event{SiteID: site.ID, Reference: web.RequestID(r.Context()), Flow: a.Flow, Result: ResultTest,
		Reason: "all-checks-passed", NameID: a.NameID, ClientIP: web.ClientFrom(r.Context()).IP})
	h.Render.Render(w, r, http.StatusOK, "sso_test_result", a)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	if token := h.Cookies.Get(r, userCookie); token != "" {
		if err := h.Sessions.Delete(r.Context(), site.ID, session.User, token); err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
	}
	h.Cookies.Clear(w, userCookie)
	// Not "/": that would sign the user straight back in through the IdP.
	http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
}

func (h *Handler) signedOut(w http.ResponseWriter, r *http.Request) {
	h.Render.Render(w, r, http.StatusOK, "signed_out", nil)
}
