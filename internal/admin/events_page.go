package admin

import "github.com/go-chi/chi/v5"

// eventsRoutes mounts the Events pages. Not built yet: the entry in the
// navigation leads nowhere until it is.
func (h *Handler) eventsRoutes(r chi.Router) {}
