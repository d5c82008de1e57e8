-- The certificate as a document anyone can verify: an Open Badges 3.0 credential, entries in the
-- revocation and suspension status lists, a status the authority and the body change, and a PDF
-- rendered after issuance.

ALTER TABLE certificates
    ADD COLUMN status       text NOT NULL DEFAULT 'valid'
                            CHECK (status IN ('valid', 'suspended', 'revoked')),
    -- The salt of the credential's identityHash: shown to the holder only.
    ADD COLUMN holder_salt  text,
    -- The OpenBadgeCredential as a vc+jwt (certificates issued before credentials have none).
    ADD COLUMN credential   text,
    -- The PDF, once rendered: its S3 key, SHA-256 (hex) and size. Rendering is leased so that
    -- several replicas render each certificate once.
    ADD COLUMN pdf_key          text,
    ADD COLUMN pdf_sha256       text,
    ADD COLUMN pdf_size         bigint,
    ADD COLUMN pdf_rendered_at  timestamptz,
    ADD COLUMN pdf_attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN pdf_leased_until timestamptz,
    ADD COLUMN pdf_error        text;

CREATE INDEX certificates_to_render ON certificates (created_at)
    WHERE pdf_sha256 IS NULL AND credential IS NOT NULL;
CREATE INDEX certificates_holder ON certificates (holder);

-- Each certificate's place in each purpose's status list: a random index of the purpose's
-- current list. An index is never reused.
CREATE TABLE status_entries (
    purpose        text    NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    list           integer NOT NULL CHECK (list >= 1),
    index          integer NOT NULL CHECK (index >= 0 AND index < 131072),
    certificate_id uuid    NOT NULL REFERENCES certificates (id),
    PRIMARY KEY (purpose, list, index),
    UNIQUE (certificate_id, purpose)
);

-- Every change of a certificate's status: who (role and personal code), when, why.
CREATE TABLE status_changes (
    id             uuid        PRIMARY KEY,
    certificate_id uuid        NOT NULL REFERENCES certificates (id),
    action         text        NOT NULL CHECK (action IN ('revoked', 'suspended', 'reinstated')),
    reason         text        NOT NULL CHECK (length(trim(reason)) > 0),
    actor          text        NOT NULL,
    actor_role     text        NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX status_changes_certificate ON status_changes (certificate_id, changed_at);

-- The renderer listens here, so a PDF is started as soon as its certificate is committed.
CREATE FUNCTION certificates_notify_render() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kutse_certificates_render', '');
    RETURN NULL;
END $$;

CREATE TRIGGER certificates_render AFTER INSERT ON certificates
    FOR EACH STATEMENT EXECUTE FUNCTION certificates_notify_render();
