-- What `bank lint` found in each imported bank (issue 15), for the committee's bank page: the
-- report as JSON (summary line, warnings per rule, every warning as path:line: rule: message).
CREATE TABLE bank_lints (
    id BIGSERIAL PRIMARY KEY,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    source TEXT NOT NULL,
    report TEXT NOT NULL
);
