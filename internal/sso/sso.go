// Package sso is each site's SAML 2.0 service provider: its keys and
// metadata, the identity provider it trusts, the AuthnRequests it sends
// (SP-initiated sign-in), and the Assertion Consumer Service that decides
// whether a SAML response signs someone in.
//
// The protocol work is crewjam/saml's. This package does what that library
// leaves to the application: per-site configuration, the structural
// pre-checks of xmlguard, a replay cache and pending requests shared by every
// portal process through PostgreSQL, and a record of every sign-in attempt
// with a reason an administrator can act on.
package sso

import (
	"log/slog"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
)

// MaxIssueAge is how old an assertion's IssueInstant may be, before the
// clock skew is added: Azure AD posts the response within seconds.
const MaxIssueAge = 90 * time.Second

// PendingRequestLifetime is how long an AuthnRequest waits for its answer.
const PendingRequestLifetime = 10 * time.Minute

// SetClockSkew configures crewjam/saml's package-wide clock settings. It is
// called once at start-up from configuration (PORTAL_SAML_CLOCK_SKEW), never
// per request: the library keeps them in package variables. The library's
// MaxIssueDelay does not add the skew by itself, so it is set here to
// MaxIssueAge plus the skew.
func SetClockSkew(skew time.Duration) {
	saml.MaxClockSkew = skew
	saml.MaxIssueDelay = MaxIssueAge + skew
}

// Service is the service provider of every site.
type Service struct {
	pool  *pgxpool.Pool
	box   *seal.Box
	hosts sites.Hosts
	log   *slog.Logger
	clock *dsig.Clock // nil: the real clock
}

// New returns the service. clock is nil outside tests.
func New(pool *pgxpool.Pool, box *seal.Box, hosts sites.Hosts, log *slog.Logger, clock *dsig.Clock) *Service {
	return &Service{pool: pool, box: box, hosts: hosts, log: log, clock: clock}
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock.Now()
	}
	return time.Now()
}

// EntityID is a site's SP entity ID (the Identifier in Azure).
func (s *Service) EntityID(siteName string) string {
	return s.hosts.SiteURL(siteName) + "/saml/metadata"
}

// ACSURL is a site's Assertion Consumer Service URL (the Reply URL in Azure).
func (s *Service) ACSURL(siteName string) string {
	return s.hosts.SiteURL(siteName) + "/saml/acs"
}
