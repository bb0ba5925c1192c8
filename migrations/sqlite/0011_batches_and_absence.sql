-- Registration batches: a CSV upload or one form's registration, registered whole in one
-- transaction. Their access codes are kept in clear in batch_codes only until the registering
-- staff member marks them handed out or the sitting closes; the codes themselves are stored
-- only as SHA-256 (access_codes), as before.
CREATE TABLE registration_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id INTEGER NOT NULL REFERENCES sittings (id),
    candidates INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- When the clear codes were deleted, and by whom ('system' when the sitting closed).
    codes_cleared_at INTEGER,
    codes_cleared_by TEXT
);
CREATE INDEX registration_batches_sitting ON registration_batches (sitting_id);

CREATE TABLE batch_codes (
    registration_id INTEGER PRIMARY KEY REFERENCES registrations (id),
    batch_id INTEGER NOT NULL REFERENCES registration_batches (id),
    code TEXT NOT NULL
);
CREATE INDEX batch_codes_batch ON batch_codes (batch_id);

ALTER TABLE registrations ADD COLUMN batch_id INTEGER REFERENCES registration_batches (id);
-- A candidate who never came: marked by the proctor, or by the sitting's close for anyone never
-- admitted. Their parts are not taken (not failed) and start no retake waiting period.
ALTER TABLE registrations ADD COLUMN absent_at INTEGER;
ALTER TABLE registrations ADD COLUMN absent_by TEXT;
-- When the sitting's close was processed (absences marked, clear codes deleted): once.
ALTER TABLE sittings ADD COLUMN closed_at INTEGER;
