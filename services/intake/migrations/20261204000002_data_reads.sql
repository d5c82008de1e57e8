-- The data tracker: every read of a person's data by someone else, as the services announce them
-- (personal_data.read.*); the person lists their own (GET /me/data-reads).
CREATE TABLE data_reads (
    read_id        uuid        PRIMARY KEY,
    person         text        NOT NULL,
    -- The service the data was read at.
    service        text        NOT NULL,
    reader_role    text        NOT NULL,
    reader_body    uuid,
    reader_partner text,
    reader_name    text        NOT NULL,
    what           text        NOT NULL,
    resource       text        NOT NULL,
    read_at        timestamptz NOT NULL
);

CREATE INDEX data_reads_person ON data_reads (person, read_at DESC);
