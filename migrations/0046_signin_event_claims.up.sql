-- What the identity provider sent with a sign-in, kept with its event for
-- the admin's event detail page: the assertion's attributes by name (and
-- its AuthnContextClassRef), once the response's signature was verified.
-- Owned by internal/sso. Events older than this column show none.
ALTER TABLE signin_events ADD COLUMN claims jsonb NOT NULL DEFAULT '{}';
