package admin

import (
	"errors"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
)

// eventsPerPage is how many sign-in events one page lists.
const eventsPerPage = 50

// eventRow is one sign-in event as the page shows it.
type eventRow struct {
	sso.Event
}

// listedEvent is a row of the events list as eventRows prints it: every
// value it shows, formatted (the time) and put in words (the flow, the
// result).
type listedEvent struct {
	ID                     int64
	Time                   string
	Reference, NameID      string
	Result, Reason, Detail string
	FlowLabel, ResultLabel string
}

func listed(e sso.Event) listedEvent {
	row := eventRow{e}
	return listedEvent{ID: e.ID, Time: web.UTC(e.OccurredAt), Reference: e.Reference, NameID: e.NameID,
		Result: e.Result, Reason: e.Reason, Detail: e.Detail, FlowLabel: row.FlowLabel(), ResultLabel: row.ResultLabel()}
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
	// Rows are the table's rows (eventRows): empty when nothing is listed.
	Rows      template.HTML
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

// eventsFilter reads the filters of the events page and its export.
func eventsFilter(r *http.Request) eventsPage {
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
	return page
}

// query is the filters as a query string, for the pager and the export.
func (p eventsPage) query() url.Values {
	filters := url.Values{}
	for name, value := range map[string]string{"result": p.Result, "user": p.User, "reference": p.Reference} {
		if value != "" {
			filters.Set(name, value)
		}
	}
	return filters
}

// ExportURL is the CSV export of the filtered events.
func (p eventsPage) ExportURL() string {
	if q := p.query(); len(q) > 0 {
		return "/admin/events.csv?" + q.Encode()
	}
	return "/admin/events.csv"
}

// EventsPage lists the site's sign-in events, newest first, filtered.
func (h *Handler) EventsPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	page := eventsFilter(r)
	// One more than a page: whether there is a next page, without a count.
	events, err := h.SSO.RecentEvents(r.Context(), site.ID, sso.EventFilter{
		Result: page.Result, User: page.User, Reference: page.Reference,
		Limit: eventsPerPage + 1, Offset: (page.Page - 1) * eventsPerPage,
	})
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page.Pager = web.NewPager("/admin/events", page.query(), page.Page, len(events) > eventsPerPage)
	events = events[:min(len(events), eventsPerPage)]
	listedEvents := make([]listedEvent, len(events))
	for i, e := range events {
		listedEvents[i] = listed(e)
	}
	page.Rows = eventRows(listedEvents)
	h.Render.Render(w, r, http.StatusOK, "admin_events", page)
}

// referencePattern is a reference as web.NewReference makes it, whatever
// the case and separators the admin typed it with.
var referencePattern = regexp.MustCompile(`^[A-Z2-7]{12}$`)

var referenceSeparators = strings.NewReplacer("-", "", " ", "")

// normalizeReference turns what an admin pastes from a user's error page —
// "Reference: 7kq2-m4xd-9pla", "7KQ2 M4XD 9PLA" — into the stored form
// 7KQ2-M4XD-9PLA. Anything else is searched for as typed.
func normalizeReference(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "reference:"); ok {
		s = strings.TrimSpace(s[len(s)-len(rest):])
	}
	compact := strings.ToUpper(referenceSeparators.Replace(s))
	if referencePattern.MatchString(compact) {
		return compact[:4] + "-" + compact[4:8] + "-" + compact[8:]
	}
	return s
}

// ExportEvents downloads the filtered events as CSV (GET
// /admin/events.csv), streamed as they are read.
func (h *Handler) ExportEvents(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	page := eventsFilter(r)
	out, err := web.NewCSV(w, site.Name+"-sign-in-events.csv",
		"Time (UTC)", "Reference", "User (NameID)", "Flow", "Result", "Reason", "Explanation", "Client address", "Claimed uid", "Claimed e-mail", "Claimed name", "Claimed object ID")
	if err == nil {
		err = h.SSO.EachEvent(r.Context(), site.ID, sso.EventFilter{Result: page.Result, User: page.User, Reference: page.Reference}, func(e sso.Event) error {
			row := eventRow{e}
			return out.Row(e.OccurredAt.UTC().Format(time.DateTime), e.Reference, e.NameID, row.FlowLabel(), row.ResultLabel(), e.Reason, e.Detail,
				e.ClientIP, e.ClaimedUID, e.ClaimedEmail, e.ClaimedName, e.ClaimedObjectID)
		})
	}
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		// The download has started: the status cannot change any more.
		// The file ends short; the log says why.
		h.Log.ErrorContext(r.Context(), "export sign-in events", "error", err.Error())
	}
}

// eventPage is one sign-in event in full.
type eventPage struct {
	Event  eventRow
	Checks []sso.CheckResult
	Claims []claim
}

// claim is one attribute received, with its values.
type claim struct {
	Name   string
	Values []string
}

// EventPage shows one sign-in event (GET /admin/events/{id}): who, when,
// every claim the identity provider sent and every check the ACS made. An
// event of another site is 404, like one that does not exist.
func (h *Handler) EventPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		h.Render.NotFound(w, r)
		return
	}
	e, err := h.SSO.EventByID(r.Context(), site.ID, id)
	if errors.Is(err, sso.ErrEventNotFound) {
		h.Render.NotFound(w, r)
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page := eventPage{Event: eventRow{e}, Checks: e.Checks()}
	for _, name := range slices.Sorted(maps.Keys(e.Claims)) {
		page.Claims = append(page.Claims, claim{Name: name, Values: e.Claims[name]})
	}
	h.Render.Render(w, r, http.StatusOK, "admin_event", page)
}
