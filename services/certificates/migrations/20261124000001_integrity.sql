-- Issuance integrity: signer keys belong to a person, protocols get one recorded outcome.

-- A signer key belongs to a committee chair (by personal code) and a body. It is usable only
-- once `active`: registered by the authority, or proposed by the body's staff and confirmed by
-- its owner. Revoked keys stay for audit; protocols signed at or after `revoked_at` issue nothing.
ALTER TABLE signer_keys
    ADD COLUMN owner             text,
    ADD COLUMN status            text NOT NULL DEFAULT 'proposed'
                                 CHECK (status IN ('proposed', 'active', 'revoked')),
    ADD COLUMN activated_at      timestamptz,
    ADD COLUMN confirmed_by      text,
    ADD COLUMN revoked_by        text,
    ADD COLUMN revocation_reason text;

-- Keys registered before keys were bound to a person cannot satisfy "the chair owns the key".
UPDATE signer_keys
   SET status = 'revoked',
       revoked_at = coalesce(revoked_at, now()),
       revocation_reason = 'registered before signer keys were bound to their owner'
 WHERE owner IS NULL;

ALTER TABLE signer_keys
    ADD CONSTRAINT signer_keys_owner_required CHECK (owner IS NOT NULL OR status = 'revoked'),
    ADD CONSTRAINT signer_keys_revocation_complete
        CHECK (status <> 'revoked' OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL)),
    ADD CONSTRAINT signer_keys_active_dated CHECK (status <> 'active' OR activated_at IS NOT NULL);

CREATE INDEX signer_keys_body ON signer_keys (awarding_body_id);

-- Every protocol.signed message that arrived, and what became of it: one row per message.
CREATE TABLE protocols (
    message_id       uuid        PRIMARY KEY,
    -- As read from the payload; unverified when the signature was what failed.
    protocol_id      uuid,
    awarding_body_id uuid,
    session_id       uuid,
    kid              text,
    status           text        NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason           text,
    -- [{application_id, register_number}] for accepted protocols.
    issued           jsonb       NOT NULL DEFAULT '[]',
    refused          uuid[]      NOT NULL DEFAULT '{}',
    received_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'accepted' OR reason IS NOT NULL)
);

CREATE INDEX protocols_protocol_id ON protocols (protocol_id);
CREATE INDEX protocols_body ON protocols (awarding_body_id, received_at);
