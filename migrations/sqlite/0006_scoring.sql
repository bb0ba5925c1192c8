-- Rater scoring, results and key review.

-- Open responses, anonymous: a rater knows a response only by its random code. A validity
-- response (seeded by the committee, with an expert score) has no attempt.
CREATE TABLE responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    attempt_id INTEGER REFERENCES attempts (id),
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    vignette_id TEXT NOT NULL,
    vignette_version INTEGER NOT NULL,
    body TEXT NOT NULL,
    expert_score INTEGER,
    -- Set when the readings settle it by the blueprint's rules (a blank response settles at 0).
    final_score DOUBLE PRECISION,
    settled_at INTEGER,
    -- The committee's edit of the feedback the candidate will read, if any.
    feedback_override TEXT,
    feedback_edited_by TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (attempt_id, item_id)
);
CREATE INDEX responses_sitting ON responses (sitting_id);

-- People a rater must not read, by email: declared by the rater or the committee.
CREATE TABLE rater_conflicts (
    rater_id INTEGER NOT NULL REFERENCES users (id),
    email TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    declared_at INTEGER NOT NULL,
    PRIMARY KEY (rater_id, email)
);

-- Who reads what: readings 1 and 2 are blind, 3 is the adjudication. A withdrawn assignment
-- (a rater who dropped out) keeps its row and its ratings.
CREATE TABLE assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id INTEGER NOT NULL REFERENCES responses (id),
    rater_id INTEGER NOT NULL REFERENCES users (id),
    reading INTEGER NOT NULL CHECK (reading IN (1, 2, 3)),
    assigned_at INTEGER NOT NULL,
    assigned_by TEXT NOT NULL,
    withdrawn_at INTEGER,
    withdrawn_by TEXT,
    UNIQUE (response_id, rater_id)
);
CREATE INDEX assignments_rater ON assignments (rater_id);

-- Every draft and every final score as given; an assignment's newest row is its state.
CREATE TABLE ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id),
    score INTEGER,
    note TEXT NOT NULL,
    feedback TEXT NOT NULL,
    final INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX ratings_assignment ON ratings (assignment_id, id);

-- Results per registration and part, as last computed.
CREATE TABLE results (
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    part INTEGER NOT NULL CHECK (part IN (1, 2)),
    points DOUBLE PRECISION NOT NULL,
    max_points DOUBLE PRECISION NOT NULL,
    passed INTEGER NOT NULL,
    detail TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (registration_id, part)
);
ALTER TABLE sittings ADD COLUMN results_released_at INTEGER;
ALTER TABLE sittings ADD COLUMN results_released_by TEXT;

-- The committee's key decisions after item review; the newest per item version applies.
CREATE TABLE key_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX key_changes_item ON key_changes (item_id, item_version);
