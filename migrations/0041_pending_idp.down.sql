ALTER TABLE pending_requests DROP COLUMN uses_pending_idp;
ALTER TABLE sso_settings
    DROP COLUMN pending_entity_id, DROP COLUMN pending_sso_url, DROP COLUMN pending_slo_url,
    DROP COLUMN pending_certificates, DROP COLUMN pending_metadata_url, DROP COLUMN pending_since, DROP COLUMN pending_by;
