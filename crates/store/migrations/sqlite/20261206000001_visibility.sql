-- Who may see a course, as its maker chooses: public (listed in the catalog and the sitemap),
-- unlisted (anyone with the link; search engines are asked not to index it) or private (its maker
-- and admins only; a 404 to everyone else, everywhere).
ALTER TABLE courses ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
    CHECK (visibility IN ('public', 'unlisted', 'private'));
