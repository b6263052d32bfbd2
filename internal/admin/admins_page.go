package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/password"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/web"
)

// adminsNotices are the banners after a change on the Admins page, %s the
// admin it affected (from the change's audit entry, never from the URL).
var adminsNotices = map[string]struct{ action, banner string }{
	"added":   {"admin.add", "Added %s as an admin. They can sign in at /admin with the initial password; ask them to keep it safe."},
	"removed": {"admin.remove", "Removed %s: they are no longer an admin and are signed out everywhere."},
}

type adminsPage struct {
	Admins []sites.Admin
	Self   int64
	Banner string
	Error  string // a refused removal
	// Resumed: the add form is what the admin had posted when their
	// session expired.
	Resumed string
	// The add form: the e-mail is kept after an error; the password never
	// comes back into the page.
	Email         string
	EmailError    string
	PasswordError string
}

// FieldErrors are the add form's errors by input name, for the error
// summary and the fields' aria attributes.
func (p adminsPage) FieldErrors() map[string]string {
	errs := map[string]string{}
	if p.EmailError != "" {
		errs["email"] = p.EmailError
	}
	if p.PasswordError != "" {
		errs["password"] = p.PasswordError
	}
	return errs
}

// AdminsPage lists the site's admins, with the form to add one.
func (h *Handler) AdminsPage(w http.ResponseWriter, r *http.Request) {
	page := adminsPage{Banner: h.adminsBanner(r)}
	if form, ok := h.resumedForm(w, r, "/admin/admins"); ok {
		// The e-mail only: the initial password was never kept.
		page.Email, page.Resumed = form.Get("email"), resumedNotice+" Type the initial password again."
	}
	h.renderAdmins(w, r, http.StatusOK, page)
}

// adminsBanner is the banner after an add or a removal, naming the admin
// from the audit entry the change wrote: an entry of this site, of that
// action.
func (h *Handler) adminsBanner(r *http.Request) string {
	notice, ok := adminsNotices[r.URL.Query().Get("done")]
	if !ok {
		return ""
	}
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(r.URL.Query().Get("entry"), 10, 64)
	if err != nil {
		return ""
	}
	entry, err := h.Audit.Entry(r.Context(), site.ID, id)
	if err != nil || entry.Action != notice.action || entry.Value("Admin") == "" {
		return ""
	}
	return fmt.Sprintf(notice.banner, entry.Value("Admin"))
}

// auditedRedirect records the change and redirects to the Admins page
// with a banner that names the admin it affected.
func (h *Handler) auditedRedirect(w http.ResponseWriter, r *http.Request, done, action, email string) {
	site, _ := web.SiteFrom(r.Context())
	id, err := h.Audit.RecordDetails(r.Context(), site.ID, h.actor(r), action, audit.Details{{Name: "Admin", Value: email}})
	if err != nil {
		// The change is made: say so without the name rather than fail.
		h.Log.ErrorContext(r.Context(), "audit", "error", err.Error())
	}
	http.Redirect(w, r, "/admin/admins?done="+done+"&entry="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (h *Handler) renderAdmins(w http.ResponseWriter, r *http.Request, status int, page adminsPage) {
	site, _ := web.SiteFrom(r.Context())
	list, err := h.Sites.ListAdmins(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page.Admins, page.Self = list, AdminFrom(r.Context()).ID
	h.Render.Render(w, r, status, "admin_admins", page)
}

// AddAdmin adds an admin (POST /admin/admins).
func (h *Handler) AddAdmin(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	page := adminsPage{Email: r.PostFormValue("email")}
	email, err := sites.NormalizeEmail(page.Email)
	if err != nil {
		page.EmailError = "Enter an e-mail address such as name@example.com."
	}
	pw := r.PostFormValue("password")
	if err := password.Validate(pw); err != nil {
		page.PasswordError = fmt.Sprintf("The initial password must be at least %d characters.", password.MinLength)
	}
	if page.EmailError == "" && page.PasswordError == "" {
		err = h.Sites.CreateAdmin(r.Context(), site.ID, email, pw)
		switch {
		case errors.Is(err, sites.ErrExists):
			page.EmailError = "This e-mail address is already an admin of this site."
		case err != nil:
			h.Render.ServerError(w, r, err)
			return
		default:
			h.auditedRedirect(w, r, "added", "admin.add", email)
			return
		}
	}
	h.renderAdmins(w, r, http.StatusUnprocessableEntity, page)
}

// RemoveAdmin removes an admin and ends their sessions.
func (h *Handler) RemoveAdmin(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	removed, err := h.Sites.RemoveAdmin(r.Context(), site.ID, id, AdminFrom(r.Context()).ID)
	switch {
	case errors.Is(err, sites.ErrNotFound):
		h.Render.NotFound(w, r)
		return
	case errors.Is(err, sites.ErrRemoveSelf):
		h.renderAdmins(w, r, http.StatusConflict, adminsPage{Error: "You cannot remove yourself. Another admin of this site can."})
		return
	case errors.Is(err, sites.ErrLastAdmin):
		h.renderAdmins(w, r, http.StatusConflict, adminsPage{Error: "The last admin of a site cannot be removed: the site would have no way to sign in when SSO is broken."})
		return
	case err != nil:
		h.Render.ServerError(w, r, err)
		return
	}
	// The removed admin's sessions already stop working (a session counts
	// only while its admin exists); deleting them makes that explicit.
	if err := h.Sessions.DeleteForSubject(r.Context(), site.ID, session.Admin, removed.ID); err != nil {
		h.Log.ErrorContext(r.Context(), "end removed admin's sessions", "error", err.Error())
	}
	h.auditedRedirect(w, r, "removed", "admin.remove", removed.Email)
}

// ConfirmRemoveAdmin asks before removing an admin (GET
// /admin/admins/{id}/remove), naming them and what will happen.
func (h *Handler) ConfirmRemoveAdmin(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	target, err := h.Sites.AdminByID(r.Context(), site.ID, id)
	if errors.Is(err, sites.ErrNotFound) {
		h.Render.NotFound(w, r)
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "admin_confirm", confirmPage{
		Section: "Admins", SectionURL: "/admin/admins",
		Title: "Remove " + target.Email + "?",
		Effects: []string{
			target.Email + " will no longer be an admin of this site and cannot sign in at /admin.",
			"Every admin session of " + target.Email + " ends at once.",
			"Their past changes stay in the admin audit.",
		},
		Action: fmt.Sprintf("/admin/admins/%d/remove", target.ID), Button: "Remove " + target.Email,
	})
}
