-- What the admin pages need to refuse lost updates and double submits.

-- The version of a site's SSO configuration: every change to what the SSO
-- Configuration page shows (its options, the identity provider, its signing
-- certificates, a refresh's proposal) adds one. Each form of the page carries
-- the revision it was built from, and a save against a newer one is refused
-- with what changed, instead of silently undoing another admin's change.
ALTER TABLE sso_settings ADD COLUMN revision bigint NOT NULL DEFAULT 1;

-- When reviewed metadata was imported: a second press of Import (a double
-- click, two tabs) finds it used and changes nothing. Housekeeping deletes
-- drafts by age, applied or not.
ALTER TABLE metadata_drafts ADD COLUMN applied_at timestamptz;

-- Trigram matching for the Sign-in events page's User filter (a substring of
-- the NameID): the index itself is 0026, built CONCURRENTLY. pg_trgm ships
-- with PostgreSQL and is a trusted extension (PostgreSQL 13 and later): the
-- database owner may create it without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
