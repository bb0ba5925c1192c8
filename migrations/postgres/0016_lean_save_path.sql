-- A save writes as little as it can (issue 10). The receipt each candidate was last given moves
-- out of the attempts row, which holds the whole form, into a small table of its own; the
-- response log's (attempt_id, item_id, seq) index goes, as the writer answers "the item's newest
-- save" from the attempt's fold in memory (store::attempts::current). The (attempt_id, seq)
-- uniqueness stays here as a second guard; on SQLite it was dropped to save a page per save.
CREATE TABLE attempt_receipts (
    attempt_id BIGINT PRIMARY KEY REFERENCES attempts (id),
    receipt_hash TEXT NOT NULL,
    receipt_len BIGINT NOT NULL
);
INSERT INTO attempt_receipts (attempt_id, receipt_hash, receipt_len)
    SELECT id, receipt_hash, receipt_len FROM attempts
    WHERE receipt_hash IS NOT NULL AND receipt_len IS NOT NULL;
ALTER TABLE attempts DROP COLUMN receipt_hash;
ALTER TABLE attempts DROP COLUMN receipt_len;
DROP INDEX IF EXISTS response_events_item;
