package meetings

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// Handler serves the user pages, behind users.Auth.RequireUser.
type Handler struct {
	Render *web.Renderer
	Hosts  sites.Hosts
}

var roomUnsafe = regexp.MustCompile(`[^a-z0-9.-]+`)

// PersonalRoom is a user's room name: the local part of their UserID, as
// Webex names personal rooms.
func PersonalRoom(u users.User) string {
	local, _, _ := strings.Cut(u.UID, "@")
	return strings.Trim(roomUnsafe.ReplaceAllString(strings.ToLower(local), "-"), "-.")
}

type homePage struct {
	User     users.User
	Name     string
	RoomURL  string
	RoomName string
}

// Home is the signed-in user's meetings home.
func (h *Handler) Home(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	u := users.UserFrom(r.Context())
	room := PersonalRoom(u)
	h.Render.Render(w, r, http.StatusOK, "meetings_home", homePage{
		User: u, Name: u.DisplayName(), RoomName: room,
		RoomURL: h.Hosts.SiteURL(site.Name) + "/meet/" + room,
	})
}

// Room is a meeting room page.
func (h *Handler) Room(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	room := chi.URLParam(r, "room")
	u := users.UserFrom(r.Context())
	h.Render.Render(w, r, http.StatusOK, "meetings_room", struct {
		Room, URL string
		Own       bool
	}{Room: room, URL: h.Hosts.SiteURL(site.Name) + "/meet/" + room, Own: room == PersonalRoom(u)})
}
