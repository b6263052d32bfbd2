package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/web"
)

// auditPerPage is how many audit entries one page lists.
const auditPerPage = 50

type auditPage struct {
	Entries []listedEntry
	// The filters: an action code (one of Actions) and an actor as typed.
	Action, Actor string
	Actions       []actionOption
	// Actors are the site's admins and the other actors, offered for the
	// Admin filter.
	Actors   []string
	Filtered bool
	web.Pager
}

// listedEntry is a row of the audit list, its time and its action's words
// ready: a template function or method called for each of 50 rows goes
// through reflection each time.
type listedEntry struct {
	ID                  int64
	Time, Actor, Action string
	Words               string
	Details             audit.Details
}

func listedEntries(entries []audit.Entry) []listedEntry {
	out := make([]listedEntry, len(entries))
	for i, e := range entries {
		out[i] = listedEntry{ID: e.ID, Time: web.UTC(e.OccurredAt), Actor: e.Actor, Action: e.Action, Words: e.Words(), Details: e.Details}
	}
	return out
}

type actionOption struct {
	audit.Action
	Selected bool
}

// AuditPage lists every admin change, newest first, filtered by action and
// by admin (GET /admin/audit?action=…&admin=…).
func (h *Handler) AuditPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	q := r.URL.Query()
	page := auditPage{Action: q.Get("action"), Actor: strings.TrimSpace(q.Get("admin"))}
	if !audit.Known(page.Action) {
		// An unknown action filters nothing rather than showing an empty page.
		page.Action = ""
	}
	for _, a := range audit.Actions() {
		page.Actions = append(page.Actions, actionOption{Action: a, Selected: a.Code == page.Action})
	}
	admins, err := h.Sites.ListAdmins(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	for _, a := range admins {
		page.Actors = append(page.Actors, a.Email)
	}
	page.Actors = append(page.Actors, audit.CommandLine, audit.Portal)
	page.Filtered = page.Action != "" || page.Actor != ""

	number := web.PageFrom(r)
	entries, err := h.Audit.List(r.Context(), site.ID, audit.Filter{
		Action: page.Action, Actor: page.Actor, Limit: auditPerPage + 1, Offset: (number - 1) * auditPerPage,
	})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	filters := url.Values{}
	if page.Action != "" {
		filters.Set("action", page.Action)
	}
	if page.Actor != "" {
		filters.Set("admin", page.Actor)
	}
	page.Entries = listedEntries(entries[:min(len(entries), auditPerPage)])
	page.Pager = web.NewPager("/admin/audit", filters, number, len(entries) > auditPerPage)
	h.Render.Render(w, r, http.StatusOK, "admin_audit", page)
}
