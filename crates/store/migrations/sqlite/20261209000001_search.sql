-- Full-text search over courses (title; summary and week titles) and units (title; text), in FTS5
-- tables kept current by triggers, so that every way of writing (a generation, an edit, a rewrite, a
-- restored version, a deletion) keeps them right. Porter stemming over Unicode words, accents folded:
-- "networks" finds "network"; stemming is English's, other languages match word for word.

CREATE VIRTUAL TABLE course_search USING fts5(
    title, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- Units' text lives once, in `units`: the index reads it from there.
CREATE VIRTUAL TABLE unit_search USING fts5(
    title, body,
    content = 'units', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- What a course's entry says: its title; its summary and its weeks' titles.
CREATE VIEW course_documents AS
SELECT c.id, c.title,
       c.summary || ' ' ||
       COALESCE((SELECT group_concat(m.title, ' ') FROM modules m WHERE m.course_id = c.id), '') AS body
FROM courses c;

CREATE TRIGGER course_search_insert AFTER INSERT ON courses BEGIN
    INSERT INTO course_search (rowid, title, body) VALUES (new.id, new.title, new.summary);
END;
CREATE TRIGGER course_search_update AFTER UPDATE OF title, summary ON courses BEGIN
    DELETE FROM course_search WHERE rowid = old.id;
    INSERT INTO course_search (rowid, title, body)
    SELECT id, title, body FROM course_documents WHERE id = new.id;
END;
CREATE TRIGGER course_search_delete AFTER DELETE ON courses BEGIN
    DELETE FROM course_search WHERE rowid = old.id;
END;

-- A week's title belongs to its course's entry; the course may be gone already (a cascade).
CREATE TRIGGER course_search_module_insert AFTER INSERT ON modules BEGIN
    DELETE FROM course_search WHERE rowid = new.course_id;
    INSERT INTO course_search (rowid, title, body)
    SELECT id, title, body FROM course_documents WHERE id = new.course_id;
END;
CREATE TRIGGER course_search_module_update AFTER UPDATE OF title ON modules BEGIN
    DELETE FROM course_search WHERE rowid = new.course_id;
    INSERT INTO course_search (rowid, title, body)
    SELECT id, title, body FROM course_documents WHERE id = new.course_id;
END;
CREATE TRIGGER course_search_module_delete AFTER DELETE ON modules BEGIN
    DELETE FROM course_search WHERE rowid = old.course_id;
    INSERT INTO course_search (rowid, title, body)
    SELECT id, title, body FROM course_documents WHERE id = old.course_id;
END;

-- An external-content index is told the old values to forget and the new ones to learn.
CREATE TRIGGER unit_search_insert AFTER INSERT ON units BEGIN
    INSERT INTO unit_search (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER unit_search_update AFTER UPDATE OF title, body ON units BEGIN
    INSERT INTO unit_search (unit_search, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO unit_search (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER unit_search_delete AFTER DELETE ON units BEGIN
    INSERT INTO unit_search (unit_search, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;

-- What was written before this migration.
INSERT INTO course_search (rowid, title, body) SELECT id, title, body FROM course_documents;
INSERT INTO unit_search (unit_search) VALUES ('rebuild');
