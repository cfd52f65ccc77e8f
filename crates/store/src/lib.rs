//! Persistence for Lyceum: one [`Store`] API over SQLite (the default, a single file) and PostgreSQL (for
//! many nodes), with migrations per backend.
//!
//! It owns courses and their parts ([`courses`]), outlines being drafted ([`drafts`]), the generation
//! record of every generated item ([`generations`]), the durable job queue ([`jobs`]) and the feed of
//! changes that live pages follow on any node ([`feed`]). Operations that must not be half done — a course
//! with its pending jobs, a saved unit with its quiz job and its finished job — are one transaction. It
//! knows nothing about engines or prompts, and never decides what to generate.
//!
//! Both backends run the same SQL wherever the dialects agree (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`); the job claim is the one place they differ. On SQLite every transaction starts with a
//! write, so it takes the write lock at once and waits (`busy_timeout`) instead of failing when another
//! connection writes first.

pub mod accounts;
pub mod chats;
pub mod courses;
pub mod drafts;
pub mod feed;
pub mod generations;
pub mod jobs;
pub mod learning;
pub mod mail;
pub mod passkeys;
pub mod search;
pub mod vectors;
pub mod versions;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use accounts::{ApiToken, NewSession, NewUser, Session, User};
pub use chats::{ChatMessage, ChatRole, NewChatMessage, Sent};
pub use courses::{
    Course, CourseSummary, Maker, Module, NewCourse, SitemapEntry, Unit, Visibility,
};
pub use drafts::{Draft, DraftRefused, DraftStatus, NewDraft};
pub use feed::{Change, Changes};
pub use generations::{Generation, GenerationStats, ItemKind, Output, Status};
pub use jobs::{Job, NewJob, Task};
pub use learning::{Attempt, Done, DoneHow, Enrolment, LearnerCourse, NewAttempt};
pub use mail::{
    Delivery, DeliveryKind, DeliveryState, NewSubscription, OutboxEntry, Outcome, Subscribed,
    Subscription, SubscriptionState, SubscriptionUpdate,
};
pub use passkeys::{Ceremony, NewPasskey, Passkey};
pub use versions::{Author, Authorship, UnitVersion};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database URL is not one Lyceum can use (the URL as given, password redacted).
    #[error("unsupported database URL \"{0}\": use sqlite://PATH or postgres://USER@HOST/DB")]
    InvalidUrl(String),
    /// The thing is not in a state that allows this (a draft confirmed while still drafting).
    #[error("{0}")]
    Conflict(String),
    /// A stored value cannot be read back (written by a newer version, or edited by hand).
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// Migrating the schema failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database refused or could not be reached.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound("row".into()),
            other => Self::Database(other),
        }
    }
}

/// A handle to the database; cheap to clone, shared by every task.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    feed: std::sync::Arc<feed::Feed>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever pool the store has: the SQL is shared, the types are each
/// backend's own.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects to `sqlite://PATH` (created if missing, WAL) or `postgres://…` and brings the schema up
    /// to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::InvalidUrl(redact_url(url)))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            Backend::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(8)
                    // Each connection keeps its own cache of database pages (up to 2 MiB): close
                    // those a burst opened once it is over. Opening one again takes a millisecond.
                    .idle_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?,
            )
        } else {
            return Err(StoreError::InvalidUrl(redact_url(url)));
        };
        Ok(Self {
            backend,
            feed: std::sync::Arc::default(),
        })
    }

    /// Applies the migrations this version has and the database lacks.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers and has every migration this version knows, for `/readyz`: an
    /// error when it cannot be reached, else the migrations it lacks (none when current).
    pub async fn readiness(&self) -> Result<Vec<i64>, StoreError> {
        let (migrator, applied): (&sqlx::migrate::Migrator, Vec<i64>) = match &self.backend {
            Backend::Sqlite(pool) => (
                &SQLITE_MIGRATIONS,
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
            Backend::Postgres(pool) => (
                &POSTGRES_MIGRATIONS,
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?,
            ),
        };
        Ok(migrator
            .iter()
            .map(|migration| migration.version)
            .filter(|version| !applied.contains(version))
            .collect())
    }

    /// Whether other processes may share this database (PostgreSQL): what one process writes must
    /// then be shared through it, not through memory.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Brings the statistics the query planner reads up to date, as a server's autovacuum does once
    /// enough rows changed: after a bulk load, plans made without them can be a thousand times slower
    /// (a nested loop over every matching unit for each course). On PostgreSQL it vacuums too, as
    /// autovacuum does after many inserts, so an index alone can answer (the languages present, which
    /// search reads first: 2 ms over 1,000 courses from the table, 0.4 ms from the index).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let statement = match &self.backend {
            Backend::Sqlite(_) => "PRAGMA optimize",
            Backend::Postgres(_) => "VACUUM (ANALYZE)",
        };
        with_pool!(self, pool => sqlx::query(statement).execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.feed.stop().await;
        with_pool!(self, pool => pool.close().await)
    }
}

/// A database URL fit for logs and messages: the password in its user part and any password-like query
/// parameter (`?password=`, `sslpassword=`) replaced by `[redacted]`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (address, query) = match rest.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (rest, None),
    };
    let address = match address.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:[redacted]@{host}"),
            None => address.to_owned(),
        },
        None => address.to_owned(),
    };
    let mut redacted = if scheme.is_empty() {
        address
    } else {
        format!("{scheme}://{address}")
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("pass") => {
                    format!("{key}=[redacted]")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serialising plain strings and derived structs cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{what}: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_a_url() {
        assert_eq!(
            redact_url("postgres://lyceum:s3cret@db.internal:5432/lyceum"),
            "postgres://lyceum:[redacted]@db.internal:5432/lyceum"
        );
        assert_eq!(
            redact_url("postgres://lyceum@db/lyceum?password=s3cret&sslmode=require&sslpassword=x"),
            "postgres://lyceum@db/lyceum?password=[redacted]&sslmode=require&sslpassword=[redacted]"
        );
        assert_eq!(
            redact_url("sqlite://data/lyceum.db"),
            "sqlite://data/lyceum.db"
        );
        assert_eq!(
            redact_url("mysql://u:p@h/d?PASSWORD=p"),
            "mysql://u:[redacted]@h/d?PASSWORD=[redacted]"
        );
    }

    #[tokio::test]
    async fn an_unusable_url_is_reported_without_its_password() {
        let Err(error) = Store::connect("mysql://u:s3cret@h/d?password=s3cret").await else {
            panic!("a MySQL URL was accepted");
        };
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(error.to_string().contains("[redacted]"), "{error}");
    }
}
