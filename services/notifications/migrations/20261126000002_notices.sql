-- The application a mail is about, when it is one: a decision mail, once sent, is reported as
-- `notice.sent` so the 14-day notice clock stops.
ALTER TABLE mails ADD COLUMN application_id uuid;
