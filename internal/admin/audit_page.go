package admin

import (
	"net/http"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/web"
)

// auditPerPage is how many audit entries one page lists.
const auditPerPage = 50

type auditPage struct {
	Entries []audit.Entry
	web.Pager
}

// AuditPage lists every admin change, newest first.
func (h *Handler) AuditPage(w http.ResponseWriter, r *http.Request) {
	site, _ := web.SiteFrom(r.Context())
	number := web.PageFrom(r)
	entries, err := h.Audit.Recent(r.Context(), site.ID, auditPerPage+1, (number-1)*auditPerPage)
	if err != nil {
		h.Render.ServerError(w, r, err)
		return
	}
	more := len(entries) > auditPerPage
	page := auditPage{Entries: entries[:min(len(entries), auditPerPage)], Pager: web.NewPager("/admin/audit", nil, number, more)}
	h.Render.Render(w, r, http.StatusOK, "admin_audit", page)
}
