-- A request for more documents (from assessment) opens a submitted application to uploads of the
-- requested types until the request closes or its due day ends (Tallinn).
CREATE TABLE upload_requests (
    request_id     uuid        PRIMARY KEY,
    application_id uuid        NOT NULL,
    document_types text[]      NOT NULL,
    open_until     timestamptz NOT NULL,
    closed_at      timestamptz
);

CREATE INDEX upload_requests_open ON upload_requests (application_id) WHERE closed_at IS NULL;

-- The request a document answers (uploaded to a submitted application under it).
ALTER TABLE documents ADD COLUMN request_id uuid;
