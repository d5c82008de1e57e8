-- A round can point to an outside "more information" page and publish its prerequisites; both,
-- with its fees, are readable without logging in.
ALTER TABLE rounds
    ADD COLUMN info_url      text,
    ADD COLUMN prerequisites text;

CREATE INDEX applications_body_status ON applications (awarding_body_id, status, created_at);
