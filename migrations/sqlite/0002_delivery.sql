-- Exam delivery: sittings, registrations, attempts (one per part), the response log.

CREATE TABLE sittings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    place TEXT NOT NULL,
    opens_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL,
    -- Comma-separated blueprint ids offered (a candidate's level picks one).
    blueprints TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE registrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    access_code_id INTEGER NOT NULL UNIQUE REFERENCES access_codes (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    organisation TEXT NOT NULL,
    level TEXT NOT NULL,
    blueprint_id TEXT NOT NULL,
    sits_part_one INTEGER NOT NULL,
    sits_part_two INTEGER NOT NULL,
    multiplier_permille INTEGER NOT NULL DEFAULT 1000,
    extra_breaks INTEGER NOT NULL DEFAULT 0,
    retake_override TEXT,
    admitted_at INTEGER,
    admitted_by TEXT,
    -- The one browser session that holds this registration (SHA-256 of its token).
    active_session TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (sitting_id, email)
);
CREATE INDEX registrations_email ON registrations (email);

-- One timed part of a registration. The clock's numbers are kept as they are, so the deadline
-- is always recomputed from them: start + section x multiplier + added + paused.
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    part INTEGER NOT NULL CHECK (part IN (1, 2)),
    seed INTEGER NOT NULL,
    form TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    section_ms INTEGER NOT NULL,
    multiplier_permille INTEGER NOT NULL,
    added_ms INTEGER NOT NULL DEFAULT 0,
    paused_ms INTEGER NOT NULL DEFAULT 0,
    paused_since INTEGER,
    chain_head TEXT NOT NULL,
    chain_len INTEGER NOT NULL DEFAULT 0,
    last_save_at INTEGER,
    submitted_at INTEGER,
    submitted_by TEXT,
    voided_at INTEGER,
    void_reason TEXT,
    UNIQUE (registration_id, part)
);

-- Items and vignettes each attempt's form carries: exposure counts and "seen before".
CREATE TABLE form_items (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    object_id TEXT NOT NULL,
    PRIMARY KEY (attempt_id, object_id)
);
CREATE INDEX form_items_object ON form_items (object_id);

-- The append-only response log, one hash chain per attempt.
CREATE TABLE response_events (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    n INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (attempt_id, n),
    UNIQUE (attempt_id, seq)
);

-- The current answer per item, derived from the log (the highest sequence number wins).
CREATE TABLE current_answers (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    item_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (attempt_id, item_id)
);

-- What the browser reports (leaving the tab, copy, paste) and what proctors log.
CREATE TABLE sitting_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    registration_id INTEGER REFERENCES registrations (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT
);
CREATE INDEX sitting_events_sitting ON sitting_events (sitting_id, registration_id);
