-- A recertification's certificate succeeds the one it renews (which is then superseded); a
-- duplicate is a new edition of the same certificate's document (the earlier editions are kept,
-- superseded).
ALTER TABLE certificates
    ADD COLUMN successor_of  text,
    ADD COLUMN superseded_by text,
    ADD COLUMN superseded_at timestamptz,
    -- 1 for the original document; each duplicate adds one.
    ADD COLUMN edition       integer NOT NULL DEFAULT 1 CHECK (edition >= 1),
    -- The application whose submission gives the holder's address and language for the e-mail
    -- of the current edition (a duplicate's own; the awarded one's otherwise).
    ADD COLUMN contact_application_id uuid;

-- The editions a duplicate superseded, as they were.
CREATE TABLE certificate_editions (
    certificate_id uuid        NOT NULL REFERENCES certificates (id),
    edition        integer     NOT NULL,
    document       jsonb       NOT NULL,
    seal           text        NOT NULL,
    credential     text,
    pdf_key        text,
    pdf_sha256     text,
    superseded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (certificate_id, edition)
);

-- Each duplicate application is applied once.
CREATE TABLE duplicates (
    application_id uuid        PRIMARY KEY,
    certificate_id uuid        NOT NULL REFERENCES certificates (id),
    edition        integer     NOT NULL,
    reason         text        NOT NULL CHECK (reason IN ('lost', 'damaged', 'name_changed')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (certificate_id, edition)
);

-- The renderer is woken when a duplicate's document waits for its PDF too.
CREATE FUNCTION certificates_notify_rerender() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pdf_sha256 IS NULL AND OLD.pdf_sha256 IS NOT NULL THEN
        PERFORM pg_notify('kutse_certificates_render', '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER certificates_rerender AFTER UPDATE OF pdf_sha256 ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_notify_rerender();
