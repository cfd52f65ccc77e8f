-- Whose drafts and courses: a draft started while signed in belongs to that account, and so does the
-- course made from it (courses.owner_id). The drafts of an account go with it; its courses stay, under
-- "a former learner", or go, as the person chooses.
ALTER TABLE drafts ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX drafts_by_user ON drafts (user_id, created_at) WHERE user_id IS NOT NULL;

-- 1: made by an account since deleted, whose owner chose to leave it published.
ALTER TABLE courses ADD COLUMN former_owner BIGINT NOT NULL DEFAULT 0;
-- Set: an admin hid it (Unix ms); it is shown to nobody and listed nowhere until shown again.
ALTER TABLE courses ADD COLUMN hidden_at BIGINT;
