-- The SSO Configuration page's options, metadata kept for review before it
-- replaces anything, the metadata URL refresh state, and the admin audit log.

ALTER TABLE sso_settings
    ADD COLUMN sign_requests   boolean NOT NULL DEFAULT true,
    ADD COLUMN new_user_role   text NOT NULL DEFAULT 'host' CHECK (new_user_role IN ('host', 'attendee')),
    ADD COLUMN default_target  text NOT NULL DEFAULT '/',
    ADD COLUMN error_page_url  text NOT NULL DEFAULT '',
    ADD COLUMN require_mfa     boolean NOT NULL DEFAULT false,
    ADD COLUMN mfa_contexts    text[] NOT NULL DEFAULT '{}',
    -- Azure's App Federation Metadata URL, re-fetched every 24 hours.
    ADD COLUMN metadata_url           text NOT NULL DEFAULT '',
    ADD COLUMN metadata_fetched_at    timestamptz,
    ADD COLUMN metadata_refresh_error text NOT NULL DEFAULT '',
    ADD COLUMN metadata_refresh_failed_at timestamptz,
    -- A refresh that found a new entity ID or SSO URL: shown to the admin to
    -- accept, never applied by itself.
    ADD COLUMN proposed_entity_id text NOT NULL DEFAULT '',
    ADD COLUMN proposed_sso_url   text NOT NULL DEFAULT '',
    ADD COLUMN proposed_slo_url   text NOT NULL DEFAULT '',
    -- The certificates of that proposal: trusted only once it is accepted,
    -- since a document naming another IdP may carry another party's keys.
    ADD COLUMN proposed_certificates bytea[] NOT NULL DEFAULT '{}';

-- Uploaded or fetched metadata waiting for the admin to confirm the import.
CREATE TABLE metadata_drafts (
    site_id    bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id         text NOT NULL,
    document   bytea NOT NULL,
    source_url text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (site_id, id)
);

-- Who changed what on a site, and when. Owned by internal/audit.
CREATE TABLE admin_audit (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    PRIMARY KEY (site_id, id)
);
CREATE INDEX admin_audit_recent ON admin_audit (site_id, occurred_at DESC);
CREATE INDEX signin_events_occurred ON signin_events (occurred_at);
