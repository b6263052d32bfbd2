ALTER TABLE sso_settings
    DROP COLUMN attr_uid, DROP COLUMN attr_email, DROP COLUMN attr_first_name, DROP COLUMN attr_last_name,
    DROP COLUMN group_claim, DROP COLUMN host_groups, DROP COLUMN attendee_groups;
