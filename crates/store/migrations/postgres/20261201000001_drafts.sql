-- Outlines being drafted for people before they confirm them: a worker drafts each one (a job), and
-- any web node shows, follows and confirms it. The id is a random capability that only its author's
-- browser knows. Kept a day from its start. Times are Unix milliseconds.
CREATE TABLE drafts (
    id             TEXT    PRIMARY KEY,
    owner          TEXT    NOT NULL, -- who asked (a client address), for the drafts-at-once limit
    description    TEXT    NOT NULL, -- the request as typed, as in courses
    weeks          BIGINT NOT NULL,
    units_per_week BIGINT NOT NULL,
    language       TEXT    NOT NULL,
    level          TEXT    NOT NULL,
    audience       TEXT    NOT NULL,
    status         TEXT    NOT NULL, -- drafting | ready | failed | confirmed
    so_far         TEXT    NOT NULL, -- JSON, lyceum_course::OutlineSoFar
    outline        TEXT,             -- JSON, lyceum_course::Outline, once drafted
    engine         TEXT,
    model          TEXT,
    tokens_in      BIGINT,
    tokens_out     BIGINT,
    duration_ms    BIGINT,
    error          TEXT,             -- why drafting failed, for the person
    course_id      BIGINT REFERENCES courses (id) ON DELETE SET NULL, -- once confirmed
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX drafts_by_owner ON drafts (owner, status);
CREATE INDEX drafts_by_age ON drafts (created_at);
