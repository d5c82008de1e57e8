-- Upheld appeals: the only way an outcome changes. An application refused by a signed protocol
-- may be awarded by a later one only if an appeal was upheld after the refusal; its panel's
-- decision is then taken anew (the first-write-wins fact is cleared when the appeal is upheld).
CREATE TABLE upheld_appeals (
    appeal_id      uuid        PRIMARY KEY,
    application_id uuid        NOT NULL,
    resolved_at    timestamptz NOT NULL
);

CREATE INDEX upheld_appeals_application ON upheld_appeals (application_id);
