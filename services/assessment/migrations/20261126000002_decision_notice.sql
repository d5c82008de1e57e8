-- The decision notice: a number, the evidence each competence decision rests on, and the clock
-- on telling the applicant (14 calendar days).

CREATE SEQUENCE decision_number_seq;

ALTER TABLE cases
    ADD COLUMN decision_number text UNIQUE,
    ADD COLUMN notice_due      date,
    -- When notifications reported the decision mail accepted by the mail server.
    ADD COLUMN noticed_at      timestamptz;

ALTER TABLE competence_decisions ADD COLUMN evidence uuid[] NOT NULL DEFAULT '{}';

-- Every document stored for an application (scanned clean): what evidence may name.
CREATE TABLE case_documents (
    document_id    uuid        PRIMARY KEY,
    application_id uuid        NOT NULL,
    document_type  text        NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX case_documents_application ON case_documents (application_id);

ALTER TABLE overdue DROP CONSTRAINT overdue_clock_check;
ALTER TABLE overdue ADD CONSTRAINT overdue_clock_check CHECK (clock IN ('review', 'decision', 'notice'));
