package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/meetings-portal/portal/internal/database"
)

func (c *cli) migrate(ctx context.Context, args []string) error {
	cfg, validate := c.loadConfig(nil)
	if err := validate(); err != nil {
		return err
	}
	if len(args) == 0 {
		return badInputf("usage: portal migrate up|down N|version")
	}
	if args[0] == "up" {
		// A fresh machine has no portal database yet: make it.
		if err := database.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	g, err := database.NewMigrator(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer g.Close()
	switch {
	case args[0] == "up" && len(args) == 1:
		if err := g.Up(); err != nil {
			return err
		}
	case args[0] == "down" && len(args) == 2:
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			return badInputf("migrate down: N must be a positive number, got %q", args[1])
		}
		if err := g.Down(n); err != nil {
			return err
		}
	case args[0] == "version" && len(args) == 1:
	default:
		return badInputf("usage: portal migrate up|down N|version")
	}
	v, dirty, err := g.Version()
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed half-way; fix it, then force the version)"
	}
	fmt.Fprintf(c.stdout, "schema version %d%s\n", v, state)
	return nil
}
