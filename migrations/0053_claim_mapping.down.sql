ALTER TABLE sso_settings
    DROP COLUMN IF EXISTS attr_uid, DROP COLUMN IF EXISTS attr_email, DROP COLUMN IF EXISTS attr_first_name, DROP COLUMN IF EXISTS attr_last_name,
    DROP COLUMN IF EXISTS group_claim, DROP COLUMN IF EXISTS host_groups, DROP COLUMN IF EXISTS attendee_groups;
