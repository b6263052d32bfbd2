package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/meetings-portal/portal/internal/database"
)

func (c *cli) migrate(ctx context.Context, args []string) error {
	if len(args) == 0 || !slices.Contains([]string{"up", "down", "version"}, args[0]) {
		return c.groupHelp("migrate", args)
	}
	name := "migrate " + args[0]
	fs := newFlagSet(name, c)
	yes := false
	if args[0] == "down" {
		fs.BoolVar(&yes, "yes", false, "drop tables that hold rows without asking")
	}
	pos, err := c.parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if (args[0] == "down") != (len(pos) == 1) || len(pos) > 1 {
		return usageError(name)
	}
	steps := 0
	if args[0] == "down" {
		if steps, err = strconv.Atoi(pos[0]); err != nil || steps <= 0 {
			return badInputf("migrate down: N must be a positive number, got %q", pos[0])
		}
	}
	cfg, validate := c.loadConfig(nil)
	if err := validate(); err != nil {
		return err
	}
	if args[0] == "up" {
		// A fresh machine has no portal database yet: make it.
		if err := database.EnsureDatabase(ctx, cfg.directURL()); err != nil {
			return err
		}
	}
	g, err := database.NewMigrator(cfg.directURL())
	if err != nil {
		return err
	}
	defer g.Close()
	switch args[0] {
	case "up":
		if err := g.Up(); err != nil {
			return err
		}
	case "down":
		if err := c.migrateDown(ctx, cfg, g, steps, yes); err != nil {
			return err
		}
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

// migrateDown reverts steps migrations, after checking that so many are
// applied (golang-migrate would revert them all and only then say it fell
// short) and, when a step would drop tables that hold rows, that the
// operator means it: --yes, or "yes" typed at a prompt on a terminal.
func (c *cli) migrateDown(ctx context.Context, cfg *config, g *database.Migrator, steps int, yes bool) error {
	plan, err := g.PlanDown(steps)
	var short *database.ShortError
	if errors.As(err, &short) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	var tables []string
	for _, m := range plan {
		for _, t := range m.Drops {
			if !slices.Contains(tables, t) {
				tables = append(tables, t)
			}
		}
	}
	pool, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	withRows, err := database.TablesWithRows(ctx, pool, tables)
	pool.Close()
	if err != nil {
		return err
	}
	if len(withRows) > 0 && !yes {
		var names []string
		for _, m := range plan {
			names = append(names, fmt.Sprintf("%d_%s", m.Version, m.Name))
		}
		warning := fmt.Sprintf("reverting %s drops tables (or columns of tables) that hold rows: %s",
			strings.Join(names, ", "), strings.Join(withRows, ", "))
		if !c.confirm(warning + "\nType yes to drop them: ") {
			return badInputf("%s; nothing was changed (run again with --yes to drop them)", warning)
		}
	}
	return g.Down(steps)
}

// confirm asks question on a terminal and reports whether the answer was
// "yes"; with no terminal it does not ask and says no.
func (c *cli) confirm(question string) bool {
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	fmt.Fprint(c.stderr, question)
	answer, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(answer) == "yes"
}
