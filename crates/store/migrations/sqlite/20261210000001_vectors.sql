-- Sentence-encoder vectors of units and courses, for search by meaning and related courses: unit
-- length, little-endian f32s, from the encoder `model` names. A change to what a vector was made from
-- deletes it and queues the job that makes it again (kind `embed`), so every way of writing (a
-- generation, an edit, a rewrite, a restored version, a new week title) keeps them right. `seq` grows
-- with every vector stored, so a process holding vectors in memory reads only what is new.

CREATE TABLE unit_vectors (
    unit_id INTEGER PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
    model   TEXT    NOT NULL,
    vector  BLOB    NOT NULL,
    seq     INTEGER NOT NULL
);
CREATE INDEX unit_vectors_seq ON unit_vectors (seq);

CREATE TABLE course_vectors (
    course_id INTEGER PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
    model     TEXT    NOT NULL,
    vector    BLOB    NOT NULL,
    seq       INTEGER NOT NULL
);
CREATE INDEX course_vectors_seq ON course_vectors (seq);

-- One counter for both tables.
CREATE TABLE vector_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT INTO vector_seq (id, value) VALUES (1, 0);

-- Queued due at once (run_at 0, whatever the worker's clock) behind all other work (priority -1:
-- full-text search finds a new unit at once, meaning may wait), once per item however often it changes.
CREATE TRIGGER unit_vectors_insert AFTER INSERT ON units WHEN new.body IS NOT NULL BEGIN
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', 'unit:' || new.id, 'embed:unit:' || new.id, -1, 0,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER unit_vectors_stale AFTER UPDATE OF title, body ON units BEGIN
    DELETE FROM unit_vectors WHERE unit_id = new.id;
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    SELECT 'embed', 'unit:' || new.id, 'embed:unit:' || new.id, -1, 0,
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
    WHERE new.body IS NOT NULL;
END;

CREATE TRIGGER course_vectors_insert AFTER INSERT ON courses BEGIN
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', 'course:' || new.id, 'embed:course:' || new.id, -1, 0,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER course_vectors_stale AFTER UPDATE OF title, summary ON courses BEGIN
    DELETE FROM course_vectors WHERE course_id = new.id;
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', 'course:' || new.id, 'embed:course:' || new.id, -1, 0,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER course_vectors_module_insert AFTER INSERT ON modules BEGIN
    DELETE FROM course_vectors WHERE course_id = new.course_id;
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', 'course:' || new.course_id, 'embed:course:' || new.course_id, -1, 0,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
CREATE TRIGGER course_vectors_module_update AFTER UPDATE OF title ON modules BEGIN
    DELETE FROM course_vectors WHERE course_id = new.course_id;
    INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', 'course:' || new.course_id, 'embed:course:' || new.course_id, -1, 0,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

-- What was written before this migration.
INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
SELECT 'embed', 'unit:' || id, 'embed:unit:' || id, -1, 0,
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM units WHERE body IS NOT NULL;
INSERT OR IGNORE INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
SELECT 'embed', 'course:' || id, 'embed:course:' || id, -1, 0,
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM courses;
