-- documents: which applications exist and whose they are (from `application.created`), and the
-- metadata of every stored file. The files themselves are in S3 under server-generated keys.

CREATE TABLE applications (
    application_id   uuid PRIMARY KEY,
    awarding_body_id uuid NOT NULL,
    applicant        text NOT NULL
);

CREATE TABLE documents (
    id             uuid        PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES applications (application_id),
    owner          text        NOT NULL,
    document_type  text        NOT NULL,
    -- As the uploader named it; shown, never used in the object key.
    file_name      text,
    content_type   text        NOT NULL,
    object_key     text        NOT NULL UNIQUE,
    sha256         text        NOT NULL,
    size_bytes     bigint      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_application ON documents (application_id);
