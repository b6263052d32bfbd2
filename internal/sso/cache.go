package sso

import (
	"context"
	"fmt"
	"slices"
	"unique"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/cache"
)

// A process keeps every site's settings (up to cachedSettings: as many
// sites as sites.Store keeps) and the opened SP keys of the busiest
// cachedKeys sites, so that a sign-in reads and parses neither. Both are
// forgotten on every change of sso_settings, idp_certificates or sp_keys
// (announced on portal_config by triggers; this process's own changes
// forget at once, see changeConfig).
//
// Settings are kept with their certificates as stored (DER), about 2 KB a
// site, and parsed again on each read (6 µs a certificate): parsed ones
// would be 3 KB more each, 30 MB for 10,000 sites. Opened keys are bigger
// (an RSA private key with its precomputed values, and its certificate)
// and most sign-ins do not need them.
const (
	cachedSettings = 10000
	cachedKeys     = 1024
)

type configCache struct {
	settings *cache.Cache[int64, Settings]
	keys     *cache.Cache[int64, []spKey]
}

func newConfigCache() configCache {
	return configCache{
		settings: cache.New[int64, Settings](cachedSettings),
		keys:     cache.New[int64, []spKey](cachedKeys),
	}
}

// kept is a copy of set as a cache keeps it (compact).
func kept(set Settings) Settings { return compact(copySettings(set)) }

// compact is set, which nothing else holds, as a cache keeps it:
// certificates as stored only, and the strings most sites have alike
// (claim names, NameID format, defaults) interned, half of what a site's
// settings take otherwise. (An interned string is shared by the values
// made between two collections, not for ever: unique holds it weakly.
// That is enough for a preload.)
func compact(set Settings) Settings {
	set.Certificates, set.PendingCertificates = nil, nil
	for _, s := range []*string{&set.NameIDFormat, &set.NewUserRole, &set.DefaultTarget, &set.GroupClaim} {
		*s = unique.Make(*s).Value()
	}
	for _, list := range [][]string{set.AuthnContext, set.MFAContexts, set.AttrUID, set.AttrEmail, set.AttrFirstName, set.AttrLastName} {
		for i := range list {
			list[i] = unique.Make(list[i]).Value()
		}
	}
	return set
}

// copySettings is set with slices of its own: callers may change what
// they get.
func copySettings(set Settings) Settings {
	set = set.clone()
	set.Certificates = slices.Clone(set.Certificates)
	set.CertificatesDER = slices.Clone(set.CertificatesDER)
	set.ProposedCertificates = slices.Clone(set.ProposedCertificates)
	set.PendingCertificates = slices.Clone(set.PendingCertificates)
	set.PendingCertificatesDER = slices.Clone(set.PendingCertificatesDER)
	return set
}

// PreloadSettings keeps every configured site's settings (up to
// cachedSettings) with one query, so that no site's first sign-in after a
// start or a full refresh waits for its own.
func (s *Service) PreloadSettings(ctx context.Context) error {
	if !s.cache.settings.On() {
		return nil
	}
	epoch := s.cache.settings.Epoch()
	// Row by row: the whole list at once would hold every site's settings
	// twice at the peak, each minute.
	rows, err := s.pool.Query(ctx, selectAllSettings, cachedSettings)
	if err != nil {
		return fmt.Errorf("preload SSO settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		set, err := pgx.RowToStructByName[Settings](rows)
		if err != nil {
			return fmt.Errorf("preload SSO settings: %w", err)
		}
		s.cache.settings.Put(set.SiteID, epoch, compact(set))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("preload SSO settings: %w", err)
	}
	return nil
}

// CacheOn starts keeping configuration: the process now hears every change.
func (s *Service) CacheOn() {
	s.cache.settings.Reset(true)
	s.cache.keys.Reset(true)
}

// CacheOff stops keeping configuration: changes may go unheard.
func (s *Service) CacheOff() {
	s.cache.settings.Reset(false)
	s.cache.keys.Reset(false)
}

// Forget drops what the process kept of site siteID's configuration, after
// a change heard on portal_config.
func (s *Service) Forget(siteID int64) {
	s.cache.settings.Forget(siteID)
	s.cache.keys.Forget(siteID)
}

// ForgetAll drops everything the process kept.
func (s *Service) ForgetAll() {
	s.cache.settings.ForgetAll()
	s.cache.keys.ForgetAll()
}
