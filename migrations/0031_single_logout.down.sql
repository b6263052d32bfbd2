DELETE FROM signin_events WHERE flow IN ('slo-sp', 'slo-idp');
ALTER TABLE signin_events DROP CONSTRAINT signin_events_flow_check;
ALTER TABLE signin_events ADD CONSTRAINT signin_events_flow_check CHECK (flow IN ('sp', 'idp', 'unknown'));
DROP TABLE logout_requests;
ALTER TABLE sso_settings DROP COLUMN slo_enabled;
DROP INDEX sessions_name_id;
DROP INDEX sessions_id;
ALTER TABLE sessions
    DROP COLUMN id,
    DROP COLUMN user_agent,
    DROP COLUMN client_ip,
    DROP COLUMN name_id,
    DROP COLUMN name_id_format,
    DROP COLUMN name_qualifier,
    DROP COLUMN sp_name_qualifier,
    DROP COLUMN session_index;
