package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand as `portal help` and its own --help show it.
type command struct {
	name     string // "sso set"
	synopsis string // what follows "portal "
	about    string
}

// commands is every subcommand, in the order `portal help` lists them: the
// one place their usage lines are written.
var commands = []command{
	{"serve", "serve [--no-migrate] [--dev-idp] [--shutdown-grace D] [configuration flags]",
		"Run the portal (the default with no arguments). It listens at once (/healthz answers 200), waits for PostgreSQL, " +
			"migrates the schema up unless --no-migrate, and only then answers /readyz with 200. On SIGTERM /readyz answers 503 " +
			"while the portal keeps serving for the shutdown grace period, then the listeners close and requests in flight finish."},
	{"migrate up", "migrate up", "Apply every migration not yet applied; creates the database if it does not exist."},
	{"migrate down", "migrate down N [--yes]",
		"Revert the last N migrations. Refused, with nothing changed, when fewer than N are applied. When a step drops tables " +
			"(or columns of tables) that hold rows, it asks for confirmation on a terminal, or needs --yes."},
	{"migrate version", "migrate version", "Print the schema version."},
	{"site create", "site create NAME --admin-email EMAIL [--admin-password-file FILE]",
		"Create a site, its first admin and its SP key pair. The password comes from the file, PORTAL_ADMIN_PASSWORD, or a prompt."},
	{"site list", "site list", "List the sites."},
	{"sso import", "sso import --site NAME --metadata FILE_OR_URL", "Import the identity provider's metadata (applied at once)."},
	{"sso export", "sso export --site NAME", "Print the site's SP metadata, to upload to the identity provider."},
	{"sso set", `sso set --site NAME [--enabled] [--auto-create] [--auto-update] [--idp-initiated] [--authn-context "URI;URI"] [--slo] [--require-encryption]`,
		"Change single sign-on settings; only the flags given change. Boolean flags take =true or =false."},
	{"sso show", "sso show --site NAME", "Print every single sign-on setting of the site, as the SSO Configuration page has them."},
	{"sso rekey", "sso rekey --site NAME",
		"Replace the site's SP key pair by a new one sealed under the current PORTAL_SECRET_KEY, when the old one cannot be " +
			"opened (it was sealed under another key, such as the development key used while PORTAL_SECRET_KEY was unset). " +
			"The identity provider still trusts the old certificate: export the metadata again (portal sso export) and upload " +
			"it to the identity provider. Recorded in the site's admin audit log."},
	{"admin create", "admin create --site NAME --email EMAIL [--password-file FILE]", "Add an administrator to a site."},
	{"admin reset-password", "admin reset-password --site NAME --email EMAIL [--password-file FILE]",
		"Set an administrator's password and end their sessions."},
	{"user list", "user list --site NAME", "List the site's users."},
	{"user create", "user create --site NAME --email EMAIL [--uid UID] [--first-name NAME] [--last-name NAME] [--role host|attendee]",
		"Make an account before its user's first sign-in, as Add user on the admin Users page does: the way in for a site " +
			"whose Auto Account Creation is off. The uid defaults to the e-mail address. Recorded in the site's admin audit log."},
}

const environment = `environment: DATABASE_URL, PORTAL_DIRECT_DATABASE_URL, PORTAL_ADDR, PORTAL_BASE_URL, PORTAL_METRICS_ADDR,
PORTAL_TRUSTED_PROXIES, PORTAL_SAML_CLOCK_SKEW, PORTAL_EVENT_RETENTION, PORTAL_SHUTDOWN_GRACE,
PORTAL_MAX_CONNECTIONS, PORTAL_SIGNIN_RATE, PORTAL_ADMIN_SIGNIN_RATE, PORTAL_SECRET_KEY, PORTAL_METADATA_ALLOW_PRIVATE, PORTAL_PPROF, PORTAL_SMTP_URL,
PORTAL_MAIL_FROM, PORTAL_MEDIA_UDP, PORTAL_MEDIA_TCP, PORTAL_MEDIA_PUBLIC_IP, PORTAL_ICE_SERVERS,
PORTAL_INTERNAL_URL, PORTAL_LOG_FORMAT, PORTAL_ADMIN_PASSWORD, PORTAL_DEV_IDP_PASSWORD (see README.md)
`

// usage is `portal help`: every command (or those of one group, such as
// "sso").
func usage(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s <command> [arguments]\n\ncommands:\n", strings.TrimSpace("portal "+group))
	for _, cmd := range commands {
		if group == "" || strings.HasPrefix(cmd.name, group+" ") || cmd.name == group {
			fmt.Fprintf(&b, "  portal %s\n", cmd.synopsis)
		}
	}
	if group == "" {
		b.WriteString("\n" + environment)
	} else {
		fmt.Fprintf(&b, "\nportal %s COMMAND --help says more about each.\n", group)
	}
	return b.String()
}

func lookup(name string) command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	panic("portal: no usage for command " + name)
}

// errHelp is returned once a command's help was printed; run turns it into
// exit status 0.
var errHelp = flag.ErrHelp

// usageError is bad input answered with the command's usage line.
func usageError(name string) error {
	return badInputf("usage: portal %s (portal %s --help says more)", lookup(name).synopsis, name)
}

// groupHelp answers `portal GROUP`, `portal GROUP --help` and an unknown
// `portal GROUP WHAT`: the group's commands, on standard output for help,
// with exit status 2 otherwise.
func (c *cli) groupHelp(group string, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(c.stdout, usage(group))
		return errHelp
	}
	fmt.Fprint(c.stderr, usage(group))
	if len(args) == 0 {
		return badInputf("portal %s: which command?", group)
	}
	return badInputf("unknown %s command %q", group, args[0])
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// newFlagSet makes the flags of command name (as in commands). The flag
// package prints nothing itself: parseFlags prints the help on standard
// output and mistakes on standard error.
func newFlagSet(name string, c *cli) *flag.FlagSet {
	lookup(name) // every command has its usage written
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// help is a command's --help: its usage line, what it does, its flags.
func help(fs *flag.FlagSet) string {
	cmd := lookup(fs.Name())
	var b strings.Builder
	fmt.Fprintf(&b, "usage: portal %s\n\n%s\n", cmd.synopsis, wrap(cmd.about, 78))
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nflags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return b.String()
}

// parseFlags parses flags that may come before or after positional
// arguments (`site create acme --admin-email x` and the reverse), which the
// flag package alone does not allow. -h or --help prints the command's help
// on standard output and returns errHelp.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, help(fs))
			return nil, errHelp
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "usage: portal %s\n", lookup(fs.Name()).synopsis)
			return nil, badInput(err)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for _, word := range strings.Fields(text) {
		if line > 0 && line+1+len(word) > width {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}
