-- Who is who: the register's roles. Every appointment and removal is kept (who, when, why);
-- a role is held while its appointment is not removed and today (Tallinn) is within its dates.

CREATE TABLE appointments (
    id               uuid        PRIMARY KEY,
    -- The person's personal code.
    person           text        NOT NULL,
    -- authority | body_administrator | awarding_body_staff | assessor | committee_member
    -- | committee_chair | partner
    role             text        NOT NULL,
    awarding_body_id uuid        REFERENCES awarding_bodies (id),
    -- The partner organisation's registry code, for the partner role.
    partner_code     text,
    valid_from       date        NOT NULL,
    valid_to         date,
    reason           text        NOT NULL,
    -- The appointer: 'authority:<code>', 'body_administrator:<code>' or 'configuration'.
    appointed_by     text        NOT NULL,
    appointed_at     timestamptz NOT NULL DEFAULT now(),
    removed_at       timestamptz,
    removed_by       text,
    removal_reason   text,
    CHECK ((role = 'authority') = (awarding_body_id IS NULL)),
    CHECK ((role = 'partner') = (partner_code IS NOT NULL)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE INDEX appointments_person ON appointments (person) WHERE removed_at IS NULL;
CREATE INDEX appointments_body ON appointments (awarding_body_id, role);

-- Partner organisations a body has authorised to submit applications on a person's behalf. An
-- authorisation is never rewritten: a withdrawn one stays, and authorising again adds a row.
CREATE TABLE partners (
    id                uuid        PRIMARY KEY,
    awarding_body_id  uuid        NOT NULL REFERENCES awarding_bodies (id),
    registry_code     text        NOT NULL,
    name              text        NOT NULL,
    authorised_by     text        NOT NULL,
    authorised_at     timestamptz NOT NULL DEFAULT now(),
    withdrawn_at      timestamptz,
    withdrawn_by      text,
    withdrawal_reason text
);
CREATE UNIQUE INDEX partners_in_force ON partners (awarding_body_id, registry_code)
    WHERE withdrawn_at IS NULL;

-- ID tokens already exchanged, per scope, until they expire: a leaked ID token yields at most
-- one access token per body.
CREATE TABLE exchanged_id_tokens (
    jti        text        NOT NULL,
    scope      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (jti, scope)
);
CREATE INDEX exchanged_id_tokens_expiry ON exchanged_id_tokens (expires_at);

-- Machine clients (an issuance pipeline, a portal's back end) of a body: named, with the roles
-- they may act in, revocable. The secret is 256 random bits; only its SHA-256 is kept.
CREATE TABLE clients (
    id                uuid        PRIMARY KEY,
    awarding_body_id  uuid        NOT NULL REFERENCES awarding_bodies (id),
    name              text        NOT NULL,
    roles             text[]      NOT NULL,
    secret_sha256     text        NOT NULL,
    -- The RabbitMQ user this client publishes with, if any (e.g. kutse-pipeline).
    broker_user       text,
    registered_by     text        NOT NULL,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at        timestamptz,
    revoked_by        text,
    revocation_reason text
);
CREATE INDEX clients_body ON clients (awarding_body_id);
