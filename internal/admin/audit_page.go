package admin

import "github.com/go-chi/chi/v5"

// auditRoutes mounts the Audit pages. Not built yet: the entry in the
// navigation leads nowhere until it is.
func (h *Handler) auditRoutes(r chi.Router) {}
