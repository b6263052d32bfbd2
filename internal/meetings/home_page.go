package meetings

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// upcomingRow is one occurrence on the home page.
type upcomingRow struct {
	Topic, When, Path, Number string
	Host                      bool // the viewer hosts it (else they are invited)
}

// homePage is the signed-in user's meetings home.
type homePage struct {
	Name, Email string
	Attendee    bool
	RoomURL     string
	RoomPath    string
	RoomLive    bool
	Upcoming    []upcomingRow
	Days        int
	Zone        string
	ZoneChosen  bool
	CanSchedule bool
	Notice      string
}

// Home is the signed-in user's meetings home (GET /): their personal room,
// the meetings they host or are invited to in the next UpcomingDays days in
// their zone, and the ways to start, schedule and look back.
func (h *Handler) Home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, u := h.viewer(r)
	site := h.requestSite(r)
	room, err := h.Meetings.RoomFor(ctx, u)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	settings, err := h.Meetings.ViewerSettings(ctx, v.SiteID, v.UserID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	loc := mustZone(settings.Zone)
	occurrences, err := h.Meetings.Upcoming(ctx, v)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page := homePage{
		Name: u.DisplayName(), Email: u.Email, Attendee: u.Role == "attendee",
		RoomURL: room.URL(site), RoomPath: "/meet/" + room.Name, Days: UpcomingDays,
		Zone: settings.Zone, ZoneChosen: settings.Chosen, CanSchedule: CanSchedule(settings.Settings, v), Notice: notices.From(r, "done"),
	}
	if _, err := h.Lobby.Current(ctx, v.SiteID, room.Target(u.DisplayName())); err == nil {
		page.RoomLive = true
	} else if !errors.Is(err, ErrNotStarted) {
		h.Render.ServerError(w, r, err)
		return
	}
	for _, o := range occurrences {
		page.Upcoming = append(page.Upcoming, upcomingRow{
			Topic: o.Topic, When: formatWhen(o.Start, o.End.Sub(o.Start), loc), Number: GroupedNumber(o.Meeting.Number),
			Path: "/meetings/" + o.Meeting.Number, Host: o.Meeting.HostUserID == v.UserID,
		})
	}
	h.Render.Render(w, r, http.StatusOK, "meetings_home", page)
}

// preferencesPage is Preferences: the time zone (chosen from the list),
// the personal room's guests, and what the identity provider says.
type preferencesPage struct {
	Name, Email   string
	ZoneOptions   template.HTML
	Chosen        bool // false: the page offers the browser's zone
	RoomURL       string
	GuestsAllowed bool
	Error         string
	Notice        string
	SignedInOn    users.SignedInOn
}

func (h *Handler) renderPreferences(w http.ResponseWriter, r *http.Request, status int, zone string, chosen bool, page preferencesPage) {
	_, u := h.viewer(r)
	room, err := h.Meetings.RoomFor(r.Context(), u)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page.Name, page.Email, page.Chosen = u.DisplayName(), u.Email, chosen
	if page.SignedInOn, err = h.SignedInOn(r); err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page.RoomURL, page.GuestsAllowed = room.URL(h.requestSite(r)), room.GuestsAllowed
	page.ZoneOptions = ZoneOptions(zone)
	h.Render.Render(w, r, status, "meetings_preferences", page)
}

// Preferences is the Preferences page (GET /preferences).
func (h *Handler) Preferences(w http.ResponseWriter, r *http.Request) {
	v, _ := h.viewer(r)
	zone, chosen, err := h.Meetings.TimeZone(r.Context(), v.SiteID, v.UserID)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	h.renderPreferences(w, r, http.StatusOK, zone, chosen, preferencesPage{Notice: notices.From(r, "done")})
}

// SavePreferences saves the time zone and whether guests may wait in the
// personal room's lobby (POST /preferences).
func (h *Handler) SavePreferences(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, u := h.viewer(r)
	if !h.parseForm(w, r) {
		return
	}
	zone := r.PostFormValue("time_zone")
	err := h.Meetings.SetTimeZone(ctx, v.SiteID, v.UserID, zone)
	if errors.Is(err, ErrUnknownTimeZone) {
		h.renderPreferences(w, r, http.StatusUnprocessableEntity, zone, false, preferencesPage{Error: "Choose a time zone from the list."})
		return
	}
	if err == nil {
		// RoomFor first: the room exists once the user has been home, but a
		// bookmark of this page may come first.
		if _, err = h.Meetings.RoomFor(ctx, u); err == nil {
			err = h.Meetings.SetRoomGuests(ctx, v.SiteID, v.UserID, r.PostFormValue("room_guests") == "on")
		}
	}
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	http.Redirect(w, r, "/preferences?done=preferences", http.StatusSeeOther)
}

// pastPerPage is how many ended meetings Past meetings lists a page.
const pastPerPage = 20

type pastRow struct {
	Title, When, Path string
	Attendees         []string
}

type pastPage struct {
	Meetings []pastRow
	Zone     string
	web.Pager
}

// Past lists the ended meetings the user hosted, attended or was invited
// to, newest first, with when and who attended (GET /meetings/past?page=).
func (h *Handler) Past(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, _ := h.viewer(r)
	loc, err := h.location(ctx, v)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	number := web.PageFrom(r)
	list, more, err := h.Lobby.Past(ctx, v, pastPerPage, (number-1)*pastPerPage)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	page := pastPage{Zone: loc.String(), Pager: web.NewPager("/meetings/past", nil, number, more)}
	for _, m := range list {
		row := pastRow{Title: m.Title, When: formatWhen(m.StartedAt, m.EndedAt.Sub(m.StartedAt), loc), Attendees: m.Attendees}
		switch {
		case m.Number != "":
			row.Path = "/meetings/" + m.Number
		case m.Room != "":
			row.Path = "/meet/" + m.Room
		}
		page.Meetings = append(page.Meetings, row)
	}
	h.Render.Render(w, r, http.StatusOK, "meetings_past", page)
}
