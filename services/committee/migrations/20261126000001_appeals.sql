-- Appeals (vaie) the committee resolves: as `appeal.lodged` told of them.
CREATE TABLE appeals (
    id               uuid        PRIMARY KEY,
    application_id   uuid        NOT NULL,
    awarding_body_id uuid        NOT NULL,
    -- The appeal as lodged (`appeal.lodged`): reasons, documents, applicant, qualification.
    lodged           jsonb       NOT NULL,
    lodged_at        timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'lodged' CHECK (status IN ('lodged', 'upheld', 'dismissed')),
    resolution       text,
    resolved_by      text,
    resolved_at      timestamptz
);

CREATE INDEX appeals_body ON appeals (awarding_body_id, status);
