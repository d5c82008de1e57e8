-- The relay is woken in process by the writer (see `kutse_messaging::outbox`), no longer by a
-- NOTIFY: PostgreSQL serialises the commits of every transaction that notifies, through their
-- WAL flush, and under load that capped a service at one commit per flush (issue 16's P1).
DROP TRIGGER outbox_notify ON messaging.outbox;
DROP FUNCTION messaging.outbox_notify();
