-- The mail Lyceum sends. Times are Unix milliseconds.

-- A course's units by email, one at a time at the learner's pace, to a signed-in learner's account
-- address or to an address given on the page and confirmed through a link first (double opt-in): the
-- link is signed over the request's expiry, so asking again makes the earlier link useless.
CREATE TABLE subscriptions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id    BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id      BIGINT  REFERENCES users (id) ON DELETE CASCADE, -- NULL: an address given signed out
    email        TEXT    NOT NULL,           -- as Address::parse keeps it (domain lowercased)
    pace_days    BIGINT  NOT NULL,           -- 1, 2 or 7
    hour         BIGINT  NOT NULL,           -- 0 to 23, in time_zone
    time_zone    TEXT    NOT NULL,           -- an IANA name
    place        BIGINT  NOT NULL DEFAULT 0, -- the syllabus position of the last unit sent
    state        TEXT    NOT NULL,           -- unconfirmed, active, paused, finished or stopped
    next_at      BIGINT,                    -- when the next unit is due, while active
    expires_at   BIGINT,                    -- an unconfirmed request lapses then
    bounces      BIGINT  NOT NULL DEFAULT 0, -- messages refused for good in a row
    stopped_why  TEXT,                       -- why the drip stopped (a click, the server's words)
    created_at   BIGINT  NOT NULL,
    UNIQUE (course_id, email)
);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id) WHERE user_id IS NOT NULL;

-- Every message Lyceum means to send, before it is sent: the row is the proof of what went out. Its
-- key says what it is (`unit-7-42`: subscription 7, unit 42) and is unique, so no message is queued
-- twice; a worker marks it `sending` before it talks to the server and `sent` after, and a row found
-- still `sending` (its worker died in between) is never sent again: it becomes `unknown`.
CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,           -- confirm, unit, finished, ready, verify or reset
    subscription_id BIGINT  REFERENCES subscriptions (id) ON DELETE CASCADE,
    user_id         BIGINT REFERENCES users (id) ON DELETE CASCADE,   -- account mail: whose
    course_id       BIGINT REFERENCES courses (id) ON DELETE CASCADE, -- "your course is ready": which
    unit_id         BIGINT  REFERENCES units (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL,           -- queued, sending, sent, failed, unknown or cancelled
    attempts        BIGINT  NOT NULL DEFAULT 0,
    reply           TEXT,                       -- the server's words, or why it was not sent
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id);
CREATE INDEX deliveries_by_time ON deliveries (created_at);

-- Keys this site makes for itself once and shares between its nodes: the one that signs the links in
-- its mail, so a link works on any node and keeps working after a restart.
CREATE TABLE site_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Accounts: when their address was confirmed through the link mailed to it, and whether they want an
-- email when a course they made is written.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN ready_mail BIGINT NOT NULL DEFAULT 1;
