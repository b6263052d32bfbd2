package admin

import "github.com/go-chi/chi/v5"

// adminsRoutes mounts the Admins pages. Not built yet: the entry in the
// navigation leads nowhere until it is.
func (h *Handler) adminsRoutes(r chi.Router) {}
