-- Courses an operator features: shown first in the catalog and on their own on the home page, the most
-- recently featured first. NULL: not featured. Unix milliseconds.
ALTER TABLE courses ADD COLUMN featured_at INTEGER;
CREATE INDEX courses_featured ON courses (featured_at) WHERE featured_at IS NOT NULL;
