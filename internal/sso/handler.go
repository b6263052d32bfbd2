package sso

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/metrics"
	"github.com/meetings-portal/portal/internal/session"
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
	// Cookies names and sets the BindingCookie.
	Cookies web.Cookies
	// Budget is the client's ACS budget: the ACS refuses a client that
	// spent it, and charges refused and unsolicited responses (never the
	// answer to a sign-in the client started: the start paid for it).
	Budget *web.Budget
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
	binding, err := Binding(w, r, h.Cookies)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	target, err := h.SSO.StartSignIn(r.Context(), site, r.URL.RequestURI(), false, binding)
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
	if h.Budget != nil && h.Budget.Exhausted(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.refused(w, r, Result{Flow: FlowUnknown}, refuse(bodyReason(err), "the POST could not be read: %v", err))
		return
	}
	binding := h.Cookies.Get(r, BindingCookie)
	result, err := h.SSO.Consume(ctx, site, r.PostForm.Get("SAMLResponse"), r.PostForm.Get("RelayState"), binding)
	if err != nil {
		var refusal *RefusalError
		if !errors.As(err, &refusal) {
			h.Render.ServerError(w, r, err)
			return
		}
		h.refused(w, r, result, refusal)
		return
	}
	a := result.Assertion
	event := Event{SiteID: site.ID, Reference: web.RequestID(ctx), Flow: a.Flow, Result: ResultSuccess,
		NameID: a.NameID, ClientIP: web.ClientFrom(ctx).IP, Claims: result.Claims}
	event.Claimed(a.Identity)
	if a.Test {
		event.Result, event.Reason = ResultTest, ReasonTestPassed
		if err := h.SSO.Complete(ctx, result, event, nil); err != nil {
			h.failed(w, r, result, a, err)
			return
		}
		h.count(event)
		h.endBinding(w, r, result, binding)
		explained, err := h.SSO.ExplainTest(ctx, h.Users, site.ID, a)
		if err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		h.Render.Render(w, r, http.StatusOK, "sso_test_result", explained)
		return
	}
	var user users.User
	var token string
	err = h.SSO.Complete(ctx, result, event, func(tx pgx.Tx) (int64, error) {
		var err error
		user, token, err = h.Users.SignInTx(ctx, tx, site.ID, a.Identity, users.Policy{
			AutoCreate: a.Settings.AutoCreate, AutoUpdate: a.Settings.AutoUpdate, Role: a.Settings.NewUserRole,
		}, session.Origin{
			UserAgent: r.UserAgent(), ClientIP: web.ClientFrom(ctx).IP,
			NameID: a.NameID, NameIDFormat: a.NameIDFormat, NameQualifier: a.NameQualifier,
			SPNameQualifier: a.SPNameQualifier, SessionIndex: a.SessionIndex,
		})
		return user.ID, err
	})
	if err != nil {
		h.failed(w, r, result, a, err)
		return
	}
	h.count(event)
	if a.Flow == FlowIdP {
		// Unsolicited: no start paid for it.
		h.charge(r)
	}
	h.endBinding(w, r, result, binding)
	h.Auth.StartSession(w, r, token)
	h.Log.InfoContext(ctx, "user signed in", "site", site.Name, "uid", user.UID, "flow", a.Flow)
	http.Redirect(w, r, a.ReturnPath, http.StatusSeeOther)
}

// charge spends one unit of the client's sign-in budget.
func (h *Handler) charge(r *http.Request) {
	if h.Budget != nil {
		h.Budget.Charge(r)
	}
}

// endBinding clears the binding cookie once the browser's last pending
// request is answered. A failure only leaves the cookie to expire.
func (h *Handler) endBinding(w http.ResponseWriter, r *http.Request, result Result, binding string) {
	if result.pendingID == "" {
		return
	}
	site, _ := web.SiteFrom(r.Context())
	if err := h.SSO.EndBinding(r.Context(), w, site.ID, binding, h.Cookies); err != nil {
		h.Log.WarnContext(r.Context(), "end browser binding", "error", err.Error())
	}
}

// failed answers a sign-in whose completion failed: refused for its
// account or for a replay that lost the race (nothing of it was written),
// or a failure of the portal itself.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, result Result, a *Assertion, err error) {
	refusal := accountRefusal(err, a.Identity)
	if refusal == nil {
		errors.As(err, &refusal)
	}
	if refusal == nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.refusedAs(w, r, result, a, refusal)
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
	var conflict *users.ConflictError
	var r *RefusalError
	switch {
	case errors.As(err, &missing):
		r = refuse(ReasonMissingAttributes, "the identity provider did not send %s, needed to create the account %s",
			strings.Join(missing.Names, ", "), id.UID)
		r.Missing = missing.Names
	case errors.Is(err, users.ErrNoAccount):
		r = refuse(ReasonNoAccount, "no account %s on this site and Auto Account Creation is off", id.UID)
	case errors.Is(err, users.ErrDeactivated):
		r = refuse(ReasonDeactivated, "the account %s is deactivated", id.UID)
	case errors.As(err, &conflict) && errors.Is(err, users.ErrLookAlike):
		r = refuse(ReasonLookAlike, "the uid %s only looks like the uid %s of an existing account (id %d): the characters %s differ. "+
			"No account is made for it; if this is a real, different person, their uid in the identity provider must differ visibly",
			id.UID, conflict.Account.UID, conflict.Account.ID, strings.Join(identifier.Unusual(id.UID+conflict.Account.UID), ", "))
	case errors.As(err, &conflict):
		r = refuse(ReasonIdentityChanged, "the account %s belongs to another person in the identity provider (object ID %s differs from the one on file); "+
			"an admin must re-link it (Users page) after checking both identities", id.UID, id.ObjectID)
	default:
		return nil
	}
	if conflict != nil {
		r.Account = &conflict.Account.ID
	}
	return r
}

type refusedPage struct {
	Message   string
	Missing   string
	IdPStatus string
	Reference string
}

func (h *Handler) refused(w http.ResponseWriter, r *http.Request, result Result, refusal *RefusalError) {
	h.refusedAs(w, r, result, nil, refusal)
}

// refusedAs records and answers a refusal; a is the accepted assertion
// when the refusal came after it (the account), else nil.
func (h *Handler) refusedAs(w http.ResponseWriter, r *http.Request, result Result, a *Assertion, refusal *RefusalError) {
	h.charge(r)
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	ref := web.RequestID(ctx)
	outcome := ResultRefused
	if result.Test {
		outcome = ResultTest
	}
	event := Event{SiteID: site.ID, Reference: ref, Flow: result.Flow, Result: outcome, Reason: refusal.Reason,
		Detail: refusal.Detail, ClientIP: web.ClientFrom(ctx).IP, UserID: refusal.Account, Claims: result.Claims}
	if a != nil {
		event.NameID = a.NameID
		event.Claimed(a.Identity)
	}
	h.record(r, event)
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
	h.count(e)
}

// count adds a recorded event to the sign-in metric.
func (h *Handler) count(e Event) {
	if h.Metrics != nil {
		h.Metrics.SignIns.WithLabelValues(e.Result, MetricLabel(e.Reason)).Inc()
	}
}

// testFailure is the Test SSO page of a refused response.
type testFailure struct {
	Reason, Explanation, Reference string
	Received                       Received
}
