-- A learner's conversation with the tutor of one unit, message by message. `kind` says what a message
-- is (a question the learner typed, a button they pressed, a test question, a grade…) and `data`
-- holds the structured part of the tutor's answers as JSON (a grade's verdict, an exercise's solution,
-- reading suggestions). Times are Unix milliseconds.
CREATE TABLE chat_messages (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id  INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    unit_id    INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('learner', 'tutor')),
    kind       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    data       TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX chat_messages_by_unit ON chat_messages (user_id, unit_id, id);
CREATE INDEX chat_messages_by_course ON chat_messages (user_id, course_id);
CREATE INDEX chat_messages_by_time ON chat_messages (user_id, created_at);

-- When each learner last asked the tutor for a reply (a message, a button, a retry): the hourly limit
-- counts these, so clearing a conversation does not reset it. Rows older than an hour are pruned.
CREATE TABLE tutor_requests (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX tutor_requests_by_learner ON tutor_requests (user_id, created_at);
