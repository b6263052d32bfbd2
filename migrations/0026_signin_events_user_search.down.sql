DROP INDEX CONCURRENTLY IF EXISTS signin_events_name_id_trgm;
