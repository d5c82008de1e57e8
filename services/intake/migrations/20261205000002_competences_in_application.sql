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

DROP TABLE application_competences;
