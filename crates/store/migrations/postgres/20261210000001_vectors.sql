-- Sentence-encoder vectors of units and courses, for search by meaning and related courses: unit
-- length, little-endian f32s, from the encoder `model` names. A change to what a vector was made from
-- deletes it and queues the job that makes it again (kind `embed`), so every way of writing (a
-- generation, an edit, a rewrite, a restored version, a new week title) keeps them right. `seq` grows
-- with every vector stored, so a process holding vectors in memory reads only what is new.

CREATE SEQUENCE vector_seq;

CREATE TABLE unit_vectors (
    unit_id BIGINT PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
    model   TEXT   NOT NULL,
    vector  BYTEA  NOT NULL,
    seq     BIGINT NOT NULL
);
CREATE INDEX unit_vectors_seq ON unit_vectors (seq);

CREATE TABLE course_vectors (
    course_id BIGINT PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
    model     TEXT   NOT NULL,
    vector    BYTEA  NOT NULL,
    seq       BIGINT NOT NULL
);
CREATE INDEX course_vectors_seq ON course_vectors (seq);

-- Queued due at once (run_at 0, whatever the worker's clock) behind all other work (priority -1:
-- full-text search finds a new unit at once, meaning may wait), once per item however often it changes.
CREATE FUNCTION lyceum_queue_embed(item TEXT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at)
    VALUES ('embed', item, 'embed:' || item, -1, 0, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT)
    ON CONFLICT (dedupe_key) DO NOTHING
$$;

CREATE FUNCTION lyceum_unit_vectors_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM unit_vectors WHERE unit_id = NEW.id;
    END IF;
    IF NEW.body IS NOT NULL THEN
        PERFORM lyceum_queue_embed('unit:' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER unit_vectors AFTER INSERT OR UPDATE OF title, body ON units
    FOR EACH ROW EXECUTE FUNCTION lyceum_unit_vectors_trigger();

CREATE FUNCTION lyceum_course_stale(course BIGINT) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM course_vectors WHERE course_id = course;
    SELECT lyceum_queue_embed('course:' || course);
$$;

CREATE FUNCTION lyceum_course_vectors_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lyceum_course_stale(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER course_vectors AFTER INSERT OR UPDATE OF title, summary ON courses
    FOR EACH ROW EXECUTE FUNCTION lyceum_course_vectors_trigger();

-- A week's title belongs to its course's vector.
CREATE FUNCTION lyceum_course_vectors_module_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lyceum_course_stale(NEW.course_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER course_vectors_module AFTER INSERT OR UPDATE OF title ON modules
    FOR EACH ROW EXECUTE FUNCTION lyceum_course_vectors_module_trigger();

-- What was written before this migration.
SELECT lyceum_queue_embed('unit:' || id) FROM units WHERE body IS NOT NULL;
SELECT lyceum_queue_embed('course:' || id) FROM courses;
