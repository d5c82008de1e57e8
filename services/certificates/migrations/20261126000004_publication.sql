-- Whether a certificate shows in the public register is its holder's decision (shown unless
-- hidden); each decision is recorded.
CREATE TABLE publication_decisions (
    id             uuid        PRIMARY KEY,
    certificate_id uuid        NOT NULL REFERENCES certificates (id),
    published      boolean     NOT NULL,
    decided_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX publication_decisions_certificate ON publication_decisions (certificate_id, decided_at DESC);
