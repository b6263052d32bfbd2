package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/meetings-portal/portal/internal/password"
	"github.com/meetings-portal/portal/internal/sites"
)

func (c *cli) site(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.groupHelp("site", args)
	}
	switch args[0] {
	case "create":
		return c.siteCreate(ctx, args[1:])
	case "list":
		return c.siteList(ctx, args[1:])
	}
	return c.groupHelp("site", args)
}

func (c *cli) siteCreate(ctx context.Context, args []string) error {
	fs := newFlagSet("site create", c)
	email := fs.String("admin-email", "", "e-mail of the site's first admin")
	pwFile := fs.String("admin-password-file", "", "file holding the admin's password (else PORTAL_ADMIN_PASSWORD, else a prompt)")
	pos, err := c.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *email == "" {
		return usageError("site create")
	}
	// Check the cheap things before asking for a password.
	name, err := sites.NormalizeName(pos[0])
	if err != nil {
		return badInput(err)
	}
	if _, err := sites.NormalizeEmail(*email); err != nil {
		return badInput(err)
	}
	pw, err := c.adminPassword(*pwFile)
	if err != nil {
		return err
	}
	env, err := c.openEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	site, err := env.CreateSite(ctx, name, *email, pw)
	if errors.Is(err, sites.ErrInvalid) || errors.Is(err, sites.ErrExists) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created site %s: %s (admin: %s/admin)\n", site.Name, env.Hosts.SiteURL(site.Name), env.Hosts.SiteURL(site.Name))
	return nil
}

// adminPassword reads the password from a file, the environment, or a
// prompt — never from the command line, where other users could see it.
func (c *cli) adminPassword(file string) (string, error) {
	var pw string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", badInputf("read password file: %v", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	case c.getenv("PORTAL_ADMIN_PASSWORD") != "":
		pw = c.getenv("PORTAL_ADMIN_PASSWORD")
	default:
		f, ok := c.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", badInputf("no admin password: use --admin-password-file FILE or PORTAL_ADMIN_PASSWORD, or run in a terminal to be prompted")
		}
		var err error
		if pw, err = prompt(c, f, "Admin password: "); err != nil {
			return "", err
		}
		again, err := prompt(c, f, "Again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", badInputf("the two passwords differ")
		}
	}
	if err := password.Validate(pw); err != nil {
		return "", badInput(err)
	}
	return pw, nil
}

func prompt(c *cli, f *os.File, label string) (string, error) {
	fmt.Fprint(c.stderr, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

func (c *cli) siteList(ctx context.Context, args []string) error {
	pos, err := c.parseFlags(newFlagSet("site list", c), args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("site list")
	}
	env, err := c.openEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	list, err := env.Sites.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tADMINS\tCREATED")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.Name, env.Hosts.SiteURL(s.Name), s.Admins, s.CreatedAt.UTC().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
