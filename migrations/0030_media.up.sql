-- Which portal process hosts each meeting's media (owned by internal/media).
-- A meeting's media lives in one process: every participant's signalling
-- must reach that process, or be told its media_url. The owner renews
-- heartbeat_at; another process takes the room over once it is stale.
CREATE TABLE media_rooms (
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    meeting_key  text NOT NULL,
    process_id   text NOT NULL,
    media_url    text NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, meeting_key)
);
CREATE INDEX media_rooms_process ON media_rooms (process_id);
