-- notifications: e-mail queued by the message handlers and sent after commit by the mail worker.
CREATE TABLE mails (
    id              uuid        PRIMARY KEY,
    -- The event the mail tells of: one mail per event and kind, however often it is delivered.
    cause_id        uuid        NOT NULL,
    kind            text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    UNIQUE (cause_id, kind)
);

CREATE INDEX mails_pending ON mails (next_attempt_at) WHERE sent_at IS NULL;
