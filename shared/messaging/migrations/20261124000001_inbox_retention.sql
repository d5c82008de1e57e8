-- The inbox is pruned of ids older than the retention period (far longer than any redelivery
-- window); the index keeps that cheap.
CREATE INDEX inbox_handled_at ON messaging.inbox (handled_at);
