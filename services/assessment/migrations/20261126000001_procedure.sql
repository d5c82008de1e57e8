-- The procedure beyond one decision: assessors assigned to a case, requests for more documents
-- (which extend the periods), and the clocks' overdue findings.

-- Working days added to the review and decision periods by closed requests.
ALTER TABLE cases ADD COLUMN extension_days integer NOT NULL DEFAULT 0 CHECK (extension_days >= 0);

-- Only assessors assigned to a case decide it; never the applicant.
CREATE TABLE assignments (
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    assessor       text        NOT NULL,
    assigned_by    text        NOT NULL,
    assigned_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, assessor)
);

CREATE TABLE document_requests (
    id             uuid        PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    -- [{document_type, description}]
    documents      jsonb       NOT NULL,
    reason         text        NOT NULL CHECK (length(trim(reason)) > 0),
    due_on         date        NOT NULL,
    requested_by   text        NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    requested_on   date        NOT NULL,
    closed_on      date,
    outcome        text        CHECK (outcome IN ('answered', 'expired')),
    extension_days integer,
    CHECK ((closed_on IS NULL) = (outcome IS NULL))
);

CREATE INDEX document_requests_open ON document_requests (application_id) WHERE closed_on IS NULL;

-- Documents that arrived against a request, one per requested type.
CREATE TABLE request_answers (
    request_id    uuid        NOT NULL REFERENCES document_requests (id),
    document_type text        NOT NULL,
    document_id   uuid        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, document_type)
);

-- What the daily sweep found: once per case, clock and due day (so a second sweep, or a second
-- replica, raises nothing more).
CREATE TABLE overdue (
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    clock          text        NOT NULL CHECK (clock IN ('review', 'decision')),
    due            date        NOT NULL,
    found_on       date        NOT NULL,
    PRIMARY KEY (application_id, clock, due)
);
