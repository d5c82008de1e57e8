-- committee: decided applications waiting for the qualification committee, sessions, votes and
-- the protocol the chair signs.

CREATE TABLE agenda_items (
    application_id   uuid        PRIMARY KEY,
    round_id         uuid        NOT NULL,
    awarding_body_id uuid        NOT NULL,
    all_accepted     boolean     NOT NULL,
    decided_at       timestamptz NOT NULL,
    session_id       uuid
);

CREATE TABLE sessions (
    id               uuid        PRIMARY KEY,
    awarding_body_id uuid        NOT NULL,
    round_id         uuid        NOT NULL,
    status           text        NOT NULL DEFAULT 'voting' CHECK (status IN ('voting', 'closed', 'signed')),
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The protocol document, frozen when voting closes; the chair signs exactly these bytes.
    protocol         jsonb,
    protocol_jws     text,
    signed_at        timestamptz
);

CREATE TABLE votes (
    session_id     uuid    NOT NULL REFERENCES sessions (id),
    application_id uuid    NOT NULL,
    member         text    NOT NULL,
    in_favour      boolean NOT NULL,
    PRIMARY KEY (session_id, application_id, member)
);
