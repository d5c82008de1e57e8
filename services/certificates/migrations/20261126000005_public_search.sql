-- The public register is searched by name, qualification, awarding body and register number
-- (prefixes, case-insensitive): expression indexes over the sealed document.
CREATE INDEX certificates_search_family ON certificates (lower(document #>> '{holder,family_name}') text_pattern_ops);
CREATE INDEX certificates_search_given ON certificates (lower(document #>> '{holder,given_name}') text_pattern_ops);
CREATE INDEX certificates_search_qualification ON certificates (lower(document #>> '{qualification,name}') text_pattern_ops);
CREATE INDEX certificates_search_body ON certificates ((document ->> 'awarding_body_id'));
