-- A signed-in learner's answers to a unit's quiz, graded on the server. `quiz_version` names the quiz
-- as it was answered (a digest of its questions), so an attempt on a quiz written again since stays,
-- marked as taken on an earlier version. Times are Unix milliseconds.
CREATE TABLE quiz_attempts (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id      INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    quiz_version TEXT   NOT NULL,
    answers      TEXT   NOT NULL, -- JSON: the option chosen for each question, in order
    score        INTEGER NOT NULL, -- questions answered right
    total        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX quiz_attempts_by_learner ON quiz_attempts (user_id, unit_id);
