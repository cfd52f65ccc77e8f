//! Search: the store's full-text results merged with search by meaning, by reciprocal rank fusion.
//!
//! Units and courses get vectors from the sentence encoder in the worker (`embed` jobs, queued by the
//! database whenever a text changes). Each process holds the vectors in memory, reads only those
//! stored since it last looked, and compares a query's vector with all of them: an exact scan, a few
//! milliseconds for tens of thousands of units. The encoder is English-first, so only courses in
//! English get vectors; others are found by their words alone. Without the encoder installed, search
//! is full-text only.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lyceum_llm::LlmError;
use lyceum_llm::encoder::{Encoder, similarity};
use lyceum_store::search::{CourseHit, Found, SearchQuery};
use lyceum_store::vectors::{StoredVectors, VectorItem};
use lyceum_store::{Course, StoreError};
use tokio::sync::Mutex;

use crate::Lyceum;

/// How far down each list a result still counts in the fusion: the usual constant of reciprocal
/// rank fusion, which keeps one list's first place from outweighing agreement between both.
const FUSION_K: f32 = 60.0;

/// Closest items by meaning looked at for each query.
const NEAREST: usize = 50;

/// Below this cosine similarity an item is not about the query. Measured with all-MiniLM-L6-v2 on
/// short units: a question in other words scores 0.22 to 0.61 with the unit that answers it, the
/// best unrelated unit 0.08 to 0.18.
const MIN_SIMILARITY: f32 = 0.2;

/// Below this cosine similarity of their title, summary and weeks, two courses are not related:
/// they share little more than being courses.
const RELATED_SIMILARITY: f32 = 0.3;

/// After this long the in-memory vectors are read afresh, not only what is new: on PostgreSQL a
/// vector may commit after a newer one was read.
const FULL_RELOAD: Duration = Duration::from_secs(300);

/// Vectors of one kind held in memory, one after another in one block: a search reads them all in
/// order.
#[derive(Default)]
struct Index {
    /// Each item's row.
    rows: HashMap<i64, usize>,
    /// The item of each row.
    ids: Vec<i64>,
    /// The rows' vectors, `dimensions` floats each.
    vectors: Vec<f32>,
    dimensions: usize,
    seq: i64,
    loaded: Option<Instant>,
}

impl Index {
    fn take(&mut self, stored: StoredVectors) {
        self.seq = stored.seq;
        for (id, vector) in stored.vectors {
            if self.dimensions == 0 {
                self.dimensions = vector.len();
            }
            if vector.len() != self.dimensions || vector.is_empty() {
                tracing::warn!(
                    id,
                    "a stored vector has another length than the rest; left out"
                );
                continue;
            }
            match self.rows.get(&id) {
                Some(&row) => self.vectors[row * self.dimensions..][..self.dimensions]
                    .copy_from_slice(&vector),
                None => {
                    self.rows.insert(id, self.ids.len());
                    self.ids.push(id);
                    self.vectors.extend_from_slice(&vector);
                }
            }
        }
    }

    /// The vector of item `id`, when held.
    fn get(&self, id: i64) -> Option<&[f32]> {
        let row = *self.rows.get(&id)?;
        Some(&self.vectors[row * self.dimensions..][..self.dimensions])
    }

    /// The ids of the `n` items closest to `query`, closest first, none below [`MIN_SIMILARITY`].
    fn nearest(&self, query: &[f32], n: usize) -> Vec<i64> {
        self.nearest_above(query, n, MIN_SIMILARITY)
    }

    /// The ids of the `n` items closest to `query`, closest first, none below `least`.
    fn nearest_above(&self, query: &[f32], n: usize, least: f32) -> Vec<i64> {
        if self.dimensions == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(f32, i64)> = self
            .vectors
            .chunks_exact(self.dimensions)
            .zip(&self.ids)
            .map(|(vector, id)| (similarity(query, vector), *id))
            .filter(|(score, _)| *score >= least)
            .collect();
        let closer = |a: &(f32, i64), b: &(f32, i64)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        // Only the n closest are put in order.
        if scored.len() > n {
            scored.select_nth_unstable_by(n, closer);
            scored.truncate(n);
        }
        scored.sort_unstable_by(closer);
        scored.into_iter().map(|(_, id)| id).collect()
    }
}

/// Search by meaning: the encoder and the vectors this process holds.
pub struct Meaning {
    encoder: Arc<Encoder>,
    units: Mutex<Index>,
    courses: Mutex<Index>,
}

impl Meaning {
    /// Search by meaning with `encoder`.
    pub fn new(encoder: Arc<Encoder>) -> Self {
        Self {
            encoder,
            units: Mutex::default(),
            courses: Mutex::default(),
        }
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

/// Why an item could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Encoder(#[from] LlmError),
}

/// Whether a course in `language` gets vectors: the encoder reads English.
fn embeds(language: &str) -> bool {
    language
        .split('-')
        .next()
        .is_some_and(|primary| primary.eq_ignore_ascii_case("en"))
}

impl Lyceum {
    /// Makes and stores `item`'s vector (an `embed` job). Nothing to do without an encoder, for a
    /// course not in English, or for an item that is gone; an item edited meanwhile is read again.
    pub async fn embed(&self, item: VectorItem) -> Result<(), EmbedError> {
        let Some(meaning) = &self.meaning else {
            return Ok(());
        };
        let encoder = meaning.encoder();
        for _ in 0..3 {
            let Some(source) = self.store.vector_source(item).await? else {
                return Ok(());
            };
            if !embeds(&source.language) {
                return Ok(());
            }
            let vector = encoder
                .embed(vec![source.text.clone()])
                .await?
                .pop()
                .ok_or_else(|| LlmError::Engine("the encoder gave no vector".into()))?;
            if self
                .store
                .put_vector(item, encoder.model(), &vector, &source.text)
                .await?
            {
                return Ok(());
            }
        }
        tracing::warn!(item = %item.key(), "its text kept changing while it was embedded; left for its next edit");
        Ok(())
    }

    /// What `query` finds, best first: full-text matches, and with the encoder installed, items
    /// close in meaning, merged by reciprocal rank fusion.
    pub async fn search(&self, query: &SearchQuery<'_>) -> Result<Found, StoreError> {
        let (text, limit) = (query.text, query.limit);
        let meaning = self
            .meaning
            .as_ref()
            .filter(|_| !lyceum_store::search::terms(text).is_empty() && limit > 0);
        let Some(meaning) = meaning else {
            return self.store.search(query).await;
        };
        // The words are looked up while the encoder reads the query and the vectors are scanned:
        // the database and the encoder each have a core of their own.
        let (words, close) = tokio::join!(
            self.store.search(query),
            self.close_in_meaning(meaning, query)
        );
        let words = words?;
        Ok(match close? {
            Some(close) => fused(words, close, usize::try_from(limit).unwrap_or(0)),
            None => words,
        })
    }

    /// The items closest in meaning to `query` that its viewer may find, closest first; `None` when
    /// the encoder failed (said in the log: the full-text results then stand alone).
    async fn close_in_meaning(
        &self,
        meaning: &Meaning,
        query: &SearchQuery<'_>,
    ) -> Result<Option<Found>, StoreError> {
        let vector = match meaning.encoder().embed(vec![query.text.to_owned()]).await {
            Ok(mut vectors) => vectors.pop().unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "search by meaning failed; answering with full-text results");
                return Ok(None);
            }
        };
        let model = meaning.encoder().model();
        let (units, courses) = {
            let mut units = meaning.units.lock().await;
            self.refresh(&mut units, model, true).await?;
            let mut courses = meaning.courses.lock().await;
            self.refresh(&mut courses, model, false).await?;
            (
                units.nearest(&vector, NEAREST),
                courses.nearest(&vector, NEAREST),
            )
        };
        self.store
            .search_hits(&units, &courses, query.viewer, query.category)
            .await
            .map(Some)
    }

    /// Up to `n` public courses like `course`: the closest by meaning (with the encoder installed and
    /// the course embedded), then others of its subject, newest first.
    pub async fn related_courses(
        &self,
        course: &Course,
        n: usize,
    ) -> Result<Vec<CourseHit>, StoreError> {
        let mut related = Vec::new();
        if let Some(meaning) = &self.meaning {
            let model = meaning.encoder().model();
            let close = {
                let mut courses = meaning.courses.lock().await;
                self.refresh(&mut courses, model, false).await?;
                match courses.get(course.id) {
                    // Its own vector is the closest: one more, and some to spare for courses
                    // nobody else may see.
                    Some(vector) => courses.nearest_above(vector, 2 * n + 1, RELATED_SIMILARITY),
                    None => Vec::new(),
                }
            };
            let close: Vec<i64> = close.into_iter().filter(|id| *id != course.id).collect();
            related = self
                .store
                .search_hits(&[], &close, None, None)
                .await?
                .courses;
            related.truncate(n);
        }
        if let Some(category) = course.category.filter(|_| related.len() < n) {
            let more = self
                .store
                .courses_in_category(category, (2 * n + 1) as i64, 0)
                .await?;
            for summary in more {
                let other = summary.course;
                if related.len() == n {
                    break;
                }
                if other.id != course.id && related.iter().all(|hit| hit.id != other.id) {
                    related.push(CourseHit::of(
                        other.id,
                        &other.slug,
                        &other.title,
                        &other.summary,
                    ));
                }
            }
        }
        Ok(related)
    }

    /// Brings `index` up to date with the store.
    async fn refresh(&self, index: &mut Index, model: &str, units: bool) -> Result<(), StoreError> {
        if index.loaded.is_none_or(|at| at.elapsed() > FULL_RELOAD) {
            *index = Index {
                loaded: Some(Instant::now()),
                ..Index::default()
            };
        }
        let stored = if units {
            self.store.unit_vectors_since(index.seq, model).await?
        } else {
            self.store.course_vectors_since(index.seq, model).await?
        };
        index.take(stored);
        Ok(())
    }
}

/// Both lists merged by reciprocal rank fusion, at most `limit` of each kind. An item found by its
/// words keeps their marked snippet.
fn fused(words: Found, meaning: Found, limit: usize) -> Found {
    Found {
        courses: fuse(words.courses, meaning.courses, |hit| hit.id, limit),
        units: fuse(words.units, meaning.units, |hit| hit.id, limit),
    }
}

fn fuse<T>(first: Vec<T>, second: Vec<T>, id: fn(&T) -> i64, limit: usize) -> Vec<T> {
    let mut scores: HashMap<i64, f32> = HashMap::new();
    for list in [&first, &second] {
        for (rank, hit) in list.iter().enumerate() {
            *scores.entry(id(hit)).or_default() += 1.0 / (FUSION_K + rank as f32 + 1.0);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut merged: Vec<T> = first
        .into_iter()
        .chain(second)
        .filter(|hit| seen.insert(id(hit)))
        .collect();
    // A stable sort: equal scores keep the full-text order first.
    merged.sort_by(|a, b| scores[&id(b)].total_cmp(&scores[&id(a)]));
    merged.truncate(limit);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_puts_what_both_lists_agree_on_first() {
        let words = vec![1, 2, 3];
        let meaning = vec![4, 3, 5];
        let merged = fuse(words, meaning, |id| *id, 10);
        assert_eq!(merged[0], 3, "found by both: {merged:?}");
        assert_eq!(merged.len(), 5, "each item once: {merged:?}");
        assert_eq!(&merged[1..3], [1, 4], "then each list's first: {merged:?}");
        assert_eq!(fuse(vec![1, 2, 3], vec![], |id| *id, 2), [1, 2]);
    }

    #[test]
    fn the_closest_of_many_come_in_order() {
        // Unit vectors at 0.01 radian steps from the query; ids shuffled against angles.
        let mut index = Index::default();
        index.take(StoredVectors {
            vectors: (0..500)
                .map(|i| {
                    let angle = ((i * 7919) % 500) as f32 * 0.01;
                    (i, vec![angle.cos(), angle.sin()])
                })
                .collect(),
            seq: 500,
        });
        let nearest = index.nearest_above(&[1.0, 0.0], 4, -1.0);
        let angles: Vec<i64> = nearest.iter().map(|id| (id * 7919) % 500).collect();
        assert_eq!(angles, [0, 1, 2, 3], "{nearest:?}");
        assert_eq!(index.nearest_above(&[1.0, 0.0], 0, -1.0), Vec::<i64>::new());
        assert_eq!(index.nearest_above(&[1.0, 0.0], 1000, -1.0).len(), 500);
    }

    #[test]
    fn only_close_items_are_found_by_meaning() {
        let mut index = Index::default();
        index.take(StoredVectors {
            vectors: vec![
                (1, vec![1.0, 0.0]),
                (2, vec![0.6, 0.8]),
                (3, vec![0.0, 1.0]),
            ],
            seq: 3,
        });
        assert_eq!(index.nearest(&[1.0, 0.0], 5), [1, 2], "3 is unrelated");
        assert_eq!(index.nearest(&[1.0, 0.0], 1), [1]);
        // A vector read again replaces the old one; one of another length is left out.
        index.take(StoredVectors {
            vectors: vec![(3, vec![0.8, 0.6]), (4, vec![1.0, 0.0, 0.0])],
            seq: 5,
        });
        assert_eq!(index.nearest(&[1.0, 0.0], 5), [1, 3, 2]);
        assert_eq!(index.get(3), Some(&[0.8, 0.6][..]));
        assert_eq!(index.get(4), None);
        assert!(embeds("en") && embeds("en-GB") && !embeds("de") && !embeds("eng"));
    }
}
