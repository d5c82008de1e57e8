-- intake: awarding bodies, qualifications and their competences, application rounds, applications.

CREATE TABLE awarding_bodies (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE qualifications (
    id                     uuid        PRIMARY KEY,
    awarding_body_id       uuid        NOT NULL REFERENCES awarding_bodies (id),
    name                   text        NOT NULL,
    level                  smallint    NOT NULL CHECK (level BETWEEN 1 AND 8),
    partial                boolean     NOT NULL DEFAULT false,
    -- Some qualifications cannot be applied for through VÕTA (e.g. juuksur, tase 5).
    prior_learning_allowed boolean     NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL DEFAULT now()
);

-- The occupational standard: every competence must be accepted to award the qualification.
CREATE TABLE competences (
    qualification_id uuid NOT NULL REFERENCES qualifications (id),
    code             text NOT NULL,
    name             text NOT NULL,
    PRIMARY KEY (qualification_id, code)
);

CREATE TABLE rounds (
    id                 uuid        PRIMARY KEY,
    awarding_body_id   uuid        NOT NULL REFERENCES awarding_bodies (id),
    qualification_id   uuid        NOT NULL REFERENCES qualifications (id),
    -- Applications are accepted until the end of this day.
    deadline           date        NOT NULL,
    required_documents text[]      NOT NULL DEFAULT '{}',
    closed_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE round_fees (
    round_id     uuid   NOT NULL REFERENCES rounds (id),
    kind         text   NOT NULL CHECK (kind IN ('initial', 'recertification', 'prior_learning', 'duplicate')),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    PRIMARY KEY (round_id, kind)
);

CREATE TABLE round_delivery_options (
    round_id   uuid   NOT NULL REFERENCES rounds (id),
    option     text   NOT NULL CHECK (option IN ('pickup', 'post', 'electronic')),
    cost_cents bigint NOT NULL CHECK (cost_cents >= 0),
    PRIMARY KEY (round_id, option)
);

CREATE TABLE applications (
    id               uuid        PRIMARY KEY,
    round_id         uuid        NOT NULL REFERENCES rounds (id),
    awarding_body_id uuid        NOT NULL REFERENCES awarding_bodies (id),
    applicant        text        NOT NULL,  -- isikukood
    given_name       text        NOT NULL,
    family_name      text        NOT NULL,
    email            text        NOT NULL,
    language         text        NOT NULL CHECK (language IN ('et', 'en')),
    kind             text        NOT NULL,
    delivery_option  text        NOT NULL,
    status           text        NOT NULL DEFAULT 'draft'
                                 CHECK (status IN ('draft', 'submitted', 'awarded', 'refused')),
    fee_confirmed    boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    submitted_at     timestamptz
);

CREATE INDEX applications_applicant ON applications (applicant);

CREATE TABLE application_competences (
    application_id uuid NOT NULL REFERENCES applications (id),
    code           text NOT NULL,
    PRIMARY KEY (application_id, code)
);

-- Documents the documents service stored for an application (from `document.stored`).
CREATE TABLE application_documents (
    document_id    uuid        PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications (id),
    document_type  text        NOT NULL,
    sha256         text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE application_history (
    id             bigserial   PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications (id),
    at             timestamptz NOT NULL DEFAULT now(),
    event          text        NOT NULL,
    detail         jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX application_history_application ON application_history (application_id, id);

-- Responses to POSTs made with an Idempotency-Key, replayed when the same request comes again.
CREATE TABLE idempotency_keys (
    subject      text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       smallint    NOT NULL,
    body         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, key)
);
