-- Whom to tell of an application's assessment: the applicant as `application.submitted` named them
-- (the decision event names only the application).
CREATE TABLE applicants (
    application_id uuid        PRIMARY KEY,
    applicant      jsonb       NOT NULL,
    qualification  jsonb       NOT NULL,
    competences    jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
