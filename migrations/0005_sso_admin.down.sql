DROP INDEX signin_events_occurred;
DROP TABLE admin_audit;
DROP TABLE metadata_drafts;
ALTER TABLE sso_settings
    DROP COLUMN sign_requests, DROP COLUMN new_user_role, DROP COLUMN default_target,
    DROP COLUMN error_page_url, DROP COLUMN require_mfa, DROP COLUMN mfa_contexts,
    DROP COLUMN metadata_url, DROP COLUMN metadata_fetched_at, DROP COLUMN metadata_refresh_error,
    DROP COLUMN metadata_refresh_failed_at, DROP COLUMN proposed_entity_id, DROP COLUMN proposed_sso_url,
    DROP COLUMN proposed_slo_url, DROP COLUMN proposed_certificates;
