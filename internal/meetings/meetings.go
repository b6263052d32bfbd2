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

// Handler serves the user pages. CurrentUser returns the signed-in user put
// in the context by the sign-in middleware.
type Handler struct {
	Render      *web.Renderer
	Hosts       sites.Hosts
	CurrentUser func(r *http.Request) users.User
}

// Routes mounts the user pages behind requireUser.
func (h *Handler) Routes(r chi.Router, requireUser func(http.Handler) http.Handler) {
	r.With(requireUser).Get("/", h.home)
	r.With(requireUser).Get("/meet/{room}", h.room)
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

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	u := h.CurrentUser(r)
	room := PersonalRoom(u)
	h.Render.Render(w, r, http.StatusOK, "meetings_home", homePage{
		User: u, Name: u.DisplayName(), RoomName: room,
		RoomURL: h.Hosts.SiteURL(site.Name) + "/meet/" + room,
	})
}

func (h *Handler) room(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	room := chi.URLParam(r, "room")
	u := h.CurrentUser(r)
	h.Render.Render(w, r, http.StatusOK, "meetings_room", struct {
		Room, URL string
		Own       bool
	}{Room: room, URL: h.Hosts.SiteURL(site.Name) + "/meet/" + room, Own: room == PersonalRoom(u)})
}
