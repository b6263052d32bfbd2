ALTER TABLE signin_events DROP COLUMN claims;
