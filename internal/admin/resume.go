package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/web"
)

// resumeCookie holds the token of the admin's resume (session.Resumes):
// where their session expired, and the form they had posted.
const resumeCookie = "admin_resume"

// What an admin reads when the form they posted met an expired session:
// the form kept and given back after sign-in, only the way back kept, or
// nothing kept.
const (
	expiredNotice        = "Your session expired — sign in to continue. What you were saving is kept: after signing in you are taken back to it, to check and save again."
	expiredReturnNotice  = "Your session expired — sign in to continue. What you were saving was not saved: after signing in you are taken back to the page, to do it again."
	expiredNotKeptNotice = "Your session expired — sign in to continue. What you were saving was not saved."
)

// restoredForms are the pages that give a kept form back after a sign-in
// (resumedForm): the form posted to one of them is kept; of any other, only
// the way back to its page.
var restoredForms = map[string]bool{"/admin/sso": true, "/admin/users": true, "/admin/admins": true}

// sessionEnded answers a request to an admin page without a live session.
// When the browser had a session, the page (and a posted form) is kept
// server-side under a token in a cookie, so that signing in again returns
// there: a GET is sent to the
// sign-in form; a POST is answered with the sign-in form itself, saying
// the session expired, since nothing was saved. Anyone else is sent to the
// sign-in form.
func (h *Handler) sessionEnded(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	site, _ := web.SiteFrom(ctx)
	resume := session.Resume{ReturnPath: "/admin"}
	posted := r.Method == http.MethodPost
	if posted {
		resume.ReturnPath = formPage(r)
		if form := keptForm(r); restoredForms[r.URL.Path] && len(form.Encode()) <= session.MaxResumedForm {
			resume.FormPath, resume.Form = r.URL.Path, form
		}
	} else {
		resume.ReturnPath = r.URL.RequestURI()
	}
	// Only a browser that had an admin session (now expired) is given a
	// way back: an anonymous visitor's requests store nothing.
	hadSession := h.Session.Cookies.Get(r, SessionCookie) != ""
	notice := expiredNotKeptNotice
	if h.Resumes != nil && hadSession && adminPath(resume.ReturnPath) {
		token, err := h.Resumes.Save(ctx, site.ID, session.Admin, resume)
		if err != nil {
			// Only the way back is lost: sign-in still works.
			h.Log.WarnContext(ctx, "keep where the admin was", "error", err.Error())
		} else {
			h.Session.Cookies.Set(w, resumeCookie, token, session.ResumeFor)
			notice = expiredReturnNotice
			if resume.FormPath != "" {
				notice = expiredNotice
			}
		}
	}
	if !posted || !hadSession {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	h.Render.Render(w, r, http.StatusUnauthorized, "admin_login", signInPage{Notice: notice})
}

// adminPath reports whether p is a safe local path of the admin pages,
// the only places a sign-in returns to.
func adminPath(p string) bool {
	return session.SafeReturnPath(p) && (p == "/admin" || strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/admin?"))
}

// formPage is the page a posted form came from, to return to: the page the
// browser says it was on (the Referer, which the portal's Referrer-Policy
// same-origin sends with every form of its own), when that is an admin
// page of this host, else the admin home. The Referer only picks among
// this host's admin pages: a form posted from anywhere else was refused
// by CrossOriginProtection before it got here.
func formPage(r *http.Request) string {
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" && ref.User == nil {
		if p := ref.RequestURI(); adminPath(p) {
			return p
		}
	}
	return "/admin"
}

// keptForm is the posted form without any password: a password is never
// stored, even sealed, and never typed back into a page.
func keptForm(r *http.Request) url.Values {
	kept := url.Values{}
	for name, values := range r.PostForm {
		if strings.Contains(strings.ToLower(name), "password") {
			continue
		}
		kept[name] = values
	}
	return kept
}

// resumeAfterSignIn is where a successful sign-in goes: the page the
// admin's session expired on, when this browser holds a resume of this
// site, else the admin home.
func (h *Handler) resumeAfterSignIn(r *http.Request, adminID int64) string {
	token := h.Session.Cookies.Get(r, resumeCookie)
	if h.Resumes == nil || token == "" {
		return "/admin"
	}
	site, _ := web.SiteFrom(r.Context())
	path, ok, err := h.Resumes.Claim(r.Context(), site.ID, session.Admin, token, adminID)
	if err != nil {
		h.Log.WarnContext(r.Context(), "find where the admin was", "error", err.Error())
		return "/admin"
	}
	if !ok || !adminPath(path) {
		return "/admin"
	}
	return path
}

// resumedForm gives a page the form its admin had posted to formPath when
// their session expired, once, after they signed in again in the same
// browser; ok is false otherwise. The page shows it prefilled, to be
// checked and sent again.
func (h *Handler) resumedForm(w http.ResponseWriter, r *http.Request, formPath string) (url.Values, bool) {
	token := h.Session.Cookies.Get(r, resumeCookie)
	if h.Resumes == nil || token == "" {
		return nil, false
	}
	site, _ := web.SiteFrom(r.Context())
	form, ok, err := h.Resumes.TakeForm(r.Context(), site.ID, session.Admin, token, AdminFrom(r.Context()).ID, formPath)
	if err != nil {
		h.Log.WarnContext(r.Context(), "give back the admin's form", "error", err.Error())
		return nil, false
	}
	if ok {
		h.Session.Cookies.Clear(w, resumeCookie)
	}
	return form, ok
}

// resumedNotice is the banner above a form given back after a sign-in.
const resumedNotice = "You are signed in again. Your changes below were not saved yet: check them and save."
