-- Search asks for the languages present before every query (each is searched with its own
-- text-search configuration); an index answers that without reading the courses' rows.
CREATE INDEX courses_language ON courses (language);
