package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
)

func (c *cli) admin(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "reset-password") {
		return c.groupHelp("admin", args)
	}
	name := "admin " + args[0]
	fs := newFlagSet(name, c)
	siteName := fs.String("site", "", "site name")
	emailFlag := fs.String("email", "", "admin e-mail")
	pwFile := fs.String("password-file", "", "file holding the password (else PORTAL_ADMIN_PASSWORD, else a prompt)")
	pos, err := c.parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || *siteName == "" || *emailFlag == "" {
		return usageError(name)
	}
	// The address as it is stored (trimmed, lower-case) is the one
	// recorded in the audit log and printed, not the one typed.
	email, err := sites.NormalizeEmail(*emailFlag)
	if err != nil {
		return badInput(err)
	}
	pw, err := c.adminPassword(*pwFile)
	if err != nil {
		return err
	}
	return c.withSite(ctx, *siteName, func(env *env, site sites.Site) error {
		if args[0] == "create" {
			return c.createAdmin(ctx, env, site, email, pw)
		}
		return c.resetAdminPassword(ctx, env, site, email, pw)
	})
}

func (c *cli) createAdmin(ctx context.Context, env *env, site sites.Site, email, pw string) error {
	err := env.Sites.CreateAdmin(ctx, site.ID, email, pw)
	if errors.Is(err, sites.ErrInvalid) || errors.Is(err, sites.ErrExists) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	if err := env.record(ctx, site, "admin.add", email); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created admin %s on %s\n", email, site.Name)
	return nil
}

func (c *cli) resetAdminPassword(ctx context.Context, env *env, site sites.Site, email, pw string) error {
	admin, err := env.Sites.SetAdminPassword(ctx, site.ID, email, pw)
	if errors.Is(err, sites.ErrNotFound) || errors.Is(err, sites.ErrInvalid) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	// A reset usually follows a suspected compromise: end existing sessions.
	if err := env.Sessions.DeleteForSubject(ctx, site.ID, session.Admin, admin.ID); err != nil {
		return err
	}
	if err := env.record(ctx, site, "admin.reset-password", admin.Email); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "password of %s on %s reset; their sessions were ended\n", admin.Email, site.Name)
	return nil
}
