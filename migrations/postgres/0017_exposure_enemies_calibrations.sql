-- How many Part One forms, in every sitting, carried each item or vignette: kept as a count as
-- forms are drawn, so the committee's item page reads one small table instead of counting
-- every form of every sitting (0.35 s at 3,000 candidates, growing with every sitting).
CREATE TABLE item_exposure (
    object_id TEXT PRIMARY KEY,
    forms BIGINT NOT NULL
);

INSERT INTO item_exposure (object_id, forms)
SELECT f.object_id, COUNT(*) FROM form_items f JOIN attempts a ON a.id = f.attempt_id
WHERE a.part = 1 GROUP BY f.object_id;

-- By construction: every form item written anywhere is counted in the same transaction.
-- A start writes its form's items in id order, so concurrent starts take these rows' locks in
-- one order and cannot deadlock.
CREATE FUNCTION count_item_exposure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT part FROM attempts WHERE id = NEW.attempt_id) = 1 THEN
        INSERT INTO item_exposure (object_id, forms) VALUES (NEW.object_id, 1)
        ON CONFLICT (object_id) DO UPDATE SET forms = item_exposure.forms + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER form_items_exposure AFTER INSERT ON form_items
FOR EACH ROW EXECUTE FUNCTION count_item_exposure();

-- Where each attempt stands, in an index that covers the committee pages' questions of a sitting
-- (which parts are submitted or voided): on SQLite these columns lie behind the form's
-- overflow pages, and reading them from the table took 0.1 s for 20,000 attempts.
CREATE INDEX attempts_state ON attempts (registration_id, part, submitted_at, voided_at);

-- Enemy items (two items testing the same point): never on one form. Pairs in canonical order,
-- lower id first, as the bank declares them at its latest import (not part of any item's
-- content: declaring an enemy does not make a new version).
CREATE TABLE item_enemies (
    item_a TEXT NOT NULL,
    item_b TEXT NOT NULL,
    PRIMARY KEY (item_a, item_b),
    CHECK (item_a < item_b)
);

-- A sitting's Rasch calibration of its Part One, per item version: the committee's explicit
-- action, stored whole each time (linked onto the earlier calibrations' scale, see
-- stats::rasch::link). Difficulty and fit are NULL for an item left out (excluded says why).
CREATE TABLE calibrations (
    sitting_id BIGINT NOT NULL REFERENCES sittings (id),
    item_id TEXT NOT NULL,
    item_version BIGINT NOT NULL,
    difficulty DOUBLE PRECISION,
    se DOUBLE PRECISION,
    infit DOUBLE PRECISION,
    outfit DOUBLE PRECISION,
    infit_z DOUBLE PRECISION,
    outfit_z DOUBLE PRECISION,
    presented BIGINT NOT NULL,
    correct BIGINT NOT NULL,
    excluded TEXT,
    -- The item's earlier linked difficulty (the newest calibration of another sitting), and
    -- whether it moved past the drift threshold since.
    earlier DOUBLE PRECISION,
    drifted BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    computed_by TEXT NOT NULL,
    PRIMARY KEY (sitting_id, item_id, item_version)
);
