-- Numbered after 0052 although written before 0045–0052: databases at
-- version 45 had been deployed, and golang-migrate applies only versions
-- above the current one. IF NOT EXISTS: a database that ran it as 0040
-- passes over it.
-- Attribute and role mapping of just-in-time accounts (SSO Configuration →
-- Sign-in options → Attributes and roles). Each attribute is the list of
-- claim names tried in order, the first with a value wins; the defaults
-- are the tutorial's short names, then Azure AD's default claims (what the
-- portal always did). The uid falls back to the NameID when none is sent.
-- A group claim (Azure: "Add a group claim", which sends the groups' object
-- IDs) makes a user a host or an attendee when one of its values is listed;
-- host wins when both match. sso_settings already announces its changes on
-- portal_config (0035), so every process sees a new mapping at once.
ALTER TABLE sso_settings
    ADD COLUMN IF NOT EXISTS attr_uid text[] NOT NULL DEFAULT '{uid,http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress,http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name}',
    ADD COLUMN IF NOT EXISTS attr_email text[] NOT NULL DEFAULT '{email,http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress}',
    ADD COLUMN IF NOT EXISTS attr_first_name text[] NOT NULL DEFAULT '{firstname,http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname}',
    ADD COLUMN IF NOT EXISTS attr_last_name text[] NOT NULL DEFAULT '{lastname,http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname}',
    ADD COLUMN IF NOT EXISTS group_claim text NOT NULL DEFAULT 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
    ADD COLUMN IF NOT EXISTS host_groups text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS attendee_groups text[] NOT NULL DEFAULT '{}';
