DROP EXTENSION IF EXISTS pg_trgm;
ALTER TABLE metadata_drafts DROP COLUMN applied_at;
ALTER TABLE sso_settings DROP COLUMN revision;
