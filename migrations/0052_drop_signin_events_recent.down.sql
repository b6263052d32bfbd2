CREATE INDEX CONCURRENTLY IF NOT EXISTS signin_events_recent ON signin_events (site_id, occurred_at DESC);
