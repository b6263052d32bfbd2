package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// userChange is one of the actions on the Users page.
type userChange struct {
	name   string // in the redirect
	action string // in the audit log
	banner string // shown after the redirect; %s is the account
	// apply makes the change and reports whether anything changed.
	apply func(ctx context.Context, store *users.Store, siteID, id int64) (bool, error)
}

var (
	userDeactivate = userChange{
		name:   "deactivate",
		action: "user.deactivate",
		banner: "Deactivated %s: signed out everywhere, and refused at sign-in until reactivated.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) (bool, error) {
			return s.SetActive(ctx, siteID, id, false)
		},
	}
	userReactivate = userChange{
		name:   "reactivate",
		action: "user.reactivate",
		banner: "Reactivated %s: they can sign in again.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) (bool, error) {
			return s.SetActive(ctx, siteID, id, true)
		},
	}
	userRelink = userChange{
		name:   "relink",
		action: "user.relink",
		banner: "Re-linked %s: the next person to sign in with this account's uid gets it. Earlier sessions have ended.",
		apply: func(ctx context.Context, s *users.Store, siteID, id int64) (bool, error) {
			return s.Relink(ctx, siteID, id)
		},
	}
	userChanges = map[string]userChange{"deactivate": userDeactivate, "reactivate": userReactivate, "relink": userRelink,
		"end-sessions": {name: "end-sessions", action: "user.end-sessions", banner: "Signed %s out everywhere: every session of the account has ended."},
		"end-session":  {name: "end-session", action: "user.end-session", banner: "Ended a session of %s: that browser is signed out."},
	}
)

type usersPage struct {
	Users []users.User
	// Sessions are each account's live sessions, by account id.
	Sessions map[int64][]session.Session
	Banner   string
	// The Add user form: what was typed, and what is wrong with it, by
	// input name.
	Add       users.NewAccount
	AddErrors map[string]string
	// Query is the search, as typed.
	Query string
	// Resumed: the Add user form is what the admin had posted when their
	// session expired.
	Resumed string
	web.Pager
}

// usersPerPage is how many accounts one page of the Users page lists.
const usersPerPage = 50

// ExportURL is the CSV export of the accounts the search selects.
func (p usersPage) ExportURL() string {
	if p.Query != "" {
		return "/admin/users.csv?" + url.Values{"q": {p.Query}}.Encode()
	}
	return "/admin/users.csv"
}

// usersNotices are the banners after Add user.
var usersNotices = web.Notices{
	"added": "The account was added. Its user can now sign in through single sign-on, even with Auto Account Creation off.",
}

// UsersPage lists the site's meeting users, with the form to add one.
func (h *Handler) UsersPage(w http.ResponseWriter, r *http.Request) {
	page := usersPage{Banner: usersNotices.From(r, "done"), Add: users.NewAccount{Role: "host"}}
	if form, ok := h.resumedForm(w, r, "/admin/users"); ok {
		page.Add = addUserForm(form)
		page.Resumed = resumedNotice
	}
	h.renderUsers(w, r, http.StatusOK, page)
}

// addUserForm reads the Add user form.
func addUserForm(form url.Values) users.NewAccount {
	return users.NewAccount{
		Email: form.Get("email"), UID: form.Get("uid"), Role: form.Get("role"),
		FirstName: form.Get("first_name"), LastName: form.Get("last_name"),
	}
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, status int, page usersPage) {
	site, _ := web.SiteFrom(r.Context())
	page.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	number := web.PageFrom(r)
	list, err := h.Users.Search(r.Context(), site.ID, users.Filter{Query: page.Query, Limit: usersPerPage + 1, Offset: (number - 1) * usersPerPage})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	var query url.Values
	if page.Query != "" {
		query = url.Values{"q": {page.Query}}
	}
	page.Pager = web.NewPager("/admin/users", query, number, len(list) > usersPerPage)
	page.Users = list[:min(len(list), usersPerPage)]
	ids := make([]int64, len(page.Users))
	for i, u := range page.Users {
		ids[i] = u.ID
	}
	if page.Sessions, err = h.Sessions.ListOf(r.Context(), site.ID, session.User, ids, session.UserPolicy); err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	// The banner is built here from a known action and an account of this
	// site, never from text in the URL.
	if change, ok := userChanges[r.URL.Query().Get("done")]; ok {
		if id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64); err == nil {
			if u, err := h.Users.ByID(r.Context(), site.ID, id); err == nil {
				page.Banner = fmt.Sprintf(change.banner, userName(u))
			}
		}
	}
	h.Render.Render(w, r, status, "admin_users", page)
}

// AddUser makes an account before its user's first sign-in (POST
// /admin/users): with Auto Account Creation off, this is how an admin lets
// someone in. The account and its audit entry are one transaction.
func (h *Handler) AddUser(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	page := usersPage{Add: addUserForm(r.PostForm)}
	_, err := h.Users.Create(r.Context(), site.ID, page.Add, func(ctx context.Context, tx pgx.Tx, u users.User) error {
		return h.Audit.RecordIn(ctx, tx, site.ID, h.actor(r), "user.create", u.Summary())
	})
	var invalid users.AccountErrors
	var conflict *users.ConflictError
	switch {
	case errors.As(err, &invalid):
		page.AddErrors = invalid
	case errors.As(err, &conflict):
		page.AddErrors = map[string]string{"uid": fmt.Sprintf(
			"This uid only looks like the account %s's (look-alike characters): two people could not be told apart. Check the uid the identity provider sends.", conflict.Account.UID)}
	case errors.Is(err, users.ErrExists):
		page.AddErrors = map[string]string{"uid": "This site already has an account with this uid."}
	case err != nil:
		h.Render.ServerError(w, r, err)
		return
	default:
		http.Redirect(w, r, "/admin/users?done=added", http.StatusSeeOther)
		return
	}
	h.renderUsers(w, r, http.StatusUnprocessableEntity, page)
}

// DeactivateUser deactivates the account in the URL and ends its sessions.
func (h *Handler) DeactivateUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userDeactivate)
}

// ConfirmDeactivateUser asks before deactivating the account in the URL
// (GET /admin/users/{id}/deactivate), naming it and what will happen.
func (h *Handler) ConfirmDeactivateUser(w http.ResponseWriter, r *http.Request) {
	user, ok := h.userPage(w, r)
	if !ok {
		return
	}
	name := user.Email
	if name == "" {
		name = user.UID
	}
	h.Render.Render(w, r, http.StatusOK, "admin_confirm", confirmPage{
		Section: "Users", SectionURL: "/admin/users",
		Title: "Deactivate " + name + "?",
		Effects: []string{
			user.DisplayName() + " (uid " + user.UID + ") is signed out everywhere at once.",
			"Their single sign-on sign-ins are refused until an admin reactivates the account.",
			"The account, its meetings and its rooms are kept.",
		},
		Action: fmt.Sprintf("/admin/users/%d/deactivate", user.ID), Button: "Deactivate " + name,
	})
}

// ReactivateUser lets the account in the URL sign in again.
func (h *Handler) ReactivateUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userReactivate)
}

// RelinkUser forgets the IdP object ID of the account in the URL (the
// confirmation of RelinkPage).
func (h *Handler) RelinkUser(w http.ResponseWriter, r *http.Request) {
	h.changeUser(w, r, userRelink)
}

// relinkPage shows, before a re-link, the account and the sign-in that was
// refused for it side by side.
type relinkPage struct {
	User    users.User
	Refused *sso.Event // the newest refused sign-in for the account; nil if none
	// UID and Email say how the refused sign-in's identifiers compare
	// with the account's.
	UID, Email comparison
	// LookAlike: an identifier differs from the account's but looks the
	// same, which is how someone passes for a colleague.
	LookAlike bool
	// ObjectChanged: the same uid, another person in the identity provider.
	ObjectChanged bool
}

// comparison is one identifier of the account beside the refused sign-in's.
type comparison struct {
	Same, LookAlike bool
	// Unusual lists the refused identifier's characters outside ASCII,
	// named, for a look-alike.
	Unusual []string
}

func compare(account, refused string) comparison {
	c := comparison{Same: account == refused, LookAlike: identifier.LookAlike(account, refused)}
	if c.LookAlike {
		c.Unusual = identifier.Unusual(refused)
	}
	return c
}

// RelinkPage is the confirmation before a re-link (GET
// /admin/users/{id}/relink): the account's identity and the refused
// sign-in's, from its event, side by side, with a warning when they differ
// only by characters that look alike. A re-link hands the account to the
// next person who signs in with its uid: the admin must see whom.
func (h *Handler) RelinkPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	user, ok := h.userPage(w, r)
	if !ok {
		return
	}
	page := relinkPage{User: user}
	refused, ok, err := h.SSO.LatestConflict(r.Context(), site.ID, user.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if ok {
		page.Refused = &refused
		page.UID = compare(user.UID, refused.ClaimedUID)
		page.Email = compare(user.Email, refused.ClaimedEmail)
		page.LookAlike = page.UID.LookAlike || page.Email.LookAlike
		page.ObjectChanged = page.UID.Same && refused.ClaimedObjectID != "" && refused.ClaimedObjectID != user.ObjectID
	}
	h.Render.Render(w, r, http.StatusOK, "admin_users_relink", page)
}

// userInURL is the account {id} of the URL, looked up on this site only:
// another site's account, like a malformed id, is users.ErrNotFound.
func (h *Handler) userInURL(r *http.Request) (users.User, error) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return users.User{}, users.ErrNotFound
	}
	return h.Users.ByID(r.Context(), site.ID, id)
}

// userPage is the account {id} of the URL, or ok false once the request
// has been answered: 404 for no such account on this site.
func (h *Handler) userPage(w http.ResponseWriter, r *http.Request) (users.User, bool) {
	user, err := h.userInURL(r)
	if errors.Is(err, users.ErrNotFound) {
		h.Render.NotFound(w, r)
		return users.User{}, false
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return users.User{}, false
	}
	return user, true
}

func (h *Handler) changeUser(w http.ResponseWriter, r *http.Request, change userChange) {
	site, _ := web.SiteFrom(r.Context())
	user, err := h.userInURL(r)
	changed := false
	if err == nil {
		changed, err = change.apply(r.Context(), h.Users, site.ID, user.ID)
	}
	if errors.Is(err, users.ErrNotFound) {
		h.Render.NotFound(w, r)
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	// Pressed twice, the second press changes nothing and records nothing.
	if changed {
		h.recordDetails(r, change.action, userDetails(user))
	}
	http.Redirect(w, r, "/admin/users?done="+change.name+"&id="+strconv.FormatInt(user.ID, 10), http.StatusSeeOther)
}

// EndUserSessions signs an account out everywhere (POST
// /admin/users/{id}/sessions/end): every session of it ends at once, in
// every portal process, and the audit entry is written with the change.
func (h *Handler) EndUserSessions(w http.ResponseWriter, r *http.Request) {
	h.endSessions(w, r, 0, userChanges["end-sessions"])
}

// EndUserSession ends one session of an account (POST
// /admin/users/{id}/sessions/{session}/end).
func (h *Handler) EndUserSession(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "session"), 10, 64)
	if err != nil || id <= 0 {
		h.Render.NotFound(w, r)
		return
	}
	h.endSessions(w, r, id, userChanges["end-session"])
}

// endSessions ends the session id of the account in the URL, or all of
// them (id 0), with its audit entry in the same transaction: pressed
// twice, the second press ends nothing and records nothing.
func (h *Handler) endSessions(w http.ResponseWriter, r *http.Request, id int64, change userChange) {
	site, _ := web.SiteFrom(r.Context())
	user, ok := h.userPage(w, r)
	if !ok {
		return
	}
	_, err := h.Sessions.End(r.Context(), site.ID, session.User, user.ID, id, func(ctx context.Context, tx pgx.Tx, ended int64) error {
		if ended == 0 {
			return nil
		}
		details := append(userDetails(user), audit.Field{Name: "Sessions ended", Value: strconv.FormatInt(ended, 10)})
		if id != 0 {
			details = append(userDetails(user), audit.Field{Name: "Session", Value: strconv.FormatInt(id, 10)})
		}
		return h.Audit.RecordDetailsIn(ctx, tx, site.ID, h.actor(r), change.action, details)
	})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users?done="+change.name+"&id="+strconv.FormatInt(user.ID, 10), http.StatusSeeOther)
}

// userName names an account in a banner: its e-mail address, and its uid
// when that differs.
func userName(u users.User) string {
	if u.Email == "" || u.Email == u.UID {
		return u.UID
	}
	return u.Email + " (uid " + u.UID + ")"
}

// userDetails names an account in the audit log.
func userDetails(u users.User) audit.Details {
	d := audit.Details{{Name: "User", Value: u.UID}}
	if u.Email != u.UID {
		d = append(d, audit.Field{Name: "E-mail", Value: u.Email})
	}
	return append(d, audit.Field{Name: "Account ID", Value: strconv.FormatInt(u.ID, 10)})
}

// ExportUsers downloads the accounts the search selects as CSV (GET
// /admin/users.csv?q=…), streamed as they are read.
func (h *Handler) ExportUsers(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	out, err := web.NewCSV(w, site.Name+"-users.csv",
		"uid", "E-mail", "First name", "Last name", "Role", "Created by", "Status", "Created (UTC)", "Last sign-in (UTC)", "IdP object ID")
	if err == nil {
		err = h.Users.EachUser(r.Context(), site.ID, users.Filter{Query: r.URL.Query().Get("q")}, func(u users.User) error {
			createdBy, status, last := "Admin", "Active", ""
			if u.CreatedBy == "jit" {
				createdBy = "Auto Account Creation"
			}
			if !u.Active {
				status = "Deactivated"
			}
			if u.LastSignInAt != nil {
				last = u.LastSignInAt.UTC().Format(time.DateTime)
			}
			return out.Row(u.UID, u.Email, u.FirstName, u.LastName, u.Role, createdBy, status, u.CreatedAt.UTC().Format(time.DateTime), last, u.ObjectID)
		})
	}
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		// The download has started: it ends short, and the log says why.
		h.Log.ErrorContext(r.Context(), "export users", "error", err.Error())
	}
}
