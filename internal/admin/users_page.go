package admin

import "github.com/go-chi/chi/v5"

// usersRoutes mounts the Users pages. Not built yet: the entry in the
// navigation leads nowhere until it is.
func (h *Handler) usersRoutes(r chi.Router) {}
