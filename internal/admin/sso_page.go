package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/web"
)

// ssoNotices are the banners shown after a change redirected back to the
// page (?done=…); only these fixed texts can appear, never the query.
var ssoNotices = web.Notices{
	"saved":            "Saved. The new settings apply from the next sign-in.",
	"imported":         "The identity provider's metadata was imported.",
	"idp-saved":        "The identity provider was saved.",
	"refreshed":        "The metadata was fetched again from its URL.",
	"accepted":         "The identity provider's new entity ID and URLs are now in use.",
	"sp-key-created":   "The next SP certificate was created and is published in this site's SP metadata. Export the metadata and upload it to the identity provider, then activate the new certificate.",
	"sp-key-activated": "The new SP certificate now signs this site's requests. Remove the previous one once the identity provider has the new metadata.",
	"sp-key-removed":   "The SP certificate was removed from this site's SP metadata.",
}

// ssoProblems are the error banners shown after a redirect (?problem=…).
var ssoProblems = web.Notices{
	"refresh-failed": "Fetching the metadata failed. The configuration in use has not changed; the error is shown under Metadata URL.",
}

// SSOPage is Common Site Settings → SSO Configuration.
func (h *Handler) SSOPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.loadSSOPage(r)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	p.Notice = ssoNotices.From(r, "done")
	p.Problem = ssoProblems.From(r, "problem")
	h.Render.Render(w, r, http.StatusOK, "admin_sso", p)
}

// showSSOPage renders the page again after a refused change; edit puts the
// admin's input and the errors into the page.
func (h *Handler) showSSOPage(w http.ResponseWriter, r *http.Request, status int, edit func(*ssoPage)) {
	p, err := h.loadSSOPage(r)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	edit(&p)
	h.Render.Render(w, r, status, "admin_sso", p)
}

// SSOSaveOptions saves the single sign-on settings (Save).
func (h *Handler) SSOSaveOptions(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	form := newOptionsForm(r)
	errs := form.Validate()
	if errs == nil {
		_, err := h.SSO.UpdateSettings(r.Context(), site.ID, func(set *sso.Settings) error {
			form.Merge(set)
			return nil
		})
		switch {
		case errors.As(err, &errs):
		case err != nil:
			h.Render.ServerError(w, r, err)
			return
		default:
			h.record(r, "sso.save-options", form.summary())
			http.Redirect(w, r, "/admin/sso?done=saved", http.StatusSeeOther)
			return
		}
	}
	h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) {
		p.Options, p.OptionErrors = form, errs
		p.Problem = "Nothing was saved: correct the fields marked below."
	})
}

// uploadOverhead is room for the multipart framing around the metadata
// file within the upload's cap.
const uploadOverhead = 64 << 10

// SSOImportFile reads an uploaded metadata file and shows it for review.
func (h *Handler) SSOImportFile(w http.ResponseWriter, r *http.Request) {
	data, problem := readMetadataUpload(w, r)
	if problem != "" {
		h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) { p.ImportError = problem })
		return
	}
	h.createDraft(w, r, data, "", func(p *ssoPage, message string) { p.ImportError = message })
}

// readMetadataUpload reads the uploaded metadata file, at most
// idpmeta.MaxBytes (one byte more lets the parser say it is too large).
func readMetadataUpload(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	r.Body = http.MaxBytesReader(w, r.Body, idpmeta.MaxBytes+uploadOverhead)
	if err := r.ParseMultipartForm(idpmeta.MaxBytes + uploadOverhead); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, "This file is larger than 1 MiB, too large for identity provider metadata. Download the Federation Metadata XML again and upload that file."
		}
		return nil, "The upload could not be read. Choose the metadata file and try again."
	}
	defer r.MultipartForm.RemoveAll() //nolint:errcheck
	file, _, err := r.FormFile("metadata")
	if err != nil {
		return nil, "Choose the metadata file to upload (Azure: Federation Metadata XML)."
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, idpmeta.MaxBytes+1))
	if err != nil {
		return nil, "The upload could not be read. Choose the metadata file and try again."
	}
	return data, ""
}

// SSOImportURL fetches metadata from a URL and shows it for review.
func (h *Handler) SSOImportURL(w http.ResponseWriter, r *http.Request) {
	metadataURL := strings.TrimSpace(r.PostFormValue("metadata_url"))
	refused := func(p *ssoPage, message string) { p.ImportURL, p.ImportURLError = metadataURL, message }
	data, err := h.FetchMetadata(r.Context(), metadataURL)
	if err != nil {
		message, ok := adminMessage(err)
		if !ok {
			message = "The metadata could not be fetched from this address."
			h.Log.WarnContext(r.Context(), "metadata fetch failed", "error", err.Error())
		}
		h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) { refused(p, message) })
		return
	}
	h.createDraft(w, r, data, metadataURL, refused)
}

// createDraft keeps parsed metadata for review and sends the admin to the
// review page; refused metadata is shown on the page through refused.
func (h *Handler) createDraft(w http.ResponseWriter, r *http.Request, data []byte, sourceURL string, refused func(*ssoPage, string)) {
	site, _ := web.SiteFrom(r.Context())
	draft, err := h.SSO.CreateDraft(r.Context(), site.ID, data, sourceURL)
	if err != nil {
		message, ok := adminMessage(err)
		if !ok {
			h.Render.ServerError(w, r, err)
			return
		}
		h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) { refused(p, message) })
		return
	}
	http.Redirect(w, r, "/admin/sso/import/"+draft.ID, http.StatusSeeOther)
}

// SSOReview shows imported metadata, and what it would change, before it is applied.
func (h *Handler) SSOReview(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	draft, _, err := h.SSO.Draft(r.Context(), site.ID, chi.URLParam(r, "draft"))
	if h.draftGone(w, r, err) {
		return
	}
	current, err := h.SSO.Settings(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "admin_sso_review", newReviewPage(draft, current, h.Now()))
}

// SSOApplyDraft applies reviewed metadata (Import on the review page).
func (h *Handler) SSOApplyDraft(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	idp, err := h.SSO.ApplyDraft(r.Context(), site.ID, chi.URLParam(r, "draft"))
	if h.draftGone(w, r, err) {
		return
	}
	h.record(r, "sso.import-metadata", fmt.Sprintf("entity ID %s, SSO URL %s, %d signing certificate(s): %s",
		idp.EntityID, idp.SSOURL, len(idp.Certificates), fingerprints(idp.Certificates)))
	http.Redirect(w, r, "/admin/sso?done=imported", http.StatusSeeOther)
}

// draftGone handles a draft that cannot be used; it reports whether it
// answered the request.
func (h *Handler) draftGone(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, sso.ErrDraftNotFound):
		h.Render.Error(w, r, http.StatusNotFound, "Metadata no longer waiting", "This metadata is no longer waiting for confirmation (it was imported, or an hour has passed). Upload it again on the SSO Configuration page.")
	default:
		h.Render.ServerError(w, r, err)
	}
	return true
}

// SSOSaveIdP saves an identity provider typed in by hand.
func (h *Handler) SSOSaveIdP(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	form, idp, errs := parseManualForm(r)
	if errs == nil {
		err := h.SSO.SaveIdP(r.Context(), site.ID, idp)
		if err == nil {
			h.record(r, "sso.save-idp", fmt.Sprintf("entity ID %s, SSO URL %s, SLO URL %s, %d signing certificate(s): %s",
				idp.EntityID, idp.SSOURL, idp.SLOURL, len(idp.Certificates), fingerprints(idp.Certificates)))
			http.Redirect(w, r, "/admin/sso?done=idp-saved", http.StatusSeeOther)
			return
		}
		message, ok := adminMessage(err)
		if !ok {
			h.Render.ServerError(w, r, err)
			return
		}
		errs = map[string]string{"sso_url": message}
	}
	h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) {
		p.Manual, p.ManualErrors = form, errs
		p.Problem = "The identity provider was not saved: correct the fields marked below."
	})
}

// SSORefresh fetches the metadata URL again now (Refresh now).
func (h *Handler) SSORefresh(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	set, err := h.SSO.Settings(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if set.MetadataURL == "" {
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) {
			p.Problem = "There is no metadata URL to refresh: use Import from URL first."
		})
		return
	}
	if err := h.SSO.Refresh(r.Context(), site.ID, h.FetchMetadata); err != nil {
		// Refresh recorded the error and its time; the page shows them.
		message, ok := adminMessage(err)
		if !ok {
			message = "the metadata could not be fetched"
		}
		h.record(r, "sso.refresh-metadata", "failed: "+message)
		http.Redirect(w, r, "/admin/sso?problem=refresh-failed", http.StatusSeeOther)
		return
	}
	h.record(r, "sso.refresh-metadata", "fetched "+set.MetadataURL)
	http.Redirect(w, r, "/admin/sso?done=refreshed", http.StatusSeeOther)
}

// SSOAcceptProposal accepts the new entity ID and endpoints a refresh found.
func (h *Handler) SSOAcceptProposal(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	set, err := h.SSO.Settings(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	err = h.SSO.AcceptProposal(r.Context(), site.ID)
	if errors.Is(err, sso.ErrNoProposal) {
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) { p.Problem = "There is no change waiting to be accepted." })
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.record(r, "sso.accept-refresh", fmt.Sprintf("entity ID %s → %s, SSO URL %s → %s",
		set.IdPEntityID, set.ProposedEntityID, set.SSOURL, set.ProposedSSOURL))
	http.Redirect(w, r, "/admin/sso?done=accepted", http.StatusSeeOther)
}

// SSOCreateNextSPKey starts an SP certificate rollover.
func (h *Handler) SSOCreateNextSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	h.rolloverStep(w, r, h.SSO.CreateNextSPKey(r.Context(), site), "sso.sp-key-create", "next SP certificate created", "sp-key-created")
}

// SSOActivateNextSPKey makes the next SP certificate sign.
func (h *Handler) SSOActivateNextSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	h.rolloverStep(w, r, h.SSO.ActivateNextSPKey(r.Context(), site.ID), "sso.sp-key-activate", "next SP certificate activated", "sp-key-activated")
}

// SSORemoveSPKey removes a next or previous SP certificate.
func (h *Handler) SSORemoveSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	removed, err := h.SSO.RemoveSPKey(r.Context(), site.ID, id)
	detail := fmt.Sprintf("%s SP certificate removed (SHA-256 %s)", removed.State, removed.SHA256)
	h.rolloverStep(w, r, err, "sso.sp-key-remove", detail, "sp-key-removed")
}

// rolloverStep finishes one step of the SP certificate rollover: a step out
// of order is explained on the page, a done one is recorded.
func (h *Handler) rolloverStep(w http.ResponseWriter, r *http.Request, err error, action, detail, done string) {
	var rollover *sso.RolloverError
	if errors.As(err, &rollover) {
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) { p.Problem = "Not done: " + rollover.Problem + "." })
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.record(r, action, detail)
	http.Redirect(w, r, "/admin/sso?done="+done, http.StatusSeeOther)
}

// SSOTest starts an SP-initiated sign-in marked as a test: the ACS shows the
// admin what came back instead of signing anyone in. It works before SSO is
// enabled, which is the point: test, then enable.
func (h *Handler) SSOTest(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	target, err := h.SSO.StartSignIn(r.Context(), site, "/", true)
	if errors.Is(err, sso.ErrNotConfigured) {
		h.Render.Error(w, r, http.StatusConflict, "Nothing to test yet",
			"Set up the identity provider first: import its metadata on the SSO Configuration page, then use Test SSO.")
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// loadSSOPage gathers what the page shows: the saved settings in the forms,
// the identity provider's certificates and this site's SP details.
func (h *Handler) loadSSOPage(r *http.Request) (ssoPage, error) {
	site, _ := web.SiteFrom(r.Context())
	set, err := h.SSO.Settings(r.Context(), site.ID)
	if err != nil {
		return ssoPage{}, err
	}
	sp, err := h.spDetails(r, site)
	if err != nil {
		return ssoPage{}, err
	}
	// A key sealed under another PORTAL_SECRET_KEY breaks sign-in, Test
	// SSO and the metadata: the page says so before the admin tries them.
	var unreadable *sso.SPKeyUnreadableError
	if err := h.SSO.CheckSPKeys(r.Context(), site); errors.As(err, &unreadable) {
		sp.KeyUnreadable = true
		h.Log.ErrorContext(r.Context(), "SP key unreadable", "error", err.Error())
	} else if err != nil {
		return ssoPage{}, err
	}
	now := h.Now()
	p := ssoPage{
		Settings: set, SP: sp, Options: optionsFormFrom(set), Manual: manualFormFrom(set),
		ImportURL: set.MetadataURL, Protocol: protocolSAML2,
		ProfileSP: profileSPInitiated, ProfileBoth: profileBoth, NameIDFormats: nameIDChoices,
	}
	for _, c := range set.Certificates {
		p.IdPCertificates = append(p.IdPCertificates, describeCertificate(idpmeta.Describe(c), now))
	}
	return p, nil
}

func (h *Handler) spDetails(r *http.Request, site sites.Site) (spDetails, error) {
	certs, err := h.SSO.SPCertificates(r.Context(), site.ID)
	if err != nil {
		return spDetails{}, err
	}
	d := spDetails{
		EntityID: h.SSO.EntityID(site.Name), ACSURL: h.SSO.ACSURL(site.Name), SignOnURL: h.Hosts.SignOnURL(site.Name),
		ExportName: site.Name + "-sp-metadata.xml", Certificates: certs,
	}
	for _, c := range certs {
		switch c.State {
		case "active":
			d.ActiveExpires = c.NotAfter
		case "next":
			d.HasNext = true
		}
	}
	return d, nil
}
