-- A row the health check rewrites, so /healthz proves the write path, not only a read.
CREATE TABLE health_probe (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL
);
INSERT INTO health_probe (id, at) VALUES (1, 0);

-- One final reading per assignment, kept by the schema: concurrent submits of a final used to
-- store several. Any duplicates stored before this rule are kept as drafts (the first final
-- stands, as the check meant).
UPDATE ratings SET final = 0
 WHERE final = 1
   AND id > (SELECT MIN(r.id) FROM ratings r WHERE r.assignment_id = ratings.assignment_id AND r.final = 1);
CREATE UNIQUE INDEX ratings_one_final ON ratings (assignment_id) WHERE final = 1;

-- The receipt the candidate was last given: the chain's head and its length after the newest
-- acknowledged save (or the submission). audit verify compares the chain with it, so a chain
-- cut short is reported, not taken as intact.
ALTER TABLE attempts ADD COLUMN receipt_hash TEXT;
ALTER TABLE attempts ADD COLUMN receipt_len BIGINT;
