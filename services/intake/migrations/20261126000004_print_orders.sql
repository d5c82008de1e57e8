-- A holder of an electronic certificate orders it on paper afterwards, with a delivery option of
-- the round and its cost; the body works through its print queue and marks each sent (a paper
-- document sent: DVVK channel 2).
CREATE TABLE print_orders (
    id               uuid        PRIMARY KEY,
    application_id   uuid        NOT NULL REFERENCES applications (id),
    awarding_body_id uuid        NOT NULL,
    register_number  text        NOT NULL,
    delivery_option  text        NOT NULL CHECK (delivery_option IN ('post', 'pickup')),
    address          text,
    cost_cents       bigint      NOT NULL CHECK (cost_cents >= 0),
    ordered_at       timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'ordered' CHECK (status IN ('ordered', 'sent')),
    sent_at          timestamptz,
    sent_by          text,
    CHECK (delivery_option <> 'post' OR address IS NOT NULL)
);

CREATE INDEX print_orders_queue ON print_orders (awarding_body_id, ordered_at) WHERE status = 'ordered';
