-- A submitted application waits for the body to confirm its fee before processing starts.
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('draft', 'awaiting_fee', 'submitted', 'awarded', 'refused'));

-- History is shown to applicants: it names roles and bodies, never a staff member's personal code.
UPDATE application_history h
   SET detail = jsonb_build_object('by', 'awarding_body_staff', 'awarding_body_id', a.awarding_body_id)
  FROM applications a
 WHERE a.id = h.application_id AND h.event = 'fee_confirmed';
