CREATE INDEX CONCURRENTLY IF NOT EXISTS signin_events_reference ON signin_events (site_id, reference);
