-- The W3C trace context of what caused a mail (the handling of its event), so that sending it,
-- later and in another task, continues the same trace: one trace from the portal's request to
-- the e-mail.
ALTER TABLE mails ADD COLUMN traceparent text;
