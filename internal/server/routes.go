package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/meetings-portal/portal/internal/admin"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
	"github.com/meetings-portal/portal/internal/web"
)

// siteRoutes is every route of a site host (<site>.<base host>), in one
// table. The site is already resolved from the Host header; each handler
// finds it with web.SiteFrom. Ids in paths are {id:[0-9]+}: the handlers
// read them with strconv, which would take "+7" for 7.
func (s *Server) siteRoutes() http.Handler {
	a, render := s.app, s.render
	cookies := web.Cookies{HTTPS: a.Hosts.HTTPS()}

	ssoPages := &sso.Handler{SSO: a.SSO, Users: a.Users, Render: render, Log: a.Log, Metrics: a.Metrics, Cookies: cookies}
	auth := &users.Auth{Users: a.Users, Render: render, Session: session.Cookie{
		Store: a.Sessions, Cookies: cookies, Name: users.SessionCookie, Kind: session.User, Policy: session.UserPolicy,
	}}
	ssoPages.Auth = auth
	auth.SingleLogout = ssoPages.SingleLogout
	adminPages := &admin.Handler{
		Sites: a.Sites, Lockouts: a.AdminLockouts, Metrics: a.Metrics, Sessions: a.Sessions, Resumes: a.Resumes, Users: a.Users, SSO: a.SSO, Audit: a.Audit, Hosts: a.Hosts,
		Render: render, Log: a.Log, FetchMetadata: a.FetchMetadata, Now: a.Now, Meetings: a.Meetings, Outbox: a.Outbox,
		Session: session.Cookie{
			Store: a.Sessions, Cookies: cookies, Name: admin.SessionCookie, Kind: session.Admin, Policy: session.AdminPolicy,
		},
	}
	meetingPages := &meetings.Handler{
		Meetings: a.Meetings, Lobby: a.Lobby, Watcher: a.Watcher, Outbox: a.Outbox, Media: a.Media, Users: a.Users,
		Hosts: a.Hosts, Cookies: cookies, Render: render, Log: a.Log, Now: a.Now,
	}

	// What anyone can cause without signing in is rate-limited per client
	// and site, at PORTAL_SIGNIN_RATE: a sign-in start stores a pending
	// request and makes an RSA signature; an ACS post that is refused or
	// unsolicited stores an event without a start having paid for it (the
	// ACS charges its own budget: see sso.Handler.ACS). The answer to a
	// started sign-in costs nothing more, so a company behind one address
	// spends one start a person. An admin sign-in verifies a password.
	starts := render.Budget(a.SignInRate, time.Minute,
		"Too many sign-ins were started from your network in the last minute. Please wait a minute and try again.")
	ssoPages.Budget = render.Budget(a.SignInRate, time.Minute,
		"Too many sign-in responses from your network were refused in the last minute. Please wait a minute and try again.")
	adminSignInLimit := render.RateLimit(a.AdminSignInRate, time.Minute, "Please wait a minute before trying again.")
	auth.SignIn = starts.Limit(http.HandlerFunc(ssoPages.StartSignIn))
	meetingPages.SignIn = auth.SignIn
	meetingPages.SignedInOn = auth.SignedInOn
	// Joining as a guest writes a lobby row without signing in.
	guestLimit := render.RateLimit(a.SignInRate, time.Minute,
		"Too many guests joined from your network in the last minute. Please wait a minute and try again.")

	r := chi.NewRouter()
	// What no page can use (invalid UTF-8, control characters, more than
	// a field's characters) is refused with a 400 page before any handler
	// reads it (inputs.go).
	r.Use(render.CheckInput(inputRules))

	// Single sign-on (internal/sso) and sign-out (internal/users).
	r.Get("/saml/metadata", ssoPages.Metadata)
	r.Post("/saml/acs", ssoPages.ACS)
	// Single Logout: the IdP's answer to a sign-out that started here, or
	// its request to sign a user out (HTTP-Redirect or HTTP-POST). Anyone
	// can send one, so each is charged to the ACS's budget.
	r.With(ssoPages.Budget.Limit).Get("/saml/slo", ssoPages.SLO)
	r.With(ssoPages.Budget.Limit).Post("/saml/slo", ssoPages.SLO)
	r.Post("/logout", auth.Logout)
	r.Get("/signed-out", auth.SignedOut)

	// Meetings (internal/meetings), for signed-in users: home, preferences,
	// scheduling, past meetings, and the host's controls of a live meeting
	// or personal room.
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireUser)
		r.Get("/", meetingPages.Home)
		r.Get("/preferences", meetingPages.Preferences)
		r.Post("/preferences", meetingPages.SavePreferences)
		// Where the user is signed in, and signing those sessions out
		// (internal/users; listed on Preferences).
		r.Get("/sessions", auth.SessionsPage)
		r.Post("/sessions/{id:[0-9]+}/end", auth.EndSession)
		r.Post("/sessions/end-all", auth.EndAllSessions)
		r.Get("/meetings/new", meetingPages.NewMeeting)
		r.Post("/meetings/new", meetingPages.Schedule)
		r.Get("/meetings/past", meetingPages.Past)
		r.Get("/meetings/{number}/edit", meetingPages.EditMeeting)
		r.Post("/meetings/{number}/edit", meetingPages.SaveMeeting)
		r.Get("/meetings/{number}/cancel", meetingPages.ConfirmCancel)
		r.Post("/meetings/{number}/cancel", meetingPages.CancelMeeting)
		r.Get("/meetings/{number}/calendar.ics", meetingPages.Calendar)
		for _, live := range []string{"/meetings/{number}", "/meet/{room}"} {
			r.Post(live+"/start", meetingPages.Start)
			r.Post(live+"/end", meetingPages.End)
			r.Post(live+"/lock", meetingPages.Lock)
			r.Post(live+"/admit", meetingPages.Admit)
			r.Post(live+"/remove", meetingPages.Remove)
			r.Post(live+"/join", meetingPages.JoinAsMember)
		}
	})
	// Join links and live pages, which guests and visitors open too: a
	// visitor of a members-only meeting is sent to sign in and back. The
	// media signalling (a WebSocket) serves admitted participants only:
	// users by their session, guests by their ticket.
	r.Group(func(r chi.Router) {
		r.Use(auth.WithUser)
		r.Get("/j/{number}", meetingPages.JoinLink)
		r.Get("/meetings/{number}", meetingPages.Meeting)
		r.Get("/meet/{room}", meetingPages.Room)
		for _, live := range []string{"/meetings/{number}", "/meet/{room}"} {
			r.Get(live+"/events", meetingPages.Events)
			r.Get(live+"/media", meetingPages.Signalling)
			r.With(guestLimit).Post(live+"/guest", meetingPages.JoinAsGuest)
			r.Post(live+"/leave", meetingPages.Leave)
		}
	})

	// Site administration (internal/admin): sign-in, then every page
	// behind RequireAdmin.
	r.Get("/admin", adminPages.Home)
	r.With(adminSignInLimit).Post("/admin/login", adminPages.SignIn)
	r.Post("/admin/logout", adminPages.SignOut)
	r.Group(func(r chi.Router) {
		r.Use(adminPages.RequireAdmin)
		// Common Site Settings → SSO Configuration.
		r.Get("/admin/sso", adminPages.SSOPage)
		r.Post("/admin/sso", adminPages.SSOSaveOptions)
		r.Post("/admin/sso/import", adminPages.SSOImportFile)
		r.Post("/admin/sso/import-url", adminPages.SSOImportURL)
		r.Get("/admin/sso/import/{draft}", adminPages.SSOReview)
		r.Post("/admin/sso/import/{draft}", adminPages.SSOApplyDraft)
		r.Post("/admin/sso/idp", adminPages.SSOSaveIdP)
		r.Post("/admin/sso/pending/activate", adminPages.SSOActivatePending)
		r.Post("/admin/sso/pending/discard", adminPages.SSODiscardPending)
		r.Get("/admin/sso/export", ssoPages.ExportMetadata)
		r.Get("/admin/sso/sp-certificate", adminPages.SSODownloadCertificate)
		r.Post("/admin/sso/refresh", adminPages.SSORefresh)
		r.Post("/admin/sso/refresh/accept", adminPages.SSOAcceptProposal)
		r.Post("/admin/sso/sp-certificates/next", adminPages.SSOCreateNextSPKey)
		r.Post("/admin/sso/sp-certificates/{id:[0-9]+}/activate", adminPages.SSOActivateSPKey)
		r.Post("/admin/sso/sp-certificates/{id:[0-9]+}/remove", adminPages.SSORemoveSPKey)
		r.Get("/admin/sso/test", adminPages.SSOTest)
		// Sign-in events, users, admins, audit.
		r.Get("/admin/events", adminPages.EventsPage)
		r.Get("/admin/events.csv", adminPages.ExportEvents)
		r.Get("/admin/events/{id:[0-9]+}", adminPages.EventPage)
		r.Get("/admin/users", adminPages.UsersPage)
		r.Get("/admin/users.csv", adminPages.ExportUsers)
		r.Post("/admin/users", adminPages.AddUser)
		r.Get("/admin/users/{id:[0-9]+}/deactivate", adminPages.ConfirmDeactivateUser)
		r.Post("/admin/users/{id:[0-9]+}/deactivate", adminPages.DeactivateUser)
		r.Post("/admin/users/{id:[0-9]+}/reactivate", adminPages.ReactivateUser)
		r.Post("/admin/users/{id:[0-9]+}/sessions/end", adminPages.EndUserSessions)
		r.Post("/admin/users/{id:[0-9]+}/sessions/{session:[0-9]+}/end", adminPages.EndUserSession)
		r.Get("/admin/users/{id:[0-9]+}/relink", adminPages.RelinkPage)
		r.Post("/admin/users/{id:[0-9]+}/relink", adminPages.RelinkUser)
		r.Get("/admin/admins", adminPages.AdminsPage)
		r.Post("/admin/admins", adminPages.AddAdmin)
		r.Get("/admin/admins/{id:[0-9]+}/remove", adminPages.ConfirmRemoveAdmin)
		r.Post("/admin/admins/{id:[0-9]+}/remove", adminPages.RemoveAdmin)
		r.Get("/admin/audit", adminPages.AuditPage)
		r.Get("/admin/password", adminPages.PasswordPage)
		r.Post("/admin/password", adminPages.ChangePassword)
		// Meetings: the site's meetings, its meeting settings, and in
		// development (no SMTP server) the mail it would have sent.
		r.Get("/admin/meetings", adminPages.MeetingsPage)
		r.Get("/admin/meetings/settings", adminPages.MeetingSettingsPage)
		r.Post("/admin/meetings/settings", adminPages.SaveMeetingSettings)
		r.Get("/admin/mail", adminPages.MailPage)
	})

	r.NotFound(render.NotFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		render.Error(w, r, http.StatusMethodNotAllowed, "Not allowed", "This page cannot be used that way.")
	})

	// Go's CrossOriginProtection refuses state-changing requests that the
	// browser marks as cross-origin (Sec-Fetch-Site, else Origin vs Host)
	// without tokens in every form. Sibling sites are "same-site" to the
	// browser but not same-origin, so one tenant cannot post into another.
	// The ACS and the Single Logout service are exempt: the IdP's forms
	// post to them cross-site by design, and they are protected by the SAML
	// checks instead (a signed message, from the configured IdP, addressed
	// to this site, answering this site's request or never seen before).
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("POST /saml/acs")
	csrf.AddInsecureBypassPattern("POST /saml/slo")
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render.Error(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so it was not accepted. Go back, reload the page and try again.")
	}))
	return csrf.Handler(r)
}
