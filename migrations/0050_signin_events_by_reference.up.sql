-- A sign-in event is found by its reference (what a user reads out from an
-- error page) through one index over every site's events. References begin
-- with the minute they were made (web.NewReference), so a sign-in writes
-- this index in one small region, where 0002's (site_id, reference) took a
-- random page of the site's part: with 10,000 sites a page that was seldom
-- in memory and, after each checkpoint, a full-page image in the WAL
-- (docs/PERFORMANCE.md). References made before this change are still
-- found; they are only spread out. 0051 drops the old index.
-- CONCURRENTLY, alone in its file: sign-ins keep recording events meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS signin_events_by_reference ON signin_events (reference);
