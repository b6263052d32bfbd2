-- Replaced by 0050's signin_events_by_reference. CONCURRENTLY, alone in
-- its file.
DROP INDEX CONCURRENTLY IF EXISTS signin_events_reference;
