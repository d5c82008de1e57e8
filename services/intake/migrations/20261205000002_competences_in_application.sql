-- The competences an application is for move into the application's own row, as an array of
-- codes: a table of their own cost every new application three more rows, three more index
-- entries and three foreign-key checks, about a tenth of intake's time on the database under
-- load (issue 16's P1). They are written once, with the application, and never change; the
-- application is checked against its qualification's competences before it is written.
ALTER TABLE applications ADD COLUMN competences text[] NOT NULL DEFAULT '{}';

UPDATE applications a
   SET competences = ARRAY(SELECT c.code FROM application_competences c
                            WHERE c.application_id = a.id ORDER BY c.code)
 WHERE EXISTS (SELECT 1 FROM application_competences c WHERE c.application_id = a.id);

-- Expand, then contract. During a rolling deploy the replicas of the intake before this one
-- still run for a while, and still write their applications' competences into the old table:
-- this trigger copies each into its application's row. Intake no longer reads or writes the
-- table; it goes, with the trigger, in a migration of a later release, once no replica older
-- than this one can run.
CREATE FUNCTION copy_application_competence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE applications
       SET competences = ARRAY(SELECT DISTINCT code
                                 FROM unnest(competences || NEW.code) AS c(code) ORDER BY code)
     WHERE id = NEW.application_id;
    RETURN NULL;
END $$;

CREATE TRIGGER application_competences_copied AFTER INSERT ON application_competences
    FOR EACH ROW EXECUTE FUNCTION copy_application_competence();
