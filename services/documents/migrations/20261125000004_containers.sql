-- Signed containers: what Kutse's checks found (data files, signers), or why the container was
-- refused (`rejected`: never announced, never shown to the panel).
ALTER TABLE documents ADD COLUMN container jsonb;
ALTER TABLE documents DROP CONSTRAINT documents_scan_status_check;
ALTER TABLE documents ADD CONSTRAINT documents_scan_status_check
    CHECK (scan_status IN ('pending', 'clean', 'infected', 'rejected'));
