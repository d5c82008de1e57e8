-- certificates: the register. What it knows of applications comes from events; certificates are
-- issued on a verified signed protocol, at most one per application.

-- Public keys of committee chairs, registered before they sign.
CREATE TABLE signer_keys (
    kid              text        PRIMARY KEY,
    awarding_body_id uuid        NOT NULL,
    public_key       text        NOT NULL,  -- Ed25519, base64url
    registered_by    text        NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);

-- The certificate's data, assembled from `application.submitted` and `assessment.decided`.
CREATE TABLE applications (
    application_id uuid        PRIMARY KEY,
    submission     jsonb,
    decision       jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE register_number_seq;

CREATE TABLE certificates (
    id              uuid        PRIMARY KEY,
    register_number text        NOT NULL UNIQUE,
    -- Exactly once: a second protocol naming the same application issues nothing.
    application_id  uuid        NOT NULL UNIQUE,
    protocol_id     uuid        NOT NULL,
    holder          text        NOT NULL,
    issued_on       date        NOT NULL,
    valid_until     date        NOT NULL,
    -- The certificate document and its seal (compact JWS by the register key).
    document        jsonb       NOT NULL,
    seal            text        NOT NULL,
    published       boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Refusals told once.
CREATE TABLE refusals (
    application_id uuid        PRIMARY KEY,
    protocol_id    uuid        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
