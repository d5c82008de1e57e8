-- Questions (küsimus-vastus): a holder's question about their certificate to its awarding body or
-- the authority, and the authority's question to holders (one row per holder of a question put to
-- many, sharing a campaign). A question waits unanswered on its recipient's front page until it
-- is answered; a body or the authority may pass a holder's question on to another recipient.
CREATE TABLE questions (
    id               uuid        PRIMARY KEY,
    -- The question put to many holders this row is one of.
    campaign_id      uuid,
    -- The certificate asked about (a holder's question).
    register_number  text,
    -- Who asked: a holder (their personal code and name) or the authority.
    asked_by         text        NOT NULL CHECK (asked_by IN ('holder', 'authority')),
    asker            text,
    asker_name       text        NOT NULL,
    asker_email      text,
    asker_language   text        NOT NULL DEFAULT 'et' CHECK (asker_language IN ('et', 'en')),
    -- Who answers: an awarding body, the authority, or a holder (the authority's question).
    recipient_kind   text        NOT NULL CHECK (recipient_kind IN ('awarding_body', 'authority', 'holder')),
    recipient_body   uuid        REFERENCES awarding_bodies (id),
    recipient_holder text,
    recipient_name   text        NOT NULL,
    recipient_email  text,
    recipient_language text      NOT NULL DEFAULT 'et' CHECK (recipient_language IN ('et', 'en')),
    text             text        NOT NULL,
    asked_at         timestamptz NOT NULL DEFAULT now(),
    -- Each time it was passed on: [{from, to, by, note, at}].
    forwards         jsonb       NOT NULL DEFAULT '[]',
    answer           text,
    answered_by_name text,
    answered_at      timestamptz,
    CHECK ((recipient_kind = 'awarding_body') = (recipient_body IS NOT NULL)),
    CHECK ((recipient_kind = 'holder') = (recipient_holder IS NOT NULL)),
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);

-- Front pages: each recipient's unanswered questions, oldest first; a holder's own.
CREATE INDEX questions_unanswered_body ON questions (recipient_body, asked_at) WHERE answered_at IS NULL;
CREATE INDEX questions_unanswered_kind ON questions (recipient_kind, asked_at) WHERE answered_at IS NULL;
CREATE INDEX questions_holder ON questions (recipient_holder, asked_at);
CREATE INDEX questions_asker ON questions (asker, asked_at);
