-- The kinds of file a round accepts, per document type ({"cv": ["pdf", "docx"]}); a document
-- type not named takes what the documents service accepts.
ALTER TABLE rounds ADD COLUMN allowed_types jsonb NOT NULL DEFAULT '{}';
