-- Numbered after 0052 although written before 0045–0052 (see 0053); IF
-- NOT EXISTS: a database that ran it as 0041 passes over it.
-- A configuration tested before it goes live: while single sign-on is on,
-- importing or entering a new identity provider on the admin page stages
-- it in the pending_* columns instead of replacing the one in use. Test
-- SSO can run against it (a pending request marked uses_pending_idp is
-- answered by the staged IdP); Activate copies it over the live one and
-- clears it, Discard clears it. The columns are in sso_settings, whose
-- trigger (0035_config_notify) already tells every process of a change.
ALTER TABLE sso_settings
    ADD COLUMN IF NOT EXISTS pending_entity_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS pending_sso_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS pending_slo_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS pending_certificates bytea[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS pending_metadata_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS pending_since timestamptz,
    ADD COLUMN IF NOT EXISTS pending_by text NOT NULL DEFAULT '';

ALTER TABLE pending_requests ADD COLUMN IF NOT EXISTS uses_pending_idp boolean NOT NULL DEFAULT false;
