-- Each course's subject: the two digits of a CIP 2020 family (see lyceum_course::CATEGORIES), chosen
-- by the model with the outline and changed by the course's maker. NULL for a course made before
-- categories, until `lyceum courses categorize` gives it one.
ALTER TABLE courses ADD COLUMN category TEXT;
CREATE INDEX courses_by_category ON courses (category, created_at DESC) WHERE category IS NOT NULL;
