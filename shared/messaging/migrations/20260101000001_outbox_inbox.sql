-- The messaging plumbing's own tables, in their own schema, migrated by kutse_messaging::migrate
-- (its migration history lives in messaging._sqlx_migrations, apart from the service's own).

-- Transactional outbox: a service inserts here in the same transaction as its state change; the
-- relay publishes pending rows with publisher confirms and marks them published.
CREATE TABLE messaging.outbox (
    seq             bigserial   PRIMARY KEY,
    message_id      uuid        NOT NULL UNIQUE,
    message_type    text        NOT NULL,
    routing_key     text        NOT NULL,
    -- The exact bytes published: the JSON envelope.
    body            bytea       NOT NULL,
    -- AMQP headers to publish with (trace context).
    headers         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    -- Failed publishes (e.g. unroutable) are retried with back-off, and the reason kept.
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);

CREATE INDEX outbox_pending ON messaging.outbox (seq) WHERE published_at IS NULL;

-- Wakes relays as soon as something is committed, so they need not poll fast.
CREATE FUNCTION messaging.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kutse_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON messaging.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION messaging.outbox_notify();

-- Idempotent consumer: the id of every message whose effects committed. A redelivered message
-- finds its id here and has no second effect.
CREATE TABLE messaging.inbox (
    message_id   uuid        PRIMARY KEY,
    message_type text        NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT now()
);
