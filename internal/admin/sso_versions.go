package admin

// Two admins with the SSO Configuration page open must not undo each
// other's changes without knowing. Each form of the page carries the
// version of the settings it was built from: their revision (sso.Settings
// counts every change) and the settings as the page showed them ("opened",
// pageState). A save against a newer revision is refused and the admin is
// shown what changed since they opened the page, with their own edits kept
// in the form on top of the current settings, to check and save again.
//
// Refused rather than merged field by field: the page's switches are
// security settings (multi-factor sign-in, SSO enabled, the identity
// provider), and an admin who decided with one configuration in front of
// them must see the other admin's change before theirs is applied, instead
// of two halves combining into a configuration nobody chose. The one
// exception is a change that is already exactly what this save sets — the
// same form sent twice (a double click), or two admins making the same
// change — which is no conflict: the save goes through.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/meetings-portal/portal/internal/sso"
)

// stateLabels name every setting of pageState, in page order.
var stateLabels = []struct{ key, label string }{
	{"profile", "SSO Profile"},
	{"nameid_format", "NameID Format"},
	{"authn_context", "AuthnContextClassRef"},
	{"require_mfa", "Require multi-factor sign-in"},
	{"mfa_contexts", "MFA AuthnContextClassRef values"},
	{"sign_requests", "AuthnRequest Signed"},
	{"auto_create", "Auto Account Creation"},
	{"auto_update", "Auto Account Update"},
	{"attendee", "Create new accounts as attendees"},
	{"default_target", "Default target page after sign-in"},
	{"error_page_url", "Customer SSO error page URL"},
	{"slo_enabled", "Single Logout"},
	{"require_encryption", "Require encrypted assertions"},
	{"attr_uid", "User ID (uid) claims"},
	{"attr_email", "E-mail claims"},
	{"attr_first_name", "First name claims"},
	{"attr_last_name", "Last name claims"},
	{"group_claim", "Group claim"},
	{"host_groups", "Groups of hosts"},
	{"attendee_groups", "Groups of attendees"},
	{"enabled", "SSO enabled"},
	{"entity_id", "IdP entity ID"},
	{"sso_url", "IdP SSO URL"},
	{"slo_url", "IdP SLO URL"},
	{"certificates", "IdP signing certificates"},
	{"metadata_url", "Metadata URL"},
}

// checkboxes are the settings shown as a tick.
var checkboxes = map[string]bool{"require_mfa": true, "sign_requests": true, "auto_create": true,
	"auto_update": true, "attendee": true, "enabled": true, "slo_enabled": true, "require_encryption": true}

// pageState is a site's SSO configuration as the page shows it, by input
// name: the options as the options form posts them, and the identity
// provider (its certificates by SHA-256 fingerprint).
func pageState(set sso.Settings) url.Values {
	v := optionsFormFrom(set).values()
	v.Set("entity_id", set.IdPEntityID)
	v.Set("sso_url", set.SSOURL)
	v.Set("slo_url", set.SLOURL)
	v.Set("certificates", sso.Fingerprints(set.Certificates))
	v.Set("metadata_url", set.MetadataURL)
	return v
}

// version is the version of the settings a form was built from: their
// revision, and the settings as the page showed them.
type version struct {
	Revision int64
	Opened   url.Values
	// OpenedState is Opened encoded for the form's hidden field, once: the
	// page has four forms.
	OpenedState string
}

// versionOf is the version set is.
func versionOf(set sso.Settings) version {
	return newVersion(set.Revision, pageState(set))
}

func newVersion(revision int64, opened url.Values) version {
	return version{Revision: revision, Opened: opened, OpenedState: opened.Encode()}
}

// formVersion reads the version a posted form was built from. A missing or
// unreadable one is revision 0 and nothing opened: such a save is refused
// unless it changes nothing anyone else changed.
func formVersion(r *http.Request) version {
	return versionFromValues(postForm(r))
}

// versionFromValues is formVersion of a form kept aside (resume.go).
func versionFromValues(form url.Values) version {
	revision, _ := strconv.ParseInt(form.Get("revision"), 10, 64)
	opened, err := url.ParseQuery(form.Get("opened"))
	if err != nil {
		opened = url.Values{}
	}
	return newVersion(revision, opened)
}

// settingChange is a setting changed by someone else since the admin
// opened the page.
type settingChange struct {
	Setting     string
	Opened, Now string // the values, in words
	Yours       bool   // the admin changed it too: the form keeps their value
}

// versionConflict refuses a save made from a page built on an older
// version of the settings.
type versionConflict struct {
	Changes []settingChange
	// Current are the settings as they are now, which the page is shown
	// again with.
	Current sso.Settings
}

func (c *versionConflict) Error() string {
	return "the SSO settings were changed by someone else since the page was opened"
}

// checkVersion decides whether a form built from revision and opened may
// be saved over current. wanted is what the save would make of each
// setting it sets (input name → value as pageState has it). It returns nil
// when the settings are still at revision, or when every setting changed
// since already has the value the save wants; otherwise the conflict lists
// every setting changed since the page was opened.
func checkVersion(revision int64, opened url.Values, current sso.Settings, wanted url.Values) *versionConflict {
	if revision == current.Revision {
		return nil
	}
	now := pageState(current)
	refuse := false
	var changes []settingChange
	for _, s := range stateLabels {
		before, after := opened.Get(s.key), now.Get(s.key)
		if before == after {
			continue
		}
		want, sets := wanted[s.key]
		if !sets || want[0] != after {
			refuse = true
		}
		changes = append(changes, settingChange{
			Setting: s.label, Opened: describeState(s.key, before), Now: describeState(s.key, after),
			Yours: sets && want[0] != before,
		})
	}
	if !refuse {
		return nil
	}
	return &versionConflict{Changes: changes, Current: current}
}

// changedSettings describes what changed between two states, for the audit
// log: "Require multi-factor sign-in: off → on; …"; "" for nothing.
func changedSettings(before, after url.Values) string {
	var parts []string
	for _, s := range stateLabels {
		if b, a := before.Get(s.key), after.Get(s.key); b != a {
			parts = append(parts, s.label+": "+describeState(s.key, b)+" → "+describeState(s.key, a))
		}
	}
	return strings.Join(parts, "; ")
}

// edited reports, for each key of wanted, whether the admin changed it
// from what the page showed them.
func edited(wanted, opened url.Values) map[string]bool {
	out := map[string]bool{}
	for key, want := range wanted {
		out[key] = want[0] != opened.Get(key)
	}
	return out
}

// rebase is the form to show after a conflict: the current settings, with
// the admin's typed value for each setting they edited.
func rebase(current, typed url.Values, edits map[string]bool) url.Values {
	out := url.Values{}
	for key := range current {
		out.Set(key, current.Get(key))
		if edits[key] {
			out.Set(key, typed.Get(key))
		}
	}
	return out
}

// describeState is a setting's value in words.
func describeState(key, value string) string {
	switch {
	case checkboxes[key] && value == "on":
		return "on"
	case checkboxes[key]:
		return "off"
	case key == "profile" && value == profileSPInitiated:
		return "SP-initiated"
	case key == "profile" && value == profileBoth:
		return "SP- and IdP-initiated"
	case value == "":
		return "(empty)"
	}
	for _, c := range nameIDChoices {
		if key == "nameid_format" && c.Value == value {
			return c.Label
		}
	}
	return value
}
