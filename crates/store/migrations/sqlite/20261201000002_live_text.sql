-- The text so far of an item being written, shared every few hundred milliseconds by the worker that
-- writes it, so that watchers on other nodes see it grow. NULL when nobody writes it (SQLite, one
-- process, shares through memory instead).
ALTER TABLE generations ADD COLUMN live_text TEXT;
