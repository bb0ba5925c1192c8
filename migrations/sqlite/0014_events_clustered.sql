-- The response log, clustered by attempt: a WITHOUT ROWID table keyed on (attempt_id, n) keeps
-- one attempt's events together on a few pages, and a save writes the table and two indexes
-- instead of a rowid table and three indexes (its primary key was an index of its own).
CREATE TABLE response_events_clustered (
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
) WITHOUT ROWID;
INSERT INTO response_events_clustered (attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash)
    SELECT attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash FROM response_events;
DROP TABLE response_events;
ALTER TABLE response_events_clustered RENAME TO response_events;
-- The current answer per item: the highest sequence number of the item in the attempt.
CREATE INDEX response_events_item ON response_events (attempt_id, item_id, seq);
