DROP INDEX IF EXISTS pending_requests_site_created;
ALTER TABLE pending_requests DROP COLUMN IF EXISTS binding_hash;
DROP INDEX IF EXISTS signin_events_user;
ALTER TABLE signin_events
    DROP COLUMN IF EXISTS claimed_uid,
    DROP COLUMN IF EXISTS claimed_email,
    DROP COLUMN IF EXISTS claimed_name,
    DROP COLUMN IF EXISTS claimed_object_id;
DROP INDEX IF EXISTS users_uid_skeleton_missing;
DROP INDEX IF EXISTS users_uid_skeleton;
ALTER TABLE users DROP COLUMN IF EXISTS uid_skeleton;
-- Non-ASCII uids stay as they are; the old constraint is put back only where
-- it holds (NOT VALID keeps existing rows).
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_uid_check;
ALTER TABLE users ADD CONSTRAINT users_uid_check CHECK (uid = lower(uid)) NOT VALID;
