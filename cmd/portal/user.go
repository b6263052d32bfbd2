package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
)

func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return c.groupHelp("user", args)
	}
	switch args[0] {
	case "list":
		return c.userList(ctx, args[1:])
	case "create":
		return c.userCreate(ctx, args[1:])
	}
	return c.groupHelp("user", args)
}

func (c *cli) userList(ctx context.Context, args []string) error {
	fs := newFlagSet("user list", c)
	siteName := fs.String("site", "", "site name")
	pos, err := c.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *siteName == "" {
		return usageError("user list")
	}
	return c.withSite(ctx, *siteName, func(env *env, site sites.Site) error {
		return c.printUsers(ctx, env, site)
	})
}

// userFlags names the flag of `portal user create` for each field, by the
// input name users.AccountErrors uses.
var userFlags = map[string]string{
	"email": "--email", "uid": "--uid", "first_name": "--first-name", "last_name": "--last-name", "role": "--role",
}

// userCreate makes an account before its user's first sign-in, as Add
// user on the admin Users page does: the way in for a site whose Auto
// Account Creation is off.
func (c *cli) userCreate(ctx context.Context, args []string) error {
	fs := newFlagSet("user create", c)
	siteName := fs.String("site", "", "site name")
	var account users.NewAccount
	fs.StringVar(&account.Email, "email", "", "the user's e-mail address")
	fs.StringVar(&account.UID, "uid", "", "the uid the identity provider sends (default: the e-mail address)")
	fs.StringVar(&account.FirstName, "first-name", "", "first name")
	fs.StringVar(&account.LastName, "last-name", "", "last name")
	fs.StringVar(&account.Role, "role", "host", "host or attendee")
	pos, err := c.parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *siteName == "" || account.Email == "" {
		return usageError("user create")
	}
	return c.withSite(ctx, *siteName, func(env *env, site sites.Site) error {
		u, err := env.Users.Create(ctx, site.ID, account, func(ctx context.Context, tx pgx.Tx, u users.User) error {
			return env.Audit.RecordIn(ctx, tx, site.ID, audit.CommandLine, "user.create", u.Summary())
		})
		var invalid users.AccountErrors
		switch {
		case errors.As(err, &invalid):
			return badInput(accountErrorsForFlags(invalid))
		case errors.Is(err, users.ErrExists), errors.Is(err, users.ErrLookAlike):
			return badInput(err)
		case err != nil:
			return err
		}
		fmt.Fprintf(c.stdout, "created user %s (%s, %s) on %s; they can sign in through single sign-on\n", u.UID, u.Email, u.Role, site.Name)
		return nil
	})
}

// accountErrorsForFlags says what is wrong in terms of the command's flags.
func accountErrorsForFlags(errs users.AccountErrors) error {
	names := slices.Sorted(maps.Keys(errs))
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = userFlags[name] + ": " + errs[name]
	}
	return errors.New(strings.Join(parts, "; "))
}

func (c *cli) printUsers(ctx context.Context, env *env, site sites.Site) error {
	list, err := env.Users.List(ctx, site.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UID\tNAME\tEMAIL\tROLE\tCREATED BY\tACTIVE\tLAST SIGN-IN")
	for _, u := range list {
		last := "never"
		if u.LastSignInAt != nil {
			last = u.LastSignInAt.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", u.UID, u.DisplayName(), u.Email, u.Role, u.CreatedBy, u.Active, last)
	}
	return tw.Flush()
}
