-- Identifiers two people cannot share, sign-ins bound to the browser that
-- started them, and a bounded number of pending requests per site.

-- uids are normalised by the portal with RFC 8265 (PRECIS, internal/identifier),
-- which PostgreSQL cannot check. The old CHECK (uid = lower(uid)) would refuse
-- a normalised uid wherever the database's lower() differs from Unicode's,
-- so it is narrowed to what still holds everywhere: an ASCII uid is lower case.
-- Existing ASCII uids are already in their normalised form.
ALTER TABLE users DROP CONSTRAINT users_uid_check;
ALTER TABLE users ADD CONSTRAINT users_uid_check CHECK (uid = lower(uid) OR uid ~ '[^\x01-\x7f]');
-- What the uid looks like (its UTS #39 confusable skeleton), to refuse an
-- account that only looks like another. NULL until the portal computes it
-- (accounts from before this migration, or inserted by hand): the look-alike
-- check computes and stores it when it meets one.
ALTER TABLE users ADD COLUMN uid_skeleton text;
CREATE INDEX users_uid_skeleton ON users (site_id, uid_skeleton);
CREATE INDEX users_uid_skeleton_missing ON users (site_id) WHERE uid_skeleton IS NULL;

-- Who a refused sign-in said it was, for the admin's re-link page.
ALTER TABLE signin_events
    ADD COLUMN claimed_uid       text NOT NULL DEFAULT '',
    ADD COLUMN claimed_email     text NOT NULL DEFAULT '',
    ADD COLUMN claimed_name      text NOT NULL DEFAULT '',
    ADD COLUMN claimed_object_id text NOT NULL DEFAULT '';
CREATE INDEX signin_events_user ON signin_events (site_id, user_id, occurred_at DESC) WHERE user_id IS NOT NULL;

-- The SHA-256 of the browser binding token (the sso_binding cookie) of the
-- browser that started each request; '' for requests from before this
-- migration, which no browser can then answer (the user signs in again).
ALTER TABLE pending_requests ADD COLUMN binding_hash bytea NOT NULL DEFAULT '\x';
-- Oldest first, per site, for the cap on pending requests.
CREATE INDEX pending_requests_site_created ON pending_requests (site_id, created_at);
