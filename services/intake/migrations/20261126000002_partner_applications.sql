-- A partner's authorisation may be limited to a round or a qualification; a partner's people
-- create applications on a person's behalf, which the person confirms before it is submitted.
ALTER TABLE partners
    ADD COLUMN round_id         uuid,
    ADD COLUMN qualification_id uuid;

ALTER TABLE applications
    -- The partner organisation (registry code) that created it on the applicant's behalf.
    ADD COLUMN partner_code text,
    -- When the applicant confirmed an application a partner created for them.
    ADD COLUMN confirmed_at timestamptz;
