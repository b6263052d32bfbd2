package sso

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// Handler serves the SAML endpoints of every site: the SP metadata, the
// start of an SP-initiated sign-in, and the Assertion Consumer Service,
// which signs users in.
type Handler struct {
	SSO     *Service
	Users   *users.Store
	Auth    *users.Auth
	Render  *web.Renderer
	Log     *slog.Logger
	Metrics *metrics.Metrics
}

// Metadata serves the site's SP metadata (GET /saml/metadata); with
// ?download it is an attachment, as ExportMetadata serves it.
func (h *Handler) Metadata(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, r.URL.Query().Has("download"))
}

// ExportMetadata is the admin page's Export: the same document as
// /saml/metadata, as a file named for the site, for Azure's "Upload
// metadata file".
func (h *Handler) ExportMetadata(w http.ResponseWriter, r *http.Request) {
	h.serveMetadata(w, r, true)
}

func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, download bool) {
	site, _ := web.SiteFrom(r.Context())
	doc, err := h.SSO.Metadata(r.Context(), site)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	if download {
		w.Header().Set("Content-Disposition", `attachment; filename="`+site.Name+`-sp-metadata.xml"`)
	}
	_, _ = w.Write(doc)
}

// StartSignIn sends a visitor who is not signed in to the IdP with an
// AuthnRequest (SP-initiated sign-in); they come back to the page they
// asked for. A site without SSO says so.
func (h *Handler) StartSignIn(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
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
}

// ACS is the Assertion Consumer Service (POST /saml/acs).
func (h *Handler) ACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	if err := r.ParseForm(); err != nil {
		h.refused(w, r, Result{Flow: FlowUnknown}, "", refuse(bodyReason(err), "the POST could not be read: %v", err))
		return
	}
	result, err := h.SSO.Consume(ctx, site, r.PostForm.Get("SAMLResponse"), r.PostForm.Get("RelayState"))
	if err != nil {
		var refusal *RefusalError
		if !errors.As(err, &refusal) {
			h.Render.ServerError(w, r, err)
			return
		}
		h.refused(w, r, result, "", refusal)
		return
	}
	a := result.Assertion
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
			h.refused(w, r, result, a.NameID, refusal)
			return
		}
		h.Render.ServerError(w, r, err)
		return
	}
	h.Auth.StartSession(w, r, token)
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

func (h *Handler) refused(w http.ResponseWriter, r *http.Request, result Result, nameID string, refusal *RefusalError) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	ref := web.RequestID(ctx)
	outcome := ResultRefused
	if result.Test {
		outcome = ResultTest
	}
	h.record(r, Event{SiteID: site.ID, Reference: ref, Flow: result.Flow, Result: outcome, Reason: refusal.Reason,
		Detail: refusal.Detail, NameID: nameID, ClientIP: web.ClientFrom(ctx).IP})
	h.Log.WarnContext(ctx, "sign-in refused", "site", site.Name, "reason", refusal.Reason, "detail", refusal.Detail, "flow", result.Flow, "test", result.Test)
	if result.Test {
		h.Render.Render(w, r, http.StatusOK, "sso_test_failed", testFailure{
			Reason: refusal.Reason, Explanation: refusal.Detail,
			Received: Peek(result.Received), Reference: ref,
		})
		return
	}
	if result.ErrorPageURL != "" {
		// The customer's own error page, told which sign-in failed and why.
		target, err := url.Parse(result.ErrorPageURL)
		if err == nil {
			q := target.Query()
			q.Set("reference", ref)
			q.Set("reason", refusal.Reason)
			target.RawQuery = q.Encode()
			http.Redirect(w, r, target.String(), http.StatusSeeOther)
			return
		}
	}
	page := refusedPage{Reference: ref, Message: UserMessage(refusal.Reason)}
	switch refusal.Reason {
	case ReasonMissingAttributes:
		page.Missing = strings.Join(refusal.Missing, ", ")
	case ReasonIdPStatus:
		page.IdPStatus = refusal.Status
		if refusal.StatusMessage != "" {
			page.IdPStatus += ": " + refusal.StatusMessage
		}
	}
	h.Render.Render(w, r, http.StatusForbidden, "signin_refused", page)
}

func (h *Handler) record(r *http.Request, e Event) {
	if err := h.SSO.RecordEvent(r.Context(), e); err != nil {
		h.Log.ErrorContext(r.Context(), "record sign-in event", "error", err.Error())
	}
	if h.Metrics != nil {
		h.Metrics.SignIns.WithLabelValues(e.Result, MetricLabel(e.Reason)).Inc()
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
		Reason: ReasonTestPassed, NameID: a.NameID, ClientIP: web.ClientFrom(r.Context()).IP})
	h.Render.Render(w, r, http.StatusOK, "sso_test_result", a)
}
