-- Courses as confirmed from their outline, their weeks (modules), units and quizzes; a generation
-- record for every generated item; and the durable job queue. Times are Unix milliseconds.

CREATE TABLE courses (
    id             INTEGER PRIMARY KEY,
    slug           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    outcomes       TEXT    NOT NULL, -- JSON array of strings
    language       TEXT    NOT NULL, -- BCP-47 tag
    audience       TEXT    NOT NULL,
    level          TEXT    NOT NULL,
    weeks          INTEGER NOT NULL,
    units_per_week INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX courses_newest ON courses (created_at DESC, id DESC);

CREATE TABLE modules (
    id        INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    number    INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    overview  TEXT,
    UNIQUE (course_id, number)
);

CREATE TABLE units (
    id         INTEGER PRIMARY KEY,
    course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    module_id  INTEGER NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    position   INTEGER NOT NULL, -- syllabus order within the course, from 1
    title      TEXT    NOT NULL,
    objectives TEXT    NOT NULL, -- JSON array of strings
    body       TEXT,
    UNIQUE (module_id, number),
    UNIQUE (course_id, position)
);

CREATE TABLE quizzes (
    unit_id   INTEGER PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
    questions TEXT NOT NULL -- JSON, lyceum_course::Quiz
);

CREATE TABLE generations (
    id          INTEGER PRIMARY KEY,
    course_id   INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL, -- outline | overview | unit | quiz
    item_id     INTEGER NOT NULL, -- course, module or unit id
    status      TEXT    NOT NULL, -- pending | generating | ready | failed
    engine      TEXT,
    model       TEXT,
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    duration_ms INTEGER,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    UNIQUE (kind, item_id)
);
CREATE INDEX generations_by_course ON generations (course_id, status);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    dedupe_key   TEXT    UNIQUE,
    priority     INTEGER NOT NULL DEFAULT 0,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_by    TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_next ON jobs (priority DESC, id);
