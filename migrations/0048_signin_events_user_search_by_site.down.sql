CREATE INDEX CONCURRENTLY IF NOT EXISTS signin_events_name_id_trgm ON signin_events USING gin (name_id gin_trgm_ops);
