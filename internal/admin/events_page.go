package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
)

// eventsPerPage is how many sign-in events one page lists.
const eventsPerPage = 50

// eventRow is one sign-in event as the page shows it.
type eventRow struct {
	sso.Event
}

// FlowLabel names the flow as Webex and Azure do.
func (e eventRow) FlowLabel() string {
	switch e.Flow {
	case sso.FlowSP:
		return "SP-initiated"
	case sso.FlowIdP:
		return "IdP-initiated"
	case sso.FlowLogoutSP:
		return "Single Logout from this site"
	case sso.FlowLogoutIdP:
		return "Single Logout from the IdP"
	default:
		return "Unknown"
	}
}

// logout reports whether the event is a Single Logout message, whose
// success is a sign-out.
func (e eventRow) logout() bool {
	return e.Flow == sso.FlowLogoutSP || e.Flow == sso.FlowLogoutIdP
}

// ResultLabel is the result in words.
func (e eventRow) ResultLabel() string {
	switch e.Result {
	case sso.ResultSuccess:
		if e.logout() {
			return "Signed out"
		}
		return "Signed in"
	case sso.ResultRefused:
		return "Refused"
	case sso.ResultTest:
		return "Test"
	}
	return e.Result
}

type resultOption struct {
	Value, Label string
	Selected     bool
}

type eventsPage struct {
	Events    []eventRow
	Result    string
	User      string
	Reference string
	Results   []resultOption
	web.Pager
	Filtered bool
}

var eventResults = []resultOption{
	{Value: "", Label: "All results"},
	{Value: sso.ResultSuccess, Label: "Signed in"},
	{Value: sso.ResultRefused, Label: "Refused"},
	{Value: sso.ResultTest, Label: "Test sign-ins"},
}

// EventsPage lists the site's sign-in events, newest first, filtered.
func (h *Handler) EventsPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	q := r.URL.Query()
	page := eventsPage{
		Result:    q.Get("result"),
		User:      strings.TrimSpace(q.Get("user")),
		Reference: normalizeReference(q.Get("reference")),
	}
	page.Page = web.PageFrom(r)
	known := false
	for _, o := range eventResults {
		o.Selected = o.Value == page.Result
		known = known || o.Selected
		page.Results = append(page.Results, o)
	}
	if !known {
		// An unknown result filters nothing rather than showing an empty page.
		page.Result = ""
		page.Results[0].Selected = true
	}
	page.Filtered = page.Result != "" || page.User != "" || page.Reference != ""
	// One more than a page: whether there is a next page, without a count.
	events, err := h.SSO.RecentEvents(r.Context(), site.ID, sso.EventFilter{
		Result: page.Result, User: page.User, Reference: page.Reference,
		Limit: eventsPerPage + 1, Offset: (page.Page - 1) * eventsPerPage,
	})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	filters := url.Values{}
	for name, value := range map[string]string{"result": page.Result, "user": page.User, "reference": page.Reference} {
		if value != "" {
			filters.Set(name, value)
		}
	}
	page.Pager = web.NewPager("/admin/events", filters, page.Page, len(events) > eventsPerPage)
	events = events[:min(len(events), eventsPerPage)]
	for _, e := range events {
		page.Events = append(page.Events, eventRow{e})
	}
	h.Render.Render(w, r, http.StatusOK, "admin_events", page)
}

// referencePattern is a reference as web.NewReference makes it, whatever
// the case and separators the admin typed it with.
var referencePattern = regexp.MustCompile(`^[A-Z2-7]{12}$`)

// normalizeReference turns what an admin pastes from a user's error page —
// "Reference: 7kq2-m4xd-9pla", "7KQ2 M4XD 9PLA" — into the stored form
// 7KQ2-M4XD-9PLA. Anything else is searched for as typed.
func normalizeReference(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "reference:"); ok {
		s = strings.TrimSpace(s[len(s)-len(rest):])
	}
	compact := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if referencePattern.MatchString(compact) {
		return compact[:4] + "-" + compact[4:8] + "-" + compact[8:]
	}
	return s
}
