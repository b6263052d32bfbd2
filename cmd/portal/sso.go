package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

func (c *cli) sso(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.groupHelp("sso", args)
	}
	switch args[0] {
	case "import":
		return c.ssoImport(ctx, args[1:])
	case "export":
		return c.ssoExport(ctx, args[1:])
	case "set":
		return c.ssoSet(ctx, args[1:])
	case "show":
		return c.ssoShow(ctx, args[1:])
	case "rekey":
		return c.ssoRekey(ctx, args[1:])
	}
	return c.groupHelp("sso", args)
}

// siteFlag parses the flags of an sso subcommand that names a site.
func (c *cli) siteFlag(name string, args []string, more func(*flag.FlagSet)) (string, *flag.FlagSet, error) {
	fs := newFlagSet("sso "+name, c)
	site := fs.String("site", "", "site name")
	if more != nil {
		more(fs)
	}
	pos, err := c.parseFlags(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 0 {
		// `--enabled ""` leaves "" behind: a boolean flag takes its value
		// after "=", never as the next argument.
		return "", nil, badInputf("sso %s: unexpected argument %q (boolean flags take =true or =false, as in --enabled=false)", name, pos[0])
	}
	if *site == "" {
		return "", nil, usageError("sso " + name)
	}
	return *site, fs, nil
}

func (c *cli) ssoImport(ctx context.Context, args []string) error {
	var source string
	siteName, _, err := c.siteFlag("import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&source, "metadata", "", "IdP metadata: a file, or an https URL (Azure's App Federation Metadata URL)")
	})
	if err != nil {
		return err
	}
	if source == "" {
		return usageError("sso import")
	}
	data, err := c.readMetadata(ctx, source)
	if err != nil {
		return err
	}
	return c.withSite(ctx, siteName, func(env *env, site sites.Site) error {
		idp, err := env.SSO.ImportMetadata(ctx, site.ID, data, sourceURL(source))
		var metaErr *idpmeta.Error
		if errors.As(err, &metaErr) {
			return badInputf("%s", metaErr.Message)
		}
		if err != nil {
			return err
		}
		if err := env.record(ctx, site, "sso.import-metadata", "IdP "+idp.EntityID+" from "+source); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "imported IdP %s for site %s\n  SSO URL: %s\n", idp.EntityID, site.Name, idp.SSOURL)
		for _, cert := range idp.Certificates {
			info := idpmeta.Describe(cert)
			fmt.Fprintf(c.stdout, "  signing certificate %s, valid until %s, SHA-256 %s\n", info.Subject, info.NotAfter.Format("2006-01-02"), info.SHA256)
		}
		return nil
	})
}

// sourceURL is the metadata URL to keep for the daily refresh: source when
// it is a URL, "" for a file.
func sourceURL(source string) string {
	if isURL(source) {
		return source
	}
	return ""
}

func isURL(source string) bool {
	return strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://")
}

// readMetadata reads a file, or fetches an https URL under the SSRF rules
// (PORTAL_METADATA_ALLOW_PRIVATE=1 allows private and loopback addresses).
func (c *cli) readMetadata(ctx context.Context, source string) ([]byte, error) {
	if isURL(source) {
		data, err := idpmeta.Fetch(ctx, source, idpmeta.FetchOptions{AllowPrivate: c.getenv("PORTAL_METADATA_ALLOW_PRIVATE") == "1"})
		var metaErr *idpmeta.Error
		if errors.As(err, &metaErr) {
			return nil, badInputf("%s", metaErr.Message)
		}
		return data, err
	}
	f, err := os.Open(source)
	if err != nil {
		return nil, badInputf("read metadata: %v", err)
	}
	defer f.Close()
	// One byte over the limit is enough for Parse to say the file is too large.
	data, err := io.ReadAll(io.LimitReader(f, idpmeta.MaxBytes+1))
	if err != nil {
		return nil, badInputf("read metadata: %v", err)
	}
	return data, nil
}

func (c *cli) ssoExport(ctx context.Context, args []string) error {
	siteName, _, err := c.siteFlag("export", args, nil)
	if err != nil {
		return err
	}
	return c.withSite(ctx, siteName, func(env *env, site sites.Site) error {
		doc, err := env.SSO.Metadata(ctx, site)
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(doc)
		return err
	})
}

func (c *cli) ssoSet(ctx context.Context, args []string) error {
	var enabled, autoCreate, autoUpdate, idpInitiated, slo, requireEncryption bool
	var authnContext, uidClaims, emailClaims, firstNameClaims, lastNameClaims, groupClaim, hostGroups, attendeeGroups string
	siteName, fs, err := c.siteFlag("set", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&enabled, "enabled", false, "single sign-on on or off (=true|false)")
		fs.BoolVar(&autoCreate, "auto-create", false, "Auto Account Creation (=true|false)")
		fs.BoolVar(&autoUpdate, "auto-update", false, "Auto Account Update (=true|false)")
		fs.BoolVar(&idpInitiated, "idp-initiated", false, "allow IdP-initiated sign-in, the Azure My Apps tile (=true|false)")
		fs.StringVar(&authnContext, "authn-context", "", `AuthnContextClassRef values, "URI;URI" ("" for none)`)
		fs.BoolVar(&slo, "slo", false, "Single Logout: sign-out also signs out at the IdP's logout URL (=true|false)")
		fs.BoolVar(&requireEncryption, "require-encryption", false, "refuse assertions that are not encrypted to the site's SP key (=true|false)")
		fs.StringVar(&uidClaims, "uid-claims", "", `claims giving the user ID (uid), first found wins, "NAME;NAME"`)
		fs.StringVar(&emailClaims, "email-claims", "", `claims giving the e-mail address, "NAME;NAME"`)
		fs.StringVar(&firstNameClaims, "first-name-claims", "", `claims giving the first name, "NAME;NAME"`)
		fs.StringVar(&lastNameClaims, "last-name-claims", "", `claims giving the last name, "NAME;NAME"`)
		fs.StringVar(&groupClaim, "group-claim", "", "the claim listing the user's groups (Azure: http://schemas.microsoft.com/ws/2008/06/identity/claims/groups)")
		fs.StringVar(&hostGroups, "host-groups", "", `groups (Azure: object IDs) whose members are hosts, "ID;ID" ("" for none)`)
		fs.StringVar(&attendeeGroups, "attendee-groups", "", `groups whose members are attendees, "ID;ID" ("" for none)`)
	})
	if err != nil {
		return err
	}
	// Only the flags given change; everything else stays as it is.
	change := func(set *sso.Settings) error {
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "enabled":
				set.Enabled = enabled
			case "auto-create":
				set.AutoCreate = autoCreate
			case "auto-update":
				set.AutoUpdate = autoUpdate
			case "idp-initiated":
				set.IdPInitiated = idpInitiated
			case "authn-context":
				set.AuthnContext = sso.SplitAuthnContext(authnContext)
			case "slo":
				set.SLOEnabled = slo
			case "require-encryption":
				set.RequireEncryption = requireEncryption
			case "uid-claims":
				set.AttrUID = sso.SplitLines(uidClaims)
			case "email-claims":
				set.AttrEmail = sso.SplitLines(emailClaims)
			case "first-name-claims":
				set.AttrFirstName = sso.SplitLines(firstNameClaims)
			case "last-name-claims":
				set.AttrLastName = sso.SplitLines(lastNameClaims)
			case "group-claim":
				set.GroupClaim = strings.TrimSpace(groupClaim)
			case "host-groups":
				set.HostGroups = sso.SplitLines(hostGroups)
			case "attendee-groups":
				set.AttendeeGroups = sso.SplitLines(attendeeGroups)
			}
		})
		return nil
	}
	return c.withSite(ctx, siteName, func(env *env, site sites.Site) error {
		var fields sso.FieldErrors
		if _, err := env.SSO.UpdateSettings(ctx, site.ID, change); errors.As(err, &fields) {
			return badInput(fieldErrorsForFlags(fields))
		} else if err != nil {
			return err
		}
		if err := env.record(ctx, site, "sso.save-options", strings.Join(args, " ")); err != nil {
			return err
		}
		return c.printSettings(ctx, env, site)
	})
}

// ssoFlags names the flag of `portal sso set` for each setting, by the
// input name sso.FieldErrors uses.
var ssoFlags = map[string]string{
	"enabled": "--enabled", "auto_create": "--auto-create", "auto_update": "--auto-update",
	"authn_context": "--authn-context", "slo_enabled": "--slo",
	"attr_uid": "--uid-claims", "attr_email": "--email-claims", "attr_first_name": "--first-name-claims",
	"attr_last_name": "--last-name-claims", "group_claim": "--group-claim", "host_groups": "--host-groups",
	"attendee_groups": "--attendee-groups",
}

// fieldErrorsForFlags says what is wrong in terms of the command's flags.
func fieldErrorsForFlags(fields sso.FieldErrors) error {
	names := slices.Sorted(maps.Keys(fields))
	parts := make([]string, len(names))
	for i, name := range names {
		flagName, ok := ssoFlags[name]
		if !ok {
			// A setting this command cannot change was already invalid.
			flagName = name + " (set on the SSO Configuration page)"
		}
		parts[i] = flagName + ": " + fields[name]
	}
	return errors.New(strings.Join(parts, "; "))
}

func (c *cli) ssoShow(ctx context.Context, args []string) error {
	siteName, _, err := c.siteFlag("show", args, nil)
	if err != nil {
		return err
	}
	return c.withSite(ctx, siteName, func(env *env, site sites.Site) error {
		return c.printSettings(ctx, env, site)
	})
}

// settingLine is one line of `portal sso show`: a setting of the SSO
// Configuration page, by the page's label, read from sso.Settings (field is
// its db column name).
type settingLine struct {
	field, label string
	values       func(sso.Settings) []string
}

// shownSettings is what `portal sso show` prints about sso.Settings, in the
// page's order and with its labels. TestSSOShowListsEverySetting fails
// when sso.Settings gains a column that is neither here nor in
// notShownSettings, so the command cannot fall behind the page.
var shownSettings = []settingLine{
	{"enabled", "SSO enabled", one(func(s sso.Settings) string { return onOff(s.Enabled) })},
	{"idp_initiated", "IdP-initiated sign-in (SSO Profile)", one(func(s sso.Settings) string { return onOff(s.IdPInitiated) })},
	{"idp_entity_id", "IdP entity ID", one(func(s sso.Settings) string { return orNone(s.IdPEntityID) })},
	{"idp_sso_url", "IdP SSO URL", one(func(s sso.Settings) string { return orNone(s.SSOURL) })},
	{"idp_slo_url", "IdP SLO URL (Logout URL)", one(func(s sso.Settings) string { return orNone(s.SLOURL) })},
	{"slo_enabled", "Single Logout", one(func(s sso.Settings) string { return onOff(s.SLOEnabled) })},
	{"require_encrypted_assertions", "Require encrypted assertions", one(func(s sso.Settings) string { return onOff(s.RequireEncryption) })},
	{"certificates", "IdP signing certificate", func(s sso.Settings) []string {
		var out []string
		for _, cert := range s.Certificates {
			info := idpmeta.Describe(cert)
			out = append(out, fmt.Sprintf("%s, valid %s to %s, SHA-256 %s", info.Subject,
				info.NotBefore.Format("2006-01-02"), info.NotAfter.Format("2006-01-02"), info.SHA256))
		}
		if len(out) == 0 {
			out = []string{"(none)"}
		}
		return out
	}},
	{"metadata_url", "Metadata URL", one(func(s sso.Settings) string { return orNone(s.MetadataURL) })},
	{"metadata_fetched_at", "Metadata last fetched", one(func(s sso.Settings) string { return timeOrNever(s.MetadataFetchedAt) })},
	{"metadata_refresh_error", "Last refresh failed", one(func(s sso.Settings) string {
		if s.RefreshError == "" {
			return "(no)"
		}
		return timeOrNever(s.RefreshFailedAt) + ": " + s.RefreshError
	})},
	{"proposed_entity_id", "Proposed by a refresh", func(s sso.Settings) []string {
		if !s.HasProposal() {
			return []string{"(nothing)"}
		}
		return []string{
			"entity ID " + orNone(s.ProposedEntityID), "SSO URL " + orNone(s.ProposedSSOURL), "SLO URL " + orNone(s.ProposedSLOURL),
			fmt.Sprintf("%d signing certificate(s); accept on the SSO Configuration page", len(s.ProposedCertificates)),
		}
	}},
	{"pending_entity_id", "Staged identity provider", func(s sso.Settings) []string {
		if !s.HasPending() {
			return []string{"(nothing)"}
		}
		out := []string{"entity ID " + s.PendingEntityID, "SSO URL " + s.PendingSSOURL, "SLO URL " + orNone(s.PendingSLOURL),
			fmt.Sprintf("%d signing certificate(s): %s", len(s.PendingCertificates), sso.Fingerprints(s.PendingCertificates))}
		if s.PendingMetadataURL != "" {
			out = append(out, "from "+s.PendingMetadataURL)
		}
		return append(out, "staged "+timeOrNever(s.PendingSince)+" by "+orNone(s.PendingBy)+"; test and activate it on the SSO Configuration page")
	}},
	{"nameid_format", "NameID Format", one(func(s sso.Settings) string { return s.NameIDFormat })},
	{"authn_context", "AuthnContextClassRef", one(func(s sso.Settings) string { return orNone(strings.Join(s.AuthnContext, ";")) })},
	{"require_mfa", "Require multi-factor sign-in", one(func(s sso.Settings) string { return onOff(s.RequireMFA) })},
	{"mfa_contexts", "MFA AuthnContextClassRef values", one(func(s sso.Settings) string { return orNone(strings.Join(s.MFAContexts, ";")) })},
	{"sign_requests", "AuthnRequest Signed", one(func(s sso.Settings) string { return onOff(s.SignRequests) })},
	{"auto_create", "Auto Account Creation", one(func(s sso.Settings) string { return onOff(s.AutoCreate) })},
	{"auto_update", "Auto Account Update", one(func(s sso.Settings) string { return onOff(s.AutoUpdate) })},
	{"new_user_role", "Create new accounts as attendees", one(func(s sso.Settings) string { return onOff(s.NewUserRole == "attendee") })},
	{"default_target", "Default target page after sign-in", one(func(s sso.Settings) string { return orNone(s.DefaultTarget) })},
	{"error_page_url", "Customer SSO error page URL", one(func(s sso.Settings) string { return orNone(s.ErrorPageURL) })},
	{"attr_uid", "User ID (uid) claims", one(func(s sso.Settings) string { return orNone(strings.Join(s.AttrUID, ";")) })},
	{"attr_email", "E-mail claims", one(func(s sso.Settings) string { return orNone(strings.Join(s.AttrEmail, ";")) })},
	{"attr_first_name", "First name claims", one(func(s sso.Settings) string { return orNone(strings.Join(s.AttrFirstName, ";")) })},
	{"attr_last_name", "Last name claims", one(func(s sso.Settings) string { return orNone(strings.Join(s.AttrLastName, ";")) })},
	{"group_claim", "Group claim", one(func(s sso.Settings) string { return orNone(s.GroupClaim) })},
	{"host_groups", "Groups of hosts", one(func(s sso.Settings) string { return orNone(strings.Join(s.HostGroups, ";")) })},
	{"attendee_groups", "Groups of attendees", one(func(s sso.Settings) string { return orNone(strings.Join(s.AttendeeGroups, ";")) })},
	{"updated_at", "Last saved", one(func(s sso.Settings) string { return timeOrNever(&s.UpdatedAt) })},
}

// notShownSettings are the columns of sso.Settings that sso show prints
// as part of another line, or not at all.
var notShownSettings = map[string]string{
	"site_id":                    "the site is the first line",
	"revision":                   "a counter of changes, for two admins editing at once",
	"metadata_refresh_failed_at": "in Last refresh failed",
	"proposed_sso_url":           "in Proposed by a refresh",
	"proposed_slo_url":           "in Proposed by a refresh",
	"proposed_certificates":      "in Proposed by a refresh",
	"pending_sso_url":            "in Staged identity provider",
	"pending_slo_url":            "in Staged identity provider",
	"pending_certificates":       "in Staged identity provider",
	"pending_metadata_url":       "in Staged identity provider",
	"pending_since":              "in Staged identity provider",
	"pending_by":                 "in Staged identity provider",
}

func one(f func(sso.Settings) string) func(sso.Settings) []string {
	return func(s sso.Settings) []string { return []string{f(s)} }
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func timeOrNever(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (c *cli) printSettings(ctx context.Context, env *env, site sites.Site) error {
	set, err := env.SSO.Settings(ctx, site.ID)
	if err != nil {
		return err
	}
	spCerts, err := env.SSO.SPCertificates(ctx, site.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "site\t%s\n", site.Name)
	fmt.Fprintf(tw, "SP entity ID (Identifier)\t%s\n", env.SSO.EntityID(site.Name))
	fmt.Fprintf(tw, "ACS URL (Reply URL)\t%s\n", env.SSO.ACSURL(site.Name))
	fmt.Fprintf(tw, "sign-on URL\t%s\n", env.Hosts.SignOnURL(site.Name))
	fmt.Fprintf(tw, "SP Single Logout URL\t%s\n", env.SSO.SLOURL(site.Name))
	unreadable := false
	for _, cert := range spCerts {
		fmt.Fprintf(tw, "SP certificate (%s)\tvalid until %s, SHA-256 %s\n", cert.State, cert.NotAfter.Format("2006-01-02"), cert.SHA256)
		unreadable = unreadable || cert.Unreadable
	}
	if unreadable {
		fmt.Fprintf(tw, "SP key\tUNREADABLE with this PORTAL_SECRET_KEY: run portal sso rekey --site %s\n", site.Name)
	}
	for _, line := range shownSettings {
		for _, v := range line.values(set) {
			fmt.Fprintf(tw, "%s\t%s\n", line.label, v)
		}
	}
	return tw.Flush()
}

func (c *cli) ssoRekey(ctx context.Context, args []string) error {
	siteName, _, err := c.siteFlag("rekey", args, nil)
	if err != nil {
		return err
	}
	return c.withSite(ctx, siteName, func(env *env, site sites.Site) error {
		var unreadable *sso.SPKeyUnreadableError
		err := env.SSO.CheckSPKeys(ctx, site)
		if err == nil {
			// Replacing a key that works would only break the IdP's trust.
			return badInputf("the SP key pair of site %s opens with the current PORTAL_SECRET_KEY: nothing to replace "+
				"(to change the SP certificate, use the rollover on the SSO Configuration page, which keeps sign-in working)", site.Name)
		}
		if !errors.As(err, &unreadable) {
			return err
		}
		cert, err := env.SSO.RekeySP(ctx, site)
		if err != nil {
			return err
		}
		if err := env.record(ctx, site, "sso.rekey", "new SP key pair, certificate SHA-256 "+cert.SHA256+
			": the previous one could not be opened with the current PORTAL_SECRET_KEY"); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, `replaced the SP key pair of site %s with a new one sealed under the current PORTAL_SECRET_KEY
  new SP certificate: valid until %s, SHA-256 %s

The identity provider still trusts the old certificate. Now:
  1. portal sso export --site %s > %s-sp-metadata.xml   (or Export on the SSO Configuration page)
  2. upload that file to the identity provider (Azure: Single sign-on > Upload metadata file)
Until then an identity provider that checks request signatures refuses this site's sign-ins.
`, site.Name, cert.NotAfter.Format("2006-01-02"), cert.SHA256, site.Name, site.Name)
		return nil
	})
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
