-- Equated Part One results (issue 11): beside the raw score, where the pool was calibrated when
-- the result was computed, the candidate's ability through their own form's test characteristic
-- curve (theta, logits) and the expected percent correct on the blueprint's whole operational
-- pool (equated_percent); decided_by says which percent the pass mark applied to ('raw' or
-- 'equated'; NULL for Part Two, which is never equated).
ALTER TABLE results ADD COLUMN theta DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN equated_percent DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN decided_by TEXT;

-- The committee's decisions on which Part One score a sitting's pass mark applies to, with
-- their reasons; the newest per sitting applies, else each blueprint's `pass_on`.
CREATE TABLE pass_on_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    pass_on TEXT NOT NULL CHECK (pass_on IN ('raw', 'equated')),
    reason TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX pass_on_changes_sitting ON pass_on_changes (sitting_id, id);

-- A sitting's one Part One form per blueprint (`[part_one] forms = "one"`): drawn by the first
-- start and kept, so every candidate, and a restarted server, gets the same form.
CREATE TABLE sitting_forms (
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    blueprint_id TEXT NOT NULL,
    seed INTEGER NOT NULL,
    form TEXT NOT NULL,
    drawn_at INTEGER NOT NULL,
    PRIMARY KEY (sitting_id, blueprint_id)
);
