package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/meetings-portal/portal/internal/sites"
)

func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return c.groupHelp("user", args)
	}
	fs := newFlagSet("user list", c)
	siteName := fs.String("site", "", "site name")
	pos, err := c.parseFlags(fs, args[1:])
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
