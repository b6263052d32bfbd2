package admin

import "github.com/go-chi/chi/v5"

// ssoRoutes mounts the Sso pages. Not built yet: the entry in the
// navigation leads nowhere until it is.
func (h *Handler) ssoRoutes(r chi.Router) {}
