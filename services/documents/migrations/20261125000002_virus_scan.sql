-- Every upload is scanned by clamd before anyone but its uploader sees it. A document is
-- `pending` until scanned, then `clean` (announced as document.stored) or `infected` (its object
-- moved under quarantine/, announced as document.quarantined). Documents stored before scanning
-- existed count as clean.
ALTER TABLE documents
    ADD COLUMN scan_status   text        NOT NULL DEFAULT 'clean'
        CHECK (scan_status IN ('pending', 'clean', 'infected')),
    ADD COLUMN scan_result   text,
    ADD COLUMN scanned_at    timestamptz,
    ADD COLUMN scan_attempts integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_scan_at  timestamptz NOT NULL DEFAULT now();
CREATE INDEX documents_pending_scan ON documents (next_scan_at) WHERE scan_status = 'pending';
