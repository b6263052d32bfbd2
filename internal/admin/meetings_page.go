package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/web"
)

// meetingsPerPage is how many meetings the Meetings page lists at once.
const meetingsPerPage = 50

// meetingRow is one meeting as the admin's list shows it.
type meetingRow struct {
	Number, Topic, Host, HostEmail, When, Repeats string
	Invitees                                      int
	Cancelled, Over                               bool
	Guests                                        bool
}

type meetingsPage struct {
	Meetings []meetingRow
	Query    string
	web.Pager
}

// MeetingsPage lists the site's meetings, newest first, found by topic,
// host or number (GET /admin/meetings?q=&page=).
func (h *Handler) MeetingsPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	number := web.PageFrom(r)
	list, more, err := h.Meetings.Search(r.Context(), site.ID, query, meetingsPerPage, (number-1)*meetingsPerPage)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	filters := url.Values{}
	if query != "" {
		filters.Set("q", query)
	}
	page := meetingsPage{Query: query, Pager: web.NewPager("/admin/meetings", filters, number, more)}
	now := h.Now()
	for _, m := range list {
		row := meetingRow{
			Number: meetings.GroupedNumber(m.Number), Topic: m.Topic, Host: m.HostName, HostEmail: m.HostEmail,
			When:     m.StartUTC.In(m.Zone()).Format("Mon 2 Jan 2006, 15:04") + " (" + m.TimeZone + ")",
			Invitees: len(m.Invitees), Cancelled: m.Cancelled(), Over: !m.EndsUTC.After(now), Guests: m.GuestsAllowed,
		}
		if m.RRule != "" {
			row.Repeats = m.RecurrenceText()
		}
		page.Meetings = append(page.Meetings, row)
	}
	h.Render.Render(w, r, http.StatusOK, "admin_meetings", page)
}

type meetingSettingsPage struct {
	Zones  []string
	Zone   string
	Hosts  string
	Error  string
	Notice string
}

var meetingSettingsNotices = web.Notices{"saved": "Saved. The new settings apply at once."}

// MeetingSettingsPage is Meetings settings: the site's default time zone
// and who may host (GET /admin/meetings/settings).
func (h *Handler) MeetingSettingsPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	settings, err := h.Meetings.Settings(r.Context(), site.ID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "admin_meetings_settings", meetingSettingsPage{
		Zones: meetings.TimeZones(), Zone: settings.DefaultTimeZone, Hosts: settings.Hosts,
		Notice: meetingSettingsNotices.From(r, "done"),
	})
}

// SaveMeetingSettings saves Meetings settings (POST /admin/meetings/settings).
func (h *Handler) SaveMeetingSettings(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	settings := meetings.Settings{DefaultTimeZone: r.PostFormValue("default_time_zone"), Hosts: r.PostFormValue("hosts")}
	err := h.Meetings.SaveSettings(r.Context(), site.ID, settings)
	if errors.Is(err, meetings.ErrUnknownTimeZone) || errors.Is(err, meetings.ErrInvalidSetting) {
		message := "Choose a time zone from the list."
		if errors.Is(err, meetings.ErrInvalidSetting) {
			message = "Choose who may host meetings."
		}
		h.Render.Render(w, r, http.StatusUnprocessableEntity, "admin_meetings_settings", meetingSettingsPage{
			Zones: meetings.TimeZones(), Zone: settings.DefaultTimeZone, Hosts: settings.Hosts, Error: message,
		})
		return
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.recordDetails(r, "meetings.settings", audit.Details{
		{Name: "Default time zone", Value: settings.DefaultTimeZone}, {Name: "Who may host", Value: settings.Hosts}})
	http.Redirect(w, r, "/admin/meetings/settings?done=saved", http.StatusSeeOther)
}

// mailCatcherSize is how many messages the development mail page lists.
const mailCatcherSize = 100

type mailPage struct {
	Messages []mail.Entry
}

// MailPage is the development mail catcher (GET /admin/mail): with no SMTP
// server configured, the e-mail the site would have sent — invitations
// with their calendar parts — newest first. With a mail server there is
// no such page: the mail went out.
func (h *Handler) MailPage(w http.ResponseWriter, r *http.Request) {
	if h.Outbox.Delivers() {
		h.Render.NotFound(w, r)
		return
	}
	site, _ := web.SiteFrom(r.Context())
	messages, err := h.Outbox.Recent(r.Context(), site.ID, mailCatcherSize)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "admin_mail", mailPage{Messages: messages})
}
