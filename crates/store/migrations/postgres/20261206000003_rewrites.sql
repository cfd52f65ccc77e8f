-- "Write this unit again": a generation of kind 'rewrite' per unit (its item is the unit), with the
-- maker's wish for the new text. The unit's own generation stays ready, so readers keep the current
-- text until the new one is stored.
ALTER TABLE generations ADD COLUMN instruction TEXT;
