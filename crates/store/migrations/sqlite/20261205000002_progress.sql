-- A learner's courses and units. Starting a course enrols in it; a unit is done when the learner
-- marks it or passes its quiz. Times are Unix milliseconds.
CREATE TABLE enrolments (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id      INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    started_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL, -- the last unit opened, marked or quizzed
    PRIMARY KEY (user_id, course_id)
);
CREATE INDEX enrolments_by_course ON enrolments (course_id);

CREATE TABLE units_done (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    how     TEXT   NOT NULL, -- marked | quiz
    done_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, unit_id)
);
CREATE INDEX units_done_by_unit ON units_done (unit_id);
