-- The committee's adopted pass marks (issue 14): a standard-setting study's cut, adopted with a
-- reason, becomes a blueprint part's pass mark. The newest row per (blueprint_id, part) applies
-- wherever blueprints are read (`store::bank::blueprints`), in hundredths of a percent (6750 =
-- 67.5%), so a cut that is not a whole percent is applied exactly. `previous_hundredths` is the
-- mark it replaced; `study_id` the study it came from (NULL: adopted without one; no foreign key,
-- as the studies table belongs to migration 0021).
CREATE TABLE pass_mark_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    blueprint_id TEXT NOT NULL,
    part INTEGER NOT NULL CHECK (part IN (1, 2)),
    hundredths INTEGER NOT NULL CHECK (hundredths BETWEEN 1 AND 10000),
    previous_hundredths INTEGER NOT NULL,
    reason TEXT NOT NULL,
    study_id INTEGER,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX pass_mark_changes_blueprint ON pass_mark_changes (blueprint_id, part, id);

-- What each adoption did to each sitting of its blueprint: 'redecided' (the sitting's stored
-- results were re-decided on the adopted mark: at adoption for a sitting not released, or later
-- by the committee's decision for a released one) or 'kept' (a released sitting left as
-- released). A released sitting without a row for a change still awaits the committee.
CREATE TABLE pass_mark_sittings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES pass_mark_changes (id),
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    decision TEXT NOT NULL CHECK (decision IN ('redecided', 'kept')),
    redecided INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    UNIQUE (change_id, sitting_id)
);
