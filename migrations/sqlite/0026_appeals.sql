-- Appeals (issue 17): after release, within the blueprint's window, a candidate asks for a part
-- to be re-scored with a reason. One appeal per registration and part. Its state moves from
-- 'open' (requested) to 'rescoring' (Part One recounted, or Part Two's re-readings assigned)
-- to 'decided' (the committee's decision with its reasons; a changed result is stored and
-- reaches this candidate alone).
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    part INTEGER NOT NULL CHECK (part IN (1, 2)),
    reason TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    -- The window's end when it was requested (release + the blueprint's window_days).
    deadline_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'rescoring', 'decided')),
    -- The result appealed, as stored when the appeal was made.
    before_points DOUBLE PRECISION NOT NULL,
    before_passed INTEGER NOT NULL CHECK (before_passed IN (0, 1)),
    -- Part Two: the blueprint's rule when the re-score started.
    part_two_rule TEXT,
    started_by TEXT,
    started_at INTEGER,
    -- The result after the re-score, once known (Part One's recount at once).
    after_points DOUBLE PRECISION,
    after_passed INTEGER CHECK (after_passed IN (0, 1)),
    upheld INTEGER CHECK (upheld IN (0, 1)),
    decision TEXT,
    decided_by TEXT,
    decided_at INTEGER,
    UNIQUE (registration_id, part)
);
CREATE INDEX appeals_state ON appeals (state, id);

-- A Part Two re-reading is an assignment like any other (so the rater's desk shows it as any
-- reading, blind), marked with its appeal: resolution, agreement, read-behinds and the
-- candidate's feedback read only the readings without one.
ALTER TABLE assignments ADD COLUMN appeal_id INTEGER REFERENCES appeals (id);
CREATE INDEX assignments_appeal ON assignments (appeal_id);

-- A decided Part Two appeal's score of each response before and after, kept beside the
-- responses' new settled scores.
CREATE TABLE appeal_scores (
    appeal_id INTEGER NOT NULL REFERENCES appeals (id),
    response_id INTEGER NOT NULL REFERENCES responses (id),
    before_score DOUBLE PRECISION NOT NULL,
    after_score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (appeal_id, response_id)
);
