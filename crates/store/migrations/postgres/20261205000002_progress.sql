-- A learner's courses and units. Starting a course enrols in it; a unit is done when the learner
-- marks it or passes its quiz. Times are Unix milliseconds.
CREATE TABLE enrolments (
    user_id        BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id      BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    started_at     BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL, -- the last unit opened, marked or quizzed
    PRIMARY KEY (user_id, course_id)
);
CREATE INDEX enrolments_by_course ON enrolments (course_id);

CREATE TABLE units_done (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    how     TEXT   NOT NULL, -- marked | quiz
    done_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, unit_id)
);
CREATE INDEX units_done_by_unit ON units_done (unit_id);
