-- Single Logout, and sessions a user and an admin can see and end.

-- What a session records of its sign-in. The browser (User-Agent) and address
-- are shown to the user ("Signed in on") and to the admin; the identity
-- provider's names for the sign-in (the NameID as received, with its format
-- and qualifiers, and the AuthnStatement's SessionIndex) go into the
-- LogoutRequest the portal sends at sign-out, and find the sessions an
-- identity provider's LogoutRequest ends (saml-core §3.7.1). Sessions from
-- before this migration have none: they are ended by an IdP LogoutRequest
-- that names no SessionIndex (every session of the user), and sign out
-- without asking the identity provider.
ALTER TABLE sessions
    ADD COLUMN id                bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN user_agent        text NOT NULL DEFAULT '',
    ADD COLUMN client_ip         text NOT NULL DEFAULT '',
    ADD COLUMN name_id           text NOT NULL DEFAULT '',
    ADD COLUMN name_id_format    text NOT NULL DEFAULT '',
    ADD COLUMN name_qualifier    text NOT NULL DEFAULT '',
    ADD COLUMN sp_name_qualifier text NOT NULL DEFAULT '',
    ADD COLUMN session_index     text NOT NULL DEFAULT '';
-- A session is named on the pages by this id, never by its token's hash.
CREATE UNIQUE INDEX sessions_id ON sessions (site_id, id);
-- An identity provider's LogoutRequest names the user by NameID.
CREATE INDEX sessions_name_id ON sessions (site_id, name_id) WHERE name_id <> '';

-- The site's Single Logout switch: sign-out also signs out at the identity
-- provider (idp_slo_url, from the metadata or typed in).
ALTER TABLE sso_settings ADD COLUMN slo_enabled boolean NOT NULL DEFAULT false;

-- LogoutRequests this site sent (SP-initiated Single Logout) and not yet
-- answered: a LogoutResponse is accepted only as the answer to one of them,
-- once. Owned by internal/sso.
CREATE TABLE logout_requests (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    request_id  text NOT NULL,
    -- Whom it signed out, for the event that records the answer.
    name_id     text NOT NULL DEFAULT '',
    user_id     bigint,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    answered_at timestamptz,
    PRIMARY KEY (site_id, request_id)
);
CREATE INDEX logout_requests_expires ON logout_requests (expires_at);

-- Logout messages are recorded with the sign-in events, as flows of their
-- own: slo-sp (the answer to this site's LogoutRequest) and slo-idp (a
-- LogoutRequest from the identity provider).
ALTER TABLE signin_events DROP CONSTRAINT signin_events_flow_check;
ALTER TABLE signin_events ADD CONSTRAINT signin_events_flow_check
    CHECK (flow IN ('sp', 'idp', 'unknown', 'slo-sp', 'slo-idp'));
