package meetings

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Edit scopes of a recurring meeting: "this occurrence or the series".
const (
	ScopeSeries     = "series"
	ScopeOccurrence = "occurrence"
)

// choice is one option of a select, a radio group or a row of checkboxes.
type choice struct {
	Value, Label string
	Selected     bool
}

// schedulePage is the Schedule form, also used to edit a series or one
// occurrence of it.
type schedulePage struct {
	Form    *ScheduleForm
	Errors  FieldErrors
	Zone    string
	Heading string
	Action  string
	Submit  string
	Number  string
	// Scope is "" when scheduling, else ScopeSeries or ScopeOccurrence;
	// an occurrence has only its time, topic and agenda to change.
	Scope          string
	Occurrence     string // the occurrence's key
	OccurrenceWhen string
	Repeats        []choice
	Days           []choice
}

var repeatChoices = []choice{
	{Value: string(RepeatNone), Label: "Does not repeat"},
	{Value: string(RepeatDaily), Label: "Daily"},
	{Value: string(RepeatWeekdays), Label: "Every weekday (Monday to Friday)"},
	{Value: string(RepeatWeekly), Label: "Weekly, on the days chosen below"},
	{Value: string(RepeatMonthly), Label: "Monthly, on the same day of the month"},
}

var dayChoices = []choice{
	{Value: "mon", Label: "Mon"}, {Value: "tue", Label: "Tue"}, {Value: "wed", Label: "Wed"}, {Value: "thu", Label: "Thu"},
	{Value: "fri", Label: "Fri"}, {Value: "sat", Label: "Sat"}, {Value: "sun", Label: "Sun"},
}

func (h *Handler) renderSchedule(w http.ResponseWriter, r *http.Request, status int, page schedulePage) {
	if page.Errors == nil {
		page.Errors = FieldErrors{}
	}
	for _, c := range repeatChoices {
		c.Selected = c.Value == page.Form.Recurrence || (page.Form.Recurrence == "" && c.Value == string(RepeatNone))
		page.Repeats = append(page.Repeats, c)
	}
	for _, c := range dayChoices {
		c.Selected = page.Form.HasDay(c.Value)
		page.Days = append(page.Days, c)
	}
	h.Render.Render(w, r, status, "meetings_schedule", page)
}

// hosting is the signed-in user who schedules, and their zone; when the
// site does not let them schedule (an attendee when only hosts may host) it
// answers the request with a refusal.
func (h *Handler) hosting(w http.ResponseWriter, r *http.Request) (Viewer, *time.Location, bool) {
	v, _ := h.viewer(r)
	settings, err := h.Meetings.ViewerSettings(r.Context(), v.SiteID, v.UserID)
	switch {
	case err != nil:
		h.Render.ServerError(w, r, err)
	case !CanSchedule(settings.Settings, v):
		h.refuseScheduling(w, r)
	default:
		return v, mustZone(settings.Zone), true
	}
	return v, nil, false
}

func (h *Handler) refuseScheduling(w http.ResponseWriter, r *http.Request) {
	h.Render.Error(w, r, http.StatusForbidden, "You can join meetings, not schedule them",
		"On this site only hosts schedule meetings, and your account is an attendee's. Ask the site administrator if you need to host.")
}

// newScheduleForm is a blank Schedule form: the next half hour today in
// the user's zone, an hour long, not repeating, members only.
func newScheduleForm(now time.Time, loc *time.Location) *ScheduleForm {
	local := now.In(loc)
	start := local.Add(time.Duration(30-local.Minute()%30) * time.Minute).Truncate(time.Minute)
	return &ScheduleForm{
		Date: start.Format(dateLayout), StartTime: start.Format(timeLayout), Duration: strconv.Itoa(DefaultMinutes),
		Recurrence: string(RepeatNone), RecurrenceDays: []string{dayInputs[start.Weekday()]},
		RecurrenceEnd: EndAfterCount, RecurrenceCount: "10", WhoCanJoin: JoinMembers,
	}
}

// NewMeeting is the Schedule form (GET /meetings/new).
func (h *Handler) NewMeeting(w http.ResponseWriter, r *http.Request) {
	_, loc, ok := h.hosting(w, r)
	if !ok {
		return
	}
	h.renderSchedule(w, r, http.StatusOK, schedulePage{
		Form: newScheduleForm(h.Now(), loc), Zone: loc.String(),
		Heading: "Schedule a meeting", Action: "/meetings/new", Submit: "Schedule",
	})
}

// Schedule schedules the meeting of the form (POST /meetings/new) and
// queues its invitations; a refused form comes back with every value kept
// and each problem beside its field.
func (h *Handler) Schedule(w http.ResponseWriter, r *http.Request) {
	v, loc, ok := h.hosting(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	form := NewScheduleForm(r.PostForm)
	if errs := form.Validate(h.Now(), loc); len(errs) > 0 {
		h.renderSchedule(w, r, http.StatusUnprocessableEntity, schedulePage{
			Form: form, Errors: errs, Zone: loc.String(), Heading: "Schedule a meeting", Action: "/meetings/new", Submit: "Schedule",
		})
		return
	}
	m, err := h.Meetings.Schedule(r.Context(), h.requestSite(r), v, form.Details())
	if errors.Is(err, ErrCannotSchedule) {
		h.refuseScheduling(w, r)
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/meetings/"+m.Number+"?done=scheduled", http.StatusSeeOther)
}

func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		h.Render.Error(w, r, http.StatusBadRequest, "The form could not be read", "Go back, reload the page and try again.")
		return false
	}
	return true
}

// occurrenceKey names an occurrence in URLs and forms by its original
// start (RECURRENCE-ID), in UTC.
func occurrenceKey(originalStart time.Time) string { return originalStart.UTC().Format(icsUTC) }

// occurrence is the occurrence key names, or the next one when key is "".
func (h *Handler) occurrence(m Meeting, key string) (Occurrence, bool) {
	if key == "" {
		return m.Next(h.Now())
	}
	start, err := time.Parse(icsUTC, key)
	if err != nil {
		return Occurrence{}, false
	}
	return m.OccurrenceAt(start)
}

// hostPlace is the meeting of the URL for a page only its host uses.
func (h *Handler) hostPlace(w http.ResponseWriter, r *http.Request) (place, Viewer, *time.Location, bool) {
	p, v, ok := h.placeFor(w, r, false)
	if !ok {
		return p, v, nil, false
	}
	switch {
	case !p.access.Control:
		h.failed(w, r, p, ErrNotHost)
		return p, v, nil, false
	case p.meeting.Cancelled():
		h.cancelledPage(w, r, p)
		return p, v, nil, false
	}
	loc, err := h.location(r.Context(), v)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return p, v, nil, false
	}
	return p, v, loc, true
}

// scopePage asks which the host means: this occurrence or the series.
type scopePage struct {
	Title, Number, Action, Verb string
	Occurrence, OccurrenceWhen  string
	Cancel                      bool
	Repeats                     string
}

func (h *Handler) occurrenceNotFound(w http.ResponseWriter, r *http.Request) {
	h.Render.Error(w, r, http.StatusNotFound, "No such occurrence", "This meeting has no occurrence at that time any more. Open the meeting page again.")
}

// EditMeeting is the Edit form (GET /meetings/{number}/edit). For a
// recurring meeting it first asks "this occurrence or the series"
// (?scope=, with ?occurrence= naming one; the next by default).
func (h *Handler) EditMeeting(w http.ResponseWriter, r *http.Request) {
	p, _, loc, ok := h.hostPlace(w, r)
	if !ok {
		return
	}
	m, q := *p.meeting, r.URL.Query()
	page := schedulePage{Zone: loc.String(), Number: m.Number, Action: "/meetings/" + m.Number + "/edit", Submit: "Save changes", Scope: q.Get("scope")}
	if m.RRule == "" {
		page.Scope = ScopeSeries
	}
	occ, found := h.occurrence(m, q.Get("occurrence"))
	switch page.Scope {
	case ScopeSeries:
		page.Heading, page.Form = "Edit “"+m.Topic+"”", FormFor(m, loc)
	case ScopeOccurrence:
		if !found {
			h.occurrenceNotFound(w, r)
			return
		}
		page.Heading, page.Form = "Edit one occurrence of “"+m.Topic+"”", occurrenceForm(occ, loc)
		page.Occurrence, page.OccurrenceWhen = occurrenceKey(occ.OriginalStart), formatWhen(occ.Start, occ.End.Sub(occ.Start), loc)
	default:
		choose := scopePage{Title: m.Topic, Number: m.Number, Action: page.Action, Verb: "Edit", Repeats: m.RecurrenceText()}
		if found {
			choose.Occurrence, choose.OccurrenceWhen = occurrenceKey(occ.OriginalStart), formatWhen(occ.Start, occ.End.Sub(occ.Start), loc)
		}
		h.Render.Render(w, r, http.StatusOK, "meetings_scope", choose)
		return
	}
	h.renderSchedule(w, r, http.StatusOK, page)
}

// occurrenceForm is the Edit form of one occurrence: its time, topic and
// agenda; the rule, invitees and who may join stay the series'.
func occurrenceForm(o Occurrence, loc *time.Location) *ScheduleForm {
	start := o.Start.In(loc)
	return &ScheduleForm{
		Topic: o.Topic, Date: start.Format(dateLayout), StartTime: start.Format(timeLayout),
		Duration: strconv.Itoa(int(o.End.Sub(o.Start) / time.Minute)), Agenda: o.Agenda, Recurrence: string(RepeatNone),
		OriginalStart: o.Start,
	}
}

// SaveMeeting saves the Edit form (POST /meetings/{number}/edit): the
// series, or one occurrence (scope=occurrence, occurrence=KEY). Everyone
// invited gets the new version.
func (h *Handler) SaveMeeting(w http.ResponseWriter, r *http.Request) {
	p, v, loc, ok := h.hostPlace(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	m := *p.meeting
	page := schedulePage{Zone: loc.String(), Number: m.Number, Action: "/meetings/" + m.Number + "/edit", Submit: "Save changes",
		Scope: ScopeSeries, Heading: "Edit “" + m.Topic + "”"}
	form := NewScheduleForm(r.PostForm)
	form.OriginalStart = m.StartUTC
	var occ Occurrence
	if r.PostFormValue("scope") == ScopeOccurrence && m.RRule != "" {
		var found bool
		if occ, found = h.occurrence(m, r.PostFormValue("occurrence")); !found {
			h.occurrenceNotFound(w, r)
			return
		}
		// Only the occurrence's own fields count; the rest is the series'.
		form.Recurrence, form.RecurrenceDays, form.Invitees, form.WhoCanJoin = string(RepeatNone), nil, "", ""
		form.OriginalStart = occ.Start
		page.Scope, page.Heading = ScopeOccurrence, "Edit one occurrence of “"+m.Topic+"”"
		page.Occurrence, page.OccurrenceWhen = occurrenceKey(occ.OriginalStart), formatWhen(occ.Start, occ.End.Sub(occ.Start), loc)
	}
	if errs := form.Validate(h.Now(), loc); len(errs) > 0 {
		page.Form, page.Errors = form, errs
		h.renderSchedule(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	var err error
	done := "updated"
	if page.Scope == ScopeOccurrence {
		_, err = h.Meetings.UpdateOccurrence(r.Context(), p.site, v, m.Number, occ.OriginalStart, form.Details())
		done = "occurrence-updated"
	} else {
		_, err = h.Meetings.Update(r.Context(), p.site, v, m.Number, form.Details())
	}
	if err != nil {
		h.changeFailed(w, r, p, err)
		return
	}
	http.Redirect(w, r, p.path+"?done="+done, http.StatusSeeOther)
}

func (h *Handler) changeFailed(w http.ResponseWriter, r *http.Request, p place, err error) {
	if errors.Is(err, ErrNotAnOccurrence) {
		h.occurrenceNotFound(w, r)
		return
	}
	h.failed(w, r, p, err)
}

// ConfirmCancel asks before cancelling (GET /meetings/{number}/cancel); for
// a recurring meeting, whether one occurrence or the series.
func (h *Handler) ConfirmCancel(w http.ResponseWriter, r *http.Request) {
	p, _, loc, ok := h.hostPlace(w, r)
	if !ok {
		return
	}
	m := *p.meeting
	page := scopePage{Title: m.Topic, Number: m.Number, Action: p.path + "/cancel", Verb: "Cancel", Cancel: true}
	if m.RRule != "" {
		page.Repeats = m.RecurrenceText()
		if occ, found := h.occurrence(m, r.URL.Query().Get("occurrence")); found {
			page.Occurrence, page.OccurrenceWhen = occurrenceKey(occ.OriginalStart), formatWhen(occ.Start, occ.End.Sub(occ.Start), loc)
		}
	}
	h.Render.Render(w, r, http.StatusOK, "meetings_scope", page)
}

// CancelMeeting cancels the meeting, or one occurrence of a series
// (scope=occurrence, occurrence=KEY), and sends everyone a cancellation
// (POST /meetings/{number}/cancel).
func (h *Handler) CancelMeeting(w http.ResponseWriter, r *http.Request) {
	p, v, _, ok := h.hostPlace(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	m := *p.meeting
	var err error
	done := "cancelled"
	if r.PostFormValue("scope") == ScopeOccurrence && m.RRule != "" {
		occ, found := h.occurrence(m, r.PostFormValue("occurrence"))
		if !found {
			h.occurrenceNotFound(w, r)
			return
		}
		_, err = h.Meetings.CancelOccurrence(r.Context(), p.site, v, m.Number, occ.OriginalStart)
		done = "occurrence-cancelled"
	} else {
		_, err = h.Meetings.Cancel(r.Context(), p.site, v, m.Number)
	}
	if err != nil {
		h.changeFailed(w, r, p, err)
		return
	}
	http.Redirect(w, r, p.path+"?done="+done, http.StatusSeeOther)
}

// Calendar is the meeting's "Add to calendar" file (GET
// /meetings/{number}/calendar.ics), for the host and the invitees: it
// lists the invitees, which other users do not see.
func (h *Handler) Calendar(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.placeFor(w, r, false)
	if !ok {
		return
	}
	if !p.access.Details {
		h.Render.Error(w, r, http.StatusForbidden, "Not invited",
			"The calendar file lists the invitees, so only the host and the invitees can download it.")
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="meeting-`+p.meeting.Number+`.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(p.meeting.ICS(p.site, h.Now()))
}
