-- A site's events newest first are read through the primary key
-- (site_id, id) backwards: events are numbered as they are recorded. The
-- index on (site_id, occurred_at DESC) was a second page of the site's
-- part written by every sign-in (docs/PERFORMANCE.md). CONCURRENTLY, alone
-- in its file.
DROP INDEX CONCURRENTLY IF EXISTS signin_events_recent;
