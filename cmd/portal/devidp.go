package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

// demoSite is configured against the development IdP when it has no IdP.
const demoSite = "acme"

// startDevIdP starts the development identity provider (serve --dev-idp)
// and points the demo site at it, Single Logout on, unless the site
// already has an IdP.
func (c *cli) startDevIdP(ctx context.Context, portal *env) error {
	log := portal.Log
	password := c.getenv("PORTAL_DEV_IDP_PASSWORD")
	if password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
		log.Warn("PORTAL_DEV_IDP_PASSWORD is not set: the development IdP's demo users get a random password for this run", "password", password)
	}
	idp, err := portal.StartDevIdP(ctx, password)
	if err != nil {
		return err
	}
	site, err := portal.Sites.ByName(ctx, demoSite)
	if errors.Is(err, sites.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	set, err := portal.SSO.Settings(ctx, site.ID)
	if err != nil {
		return err
	}
	if set.Configured() {
		return nil
	}
	metadata, err := idp.MetadataXML()
	if err != nil {
		return err
	}
	if _, err := portal.SSO.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		return fmt.Errorf("configure %s against the development IdP: %w", demoSite, err)
	}
	if _, err := portal.SSO.UpdateSettings(ctx, site.ID, func(set *sso.Settings) error {
		// Single Logout on: signing out of the demo site signs out of the
		// development IdP too, which then asks for the password again.
		set.Enabled, set.AutoCreate, set.SLOEnabled = true, true, true
		return nil
	}); err != nil {
		return err
	}
	log.Warn("site configured against the development IdP", "site", demoSite, "idp", idp.EntityID())
	return nil
}
