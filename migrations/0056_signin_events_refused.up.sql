-- The SSO page shows a site's newest refusal. Read backwards along the
-- primary key, it walks every success in between: on a site whose sign-ins
-- all succeed, all of its events (a million on a large site) at each view
-- of the page. Refusals are few: an index of them alone is small, and a
-- sign-in that succeeds does not write it.
-- CONCURRENTLY, alone in its file: sign-ins keep recording events meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS signin_events_refused ON signin_events (site_id, id) WHERE result = 'refused';
