package sso

import (
	"slices"

	"github.com/meetings-portal/portal/internal/cache"
)

// cachedSites is how many sites' configuration a process keeps: the busy
// ones, whatever the number of sites.
const cachedSites = 1024

// siteConfig is what a process keeps of a site's configuration so that a
// sign-in does not read and parse it again: its settings and its opened SP
// keys. It is forgotten on every change of sso_settings, idp_certificates
// or sp_keys (announced on portal_config by triggers; this process's own
// changes forget at once, see changeConfig).
type siteConfig struct {
	settings *Settings
	keys     []spKey
}

func newConfigCache() *cache.Cache[int64, siteConfig] {
	return cache.New[int64, siteConfig](cachedSites)
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

// CacheOn starts keeping configuration: the process now hears every change.
func (s *Service) CacheOn() { s.cache.Reset(true) }

// CacheOff stops keeping configuration: changes may go unheard.
func (s *Service) CacheOff() { s.cache.Reset(false) }

// Forget drops what the process kept of site siteID's configuration, after
// a change heard on portal_config.
func (s *Service) Forget(siteID int64) { s.cache.Forget(siteID) }

// ForgetAll drops everything the process kept.
func (s *Service) ForgetAll() { s.cache.ForgetAll() }
