-- The daily digest of a body's overdue clocks to its desk address: one per body and day.
CREATE TABLE digests (
    awarding_body_id uuid        NOT NULL,
    day              date        NOT NULL,
    items            integer     NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (awarding_body_id, day)
);

-- Appeals (vaie) against the panel's decision or the committee's outcome, lodged by the applicant
-- within 30 days of being told, resolved by the committee.
CREATE TABLE appeals (
    id             uuid        PRIMARY KEY,
    application_id uuid        NOT NULL REFERENCES cases (application_id),
    against        text        NOT NULL CHECK (against IN ('assessment', 'committee')),
    reasons        text        NOT NULL CHECK (length(trim(reasons)) > 0),
    documents      uuid[]      NOT NULL DEFAULT '{}',
    lodged_at      timestamptz NOT NULL DEFAULT now(),
    status         text        NOT NULL DEFAULT 'lodged' CHECK (status IN ('lodged', 'upheld', 'dismissed')),
    resolution     text,
    resolved_at    timestamptz
);

-- At most one appeal in progress per application.
CREATE UNIQUE INDEX appeals_one_open ON appeals (application_id) WHERE status = 'lodged';

-- When the applicant was told the committee refused (the appeal period runs from it).
ALTER TABLE cases ADD COLUMN refused_at timestamptz;
