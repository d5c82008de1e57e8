-- Six months before a certificate expires its holder is told once (with how to recertify).
CREATE TABLE expiry_notices (
    certificate_id uuid        PRIMARY KEY REFERENCES certificates (id),
    valid_until    date        NOT NULL,
    noticed_on     date        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX certificates_valid_until ON certificates (valid_until) WHERE status = 'valid';
