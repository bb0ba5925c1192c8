-- Candidates' comments on items (issue 17). A comment is an event `@comment:ID` in the response
-- log, saved like an answer; this partial index holds the comment events alone, so the
-- committee's pages find a sitting's comments without reading its answers, and a save that is
-- not a comment writes nothing more than before.
CREATE INDEX response_events_comments ON response_events (attempt_id, n)
    WHERE substr(item_id, 1, 9) = '@comment:';

-- The comments a key change cites: each named by its event (attempt, position in the log).
CREATE TABLE key_change_citations (
    key_change_id BIGINT NOT NULL REFERENCES key_changes (id),
    attempt_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (key_change_id, attempt_id, n),
    FOREIGN KEY (attempt_id, n) REFERENCES response_events (attempt_id, n)
);
