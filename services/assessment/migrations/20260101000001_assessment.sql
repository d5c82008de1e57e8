-- assessment: one case per submitted application; the panel's decision per competence.

CREATE TABLE cases (
    application_id   uuid        PRIMARY KEY,
    round_id         uuid        NOT NULL,
    awarding_body_id uuid        NOT NULL,
    applicant        text        NOT NULL,
    round_deadline   date        NOT NULL,
    -- 10 Estonian working days after the round's deadline.
    review_due       date        NOT NULL,
    -- The submitted application as `application.submitted` carried it.
    submission       jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
    recommendations  text,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    decided_at       timestamptz
);

CREATE TABLE competence_decisions (
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    code           text        NOT NULL,
    accepted       boolean     NOT NULL,
    justification  text        NOT NULL,
    decided_by     text        NOT NULL,
    decided_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, code)
);
