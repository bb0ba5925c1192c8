-- Who stopped the clock: the proctor ('proctor') or the candidate taking an approved break
-- ('break'); a break is ended by the candidate, a proctor's pause only by a proctor.
ALTER TABLE attempts ADD COLUMN paused_by TEXT;
-- Approved extra breaks used so far (registrations.extra_breaks is how many are allowed).
ALTER TABLE registrations ADD COLUMN breaks_taken BIGINT NOT NULL DEFAULT 0;
