-- From now on a document is pending until scanned, whatever inserts it.
ALTER TABLE documents ALTER COLUMN scan_status SET DEFAULT 'pending';
