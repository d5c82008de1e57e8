-- The committee checks a chair's signature before it accepts it: the signer keys the register
-- activated and revoked (from its events), and what the register made of each signed protocol.

CREATE TABLE signer_keys (
    kid              text        PRIMARY KEY,
    awarding_body_id uuid        NOT NULL,
    owner            text        NOT NULL,  -- isikukood of the chair
    public_key       text        NOT NULL,  -- Ed25519, base64url
    activated_at     timestamptz NOT NULL,
    revoked_at       timestamptz,
    revocation_reason text
);

CREATE INDEX signer_keys_body_owner ON signer_keys (awarding_body_id, owner);

-- The register's answer to the session's signed protocol (`protocol.accepted` / `protocol.rejected`).
ALTER TABLE sessions
    ADD COLUMN register_outcome text CHECK (register_outcome IN ('accepted', 'rejected')),
    ADD COLUMN register_detail  jsonb;
