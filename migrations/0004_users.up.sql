-- Meeting users of each site, created just in time from SAML attributes.
-- Owned by internal/users.
CREATE TABLE users (
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    uid             text NOT NULL CHECK (uid = lower(uid)),
    email           text NOT NULL,
    first_name      text NOT NULL DEFAULT '',
    last_name       text NOT NULL DEFAULT '',
    object_id       text NOT NULL DEFAULT '',
    role            text NOT NULL DEFAULT 'host' CHECK (role IN ('host', 'attendee')),
    created_by      text NOT NULL DEFAULT 'jit' CHECK (created_by IN ('jit', 'admin')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_sign_in_at timestamptz,
    PRIMARY KEY (site_id, id),
    UNIQUE (site_id, uid)
);
