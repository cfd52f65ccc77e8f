//! Sentence-encoder vectors of units and courses (see the `vectors` migrations): what each is made
//! from, storing one unless its source changed meanwhile, and reading those stored since a point, so
//! a process can hold them in memory and compare a query with all of them at once.

use crate::{Backend, Store, StoreError, with_pool};

/// What a vector belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VectorItem {
    /// A unit, by id.
    Unit(i64),
    /// A course, by id.
    Course(i64),
}

impl VectorItem {
    /// `unit:ID` or `course:ID`, as the `embed` jobs carry it.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "unit" => Some(Self::Unit(id)),
            "course" => Some(Self::Course(id)),
            _ => None,
        }
    }

    /// The form [`VectorItem::parse`] reads.
    pub fn key(self) -> String {
        match self {
            Self::Unit(id) => format!("unit:{id}"),
            Self::Course(id) => format!("course:{id}"),
        }
    }
}

/// The text a vector is made from, and the language it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorSource {
    /// A unit's title and text; a course's title, summary and weeks' titles.
    pub text: String,
    /// Its course's BCP-47 tag.
    pub language: String,
}

/// Vectors stored after some point, and the point to read from next time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredVectors {
    /// Each item's id and vector.
    pub vectors: Vec<(i64, Vec<f32>)>,
    /// The newest of them (or the point read from, when there were none).
    pub seq: i64,
}

/// A vector as stored: little-endian f32s.
fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

fn from_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect()
}

const UNIT_SOURCE: &str = "SELECT u.title, u.body, c.language \
     FROM units u JOIN courses c ON c.id = u.course_id WHERE u.id = $1 AND u.body IS NOT NULL";

/// A course's title, summary, weeks' titles in order (joined by each backend) and language.
fn course_source(backend: &Backend) -> String {
    let weeks = match backend {
        Backend::Sqlite(_) => {
            "(SELECT group_concat(title, '; ') FROM \
             (SELECT m.title FROM modules m WHERE m.course_id = c.id ORDER BY m.number))"
        }
        Backend::Postgres(_) => {
            "(SELECT string_agg(m.title, '; ' ORDER BY m.number) FROM modules m \
             WHERE m.course_id = c.id)"
        }
    };
    format!(
        "SELECT c.title || '. ' || c.summary, COALESCE({weeks}, ''), c.language FROM courses c WHERE c.id = $1"
    )
}

/// [`Store::vector_source`] on one connection of either backend (a transaction's, to compare within
/// it): a macro, as `with_pool!` is, so each backend's code is its own.
macro_rules! source {
    ($backend:expr, $executor:expr, $item:expr) => {{
        let found: Option<VectorSource> = match $item {
            VectorItem::Unit(id) => {
                let row: Option<(String, Option<String>, String)> = sqlx::query_as(UNIT_SOURCE)
                    .bind(id)
                    .fetch_optional($executor)
                    .await?;
                row.and_then(|(title, body, language)| {
                    body.map(|body| VectorSource {
                        text: format!("{title}\n\n{body}"),
                        language,
                    })
                })
            }
            VectorItem::Course(id) => {
                let sql = course_source($backend);
                let row: Option<(String, String, String)> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional($executor)
                    .await?;
                row.map(|(about, weeks, language)| VectorSource {
                    text: if weeks.is_empty() {
                        about
                    } else {
                        format!("{about} Weeks: {weeks}.")
                    },
                    language,
                })
            }
        };
        found
    }};
}

impl Store {
    /// What `item`'s vector is made from; `None` when the item is gone, or a unit has no text yet.
    pub async fn vector_source(
        &self,
        item: VectorItem,
    ) -> Result<Option<VectorSource>, StoreError> {
        Ok(with_pool!(self, pool => {
            source!(&self.backend, pool, item)
        }))
    }

    /// Stores `item`'s `vector`, made by `model` from `source`, unless its source is no longer that
    /// text (it was edited while the vector was made): then nothing is stored and it says `false`.
    pub async fn put_vector(
        &self,
        item: VectorItem,
        model: &str,
        vector: &[f32],
        source: &str,
    ) -> Result<bool, StoreError> {
        let (table, column, id) = match item {
            VectorItem::Unit(id) => ("unit_vectors", "unit_id", id),
            VectorItem::Course(id) => ("course_vectors", "course_id", id),
        };
        let next = match &self.backend {
            Backend::Sqlite(_) => "UPDATE vector_seq SET value = value + 1 RETURNING value",
            Backend::Postgres(_) => "SELECT nextval('vector_seq')",
        };
        let upsert = format!(
            "INSERT INTO {table} ({column}, model, vector, seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ({column}) DO UPDATE SET model = excluded.model, \
             vector = excluded.vector, seq = excluded.seq"
        );
        let bytes = to_bytes(vector);
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let current = source!(&self.backend, &mut *tx, item);
            if current.is_none_or(|current| current.text != source) {
                false
            } else {
                let seq: i64 = sqlx::query_scalar(next).fetch_one(&mut *tx).await?;
                sqlx::query(&upsert)
                    .bind(id)
                    .bind(model)
                    .bind(&bytes)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                true
            }
        }))
    }

    /// The unit vectors of `model` stored after `seq`, oldest first.
    pub async fn unit_vectors_since(
        &self,
        seq: i64,
        model: &str,
    ) -> Result<StoredVectors, StoreError> {
        self.vectors_since("unit_vectors", "unit_id", seq, model)
            .await
    }

    /// The course vectors of `model` stored after `seq`, oldest first.
    pub async fn course_vectors_since(
        &self,
        seq: i64,
        model: &str,
    ) -> Result<StoredVectors, StoreError> {
        self.vectors_since("course_vectors", "course_id", seq, model)
            .await
    }

    async fn vectors_since(
        &self,
        table: &str,
        column: &str,
        seq: i64,
        model: &str,
    ) -> Result<StoredVectors, StoreError> {
        let sql = format!(
            "SELECT {column}, vector, seq FROM {table} WHERE seq > $1 AND model = $2 ORDER BY seq"
        );
        let rows: Vec<(i64, Vec<u8>, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(seq).bind(model).fetch_all(pool).await?
        });
        let newest = rows.last().map_or(seq, |row| row.2);
        Ok(StoredVectors {
            vectors: rows
                .into_iter()
                .map(|(id, bytes, _)| (id, from_bytes(&bytes)))
                .collect(),
            seq: newest,
        })
    }

    /// Forgets every vector and queues every unit with text and every course to be embedded again
    /// (`lyceum search reindex`, or after the encoder changed); returns how many items were queued.
    pub async fn queue_reindex(&self) -> Result<u64, StoreError> {
        let now = crate::now_ms();
        let queue = "INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at) \
             SELECT 'embed', item, 'embed:' || item, -1, 0, $1 FROM ( \
                 SELECT 'unit:' || id AS item FROM units WHERE body IS NOT NULL \
                 UNION ALL SELECT 'course:' || id FROM courses) items \
             WHERE true ON CONFLICT (dedupe_key) DO NOTHING";
        let queued = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM unit_vectors").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM course_vectors").execute(&mut *tx).await?;
            let done = sqlx::query(queue).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            done.rows_affected()
        });
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_vectors_read_back_as_written() {
        for item in [VectorItem::Unit(7), VectorItem::Course(12)] {
            assert_eq!(VectorItem::parse(&item.key()), Some(item));
        }
        assert_eq!(VectorItem::parse("unit:x"), None);
        assert_eq!(VectorItem::parse("week:1"), None);
        let vector = [0.5, -1.25, 3.0e-7];
        assert_eq!(from_bytes(&to_bytes(&vector)), vector);
    }
}
