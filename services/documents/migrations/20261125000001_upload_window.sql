-- Uploads are accepted while an application is a draft: `application.submitted` closes it. The
-- stored content type is what the bytes are (see src/content.rs).
ALTER TABLE applications ADD COLUMN submitted_at timestamptz;
