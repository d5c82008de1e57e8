-- The W3C trace context (`traceparent`) of what asked for a certificate's PDF: the protocol's
-- issuance, or a duplicate's new edition. The PDF worker renders later, on its own, and
-- continues that trace, so the certificate's e-mail (sent on `certificate.rendered`) is in the
-- same trace as the signed protocol that awarded it. NULL for rows written before this column,
-- or by a replica that does not yet write it during a rolling deploy: their PDFs start a trace
-- of their own, as before.
ALTER TABLE certificates ADD COLUMN traceparent text;
