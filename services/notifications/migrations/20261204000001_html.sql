-- Every mail is sent as plain text and HTML in one message (multipart/alternative); `body` is the
-- text, `html` the same body laid out. Mails queued before this have no HTML and go as text.
ALTER TABLE mails ADD COLUMN html text;
