-- A session has a day and a place, records who is present, and counts votes only with a quorum;
-- members recuse themselves from applications (and never vote on their own).
ALTER TABLE sessions
    ADD COLUMN held_on date,
    ADD COLUMN place   text,
    -- Members present needed; NULL: more than half the roster.
    ADD COLUMN quorum  integer CHECK (quorum IS NULL OR quorum >= 1);

-- Members present (personal codes), as the body's staff record them.
CREATE TABLE presence (
    session_id uuid        NOT NULL REFERENCES sessions (id),
    member     text        NOT NULL,
    marked_by  text        NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, member)
);

-- Members who recused themselves from an application of a session.
CREATE TABLE recusals (
    session_id     uuid        NOT NULL REFERENCES sessions (id),
    application_id uuid        NOT NULL,
    member         text        NOT NULL,
    recused_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, application_id, member)
);

-- Whose application each is (from `application.submitted`): nobody votes on their own.
CREATE TABLE applicants (
    application_id uuid PRIMARY KEY,
    applicant      text NOT NULL
);
