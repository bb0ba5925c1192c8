-- When the candidate's browser was last heard from (a page, the clock, an event): the proctor's 'connection'.
ALTER TABLE registrations ADD COLUMN last_seen_at INTEGER;
