-- Optional, self-reported answers about the candidate, given with consent, for fairness (DIF)
-- analyses only. Kept apart from the exam: no page for proctors or raters reads this table.
CREATE TABLE demographics (
    registration_id BIGINT PRIMARY KEY REFERENCES registrations (id),
    consent_at BIGINT NOT NULL,
    answers TEXT NOT NULL
);
