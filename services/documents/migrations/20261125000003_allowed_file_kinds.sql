-- The round's kinds of file per document type, as application.created told them.
ALTER TABLE applications ADD COLUMN allowed_types jsonb NOT NULL DEFAULT '{}';
