package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/devidp"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

// demoSite is configured against the development IdP when it has no IdP.
const demoSite = "acme"

// startDevIdP builds the development identity provider (serve --dev-idp)
// and points the demo site at it unless the site already has an IdP.
func (c *cli) startDevIdP(ctx context.Context, pool *pgxpool.Pool, box *seal.Box, hosts sites.Hosts, svc *sso.Service, siteStore *sites.Store, log *slog.Logger) (http.Handler, error) {
	password := c.getenv("PORTAL_DEV_IDP_PASSWORD")
	if password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
		log.Warn("PORTAL_DEV_IDP_PASSWORD is not set: the development IdP's demo users get a random password for this run", "password", password)
	}
	base, _ := url.Parse(hosts.ServiceURL("idp"))
	idp, err := devidp.New(ctx, pool, devidp.Config{
		BaseURL: base, Password: password, Box: box, Logger: log,
		ServiceProvider: func(ctx context.Context, entityID string) (*saml.EntityDescriptor, error) {
			return svc.ServiceProviderByEntityID(ctx, siteStore, entityID)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("development IdP: %w", err)
	}
	site, err := siteStore.ByName(ctx, demoSite)
	if errors.Is(err, sites.ErrNotFound) {
		return idp, nil
	}
	if err != nil {
		return nil, err
	}
	set, err := svc.Settings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if set.Configured() {
		return idp, nil
	}
	metadata, err := idp.MetadataXML()
	if err != nil {
		return nil, err
	}
	if _, err := svc.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		return nil, fmt.Errorf("configure %s against the development IdP: %w", demoSite, err)
	}
	on := true
	if err := svc.SetOptions(ctx, site.ID, sso.Options{Enabled: &on, AutoCreate: &on}); err != nil {
		return nil, err
	}
	log.Warn("site configured against the development IdP", "site", demoSite, "idp", idp.EntityID())
	return idp, nil
}
