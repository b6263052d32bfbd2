DROP INDEX IF EXISTS meeting_instances_room_latest;
DROP INDEX IF EXISTS meeting_instances_meeting_latest;
