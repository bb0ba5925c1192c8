-- The response log alone is the record: the current answer per item is the newest save in it
-- (highest sequence number), found through this index, and a save writes one row.
DROP TABLE current_answers;
CREATE INDEX response_events_item ON response_events (attempt_id, item_id, seq);
