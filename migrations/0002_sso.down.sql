DROP TABLE signin_events;
DROP TABLE assertion_replay;
DROP TABLE pending_requests;
DROP TABLE idp_certificates;
DROP TABLE sso_settings;
DROP TABLE sp_keys;
