-- The site option "Require encrypted assertions": a response whose assertion
-- is not encrypted to this site's SP key is refused (assertion-not-encrypted).
-- Azure's "token encryption" encrypts once the admin uploads the SP's
-- encryption certificate; the option makes sure nothing arrives in the clear
-- after that.
ALTER TABLE sso_settings ADD COLUMN require_encrypted_assertions boolean NOT NULL DEFAULT false;
