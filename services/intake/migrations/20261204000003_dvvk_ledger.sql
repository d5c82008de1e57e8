-- The DVVK ledger: every official document exchange with an outside party, counted once under its
-- channel code (see docs/dvvk.md). One row per exchange: which service counted it, what moved
-- (`action`) and the id of what moved (`reference`) make it unique, so an announcement delivered
-- twice is counted once; intake's own exchanges are written in the transaction of their action,
-- the other services' arrive through their outboxes (`document_exchange.<service>`).
CREATE TABLE dvvk_ledger (
    service     text        NOT NULL,
    action      text        NOT NULL,
    reference   text        NOT NULL,
    dvvk        smallint    NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, action, reference)
);

-- The report counts a period (days in Tallinn) by code.
CREATE INDEX dvvk_ledger_by_time ON dvvk_ledger (occurred_at, dvvk);
