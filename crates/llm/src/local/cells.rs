//! Which cells of the engine's one KV cache each sequence holds.
//!
//! The local engine keeps every sequence's keys and values in one cache of a fixed number of cells
//! (llama.cpp's unified cache). A sequence holds one cell per position it has decoded; a sequence
//! that starts with another's prefix (the course's system message, a unit before its quiz) is given
//! the other's cells for it rather than decoding it again, so a cell may be held by many sequences and
//! is free again only when none holds it. llama.cpp does the same bookkeeping inside, but does not
//! say how full the cache is; this mirror of it does, so the engine admits a request only when its
//! whole prompt and answer are sure to fit.

use std::collections::HashMap;

/// One decoded position, named for as long as some sequence holds it.
type Cell = u64;

#[derive(Debug)]
pub(super) struct Cells {
    capacity: usize,
    /// The cells of each sequence, by position.
    held: Vec<Vec<Cell>>,
    /// How many sequences hold each cell in use.
    holders: HashMap<Cell, u32>,
    next: Cell,
    /// The most cells in use at once.
    peak: usize,
}

impl Cells {
    pub(super) fn new(capacity: usize, sequences: usize) -> Self {
        Self {
            capacity,
            held: vec![Vec::new(); sequences],
            holders: HashMap::new(),
            next: 0,
            peak: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Cells some sequence holds.
    pub(super) fn used(&self) -> usize {
        self.holders.len()
    }

    pub(super) fn peak(&self) -> usize {
        self.peak
    }

    /// Positions sequence `seq` holds.
    pub(super) fn len(&self, seq: usize) -> usize {
        self.held[seq].len()
    }

    /// Cells that only `seq` holds: what emptying it would free.
    pub(super) fn own(&self, seq: usize) -> usize {
        self.held[seq]
            .iter()
            .filter(|cell| self.holders.get(cell) == Some(&1))
            .count()
    }

    /// `seq` decodes `count` more positions into new cells.
    pub(super) fn push(&mut self, seq: usize, count: usize) {
        for _ in 0..count {
            let cell = self.next;
            self.next += 1;
            self.holders.insert(cell, 1);
            self.held[seq].push(cell);
        }
        self.peak = self.peak.max(self.used());
    }

    /// `seq` lets go of its positions from `len` on.
    pub(super) fn truncate(&mut self, seq: usize, len: usize) {
        if len >= self.held[seq].len() {
            return;
        }
        for cell in self.held[seq].drain(len..) {
            if let Some(count) = self.holders.get_mut(&cell) {
                *count -= 1;
                if *count == 0 {
                    self.holders.remove(&cell);
                }
            }
        }
    }

    /// Empty sequence `to` takes the first `len` positions of `from`, sharing their cells.
    pub(super) fn share(&mut self, from: usize, to: usize, len: usize) {
        debug_assert!(
            self.held[to].is_empty(),
            "a sequence shares into an empty one"
        );
        let shared: Vec<Cell> = self.held[from].iter().take(len).copied().collect();
        for cell in &shared {
            *self.holders.entry(*cell).or_insert(0) += 1;
        }
        self.held[to] = shared;
    }
}

#[cfg(test)]
mod tests {
    use super::Cells;

    #[test]
    fn a_shared_prefix_is_counted_once_and_freed_by_its_last_holder() {
        let mut cells = Cells::new(100, 3);
        cells.push(0, 10);
        cells.share(0, 1, 6);
        cells.push(1, 4);
        assert_eq!(cells.used(), 14, "the six shared cells count once");
        assert_eq!((cells.own(0), cells.own(1)), (4, 4));

        cells.truncate(0, 0);
        assert_eq!(cells.used(), 10, "sequence 1 still holds the shared six");
        assert_eq!(cells.own(1), 10);

        cells.share(1, 2, 8);
        cells.truncate(1, 3);
        assert_eq!(
            cells.used(),
            8,
            "sequence 2 holds 8; 1's first 3 are among them"
        );
        cells.truncate(2, 0);
        assert_eq!(cells.used(), 3);
        cells.truncate(1, 0);
        assert_eq!(cells.used(), 0);
        assert_eq!(cells.peak(), 14);
    }

    #[test]
    fn truncating_past_the_end_changes_nothing() {
        let mut cells = Cells::new(10, 1);
        cells.push(0, 3);
        cells.truncate(0, 5);
        assert_eq!((cells.len(0), cells.used()), (3, 3));
    }
}
