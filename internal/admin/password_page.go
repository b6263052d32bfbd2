package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/password"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/web"
)

// passwordPage is the form where an admin changes their own password. No
// password typed ever comes back into the page.
type passwordPage struct {
	Email  string
	Errors map[string]string // by input name
}

// PasswordPage is the form to change one's own password (GET
// /admin/password).
func (h *Handler) PasswordPage(w http.ResponseWriter, r *http.Request) {
	h.Render.Render(w, r, http.StatusOK, "admin_password", passwordPage{Email: AdminFrom(r.Context()).Email})
}

// ChangePassword changes the signed-in admin's password (POST
// /admin/password): the current password is required (a session left
// open on a shared computer is not enough to take the account over), the
// new one follows the rules of admin creation, the admin's other sessions
// end and the change is audited, in one transaction. A wrong current
// password counts against the account like a failed sign-in.
func (h *Handler) ChangePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	admin := AdminFrom(ctx)
	current, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	page := passwordPage{Email: admin.Email, Errors: map[string]string{}}
	locked, err := h.Lockouts.LockedFor(ctx, site.ID, admin.Email)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	switch {
	case locked > 0:
		page.Errors["current_password"] = "Too many wrong passwords for this account. Try again later."
	case current == "":
		page.Errors["current_password"] = "Enter your current password."
	}
	if password.Validate(next) != nil {
		page.Errors["new_password"] = fmt.Sprintf("The new password must be at least %d characters.", password.MinLength)
	} else if next == current {
		page.Errors["new_password"] = "The new password must differ from the current one."
	}
	if next != again {
		page.Errors["confirm_password"] = "The two new passwords differ."
	}
	if len(page.Errors) > 0 {
		h.Render.Render(w, r, http.StatusUnprocessableEntity, "admin_password", page)
		return
	}
	keep := sessionIDFrom(ctx)
	err = h.Sites.ChangeAdminPassword(ctx, site.ID, admin.ID, current, next, func(ctx context.Context, tx pgx.Tx, a sites.Admin) error {
		ended, err := h.Sessions.EndOthersIn(ctx, tx, site.ID, session.Admin, a.ID, keep)
		if err != nil {
			return err
		}
		return h.Audit.RecordDetailsIn(ctx, tx, site.ID, a.Email, "admin.change-password", audit.Details{
			{Name: "Admin", Value: a.Email}, {Name: "Other sessions ended", Value: strconv.FormatInt(ended, 10)}})
	})
	switch {
	case errors.Is(err, sites.ErrBadCredentials):
		if _, err := h.Lockouts.Failed(ctx, site.ID, admin.Email, web.ClientFrom(ctx).IP); err != nil {
			h.Render.ServerError(w, r, err)
			return
		}
		// The same form posted twice (a double click): the first post
		// changed the password to the new one, so the second finds the
		// current one wrong. Counted all the same — otherwise the new
		// password field would be a way to guess the password that no
		// lockout sees — but answered as the change it is.
		switch _, err := h.Sites.Authenticate(ctx, site.ID, admin.Email, next); {
		case err == nil:
			http.Redirect(w, r, "/admin?done=password", http.StatusSeeOther)
		case errors.Is(err, sites.ErrBusy):
			h.busy(w, r)
		default:
			page.Errors["current_password"] = "This is not your current password."
			h.Render.Render(w, r, http.StatusUnprocessableEntity, "admin_password", page)
		}
	case errors.Is(err, sites.ErrBusy):
		h.busy(w, r)
	case err != nil:
		h.Render.ServerError(w, r, err)
	default:
		h.Log.InfoContext(ctx, "admin changed their password", "site", site.Name, "admin", admin.Email)
		http.Redirect(w, r, "/admin?done=password", http.StatusSeeOther)
	}
}

// busy answers a password check refused because every hashing slot was
// taken (sites.ErrBusy): nothing is wrong with what was typed.
func (h *Handler) busy(w http.ResponseWriter, r *http.Request) {
	h.Render.Error(w, r, http.StatusServiceUnavailable, "Busy", "Too many passwords are being checked at this moment. Please try again in a few seconds.")
}
