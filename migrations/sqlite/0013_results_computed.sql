-- When and by whom the committee last computed and stored a sitting's results (or released
-- them, which computes them too), and what the sitting's activity counts were then (settled
-- responses, submitted and voided parts, registrations, absences: "s,u,v,r,a"). The results
-- page shows stored results; a GET never computes, and it says the stored results are out of
-- date when those counts have moved since.
ALTER TABLE sittings ADD COLUMN results_computed_at BIGINT;
ALTER TABLE sittings ADD COLUMN results_computed_by TEXT;
ALTER TABLE sittings ADD COLUMN results_computed_state TEXT;
