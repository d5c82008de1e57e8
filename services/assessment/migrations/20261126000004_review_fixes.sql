-- The message that told of the current decision (a notice is matched to it), when an upheld
-- appeal reopened the case (its clocks no longer run from the round's deadline), and when the
-- qualification was awarded (the panel's decision is then no longer contested).
ALTER TABLE cases
    ADD COLUMN decision_message_id uuid,
    ADD COLUMN reopened_at         timestamptz,
    ADD COLUMN awarded_at          timestamptz;
