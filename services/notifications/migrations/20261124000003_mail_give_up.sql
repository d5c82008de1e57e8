-- Mail the server refuses for good (a permanent SMTP error) or that failed every attempt is
-- parked: kept with its reason for an operator, never retried by itself.
ALTER TABLE mails ADD COLUMN given_up_at timestamptz;

DROP INDEX mails_pending;
CREATE INDEX mails_pending ON mails (next_attempt_at) WHERE sent_at IS NULL AND given_up_at IS NULL;
