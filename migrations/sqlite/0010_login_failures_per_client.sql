-- Failed sign-ins are counted per client (and per client and account), no longer per account
-- alone, so nobody can lock another person out. The account is kept only as the SHA-256 of
-- the username, so a password typed into the username box is never stored as typed. Rows
-- older than the window are deleted as new failures come in.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client TEXT NOT NULL,
    account TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_client ON login_failures (client, at);
CREATE INDEX login_failures_at ON login_failures (at);
