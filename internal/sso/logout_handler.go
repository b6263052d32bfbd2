package sso

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/web"
)

// SingleLogout is users.Auth.SingleLogout: where a browser goes once
// sign-out has ended its session. With the site's Single Logout on, the
// identity provider, with a LogoutRequest for the session; otherwise the
// signed-out page, which says the identity provider may still have the user
// signed in, or that it could not be asked.
func (h *Handler) SingleLogout(r *http.Request, ended session.Session) string {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	target, err := h.SSO.StartLogout(ctx, site, ended)
	switch {
	case errors.Is(err, ErrSingleLogoutUnavailable):
		return "/signed-out?slo=unavailable"
	case err != nil:
		// The portal session has ended; only the identity provider's
		// could not be asked to, which the page says.
		h.Log.ErrorContext(ctx, "start single logout", "site", site.Name, "error", err.Error())
		return "/signed-out?slo=unavailable"
	case target == "":
		return "/signed-out"
	}
	h.Log.InfoContext(ctx, "single logout started", "site", site.Name, "user_id", ended.SubjectID)
	return target
}

// SLO is the Single Logout service (GET and POST /saml/slo): the identity
// provider's answer to a sign-out that started here (SAMLResponse), or its
// request to sign a user out (SAMLRequest), with the HTTP-Redirect or
// HTTP-POST binding.
func (h *Handler) SLO(w http.ResponseWriter, r *http.Request) {
	has := r.URL.Query().Has
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			h.logoutRefused(w, r, IdPLogout{}, refuse(bodyReason(err), "the POST could not be read: %v", err))
			return
		}
		has = r.PostForm.Has
	}
	switch {
	case has("SAMLRequest"):
		h.idpLogout(w, r)
	case has("SAMLResponse"):
		h.logoutAnswered(w, r)
	default:
		h.Render.Error(w, r, http.StatusBadRequest, "Not a sign-out message",
			"This address receives sign-out messages from your company's identity provider. To sign out, use Sign out on any page of this site.")
	}
}

// logoutAnswered takes the identity provider's LogoutResponse to a
// sign-out that started here. The portal session ended before the browser
// left, so whatever the answer, the person is signed out of this site; the
// page says whether the identity provider confirmed it signed them out too.
func (h *Handler) logoutAnswered(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	answer, err := h.SSO.ConsumeLogoutResponse(ctx, site, r)
	event := Event{SiteID: site.ID, Reference: web.RequestID(ctx), Flow: FlowLogoutSP, Result: ResultSuccess,
		NameID: answer.NameID, UserID: answer.UserID, ClientIP: web.ClientFrom(ctx).IP,
		Detail: "the identity provider confirmed the sign-out"}
	var refusal *RefusalError
	switch {
	case errors.As(err, &refusal):
		event.Result, event.Reason, event.Detail = ResultRefused, refusal.Reason, "the identity provider's answer to the sign-out was not accepted: "+refusal.Detail
		h.Log.WarnContext(ctx, "LogoutResponse refused", "site", site.Name, "reason", refusal.Reason, "detail", refusal.Detail)
	case err != nil:
		h.Log.ErrorContext(ctx, "check LogoutResponse", "site", site.Name, "error", err.Error())
		http.Redirect(w, r, "/signed-out?slo=failed", http.StatusSeeOther)
		return
	}
	if err := h.SSO.RecordEvent(ctx, event); err != nil {
		h.Log.ErrorContext(ctx, "record logout event", "error", err.Error())
	}
	if refusal != nil {
		http.Redirect(w, r, "/signed-out?slo=failed", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signed-out?slo=done", http.StatusSeeOther)
}

// idpLogout takes a LogoutRequest from the identity provider: once it has
// passed every check, the sessions it names end, in PostgreSQL, so in
// every portal process at once, and the browser goes back to the identity
// provider with the answer. A refused request ends nothing.
func (h *Handler) idpLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	lr, err := h.SSO.ConsumeLogoutRequest(ctx, site, r)
	if err != nil {
		h.logoutFailed(w, r, lr, err)
		return
	}
	event := Event{SiteID: site.ID, Reference: web.RequestID(ctx), Flow: FlowLogoutIdP, Result: ResultSuccess,
		NameID: lr.NameID, ClientIP: web.ClientFrom(ctx).IP}
	ended, err := h.SSO.CompleteLogout(ctx, lr, event, func(tx pgx.Tx) ([]int64, int64, error) {
		return session.EndNamed(ctx, tx, site.ID, lr.NameID, lr.NameIDFormat, lr.SessionIndexes)
	})
	if err != nil {
		h.logoutFailed(w, r, lr, err)
		return
	}
	h.Log.InfoContext(ctx, "identity provider signed a user out", "site", site.Name, "sessions_ended", ended)
	target, err := h.SSO.LogoutResponseURL(ctx, site, lr)
	if err != nil {
		// The sessions have ended; only the answer could not be made.
		h.Log.ErrorContext(ctx, "make LogoutResponse", "site", site.Name, "error", err.Error())
		target = ""
	}
	if target == "" {
		http.Redirect(w, r, "/signed-out?slo=idp", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// logoutFailed answers a LogoutRequest that was refused, or that the
// portal failed to act on (nothing of it was written either way).
func (h *Handler) logoutFailed(w http.ResponseWriter, r *http.Request, lr IdPLogout, err error) {
	var refusal *RefusalError
	if !errors.As(err, &refusal) {
		h.Render.ServerError(w, r, err)
		return
	}
	h.logoutRefused(w, r, lr, refusal)
}

// logoutRefused records a refused LogoutRequest and shows a page saying
// nothing changed.
func (h *Handler) logoutRefused(w http.ResponseWriter, r *http.Request, lr IdPLogout, refusal *RefusalError) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	detail := "a sign-out request was refused and ended nothing: " + refusal.Detail
	if lr.ID != "" {
		detail += " (request " + shorten(lr.ID) + ", unverified NameID " + shorten(lr.NameID) + ")"
	}
	// Recorded with the sign-in events, not counted as a sign-in.
	if err := h.SSO.RecordEvent(ctx, Event{SiteID: site.ID, Reference: web.RequestID(ctx), Flow: FlowLogoutIdP, Result: ResultRefused,
		Reason: refusal.Reason, Detail: detail, ClientIP: web.ClientFrom(ctx).IP}); err != nil {
		h.Log.ErrorContext(ctx, "record logout event", "error", err.Error())
	}
	h.Log.WarnContext(ctx, "LogoutRequest refused", "site", site.Name, "reason", refusal.Reason, "detail", refusal.Detail)
	h.Render.Error(w, r, http.StatusForbidden, "Sign-out request not accepted",
		"This request to sign you out did not come from your company's identity provider in a form this site accepts, so nothing was changed: you are still signed in if you were. "+
			"To sign out, use Sign out on any page of this site.")
}
