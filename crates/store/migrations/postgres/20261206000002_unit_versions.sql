-- Who wrote a unit's current text (the model, or a person who edited or restored it), and the texts
-- it had before: kept whenever a person edits a unit, restores an earlier text or has it written
-- again, so that any of them can be restored. A unit keeps its id through all of them, and with it
-- every learner's progress and quiz attempts. Times are Unix milliseconds.
ALTER TABLE units ADD COLUMN author TEXT NOT NULL DEFAULT 'model'
    CHECK (author IN ('model', 'person'));
ALTER TABLE units ADD COLUMN author_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE units ADD COLUMN written_at BIGINT;

CREATE TABLE unit_versions (
    id          BIGSERIAL PRIMARY KEY,
    unit_id     BIGINT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    title       TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    author      TEXT   NOT NULL CHECK (author IN ('model', 'person')),
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    written_at  BIGINT,          -- when a person stored it; NULL for the model's first text
    replaced_at BIGINT NOT NULL  -- when a newer text took its place
);
CREATE INDEX unit_versions_by_unit ON unit_versions (unit_id, id);
