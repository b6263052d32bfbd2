ALTER TABLE pending_requests DROP COLUMN IF EXISTS uses_pending_idp;
ALTER TABLE sso_settings
    DROP COLUMN IF EXISTS pending_entity_id, DROP COLUMN IF EXISTS pending_sso_url, DROP COLUMN IF EXISTS pending_slo_url,
    DROP COLUMN IF EXISTS pending_certificates, DROP COLUMN IF EXISTS pending_metadata_url, DROP COLUMN IF EXISTS pending_since, DROP COLUMN IF EXISTS pending_by;
