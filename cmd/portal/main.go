// Command portal runs the meetings portal and administers it: `portal serve`
// (the default), `portal migrate`, `portal site`, `portal sso`, `portal admin`
// and `portal user`. Configuration comes from the environment (each variable
// is also a flag of serve); see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/sso"
)

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
	// lookupEnv tells a variable set to "" from one not set (os.LookupEnv);
	// nil means getenv's "" is "not set".
	lookupEnv func(string) (string, bool)
	// listening, when set, is told where serve listens (tests listen on
	// port 0).
	listening func(site, metrics net.Addr)
}

// gcPercent is the portal's GOGC unless the environment sets one. A
// sign-in allocates about 0.6 MB (XML parsed by encoding/xml and etree)
// over a live heap of a few MB, so Go's default of 100 collects dozens of
// times a second under load. 200 cut the CPU of a sign-in by about a
// sixth and kept the peak RSS under load at 100 MiB with 10,000 sites
// cached; 300 saved a little more CPU but reached 125 MiB
// (docs/PERFORMANCE.md).
const gcPercent = 200

// memoryLimit is the portal's soft memory limit (the Go runtime's: heap,
// stacks and its own) unless GOMEMLIMIT sets one. Under it GOGC 200 rules;
// near it the collector runs sooner instead of letting the heap grow to
// three times the live data, which took the resident memory under load
// past 100 MiB with 10,000 sites (docs/PERFORMANCE.md). It is soft: a
// process whose live data needs more (many meetings' media at once) gets
// more, at the price of more frequent collection.
const memoryLimit = 80 << 20

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, lookupEnv: os.LookupEnv}
	err := c.run(ctx, os.Args[1:])
	stop()
	if err != nil {
		code := 1
		var e *exitError
		if errors.As(err, &e) {
			code = e.code
		}
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(code)
	}
}

// run runs the command args names. Help asked for is not an error: it exits
// with status 0.
func (c *cli) run(ctx context.Context, args []string) error {
	err := c.dispatch(ctx, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	return explain(err)
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
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
	case "help", "-h", "-help", "--help":
		group := ""
		if len(rest) > 0 {
			group = rest[0]
		}
		fmt.Fprint(c.stdout, usage(group))
		return nil
	default:
		fmt.Fprint(c.stderr, usage(""))
		return badInputf("unknown command %q", cmd)
	}
}

// explain turns the failures an operator can fix into one sentence that says
// how, with exit status 2: a database that is not migrated, a site whose SP
// key was sealed under another PORTAL_SECRET_KEY.
func explain(err error) error {
	var schema *database.SchemaError
	var unreadable *sso.SPKeyUnreadableError
	var exit *exitError
	switch {
	case err == nil || errors.As(err, &exit):
		return err
	case errors.As(err, &schema):
		return badInput(schema)
	case errors.As(err, &unreadable):
		return badInput(unreadable)
	}
	return err
}
