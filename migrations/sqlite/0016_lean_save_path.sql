-- A save writes as few pages as it can (issue 10: 26-30 KiB were written per save).
--
-- 1. The receipt each candidate was last given moves out of the attempts row, which holds the
--    whole form and spans pages, into a small table of its own: a batch of saves now rewrites
--    a few receipt pages instead of every saving attempt's row.
CREATE TABLE attempt_receipts (
    attempt_id INTEGER PRIMARY KEY REFERENCES attempts (id),
    receipt_hash TEXT NOT NULL,
    receipt_len INTEGER NOT NULL
);
INSERT INTO attempt_receipts (attempt_id, receipt_hash, receipt_len)
    SELECT id, receipt_hash, receipt_len FROM attempts
    WHERE receipt_hash IS NOT NULL AND receipt_len IS NOT NULL;
ALTER TABLE attempts DROP COLUMN receipt_hash;
ALTER TABLE attempts DROP COLUMN receipt_len;

-- 2. The response log keeps only its clustered key (attempt_id, n). Its two other indexes,
--    (attempt_id, seq) for telling a retry and (attempt_id, item_id, seq) for the current
--    answer, each cost a page per save; the writer now answers both from the attempt's fold
--    in memory (store::attempts::current), read from the chain in key order when needed.
CREATE TABLE response_events_lean (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id),
    n INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (attempt_id, n)
) WITHOUT ROWID;
INSERT INTO response_events_lean (attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash)
    SELECT attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash FROM response_events;
DROP TABLE response_events;
ALTER TABLE response_events_lean RENAME TO response_events;
