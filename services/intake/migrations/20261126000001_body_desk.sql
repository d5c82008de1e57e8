-- An awarding body's desk address: where its staff are e-mailed (the daily digest of overdue
-- assessment clocks). Optional; set by the authority or the body's administrators.
ALTER TABLE awarding_bodies ADD COLUMN email text;
