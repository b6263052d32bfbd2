package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	"staged":           "Staged: SSO is on, so the new identity provider is not used yet. Everyone still signs in with the one in use. Test it with Test SSO under Identity provider, then activate it.",
	"activated":        "The staged identity provider is now in use: the next sign-in goes to it.",
	"discarded":        "The staged identity provider was discarded. The one in use has not changed.",
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
	if form, ok := h.resumedForm(w, r, "/admin/sso"); ok {
		// The options as the admin had posted them, with the version
		// they were editing: if someone changed the settings since, the
		// next Save shows it rather than overwriting it.
		// A form posts one section: the others are shown as stored.
		options := optionsFormFromValues(form)
		options.Protocol, options.Section = form.Get("protocol"), form.Get("section")
		options.version = versionFromValues(form)
		if _, known := formSections[options.Section]; known {
			options = options.over(p.Settings)
		} else {
			options.Protocol = protocolSAML2
		}
		p.Options, p.Notice = options, resumedNotice
	}
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

// SSOSaveOptions saves one section of the single sign-on settings (the
// Save of Sign-in options, or SSO on/off under Status): only that
// section's settings change. It refuses the save when someone else changed
// the settings since the page was opened (sso_versions.go).
func (h *Handler) SSOSaveOptions(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	form := newOptionsForm(r)
	errs := form.Validate()
	if _, known := formSections[form.Section]; !known {
		h.Render.Error(w, r, http.StatusBadRequest, "Form out of date", errs["section"])
		return
	}
	if errs != nil {
		h.refuseOptions(w, r, form, errs)
		return
	}
	var before, wanted url.Values
	saved, err := h.SSO.UpdateSettings(r.Context(), site.ID, func(set *sso.Settings) error {
		current := *set
		form.MergeSection(set)
		set.Normalize()
		before, wanted = pageState(current), form.sectionValues(optionsFormFrom(*set).values())
		if conflict := checkVersion(form.Revision, form.Opened, current, wanted); conflict != nil {
			return conflict
		}
		return nil
	})
	var conflict *versionConflict
	switch {
	case errors.As(err, &conflict):
		shown := optionsFormFromValues(rebase(optionsFormFrom(conflict.Current).values(), form.values(), edited(wanted, form.Opened)))
		shown.Protocol = protocolSAML2
		h.showConflict(w, r, conflict, func(p *ssoPage) { p.Options = shown.withVersion(conflict.Current) })
	case errors.As(err, &errs):
		h.refuseOptions(w, r, form, errs)
	case err != nil:
		h.Render.ServerError(w, r, err)
	default:
		// Exactly what changed, once: a Save that changes nothing (the
		// form sent twice) records nothing.
		if detail := changedSettings(before, pageState(saved)); detail != "" {
			h.record(r, "sso.save-options", detail)
		}
		http.Redirect(w, r, "/admin/sso?done=saved", http.StatusSeeOther)
	}
}

// refuseOptions shows the page again with the section's options as typed
// (the other sections as saved) and what is wrong with them; the form
// keeps the version it was built from.
func (h *Handler) refuseOptions(w http.ResponseWriter, r *http.Request, form optionsForm, errs sso.FieldErrors) {
	h.showSSOPage(w, r, http.StatusUnprocessableEntity, func(p *ssoPage) {
		p.Options, p.OptionErrors = form.over(p.Settings), errs
		p.Problem = "Nothing was saved: correct the fields marked below."
	})
}

// showConflict shows the page again after a save refused by a newer
// version of the settings: what changed since, and the form as edit sets
// it (the admin's edits on top of the current settings).
func (h *Handler) showConflict(w http.ResponseWriter, r *http.Request, conflict *versionConflict, edit func(*ssoPage)) {
	h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) {
		p.Conflict = conflict.Changes
		p.Problem = "Not saved: the SSO settings were changed by someone else since you opened this page. Here is what changed; your own changes are kept in the form. Check them and save again."
		edit(p)
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
	// What the address sent is not usable metadata: the address works,
	// so say that it is the content that is wrong.
	h.createDraft(w, r, data, metadataURL, func(p *ssoPage, message string) {
		refused(p, "The metadata URL answered, but not with usable identity provider metadata: "+message)
	})
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
	// The import and its audit entry are one transaction; pressed twice,
	// the second press finds the draft used and answers the same.
	_, staged, err := h.SSO.ApplyDraft(r.Context(), site.ID, chi.URLParam(r, "draft"), h.actor(r))
	if errors.Is(err, sso.ErrDraftApplied) {
		err = nil
	}
	if h.draftGone(w, r, err) {
		return
	}
	if staged {
		http.Redirect(w, r, "/admin/sso?done=staged#pending", http.StatusSeeOther)
		return
	}
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

// SSOSaveIdP saves an identity provider typed in by hand, unless someone
// else changed the settings since the page was opened.
func (h *Handler) SSOSaveIdP(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	form, idp, errs := parseManualForm(r)
	if errs == nil {
		wanted := form.wanted(idp)
		changed, staged, err := h.SSO.ReplaceOrStageIdP(r.Context(), site.ID, idp, h.actor(r), func(current sso.Settings) error {
			if conflict := checkVersion(form.Revision, form.Opened, current, wanted); conflict != nil {
				return conflict
			}
			return nil
		})
		var conflict *versionConflict
		if errors.As(err, &conflict) {
			shown := manualFormFromValues(rebase(manualFormFrom(conflict.Current).values(), form.values(), edited(wanted, form.Opened)))
			h.showConflict(w, r, conflict, func(p *ssoPage) { p.Manual, p.ManualOpen = shown.withVersion(conflict.Current), true })
			return
		}
		if err == nil && staged {
			// Staging recorded itself.
			http.Redirect(w, r, "/admin/sso?done=staged#pending", http.StatusSeeOther)
			return
		}
		if err == nil {
			if changed {
				h.record(r, "sso.save-idp", fmt.Sprintf("entity ID %s, SSO URL %s, SLO URL %s, %d signing certificate(s): %s",
					idp.EntityID, idp.SSOURL, idp.SLOURL, len(idp.Certificates), sso.Fingerprints(idp.Certificates)))
			}
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
		p.Manual, p.ManualErrors, p.ManualOpen = form, errs, true
		p.Problem = "The identity provider was not saved: correct the fields marked below."
	})
}

// SSORefresh fetches the metadata URL again now (Refresh now). What it
// changed, or that it failed, is recorded by the refresh itself.
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
	if err := h.SSO.Refresh(r.Context(), site.ID, h.actor(r), h.FetchMetadata); err != nil {
		// Refresh recorded the error and its time; the page shows them.
		h.Log.WarnContext(r.Context(), "metadata refresh failed", "site", site.Name, "error", err.Error())
		http.Redirect(w, r, "/admin/sso?problem=refresh-failed", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/sso?done=refreshed", http.StatusSeeOther)
}

// SSOAcceptProposal accepts the new entity ID and endpoints a refresh
// found: the proposal the admin's page showed, and only that one.
func (h *Handler) SSOAcceptProposal(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	_, err := h.SSO.AcceptProposal(r.Context(), site.ID, r.PostFormValue("proposal"), h.actor(r))
	switch {
	case errors.Is(err, sso.ErrNoProposal):
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) { p.Problem = "There is no change waiting to be accepted." })
	case errors.Is(err, sso.ErrProposalChanged):
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) {
			p.Problem = "Not accepted: a later refresh found a different identity provider or address than the page showed you. Review the proposal below, then accept it if it is right."
		})
	case err != nil:
		h.Render.ServerError(w, r, err)
	default:
		http.Redirect(w, r, "/admin/sso?done=accepted", http.StatusSeeOther)
	}
}

// SSOActivatePending makes the staged identity provider the one in use:
// the one the admin's page showed, and only that one.
func (h *Handler) SSOActivatePending(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	_, err := h.SSO.ActivatePending(r.Context(), site.ID, r.PostFormValue("pending"), h.actor(r))
	h.pendingStep(w, r, err, "activated")
}

// SSODiscardPending drops the staged identity provider the page showed.
func (h *Handler) SSODiscardPending(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	err := h.SSO.DiscardPending(r.Context(), site.ID, r.PostFormValue("pending"), h.actor(r))
	h.pendingStep(w, r, err, "discarded")
}

// pendingStep answers Activate or Discard.
func (h *Handler) pendingStep(w http.ResponseWriter, r *http.Request, err error, done string) {
	switch {
	case errors.Is(err, sso.ErrNoPending):
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) {
			p.Problem = "Nothing was done: no identity provider is staged any more (it was activated or discarded, perhaps by another admin). The page shows the configuration in use."
		})
	case errors.Is(err, sso.ErrPendingChanged):
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) {
			p.Problem = "Nothing was done: another identity provider was staged since this page was opened. Review the one staged now below, test it, then activate it if it is right."
		})
	case err != nil:
		h.Render.ServerError(w, r, err)
	default:
		http.Redirect(w, r, "/admin/sso?done="+done, http.StatusSeeOther)
	}
}

// SSOCreateNextSPKey starts an SP certificate rollover. The form carries
// the newest SP key its page listed: pressed twice, the second press finds
// the key the first made and answers the same.
func (h *Handler) SSOCreateNextSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	newest, _ := strconv.ParseInt(r.PostFormValue("newest"), 10, 64)
	_, err := h.SSO.CreateNextSPKey(r.Context(), site, newest, h.actor(r))
	h.rolloverStep(w, r, err, "sp-key-created")
}

// SSOActivateSPKey makes the next SP certificate in the URL sign.
func (h *Handler) SSOActivateSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	_, err = h.SSO.ActivateSPKey(r.Context(), site.ID, id, h.actor(r))
	h.rolloverStep(w, r, err, "sp-key-activated")
}

// SSORemoveSPKey removes a next or previous SP certificate.
func (h *Handler) SSORemoveSPKey(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	_, err = h.SSO.RemoveSPKey(r.Context(), site.ID, id, h.actor(r))
	if errors.Is(err, sso.ErrSPKeyGone) {
		// Removed already (the same press sent twice): what was asked for
		// is done.
		err = nil
	}
	h.rolloverStep(w, r, err, "sp-key-removed")
}

// rolloverStep finishes one step of the SP certificate rollover (the step
// recorded itself in the audit log): a step out of order is explained on
// the page.
func (h *Handler) rolloverStep(w http.ResponseWriter, r *http.Request, err error, done string) {
	var rollover *sso.RolloverError
	if errors.As(err, &rollover) {
		h.showSSOPage(w, r, http.StatusConflict, func(p *ssoPage) { p.Problem = "Not done: " + rollover.Problem + "." })
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/sso?done="+done, http.StatusSeeOther)
}

// SSOTest starts an SP-initiated sign-in marked as a test: the ACS shows the
// admin what came back instead of signing anyone in. It works before SSO is
// enabled, which is the point: test, then enable.
func (h *Handler) SSOTest(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	binding, err := sso.Binding(w, r, h.Session.Cookies)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	staged := r.URL.Query().Get("config") == "staged"
	target, err := h.SSO.StartTest(r.Context(), site, binding, staged)
	if errors.Is(err, sso.ErrNoPending) {
		h.Render.Error(w, r, http.StatusConflict, "Nothing staged to test",
			"No identity provider is staged any more: it was activated or discarded. Open the SSO Configuration page again.")
		return
	}
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
	now := h.Now()
	p := ssoPage{
		Settings: set, SP: sp, Options: optionsFormFrom(set), Manual: manualForm{},
		ImportURL: set.MetadataURL, Protocol: protocolSAML2,
		ProfileSP: profileSPInitiated, ProfileBoth: profileBoth, NameIDFormats: nameIDChoices,
		TutorialAuthnContext: tutorialAuthnContext,
	}
	// Manual entry starts empty: prefilled with the imported identity
	// provider, it reads as something to fill in and save again. The
	// admin who wants to change it by hand asks for it (Edit by hand).
	if r.URL.Query().Get("edit") == "idp" {
		p.Manual, p.ManualOpen = manualFormFrom(set), true
	}
	opened := versionOf(set)
	p.Options.version, p.Manual.version = opened, opened
	p.IdPCertificates = describeCertificates(set.Certificates, now)
	p.PendingCertificates = describeCertificates(set.PendingCertificates, now)
	if !sp.ActiveExpires.IsZero() {
		p.SPWarning = describeCertificate(idpmeta.CertificateInfo{NotAfter: sp.ActiveExpires}, now).Warning
	}
	if p.LastSuccess, p.LastFailure, err = h.SSO.LatestOutcomes(r.Context(), site.ID); err != nil {
		return ssoPage{}, err
	}
	return p, nil
}

// SSODownloadCertificate is Download certificate: the SP certificate that
// signs this site's requests, as a PEM file.
func (h *Handler) SSODownloadCertificate(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	cert, err := h.SSO.ActiveSPCertificatePEM(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="`+site.Name+`-sp-certificate.pem"`)
	_, _ = w.Write(cert)
}

func (h *Handler) spDetails(r *http.Request, site sites.Site) (spDetails, error) {
	certs, err := h.SSO.SPCertificates(r.Context(), site.ID)
	if err != nil {
		return spDetails{}, err
	}
	d := spDetails{
		EntityID: h.SSO.EntityID(site.Name), ACSURL: h.SSO.ACSURL(site.Name), SLOURL: h.SSO.SLOURL(site.Name), SignOnURL: h.Hosts.SignOnURL(site.Name),
		ExportName: site.Name + "-sp-metadata.xml", Certificates: certs,
	}
	for _, c := range certs {
		// A key sealed under another PORTAL_SECRET_KEY breaks sign-in, Test
		// SSO and the metadata: the page says so before the admin tries them.
		if c.Unreadable && !d.KeyUnreadable {
			d.KeyUnreadable = true
			h.Log.ErrorContext(r.Context(), "SP key unreadable", "error", (&sso.SPKeyUnreadableError{Site: site.Name, KeyID: c.ID}).Error())
		}
		d.Newest = max(d.Newest, c.ID)
		switch c.State {
		case "active":
			d.ActiveExpires = c.NotAfter
		case "next":
			d.HasNext = true
		}
	}
	return d, nil
}
