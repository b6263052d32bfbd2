DROP TABLE media_rooms;
