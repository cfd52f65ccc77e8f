-- People: an account per email address, signed in with a password (argon2id, the PHC string) or,
-- later, a passkey. Times are Unix milliseconds.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE, -- trimmed and lowercased
    display_name  TEXT    NOT NULL,
    password_hash TEXT,                    -- NULL: no password set
    is_admin      INTEGER NOT NULL DEFAULT 0, -- 1: may feature, hide or delete any course
    disabled_at   INTEGER,                    -- set: may not sign in; its sessions and tokens are gone
    created_at    INTEGER NOT NULL
);

-- Signed-in browsers. The cookie carries a random secret; only its SHA-256 is stored, so a copy of
-- the database signs nobody in. A session ends at expires_at (absolute) or when unused for the idle
-- time the application sets, whichever comes first.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    secret_hash  TEXT    NOT NULL UNIQUE,  -- hex SHA-256 of the cookie's secret
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,         -- put in every form of the session's pages
    user_agent   TEXT    NOT NULL,         -- shortened, to tell sessions apart on the account page
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Bearer tokens for the API, shown once when made; only their SHA-256 is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,  -- hex SHA-256 of the token
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Who made a course, while signed in. NULL: made anonymously, or by an account since deleted.
ALTER TABLE courses ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX courses_by_owner ON courses (owner_id) WHERE owner_id IS NOT NULL;
