-- Full-text search over courses (title; summary and week titles) and units (title; text): a
-- `tsvector` column on each, built with the text-search configuration of the course's language
-- (`simple` where PostgreSQL has none), indexed with GIN and kept current by triggers, so that every
-- way of writing (a generation, an edit, a rewrite, a restored version, a deletion) keeps it right.

-- The configuration for a BCP-47 tag: its language's where this server has one, else `simple`.
CREATE FUNCTION lyceum_search_config(tag TEXT) RETURNS regconfig
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT cfg.oid::regconfig FROM pg_ts_config cfg
        WHERE cfg.cfgnamespace = 'pg_catalog'::regnamespace AND cfg.cfgname = CASE split_part(lower(tag), '-', 1)
        WHEN 'ar' THEN 'arabic'     WHEN 'hy' THEN 'armenian'   WHEN 'eu' THEN 'basque'
        WHEN 'ca' THEN 'catalan'    WHEN 'da' THEN 'danish'     WHEN 'nl' THEN 'dutch'
        WHEN 'en' THEN 'english'    WHEN 'fi' THEN 'finnish'    WHEN 'fr' THEN 'french'
        WHEN 'de' THEN 'german'     WHEN 'el' THEN 'greek'      WHEN 'hi' THEN 'hindi'
        WHEN 'hu' THEN 'hungarian'  WHEN 'id' THEN 'indonesian' WHEN 'ga' THEN 'irish'
        WHEN 'it' THEN 'italian'    WHEN 'lt' THEN 'lithuanian' WHEN 'ne' THEN 'nepali'
        WHEN 'no' THEN 'norwegian'  WHEN 'nb' THEN 'norwegian'  WHEN 'nn' THEN 'norwegian'
        WHEN 'pt' THEN 'portuguese' WHEN 'ro' THEN 'romanian'   WHEN 'ru' THEN 'russian'
        WHEN 'sr' THEN 'serbian'    WHEN 'es' THEN 'spanish'    WHEN 'sv' THEN 'swedish'
        WHEN 'ta' THEN 'tamil'      WHEN 'tr' THEN 'turkish'    WHEN 'yi' THEN 'yiddish'
    END), 'simple'::regconfig)
$$;

ALTER TABLE courses ADD COLUMN search tsvector;
ALTER TABLE units ADD COLUMN search tsvector;

-- A course's entry: its title weighs most, then its summary and its weeks' titles.
CREATE FUNCTION lyceum_course_search(course courses) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector(lyceum_search_config(course.language), course.title), 'A')
        || setweight(to_tsvector(lyceum_search_config(course.language),
               course.summary || ' ' ||
               COALESCE((SELECT string_agg(m.title, ' ') FROM modules m WHERE m.course_id = course.id), '')),
           'B')
$$;

CREATE FUNCTION lyceum_course_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := lyceum_course_search(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER course_search BEFORE INSERT OR UPDATE OF title, summary ON courses
    FOR EACH ROW EXECUTE FUNCTION lyceum_course_search_trigger();

-- A week's title belongs to its course's entry.
CREATE FUNCTION lyceum_course_search_module_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    course_id BIGINT := CASE WHEN TG_OP = 'DELETE' THEN OLD.course_id ELSE NEW.course_id END;
BEGIN
    UPDATE courses c SET search = lyceum_course_search(c) WHERE c.id = course_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER course_search_module AFTER INSERT OR UPDATE OF title OR DELETE ON modules
    FOR EACH ROW EXECUTE FUNCTION lyceum_course_search_module_trigger();

-- A unit's entry: its title weighs most, then its text, in its course's language.
CREATE FUNCTION lyceum_unit_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    config regconfig := (SELECT lyceum_search_config(c.language) FROM courses c WHERE c.id = NEW.course_id);
BEGIN
    NEW.search := setweight(to_tsvector(config, NEW.title), 'A')
        || setweight(to_tsvector(config, COALESCE(NEW.body, '')), 'B');
    RETURN NEW;
END
$$;
CREATE TRIGGER unit_search BEFORE INSERT OR UPDATE OF title, body ON units
    FOR EACH ROW EXECUTE FUNCTION lyceum_unit_search_trigger();

-- What was written before this migration.
UPDATE courses c SET search = lyceum_course_search(c);
UPDATE units SET title = title;

CREATE INDEX courses_search ON courses USING GIN (search);
CREATE INDEX units_search ON units USING GIN (search);
