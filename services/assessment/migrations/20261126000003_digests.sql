-- The daily digest of a body's overdue clocks to its desk address: one per body and day.
CREATE TABLE digests (
    awarding_body_id uuid        NOT NULL,
    day              date        NOT NULL,
    items            integer     NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (awarding_body_id, day)
);
