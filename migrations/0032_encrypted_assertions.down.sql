ALTER TABLE sso_settings DROP COLUMN require_encrypted_assertions;
