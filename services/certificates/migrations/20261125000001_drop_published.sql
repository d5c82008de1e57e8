-- `published` was never written: whether a certificate shows in the public register is the
-- holder's decision, which arrives with holder self-service, in a table of its own.
ALTER TABLE certificates DROP COLUMN published;
