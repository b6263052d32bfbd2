package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
)

// Migration 0045 turns the one-line details written before it into fields,
// by the rule ParseDetail reads a line with: the audit page shows old
// entries as a list like new ones.
func TestMigrationConvertsOldDetailsToFields(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewEmptyURL(t)
	g, err := database.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Up(); err != nil {
		t.Fatal(err)
	}
	for {
		v, _, err := g.Version()
		if err != nil {
			t.Fatal(err)
		}
		if v < 45 {
			break
		}
		if err := g.Down(1); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	lines := []string{
		"Auto Account Creation: off → on; MFA: on → off",
		"britta.simon@contoso.com (id 4)",
		"entity ID https://sts.windows.net/x/, SSO URL https://login.microsoftonline.com/x/saml2, 1 signing certificate(s): SHA-256 ab",
		"",
	}
	var siteID int64
	if err := conn.QueryRow(ctx, `INSERT INTO sites (name) VALUES ('acme') RETURNING id`).Scan(&siteID); err != nil {
		t.Fatal(err)
	}
	for i, line := range lines {
		if _, err := conn.Exec(ctx, `INSERT INTO admin_audit (site_id, occurred_at, actor, action, detail) VALUES ($1, $2, 'admin@acme.test', 'sso.save-options', $3)`,
			siteID, time.Now().Add(time.Duration(i)*time.Second), line); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Up(); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT detail, details FROM admin_audit ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Detail  string        `db:"detail"`
		Details audit.Details `db:"details"`
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) {
		t.Fatalf("%d rows", len(got))
	}
	for i, r := range got {
		want := audit.ParseDetail(r.Detail)
		if len(r.Details) != len(want) {
			t.Errorf("%q became %#v, want %#v", r.Detail, r.Details, want)
			continue
		}
		for j := range want {
			if r.Details[j] != want[j] {
				t.Errorf("%q field %d: %#v, want %#v", lines[i], j, r.Details[j], want[j])
			}
		}
	}
	if got[0].Details[0] != (audit.Field{Name: "Auto Account Creation", Value: "off → on"}) {
		t.Errorf("first entry %#v", got[0].Details)
	}
}
