-- Stage III: the body's exam events per round, applicants' registrations (never beyond capacity),
-- and results per competence entered by assessors.
CREATE TABLE exams (
    id               uuid        PRIMARY KEY,
    awarding_body_id uuid        NOT NULL,
    round_id         uuid        NOT NULL,
    starts_at        timestamptz NOT NULL,
    place            text        NOT NULL CHECK (length(trim(place)) > 0),
    capacity         integer     NOT NULL CHECK (capacity >= 1),
    -- The competences (codes) the exam assesses.
    competences      text[]      NOT NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX exams_round ON exams (round_id, starts_at);

CREATE TABLE exam_registrations (
    exam_id        uuid        NOT NULL REFERENCES exams (id),
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    registered_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exam_id, application_id)
);

CREATE TABLE exam_results (
    exam_id        uuid        NOT NULL REFERENCES exams (id),
    application_id uuid        NOT NULL,
    code           text        NOT NULL,
    passed         boolean     NOT NULL,
    note           text,
    entered_by     text        NOT NULL,
    entered_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exam_id, application_id, code),
    FOREIGN KEY (exam_id, application_id) REFERENCES exam_registrations (exam_id, application_id)
);
