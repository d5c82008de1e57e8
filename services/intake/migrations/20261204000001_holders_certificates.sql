-- What intake knows of the register's certificates, from its events (certificate.issued,
-- certificate.status_changed, certificate.reissued): enough to check that a recertification or a
-- duplicate names a certificate of the applicant's own, of the round's qualification, not revoked,
-- and (a recertification) within the body's window around its expiry.
CREATE TABLE certificates (
    register_number  text        PRIMARY KEY,
    certificate_id   uuid,
    -- The application it was awarded on.
    application_id   uuid        NOT NULL,
    holder           text        NOT NULL,
    awarding_body_id uuid        NOT NULL,
    qualification_id uuid        NOT NULL,
    given_name       text        NOT NULL,
    family_name      text        NOT NULL,
    -- Unknown for certificates issued before this table (their events were not kept).
    valid_until      date,
    status           text        NOT NULL DEFAULT 'valid'
                                 CHECK (status IN ('valid', 'suspended', 'revoked')),
    -- The recertification's certificate that succeeded it.
    superseded_by    text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX certificates_holder ON certificates (holder);

-- Certificates issued before: from the applications' histories.
INSERT INTO certificates (register_number, application_id, holder, awarding_body_id,
                          qualification_id, given_name, family_name)
SELECT DISTINCT ON (h.detail ->> 'register_number')
       h.detail ->> 'register_number', a.id, a.applicant, a.awarding_body_id, r.qualification_id,
       a.given_name, a.family_name
  FROM application_history h
  JOIN applications a ON a.id = h.application_id
  JOIN rounds r ON r.id = a.round_id
 WHERE h.event = 'certificate_issued' AND h.detail ->> 'register_number' IS NOT NULL
ON CONFLICT DO NOTHING;

-- The certificate a recertification renews or a duplicate copies, and why a duplicate is asked
-- for. Required of new ones by the API (not by a constraint: applications made before have none).
ALTER TABLE applications
    ADD COLUMN certificate_number text,
    ADD COLUMN duplicate_reason   text CHECK (duplicate_reason IN ('lost', 'damaged', 'name_changed'));

-- The body's window for recertification: from this many months before a certificate expires
-- until this many months after.
ALTER TABLE awarding_bodies
    ADD COLUMN recertification_months_before integer NOT NULL DEFAULT 12
        CHECK (recertification_months_before BETWEEN 0 AND 60),
    ADD COLUMN recertification_months_after  integer NOT NULL DEFAULT 12
        CHECK (recertification_months_after BETWEEN 0 AND 60);
