package sso_test

import (
	"context"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
)

// uncached is a service of the portal's database that no listener drives:
// the portal's own turns its cache on and forgets what each notification
// names whenever it hears them, which a test of the cache cannot wait for.
func (p *portal) uncached() *sso.Service {
	return sso.New(p.pool, p.App.Box, p.App.Hosts, p.App.Log, p.App.Now)
}

// With the cache on, PreloadSettings keeps every site's settings in one
// read: a read afterwards asks PostgreSQL nothing about them (here: the
// tables renamed away would make it fail), and gets the IdP certificates
// parsed, in slices of its own. A change forgets them.
func TestPreloadKeepsEverySitesSettings(t *testing.T) {
	ctx := context.Background()
	p := newPortal(t)
	own := p.uncached()
	want := map[int64]sso.Settings{}
	for _, site := range []int64{p.acme.ID, p.globex.ID} {
		set, err := own.Settings(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		want[site] = set
	}
	own.CacheOn()
	if err := own.PreloadSettings(ctx); err != nil {
		t.Fatal(err)
	}
	away := func(from, to string) {
		t.Helper()
		for _, table := range []string{"sso_settings", "idp_certificates"} {
			if _, err := p.pool.Exec(ctx, `ALTER TABLE `+table+from+` RENAME TO `+table+to); err != nil {
				t.Fatal(err)
			}
		}
	}
	away("", "_away")
	for site, w := range want {
		got, err := own.Settings(ctx, site)
		if err != nil {
			t.Fatalf("site %d: %v (not kept by PreloadSettings)", site, err)
		}
		if got.IdPEntityID != w.IdPEntityID || !got.Enabled || len(got.Certificates) != 1 || !got.Certificates[0].Equal(w.Certificates[0]) {
			t.Errorf("site %d: kept %+v, want %+v", site, got, w)
		}
		// What a caller does with its copy is not kept.
		got.Certificates[0], got.CertificatesDER[0] = nil, nil
		got.AttrUID = append(got.AttrUID[:0], "changed")
		again, err := own.Settings(ctx, site)
		if err != nil || again.Certificates[0] == nil || again.CertificatesDER[0] == nil || (len(again.AttrUID) > 0 && again.AttrUID[0] == "changed") {
			t.Errorf("site %d: a caller's change reached the cache: %+v, %v", site, again, err)
		}
	}
	// A change heard for acme: read again (and failing, the table being away).
	own.Forget(p.acme.ID)
	if _, err := own.Settings(ctx, p.acme.ID); err == nil {
		t.Error("acme's settings still kept after Forget")
	}
	if _, err := own.Settings(ctx, p.globex.ID); err != nil {
		t.Errorf("globex's settings forgotten with acme's: %v", err)
	}
	away("_away", "")

	// Off (not listening): nothing is kept.
	own.CacheOff()
	if err := own.PreloadSettings(ctx); err != nil {
		t.Fatal(err)
	}
	away("", "_away")
	if _, err := own.Settings(ctx, p.globex.ID); err == nil {
		t.Error("settings kept while the cache is off")
	}
	away("_away", "")
}

// Opened SP keys are kept apart from the settings, and forgotten with them.
func TestSPKeysKeptUntilAChange(t *testing.T) {
	ctx := context.Background()
	p := newPortal(t)
	own := p.uncached()
	own.CacheOn()
	if _, err := own.Metadata(ctx, p.acme); err != nil {
		t.Fatal(err)
	}
	if _, err := p.pool.Exec(ctx, `ALTER TABLE sp_keys RENAME TO sp_keys_away`); err != nil {
		t.Fatal(err)
	}
	if _, err := own.Metadata(ctx, p.acme); err != nil {
		t.Errorf("metadata with the keys kept: %v", err)
	}
	own.ForgetAll()
	if _, err := own.Metadata(ctx, p.acme); err == nil {
		t.Error("keys still kept after ForgetAll")
	}
	if _, err := p.pool.Exec(ctx, `ALTER TABLE sp_keys_away RENAME TO sp_keys`); err != nil {
		t.Fatal(err)
	}
}

// Settings read on a miss are kept as a copy: what the caller does with
// what it got does not reach the next reader.
func TestSettingsReadOnAMissAreKeptAsACopy(t *testing.T) {
	ctx := context.Background()
	p := newPortal(t)
	own := p.uncached()
	own.CacheOn()
	got, err := own.Settings(ctx, p.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := got.IdPEntityID
	got.IdPEntityID = "changed"
	got.Certificates[0], got.CertificatesDER[0] = nil, nil
	got.AttrUID[0] = "changed"
	if _, err := p.pool.Exec(ctx, `ALTER TABLE sso_settings RENAME TO sso_settings_away`); err != nil {
		t.Fatal(err)
	}
	again, err := own.Settings(ctx, p.acme.ID)
	if _, err := p.pool.Exec(ctx, `ALTER TABLE sso_settings_away RENAME TO sso_settings`); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("not kept: %v", err)
	}
	if again.IdPEntityID != want || again.Certificates[0] == nil || again.CertificatesDER[0] == nil || again.AttrUID[0] == "changed" {
		t.Errorf("a caller's change reached the cache: %+v", again)
	}
}
