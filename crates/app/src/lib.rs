//! Lyceum's use cases, and the wiring between them.
//!
//! This crate reads the typed [`Settings`], installs and finds models, builds the configured engine and
//! store, and runs the use cases on them: drafting an outline that any node can follow ([`drafts`]),
//! making and writing a course ([`courses`]), the background [`worker`] that runs every job, live text
//! for watchers ([`live`]) and exports ([`export`]). Front ends (`lyceum-cli`, `lyceum-web`) call into
//! it; it never parses command lines or renders pages.

pub mod accounts;
pub mod catalog;
pub mod clock;
pub mod courses;
pub mod dates;
pub mod drafts;
pub mod editing;
pub mod engine;
pub mod export;
pub mod learning;
pub mod live;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod models;
pub mod passkeys;
pub mod search;
pub mod settings;
pub mod tutor;
pub mod worker;

use std::sync::Arc;

use lyceum_llm::{Engine, LlmError};
use lyceum_store::{Store, StoreError};

pub use courses::{Draft, DraftEvent, Failure, GenerateError, UnitText};
pub use settings::Settings;

/// The application: settings, store, engine and the live hub, shared by every request and job.
pub struct Lyceum {
    /// The settings it was built from.
    pub settings: Settings,
    /// The database.
    pub store: Store,
    /// The language model, behind its governor.
    pub engine: Arc<dyn Engine>,
    /// Live text and progress.
    pub hub: Arc<live::Hub>,
    /// Whether this process's worker runs and reaches its queue.
    pub worker_health: worker::WorkerHealth,
    /// What `/metrics` reports.
    pub metrics: metrics::Metrics,
    /// What this node's unit prompts carried, for their quizzes.
    unit_prompts: courses::UnitPrompts,
    /// Sends mail through the configured transport.
    pub mailer: lyceum_mail::Mailer,
    /// "Now", for the mail drip's schedule and the worker's queue; tests stop and move it.
    pub clock: clock::Clock,
    /// The secret the tutor's instructions carry, new in every process: a reply that repeats it is
    /// withheld ([`tutor`]).
    pub tutor_canary: String,
    /// Search by meaning, when the sentence encoder is installed.
    pub meaning: Option<search::Meaning>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("could not open the database {url}: {source}")]
    Store {
        /// The URL, password redacted.
        url: String,
        /// Why.
        source: StoreError,
    },
    /// The data folder could not be created.
    #[error("could not create the data folder {}: {source}", path.display())]
    DataDir {
        /// The folder.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Mail is set up wrongly (a sender that is not an address, an unreadable certificate).
    #[error("mail: {0}")]
    Mail(#[from] lyceum_mail::MailError),
    /// The engine could not be built (model missing or invalid, bad server URL).
    #[error(transparent)]
    Engine(#[from] LlmError),
}

impl Lyceum {
    /// Opens the store (migrating it) and builds the engine the settings choose.
    pub async fn open(settings: Settings) -> Result<Arc<Self>, StartError> {
        let store = open_store(&settings).await?;
        // Loading a local model reads hundreds of megabytes: keep it off the async threads.
        let for_engine = settings.clone();
        let engine = tokio::task::spawn_blocking(move || engine::build(&for_engine))
            .await
            .map_err(|error| LlmError::Engine(format!("loading the model panicked: {error}")))??;
        let encoder = load_encoder(&settings).await;
        Self::with_encoder(settings, store, Arc::new(engine), encoder)
    }

    /// An application from parts already built; fails when mail is set up wrongly.
    pub fn new(
        settings: Settings,
        store: Store,
        engine: Arc<dyn Engine>,
    ) -> Result<Arc<Self>, StartError> {
        Self::with_encoder(settings, store, engine, None)
    }

    /// [`Lyceum::new`] with search by meaning through `encoder`.
    pub fn with_encoder(
        settings: Settings,
        store: Store,
        engine: Arc<dyn Engine>,
        encoder: Option<Arc<lyceum_llm::encoder::Encoder>>,
    ) -> Result<Arc<Self>, StartError> {
        let mailer = lyceum_mail::Mailer::new(&settings.mail_config())?;
        Ok(Arc::new(Self {
            settings,
            store,
            engine,
            mailer,
            clock: clock::Clock::default(),
            hub: Arc::new(live::Hub::default()),
            worker_health: worker::WorkerHealth::default(),
            metrics: metrics::Metrics::default(),
            unit_prompts: courses::UnitPrompts::default(),
            tutor_canary: tutor_canary(),
            meaning: encoder.map(search::Meaning::new),
        }))
    }
}

/// The sentence encoder `lyceum model install` put in the models folder, loaded; `None`, and search
/// by words alone, when it is not there or does not load (which is said in the log).
async fn load_encoder(settings: &Settings) -> Option<Arc<lyceum_llm::encoder::Encoder>> {
    let path = settings.models_dir().join(models::ENCODER.file_name);
    if !path.exists() {
        tracing::info!(
            path = %path.display(),
            "search by meaning is off: the sentence encoder is not installed (`lyceum model install`)"
        );
        return None;
    }
    let config = lyceum_llm::encoder::EncoderConfig {
        model_path: path,
        threads: settings.local_threads(),
    };
    match tokio::task::spawn_blocking(move || lyceum_llm::encoder::Encoder::load(&config)).await {
        Ok(Ok(encoder)) => Some(Arc::new(encoder)),
        Ok(Err(error)) => {
            tracing::error!(%error, "search by meaning is off: the sentence encoder did not load");
            None
        }
        Err(error) => {
            tracing::error!(%error, "search by meaning is off: loading the sentence encoder panicked");
            None
        }
    }
}

/// Opens and migrates the configured database, creating the data folder for SQLite.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let url = settings.database_url();
    let redacted = settings::redact_url(&url);
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| StartError::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
    }
    Store::open(&url).await.map_err(|source| StartError::Store {
        url: redacted,
        source,
    })
}

/// A point where the crash tests stop a process: when `TEST_LYCEUM_FAILPOINT` names it, the process
/// says so on stderr and waits there for the test to kill it. Without the variable it does nothing.
pub(crate) async fn failpoint(name: &str) {
    static CHOSEN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| std::env::var("TEST_LYCEUM_FAILPOINT").ok());
    if chosen.as_deref() == Some(name) {
        eprintln!("failpoint {name} reached");
        std::future::pending::<()>().await;
    }
}

/// Bytes as lowercase hexadecimal digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A random secret for the tutor's instructions: "canary-" and 16 hexadecimal digits.
fn tutor_canary() -> String {
    let mut bytes = [0u8; 8];
    // Without the system's randomness the canary is still unique to this process and moment.
    if getrandom::fill(&mut bytes).is_err() {
        bytes = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() % u128::from(u64::MAX)),
        )
        .unwrap_or_default()
        .to_le_bytes();
    }
    format!("canary-{}", hex(&bytes))
}
