-- Part Two's raters held to a standard (issue 12).
--
-- Qualifying sets: responses with expert scores the committee chooses for a sitting, in set 1,
-- 2, ...; a rater scores a set before any live response of the sitting reaches them.
ALTER TABLE responses ADD COLUMN qualifying_set INTEGER;
CREATE INDEX responses_qualifying ON responses (sitting_id, qualifying_set);

-- Every qualifying attempt, kept: a rater's agreement with the experts on one set, and whether
-- it met the standard of the sitting's blueprints.
CREATE TABLE qualification_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    rater_id INTEGER NOT NULL REFERENCES users (id),
    set_no INTEGER NOT NULL,
    scored INTEGER NOT NULL,
    exact INTEGER NOT NULL,
    adjacent INTEGER NOT NULL,
    passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
    at INTEGER NOT NULL,
    UNIQUE (sitting_id, rater_id, set_no)
);

-- Read-behinds: the committee reads a rater's final reading, sees their score, and confirms it
-- or overrides it with a reason. An override takes the reading's place in resolution.
CREATE TABLE read_behinds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments (id),
    rater_score INTEGER NOT NULL,
    score INTEGER NOT NULL,
    overridden INTEGER NOT NULL CHECK (overridden IN (0, 1)),
    reason TEXT NOT NULL,
    read_by TEXT NOT NULL,
    at INTEGER NOT NULL
);

-- A closer look near the cut: when set, the response is read once more (its third reading)
-- because its candidate's Part Two total lay within the blueprint's margin of the pass mark.
ALTER TABLE responses ADD COLUMN near_cut_at INTEGER;
