-- The per-site SAML service provider: its key pairs, the identity provider it
-- trusts, the AuthnRequests it is waiting on, the assertions it has consumed,
-- and the record of every sign-in attempt. Owned by internal/sso.

-- SP key pairs. The private key is sealed (AES-256-GCM under
-- PORTAL_SECRET_KEY); only the certificate is stored in the clear. One key is
-- active (it signs); a "next" one may be published ahead of a rollover, and
-- the "previous" one stays published after it until an admin removes it.
CREATE TABLE sp_keys (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    sealed_key  bytea NOT NULL,
    certificate bytea NOT NULL,
    state       text NOT NULL CHECK (state IN ('active', 'next', 'previous')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, id)
);
CREATE UNIQUE INDEX sp_keys_one_active ON sp_keys (site_id) WHERE state = 'active';
CREATE UNIQUE INDEX sp_keys_one_next ON sp_keys (site_id) WHERE state = 'next';
CREATE UNIQUE INDEX sp_keys_one_previous ON sp_keys (site_id) WHERE state = 'previous';

CREATE TABLE sso_settings (
    site_id       bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    idp_entity_id text NOT NULL DEFAULT '',
    idp_sso_url   text NOT NULL DEFAULT '',
    idp_slo_url   text NOT NULL DEFAULT '',
    enabled       boolean NOT NULL DEFAULT false,
    auto_create   boolean NOT NULL DEFAULT true,
    auto_update   boolean NOT NULL DEFAULT false,
    idp_initiated boolean NOT NULL DEFAULT true,
    authn_context text[] NOT NULL DEFAULT '{}',
    nameid_format text NOT NULL DEFAULT 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The IdP's signing certificates (several during a rollover).
CREATE TABLE idp_certificates (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    sha256      bytea NOT NULL,
    certificate bytea NOT NULL,
    position    int NOT NULL,
    PRIMARY KEY (site_id, sha256)
);

-- AuthnRequests sent and not yet answered. RelayState is an opaque token
-- pointing here; the path to return to never leaves the server.
CREATE TABLE pending_requests (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    request_id  text NOT NULL,
    relay_state text NOT NULL,
    return_path text NOT NULL,
    is_test     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (site_id, request_id)
);
CREATE UNIQUE INDEX pending_requests_relay_state ON pending_requests (site_id, relay_state);
CREATE INDEX pending_requests_expires ON pending_requests (expires_at);

-- Assertion IDs already consumed, until the assertion would expire anyway:
-- shared by every portal process, so a replay fails whichever one it reaches.
CREATE TABLE assertion_replay (
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    assertion_id text NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (site_id, assertion_id)
);
CREATE INDEX assertion_replay_expires ON assertion_replay (expires_at);

CREATE TABLE signin_events (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    reference   text NOT NULL,
    flow        text NOT NULL CHECK (flow IN ('sp', 'idp', 'unknown')),
    result      text NOT NULL CHECK (result IN ('success', 'refused', 'test')),
    reason      text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '',
    name_id     text NOT NULL DEFAULT '',
    user_id     bigint,
    client_ip   text NOT NULL DEFAULT '',
    PRIMARY KEY (site_id, id)
);
CREATE INDEX signin_events_recent ON signin_events (site_id, occurred_at DESC);
CREATE INDEX signin_events_reference ON signin_events (site_id, reference);
