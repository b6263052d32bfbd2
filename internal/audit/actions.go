package audit

// Action is an action code and its words, as the Admin audit page shows it.
type Action struct {
	Code, Words string
}

// actions is every action code the portal records, in the order the audit
// page's filter offers them. A code missing here shows as itself; the test
// beside this file fails when code anywhere records a code missing here.
var actions = []Action{
	{"sso.import-metadata", "Imported identity provider metadata"},
	{"sso.save-idp", "Entered the identity provider by hand"},
	// Staging a new identity provider while SSO is on (the SSO page's
	// pending configuration, tested before it goes live).
	{"sso.stage-idp", "Staged a new identity provider for testing"},
	{"sso.activate-idp", "Made the staged identity provider live"},
	{"sso.discard-idp", "Discarded the staged identity provider"},
	{"sso.save-options", "Changed the SSO options"},
	{"sso.refresh-metadata", "Refreshed identity provider metadata"},
	{"sso.accept-refresh", "Accepted refreshed identity provider metadata"},
	{"sso.sp-key-create", "Created a new SP certificate"},
	{"sso.sp-key-activate", "Activated an SP certificate"},
	{"sso.sp-key-remove", "Removed an SP certificate"},
	{"sso.rekey", "Replaced the SP key pair"},
	{"user.create", "Added a user"},
	{"user.deactivate", "Deactivated a user"},
	{"user.reactivate", "Reactivated a user"},
	{"user.relink", "Re-linked a user to the identity provider"},
	{"user.end-sessions", "Signed a user out everywhere"},
	{"user.end-session", "Ended a user's session"},
	{"admin.add", "Added an admin"},
	{"admin.remove", "Removed an admin"},
	{"admin.reset-password", "Reset an admin's password"},
	{"admin.change-password", "Changed their own password"},
	{"admin.sign-in-failed", "Failed admin sign-in"},
	{"meetings.settings", "Changed the meeting settings"},
}

var actionWords = func() map[string]string {
	m := make(map[string]string, len(actions))
	for _, a := range actions {
		m[a.Code] = a.Words
	}
	return m
}()

// Words is an action code in words: "sso.import-metadata" is "Imported
// identity provider metadata". An unknown code (an old entry of a code no
// longer recorded) is itself.
func Words(code string) string {
	if w, ok := actionWords[code]; ok {
		return w
	}
	return code
}

// Known reports whether code is an action the portal records.
func Known(code string) bool {
	_, ok := actionWords[code]
	return ok
}

// Actions lists every action code with its words, for a filter.
func Actions() []Action { return append([]Action(nil), actions...) }
