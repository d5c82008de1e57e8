-- The facts a new application is checked against never change once written: a round's awarding
-- body, qualification, accepted file types, fees and delivery options; its qualification's
-- competences and whether it may be applied for through prior learning (VÕTA). Intake's group
-- commit keeps them in memory rather than reading them for every batch (src/http/creations.rs).
-- Only a round's closing changes, once: the statement writing the applications checks that
-- itself, holding the round.
--
-- These triggers make that a rule of the database, not only of today's code: a change to one
-- of those facts, or a fee, delivery option or competence added after its round or
-- qualification was created (in a later transaction), is refused. Whoever needs such a change
-- must first teach intake's cache to notice it. What the checks do not use may change: a fee's
-- amount, a delivery option's cost, a competence's name.

CREATE FUNCTION refuse_changed_application_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on %: the facts applications are checked against do not change once written (intake keeps them in memory)',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

-- A fee, delivery option or competence may only be added in the transaction that created its
-- round or qualification (their created_at is that transaction's now()).
CREATE FUNCTION refuse_late_application_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    created timestamptz;
BEGIN
    IF TG_TABLE_NAME = 'competences' THEN
        SELECT created_at INTO created FROM qualifications WHERE id = NEW.qualification_id;
    ELSE
        SELECT created_at INTO created FROM rounds WHERE id = NEW.round_id;
    END IF;
    IF created IS DISTINCT FROM now() THEN
        RAISE EXCEPTION 'INSERT on %: added after its round or qualification was created; the facts applications are checked against do not change once written (intake keeps them in memory)',
            TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER round_fees_fixed BEFORE UPDATE ON round_fees
    FOR EACH ROW
    WHEN (OLD.round_id IS DISTINCT FROM NEW.round_id OR OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER round_fees_kept BEFORE DELETE ON round_fees
    FOR EACH ROW EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER round_fees_with_round BEFORE INSERT ON round_fees
    FOR EACH ROW EXECUTE FUNCTION refuse_late_application_facts();

CREATE TRIGGER round_delivery_options_fixed BEFORE UPDATE ON round_delivery_options
    FOR EACH ROW
    WHEN (OLD.round_id IS DISTINCT FROM NEW.round_id OR OLD.option IS DISTINCT FROM NEW.option)
    EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER round_delivery_options_kept BEFORE DELETE ON round_delivery_options
    FOR EACH ROW EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER round_delivery_options_with_round BEFORE INSERT ON round_delivery_options
    FOR EACH ROW EXECUTE FUNCTION refuse_late_application_facts();

CREATE TRIGGER competences_fixed BEFORE UPDATE ON competences
    FOR EACH ROW
    WHEN (OLD.qualification_id IS DISTINCT FROM NEW.qualification_id
          OR OLD.code IS DISTINCT FROM NEW.code)
    EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER competences_kept BEFORE DELETE ON competences
    FOR EACH ROW EXECUTE FUNCTION refuse_changed_application_facts();
CREATE TRIGGER competences_with_qualification BEFORE INSERT ON competences
    FOR EACH ROW EXECUTE FUNCTION refuse_late_application_facts();

CREATE TRIGGER qualifications_facts_fixed BEFORE UPDATE ON qualifications
    FOR EACH ROW
    WHEN (OLD.prior_learning_allowed IS DISTINCT FROM NEW.prior_learning_allowed)
    EXECUTE FUNCTION refuse_changed_application_facts();

-- A round closes once and for good; its deadline, documents and published extras may change.
CREATE TRIGGER rounds_facts_fixed BEFORE UPDATE ON rounds
    FOR EACH ROW
    WHEN (OLD.awarding_body_id IS DISTINCT FROM NEW.awarding_body_id
          OR OLD.qualification_id IS DISTINCT FROM NEW.qualification_id
          OR OLD.allowed_types IS DISTINCT FROM NEW.allowed_types
          OR (OLD.closed_at IS NOT NULL AND NEW.closed_at IS DISTINCT FROM OLD.closed_at))
    EXECUTE FUNCTION refuse_changed_application_facts();
