-- An application's first history entry, `created`, is no longer stored: it repeated the
-- application's own row (its creation time, and the partner that created it, if any), and cost
-- every new application a row, two index entries and a foreign-key check (issue 16's P1).
-- Intake builds it from the row when the history is read (db::applications::history).
--
-- The stored ones that say exactly what would be built go; any other is kept as it is.
DELETE FROM application_history h
 USING applications a
 WHERE h.application_id = a.id
   AND h.event = 'created'
   AND h.at = a.created_at
   AND h.detail = CASE WHEN a.partner_code IS NULL THEN jsonb_build_object('by', 'applicant')
                       ELSE jsonb_build_object('by', 'partner', 'partner_code', a.partner_code)
                  END;
