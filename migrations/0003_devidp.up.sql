-- The signing key pair of the development identity provider (`portal serve
-- --dev-idp`, internal/devidp). One row: every portal process, and every
-- restart, signs with the same key, so the IdP metadata imported into the
-- demo site stays valid. The private key is sealed with PORTAL_SECRET_KEY.
CREATE TABLE devidp_key (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    private_key_sealed bytea NOT NULL,
    certificate_pem    text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
