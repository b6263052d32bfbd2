DROP INDEX CONCURRENTLY IF EXISTS signin_events_by_reference;
