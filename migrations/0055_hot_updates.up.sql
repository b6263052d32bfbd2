-- Every sign-in updates its account (last_sign_in_at, and the attributes
-- when they changed) and every minute of activity its session
-- (last_seen_at); neither column is indexed, so PostgreSQL can update the
-- row in place (a HOT update) when its page has room. Pages filled to the
-- brim (the default, and what a bulk load or a burst of first sign-ins
-- leaves) have none: the new version then goes to another page and every
-- index of the table gets an entry for it. With a million accounts that
-- was 85 % of sign-ins writing three random index pages more (measured,
-- docs/PERFORMANCE.md). A tenth of each page is kept free for updates.
-- Pages written from now on; existing ones follow after a VACUUM FULL (or
-- pg_repack) in a quiet hour. Takes no lock that stops reads or writes.
ALTER TABLE users SET (fillfactor = 90);
ALTER TABLE sessions SET (fillfactor = 90);
