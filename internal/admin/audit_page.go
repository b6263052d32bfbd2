package admin

import (
	"net/http"
	"net/url"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/web"
)

// auditPerPage is how many audit entries one page lists.
const auditPerPage = 50

type auditPage struct {
	Entries []audit.Entry
	Page    int
	PrevURL string
	NextURL string
}

// AuditPage lists every admin change, newest first.
func (h *Handler) AuditPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	page := auditPage{Page: pageNumber(r.URL.Query().Get("page"))}
	entries, err := h.Audit.Recent(r.Context(), site.ID, auditPerPage+1, (page.Page-1)*auditPerPage)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	if len(entries) > auditPerPage {
		entries = entries[:auditPerPage]
		if page.Page < maxPage {
			page.NextURL = pageURL("/admin/audit", url.Values{}, page.Page+1)
		}
	}
	if page.Page > 1 {
		page.PrevURL = pageURL("/admin/audit", url.Values{}, page.Page-1)
	}
	page.Entries = entries
	h.Render.Render(w, r, http.StatusOK, "admin_audit", page)
}
