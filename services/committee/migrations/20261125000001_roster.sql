-- The bodies' people as the role registry (intake) announces them: committee members, chairs and
-- the rest. The committee's roster is read from here.
CREATE TABLE roster (
    appointment_id   uuid        PRIMARY KEY,
    person           text        NOT NULL,
    role             text        NOT NULL,
    awarding_body_id uuid        NOT NULL,
    -- NULL while only the removal has arrived (events may arrive out of order).
    valid_from       date,
    valid_to         date,
    removed_at       timestamptz
);
CREATE INDEX roster_body ON roster (awarding_body_id, role);
