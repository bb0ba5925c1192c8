-- Optional, self-reported answers about the candidate, given with consent, for fairness (DIF)
-- analyses only. Kept apart from the exam: no page for proctors or raters reads this table.
CREATE TABLE demographics (
    registration_id INTEGER PRIMARY KEY REFERENCES registrations (id),
    consent_at INTEGER NOT NULL,
    answers TEXT NOT NULL
);
