-- The latest instance of a meeting or a personal room, live or ended: the
-- join page reads it to tell "the meeting has ended" from "the host has not
-- started it yet" (internal/meetings Lobby.Last).
CREATE INDEX meeting_instances_meeting_latest ON meeting_instances (site_id, meeting_id, started_at DESC) WHERE meeting_id IS NOT NULL;
CREATE INDEX meeting_instances_room_latest ON meeting_instances (site_id, room_user_id, started_at DESC) WHERE room_user_id IS NOT NULL;
