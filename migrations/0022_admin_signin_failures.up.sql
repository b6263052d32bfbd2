-- Failed admin sign-ins per site and account (the normalised e-mail address
-- typed, known or not, stored only as its SHA-256), so that the per-account
-- limit holds across addresses and portal processes. Owned by internal/sites.
CREATE TABLE admin_signin_failures (
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    account_key     bytea NOT NULL,
    failures        int NOT NULL,
    -- The distinct client addresses the failures came from (at most 16).
    addresses       text[] NOT NULL DEFAULT '{}',
    first_failed_at timestamptz NOT NULL,
    last_failed_at  timestamptz NOT NULL,
    locked_until    timestamptz,
    PRIMARY KEY (site_id, account_key)
);
CREATE INDEX admin_signin_failures_last ON admin_signin_failures (last_failed_at);
