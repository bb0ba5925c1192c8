-- Failed staff sign-ins, per username: after too many in a short time the account waits,
-- across every server process.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
