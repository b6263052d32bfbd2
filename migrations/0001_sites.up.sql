-- Sites, their administrators, and the server-side sessions of both admins and users.
CREATE TABLE sites (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE site_admins (
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    email         text NOT NULL CHECK (email = lower(email)),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, id),
    UNIQUE (site_id, email)
);

-- Only a SHA-256 of each session token is stored, so a read of this table
-- does not hand out live sessions.
CREATE TABLE sessions (
    site_id      bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('admin', 'user')),
    subject_id   bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (site_id, token_hash)
);
CREATE INDEX sessions_subject ON sessions (site_id, kind, subject_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
