// Command portal runs the meetings portal and administers it: `portal serve`
// (the default), `portal migrate`, `portal site`, `portal sso`, `portal admin`
// and `portal user`. Configuration comes from the environment (each variable
// is also a flag of serve); see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: portal <command> [arguments]

commands:
  serve                         run the portal (the default)
  migrate up|down N|version     manage the database schema
  site create NAME --admin-email EMAIL [--admin-password-file FILE]
  site list
  sso import --site NAME --metadata FILE_OR_URL
  sso export --site NAME
  sso set --site NAME [--enabled] [--auto-create] [--auto-update] [--idp-initiated] [--authn-context "URI;URI"]
                      [--slo] [--require-encryption]
  sso show --site NAME
  admin create --site NAME --email EMAIL
  admin reset-password --site NAME --email EMAIL
  user list --site NAME
  user create --site NAME --email EMAIL [--uid UID] [--first-name NAME] [--last-name NAME] [--role host|attendee]

environment: DATABASE_URL, PORTAL_ADDR, PORTAL_BASE_URL, PORTAL_METRICS_ADDR,
PORTAL_TRUSTED_PROXIES, PORTAL_SAML_CLOCK_SKEW, PORTAL_SECRET_KEY, PORTAL_ADMIN_PASSWORD
`

// exitError carries the process exit status: 2 for bad input (a usage error,
// an invalid name, a duplicate), 1 for everything else.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error { return &exitError{code: 2, err: err} }

func badInputf(format string, args ...any) error { return badInput(fmt.Errorf(format, args...)) }

// cli is what every subcommand receives.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	err := c.run(ctx, os.Args[1:])
	stop()
	if err != nil {
		code := 1
		var e *exitError
		if errors.As(err, &e) {
			code = e.code
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "portal:", err)
		}
		os.Exit(code)
	}
}

func (c *cli) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.serve(ctx, nil)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.serve(ctx, rest)
	case "migrate":
		return c.migrate(ctx, rest)
	case "site":
		return c.site(ctx, rest)
	case "sso":
		return c.sso(ctx, rest)
	case "admin":
		return c.admin(ctx, rest)
	case "user":
		return c.user(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(c.stdout, usage)
		return nil
	default:
		fmt.Fprint(c.stderr, usage)
		return badInputf("unknown command %q", cmd)
	}
}

// parseInterspersed parses flags that may come before or after positional
// arguments (`site create acme --admin-email x` and the reverse), which the
// flag package alone does not allow.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, badInput(err)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name string, c *cli) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}
