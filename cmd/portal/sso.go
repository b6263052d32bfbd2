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

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

func (c *cli) sso(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return badInputf("usage: portal sso import|export|set|show --site NAME ...")
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
	}
	return badInputf("unknown sso command %q", args[0])
}

// siteFlag parses the flags of an sso subcommand that names a site.
func (c *cli) siteFlag(name string, args []string, more func(*flag.FlagSet)) (string, *flag.FlagSet, error) {
	fs := newFlagSet("sso "+name, c)
	site := fs.String("site", "", "site name")
	if more != nil {
		more(fs)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 0 || *site == "" {
		return "", nil, badInputf("usage: portal sso %s --site NAME (see portal help)", name)
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
		return badInputf("usage: portal sso import --site NAME --metadata FILE_OR_URL")
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
	var authnContext string
	siteName, fs, err := c.siteFlag("set", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&enabled, "enabled", false, "single sign-on on or off (=true|false)")
		fs.BoolVar(&autoCreate, "auto-create", false, "Auto Account Creation (=true|false)")
		fs.BoolVar(&autoUpdate, "auto-update", false, "Auto Account Update (=true|false)")
		fs.BoolVar(&idpInitiated, "idp-initiated", false, "allow IdP-initiated sign-in, the Azure My Apps tile (=true|false)")
		fs.StringVar(&authnContext, "authn-context", "", `AuthnContextClassRef values, "URI;URI" ("" for none)`)
		fs.BoolVar(&slo, "slo", false, "Single Logout: sign-out also signs out at the IdP's logout URL (=true|false)")
		fs.BoolVar(&requireEncryption, "require-encryption", false, "refuse assertions that are not encrypted to the site's SP key (=true|false)")
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
	"profile": "--idp-initiated", "authn_context": "--authn-context", "slo_enabled": "--slo",
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

func (c *cli) printSettings(ctx context.Context, env *env, site sites.Site) error {
	set, err := env.SSO.Settings(ctx, site.ID)
	if err != nil {
		return err
	}
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "site\t%s\n", site.Name)
	fmt.Fprintf(tw, "SP entity ID (Identifier)\t%s\n", env.SSO.EntityID(site.Name))
	fmt.Fprintf(tw, "ACS URL (Reply URL)\t%s\n", env.SSO.ACSURL(site.Name))
	fmt.Fprintf(tw, "sign-on URL\t%s\n", env.Hosts.SignOnURL(site.Name))
	fmt.Fprintf(tw, "SSO\t%s\n", onOff(set.Enabled))
	fmt.Fprintf(tw, "IdP entity ID\t%s\n", orNone(set.IdPEntityID))
	fmt.Fprintf(tw, "IdP SSO URL\t%s\n", orNone(set.SSOURL))
	fmt.Fprintf(tw, "IdP SLO URL (Logout URL)\t%s\n", orNone(set.SLOURL))
	fmt.Fprintf(tw, "Single Logout\t%s\n", onOff(set.SLOEnabled))
	fmt.Fprintf(tw, "SP Single Logout URL\t%s\n", env.SSO.SLOURL(site.Name))
	for _, cert := range set.Certificates {
		info := idpmeta.Describe(cert)
		fmt.Fprintf(tw, "IdP signing certificate\t%s, valid %s to %s, SHA-256 %s\n", info.Subject,
			info.NotBefore.Format("2006-01-02"), info.NotAfter.Format("2006-01-02"), info.SHA256)
	}
	fmt.Fprintf(tw, "Auto Account Creation\t%s\n", onOff(set.AutoCreate))
	fmt.Fprintf(tw, "Auto Account Update\t%s\n", onOff(set.AutoUpdate))
	fmt.Fprintf(tw, "IdP-initiated sign-in\t%s\n", onOff(set.IdPInitiated))
	fmt.Fprintf(tw, "AuthnContextClassRef\t%s\n", orNone(strings.Join(set.AuthnContext, ";")))
	fmt.Fprintf(tw, "NameID format\t%s\n", set.NameIDFormat)
	fmt.Fprintf(tw, "Require encrypted assertions\t%s\n", onOff(set.RequireEncryption))
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
