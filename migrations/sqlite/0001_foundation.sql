-- Staff, sessions, access codes and the item bank. Instants are integer milliseconds since
-- the Unix epoch; booleans are 0/1 integers (one code path for SQLite and PostgreSQL).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'proctor', 'rater', 'committee')),
    organisation TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A candidate's single-use key into a sitting. Only its SHA-256 is stored.
CREATE TABLE access_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    used_at INTEGER
);

-- Browser sessions; the cookie holds a random token, the table its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users (id),
    access_code_id INTEGER REFERENCES access_codes (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (access_code_id IS NULL))
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Every version of every vignette and item ever imported. Rows are never deleted; content
-- never changes once imported (the hash guards it); status and levels may change.
CREATE TABLE vignette_versions (
    vignette_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    levels TEXT NOT NULL,
    status TEXT NOT NULL,
    source_path TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (vignette_id, version)
);

CREATE TABLE item_versions (
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    domain TEXT NOT NULL,
    area TEXT NOT NULL,
    levels TEXT NOT NULL,
    status TEXT NOT NULL,
    vignette_id TEXT,
    content TEXT NOT NULL,
    source_path TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, version)
);
CREATE INDEX item_versions_domain ON item_versions (domain, area);

-- bank.toml, taxonomy.toml and blueprints: every distinct text ever imported.
CREATE TABLE bank_documents (
    doc_kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (doc_kind, name, content_hash)
);

-- One row per import that changed something, and what it changed.
CREATE TABLE bank_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    summary TEXT NOT NULL
);

CREATE TABLE bank_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    import_id INTEGER NOT NULL REFERENCES bank_imports (id),
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    change TEXT NOT NULL
);

-- Who did what, for every staff action that matters.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
