-- A mail may carry one attachment, fetched when it is sent from where its event said (a
-- pre-signed URL) and checked against its SHA-256: {url, sha256, filename, content_type}.
ALTER TABLE mails ADD COLUMN attachment jsonb;
