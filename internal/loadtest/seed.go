package loadtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/password"
	"github.com/meetings-portal/portal/internal/seal"
)

// Scale is how much a seeded database holds.
type Scale struct {
	Sites        int
	UsersPerSite int
	Events       int // sign-in events, spread over the sites and 90 days
	AuditPerSite int
}

// IdP is the identity provider every seeded site trusts.
type IdP struct {
	EntityID    string
	SSOURL      string
	Certificate *x509.Certificate
}

// SiteName is the name of seeded site i.
func SiteName(i int) string { return fmt.Sprintf("load%05d", i) }

// UserID is the uid of seeded user j of a site.
func UserID(site string, j int) string { return fmt.Sprintf("user%06d@%s.example", j, site) }

// ObjectID is the Azure object ID of seeded user j of a site.
func ObjectID(site string, j int) string { return fmt.Sprintf("obj-%s-%d", site, j) }

// AdminPassword is the password of every seeded site's admin,
// admin@<site>.example.
const AdminPassword = "load test admin password"

// Seed fills a migrated database with sc sites trusting idp, with SSO and
// just-in-time accounts on, their users, admins, sign-in events and audit
// entries, with COPY: a million users and ten million events take minutes.
// SP keys are sealed under box, one RSA key shared by every site (the key
// generation is what would take hours).
func Seed(ctx context.Context, pool *pgxpool.Pool, box *seal.Box, entityID func(site string) string, idp IdP, sc Scale) error {
	now := time.Now().UTC()
	if err := copyRows(ctx, pool, "sites", []string{"name", "created_at"}, sc.Sites, func(i int) []any {
		return []any{SiteName(i), now}
	}); err != nil {
		return err
	}
	rows, err := pool.Query(ctx, `SELECT id, name FROM sites WHERE name LIKE 'load%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("seed: list sites: %w", err)
	}
	type site struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[site])
	if err != nil {
		return fmt.Errorf("seed: list sites: %w", err)
	}
	if len(list) != sc.Sites {
		return fmt.Errorf("seed: %d load sites in the database, want %d (seed a fresh database)", len(list), sc.Sites)
	}

	hash, err := password.Hash(AdminPassword)
	if err != nil {
		return err
	}
	if err := copyRows(ctx, pool, "site_admins", []string{"site_id", "email", "password_hash"}, len(list), func(i int) []any {
		return []any{list[i].ID, "admin@" + list[i].Name + ".example", hash}
	}); err != nil {
		return err
	}
	if err := copyRows(ctx, pool, "sso_settings", []string{"site_id", "idp_entity_id", "idp_sso_url", "enabled", "auto_create", "mfa_contexts"}, len(list), func(i int) []any {
		return []any{list[i].ID, idp.EntityID, idp.SSOURL, true, true, []string{}}
	}); err != nil {
		return err
	}
	sum := sha256.Sum256(idp.Certificate.Raw)
	if err := copyRows(ctx, pool, "idp_certificates", []string{"site_id", "sha256", "certificate", "position"}, len(list), func(i int) []any {
		return []any{list[i].ID, sum[:], idp.Certificate.Raw, 0}
	}); err != nil {
		return err
	}
	ids := make([]int64, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	if err := seedSPKeys(ctx, pool, box, entityID, list[0].Name, ids); err != nil {
		return err
	}
	users := sc.Sites * sc.UsersPerSite
	if err := copyRows(ctx, pool, "users", []string{"site_id", "uid", "email", "first_name", "last_name", "object_id", "created_at", "updated_at", "uid_skeleton"}, users, func(n int) []any {
		s, j := list[n/sc.UsersPerSite], n%sc.UsersPerSite
		uid := UserID(s.Name, j)
		return []any{s.ID, uid, uid, "User", strconv.Itoa(j), ObjectID(s.Name, j), now, now, identifier.Skeleton(uid)}
	}); err != nil {
		return err
	}
	results := []string{"success", "success", "success", "refused"}
	if err := copyRows(ctx, pool, "signin_events", []string{"site_id", "occurred_at", "reference", "flow", "result", "reason", "name_id", "client_ip"}, sc.Events, func(n int) []any {
		s := list[n%len(list)]
		result := results[n%len(results)]
		reason := ""
		if result == "refused" {
			reason = "audience-mismatch"
		}
		// Oldest first, as the portal records them: numbered in time order.
		at := now.Add(-time.Duration(sc.Events-n) * 90 * 24 * time.Hour / time.Duration(max(sc.Events, 1)))
		return []any{s.ID, at, fmt.Sprintf("LOAD-%04d-%04d", n/10000%10000, n%10000), "idp", result, reason,
			UserID(s.Name, n/len(list)%max(sc.UsersPerSite, 1)), "10.0.0.1"}
	}); err != nil {
		return err
	}
	if err := copyRows(ctx, pool, "admin_audit", []string{"site_id", "occurred_at", "actor", "action", "detail"}, sc.Sites*sc.AuditPerSite, func(n int) []any {
		s := list[n%len(list)]
		return []any{s.ID, now.Add(-time.Duration(n) * time.Minute), "admin@" + s.Name + ".example", "sso.save-options", "enabled=true"}
	}); err != nil {
		return err
	}
	// What autovacuum does within minutes of a bulk load, done now so that
	// the load neither races it nor goes without it (these machines run
	// PostgreSQL with autovacuum off): on a table never analysed,
	// PostgreSQL looks an account up by its site alone and reads every
	// account of the site (measured: 400 buffers a lookup at 1,000 users);
	// a table never vacuumed has every row's visibility still to settle.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("seed: vacuum: %w", err)
	}
	return nil
}

// seedSPKeys gives every site one SP key pair: the same RSA key, sealed under
// each site's own context as the portal seals keys.
func seedSPKeys(ctx context.Context, pool *pgxpool.Pool, box *seal.Box, entityID func(string) string, name string, siteIDs []int64) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: entityID(name)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	sealed := make([][]byte, len(siteIDs))
	for i, id := range siteIDs {
		if sealed[i], err = box.Seal(pkcs8, "sp-key:site:"+strconv.FormatInt(id, 10)); err != nil {
			return err
		}
	}
	return copyRows(ctx, pool, "sp_keys", []string{"site_id", "sealed_key", "certificate", "state"}, len(siteIDs), func(i int) []any {
		return []any{siteIDs[i], sealed[i], der, "active"}
	})
}

func copyRows(ctx context.Context, pool *pgxpool.Pool, table string, columns []string, n int, row func(i int) []any) error {
	i := 0
	_, err := pool.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		r := row(i)
		i++
		return r, nil
	}))
	if err != nil {
		return fmt.Errorf("seed %s: %w", table, err)
	}
	return nil
}
