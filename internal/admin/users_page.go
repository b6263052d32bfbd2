package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// userChange is one of the actions on the Users page.
type userChange struct {
	name   string // in the audit log and the redirect
	banner string // shown after the redirect; %s is the account
	apply  func(ctx context.Context, store *users.Store, siteID, id int64) error
}

var (
	userDeactivate = userChange{
		name:   "deactivate",
		banner: "%s is deactivated and signed out everywhere.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) error {
			return s.SetActive(ctx, siteID, id, false)
		},
	}
	userReactivate = userChange{
		name:   "reactivate",
		banner: "%s is active again and can sign in.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) error {
			return s.SetActive(ctx, siteID, id, true)
		},
	}
	userRelink = userChange{
		name:   "relink",
		banner: "%s is re-linked: the next person to sign in with this account's uid gets it. Earlier sessions have ended.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) error {
			return s.Relink(ctx, siteID, id)
		},
	}
	userChanges = map[string]userChange{"deactivate": userDeactivate, "reactivate": userReactivate, "relink": userRelink}
)

type usersPage struct {
	Users  []users.User
	Banner string
}

// UsersPage lists the site's meeting users.
func (h *Handler) UsersPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	list, err := h.Users.List(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page := usersPage{Users: list}
	// The banner is built here from a known action and an account of this
	// site, never from text in the URL.
	if change, ok := userChanges[r.URL.Query().Get("done")]; ok {
		if id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64); err == nil {
			for _, u := range list {
				if u.ID == id {
					page.Banner = fmt.Sprintf(change.banner, u.DisplayName()+" ("+u.UID+")")
				}
			}
		}
	}
	h.Render.Render(w, r, http.StatusOK, "admin_users", page)
}

// DeactivateUser deactivates the account in the URL and ends its sessions.
func (h *Handler) DeactivateUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userDeactivate)
}

// ReactivateUser lets the account in the URL sign in again.
func (h *Handler) ReactivateUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userReactivate)
}

// RelinkUser forgets the IdP object ID of the account in the URL.
func (h *Handler) RelinkUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userRelink)
}

func (h *Handler) changeUser(w http.ResponseWriter, r *http.Request, change userChange) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	// Looked up on this site only: another site's account is not found.
	user, err := h.Users.ByID(r.Context(), site.ID, id)
	if err == nil {
		err = change.apply(r.Context(), h.Users, site.ID, id)
	}
	if errors.Is(err, users.ErrNotFound) {
		h.Render.NotFound(w, r)
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.record(r, "user."+change.name, fmt.Sprintf("%s (id %d)", user.UID, user.ID))
	http.Redirect(w, r, "/admin/users?done="+change.name+"&id="+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
