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
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/audit"
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
	now   func() time.Time
	// audit records the changes the service makes, in their transaction.
	audit *audit.Log
	// clock is now in the form crewjam/saml and goxmldsig take it.
	clock *dsig.Clock
	// cache keeps each site's settings and SP keys in the process.
	cache configCache
	// PendingRequestCap is how many pending requests a site keeps, the
	// oldest evicted first; New sets DefaultPendingRequestCap.
	PendingRequestCap int
}

// New returns the service; now is the portal's clock (time.Now outside
// tests).
func New(pool *pgxpool.Pool, box *seal.Box, hosts sites.Hosts, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, box: box, hosts: hosts, log: log, now: now, audit: audit.New(pool, now),
		clock:             dsig.NewFakeClock(funcClock{Clock: clockwork.NewRealClock(), now: now}),
		PendingRequestCap: DefaultPendingRequestCap, cache: newConfigCache()}
}

// funcClock adapts the portal's clock to the clockwork.Clock that goxmldsig
// wraps; the libraries only ever ask it for Now.
type funcClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c funcClock) Now() time.Time { return c.now() }

// EntityID is a site's SP entity ID (the Identifier in Azure).
func (s *Service) EntityID(siteName string) string {
	return s.hosts.SiteURL(siteName) + "/saml/metadata"
}

// ACSURL is a site's Assertion Consumer Service URL (the Reply URL in Azure).
func (s *Service) ACSURL(siteName string) string {
	return s.hosts.SiteURL(siteName) + "/saml/acs"
}

// SLOURL is a site's Single Logout service URL (the Logout URL in Azure).
func (s *Service) SLOURL(siteName string) string {
	return s.hosts.SiteURL(siteName) + "/saml/slo"
}
