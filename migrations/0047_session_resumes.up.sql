-- Where a person whose session expired was, so that signing in again
-- takes them back there, and the form they had posted, so that their edit
-- is not lost (internal/session.Resumes). The browser holds only a random
-- token (its hash is the key); the form is sealed with PORTAL_SECRET_KEY
-- and bounded in size; a row lives 30 minutes.
CREATE TABLE session_resumes (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL,
    kind        text NOT NULL,
    return_path text NOT NULL,
    form_path   text NOT NULL DEFAULT '',
    form        bytea,
    -- Set by the sign-in that resumes: the form is given back to this
    -- account only.
    subject_id  bigint,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (site_id, token_hash)
);
CREATE INDEX session_resumes_expiry ON session_resumes (expires_at);
