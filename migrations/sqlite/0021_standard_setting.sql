-- Standard-setting studies (issue 14): a panel of subject-matter experts rates a blueprint's
-- items (modified Angoff or yes/no) over rounds, and gives Hofstee bounds, so the committee
-- can set a pass mark. Ratings, Hofstee bounds and item views are append-only: a panelist's
-- current rating in a round is their newest row.
--
-- The new staff role `panelist` needs the users table's CHECK widened, which SQLite can only do
-- by rebuilding the table, with foreign keys off (other tables refer to users (id)). Foreign keys
-- cannot be switched off inside a transaction, and sqlx runs every SQLite migration in one, so
-- the rebuild is done right after the migrations by `store::studies::admit_panelists`.

CREATE TABLE studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    blueprint_id TEXT NOT NULL,
    -- 1: Part One items rated as probabilities; 2: Part Two questions rated in expected points.
    part INTEGER NOT NULL CHECK (part IN (1, 2)),
    method TEXT NOT NULL CHECK (method IN ('angoff', 'yesno')),
    -- The sitting whose data gives p-values or mean scores and the impact of a cut.
    sitting_id INTEGER REFERENCES sittings (id),
    -- Where the items came from: 'pool' (the blueprint's operational pool), 'form' (the items
    -- of one candidate's form: source_registration) or 'questions' (Part Two).
    items_source TEXT NOT NULL CHECK (items_source IN ('pool', 'form', 'questions')),
    source_registration INTEGER REFERENCES registrations (id),
    -- The minimally competent candidate, as the panel describes them.
    mcc TEXT NOT NULL DEFAULT '',
    rounds_planned INTEGER NOT NULL DEFAULT 2 CHECK (rounds_planned >= 1),
    -- 0 before the first round opens.
    round INTEGER NOT NULL DEFAULT 0,
    round_open INTEGER NOT NULL DEFAULT 0 CHECK (round_open IN (0, 1)),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE TABLE study_items (
    study_id INTEGER NOT NULL REFERENCES studies (id),
    position INTEGER NOT NULL CHECK (position >= 1),
    item_id TEXT NOT NULL,
    item_version INTEGER NOT NULL,
    max_points INTEGER NOT NULL CHECK (max_points >= 1),
    PRIMARY KEY (study_id, position)
);

CREATE TABLE study_panel (
    study_id INTEGER NOT NULL REFERENCES studies (id),
    username TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (study_id, username)
);
CREATE INDEX study_panel_username ON study_panel (username);

CREATE TABLE study_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    round INTEGER NOT NULL CHECK (round >= 1),
    panelist TEXT NOT NULL,
    position INTEGER NOT NULL,
    value REAL NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX study_ratings_round ON study_ratings (study_id, round, panelist, position, id);

CREATE TABLE study_hofstee (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    round INTEGER NOT NULL CHECK (round >= 1),
    panelist TEXT NOT NULL,
    -- Percent correct.
    cut_min REAL NOT NULL,
    cut_max REAL NOT NULL,
    -- Percent of candidates.
    fail_min REAL NOT NULL,
    fail_max REAL NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX study_hofstee_round ON study_hofstee (study_id, round, panelist, id);

CREATE TABLE study_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    round INTEGER NOT NULL,
    panelist TEXT NOT NULL,
    position INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX study_views_study ON study_views (study_id, panelist);

