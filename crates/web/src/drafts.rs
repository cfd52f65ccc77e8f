//! Outlines being drafted for people on the web, before they confirm them. Each draft runs
//! `Lyceum::draft_outline` in a task of its own and keeps what has been written so far, so its page
//! can be opened, reloaded or followed live at any time. A draft is addressed by a random id that only
//! its author's browser knows.
//!
//! Drafts live in this process: with several web nodes, a draft's page must be served by the node that
//! started it. They are forgotten a day after they start ([`Drafts::forget_expired`], on a timer).

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use lyceum_app::{DraftEvent, Lyceum};
use lyceum_course::{CourseRequest, Outline, OutlinePiece};
use lyceum_store::GenerationStats;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::WebError;
use crate::client::Client;

/// How long a draft is kept.
const KEEP: Duration = Duration::from_secs(24 * 3600);

/// Every draft of this process.
#[derive(Default)]
pub struct Drafts {
    entries: Mutex<HashMap<String, Arc<Draft>>>,
}

/// One outline being drafted, or drafted.
pub struct Draft {
    /// What was asked for.
    pub request: CourseRequest,
    /// Who asked.
    client: Client,
    started: Instant,
    state: Mutex<DraftState>,
    /// Bumped on every change, for live pages.
    changes: watch::Sender<u64>,
    /// Held while the course is created, so that two confirmations at once (a double click) make one.
    pub confirming: tokio::sync::Mutex<()>,
}

/// What a draft has so far.
#[derive(Clone, Default)]
pub struct DraftState {
    /// The course title, once written.
    pub title: Option<String>,
    /// The summary, once written.
    pub summary: Option<String>,
    /// Week titles by number.
    pub weeks: BTreeMap<usize, String>,
    /// Unit titles by week and number.
    pub units: BTreeMap<(usize, usize), String>,
    /// How drafting ended: the outline, or why it failed.
    pub result: Option<Result<(Outline, GenerationStats), String>>,
    /// The course made from it, once confirmed.
    pub course: Option<String>,
}

/// A week of an outline being drafted, as far as it is written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WeekSoFar {
    /// From 1.
    pub number: usize,
    /// Its title.
    pub title: String,
    /// Its units written so far.
    pub units: Vec<UnitSoFar>,
}

/// A unit of an outline being drafted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitSoFar {
    /// Its number in its week, from 1.
    pub number: usize,
    /// Its title.
    pub title: String,
}

impl DraftState {
    /// Each week written so far, with its units written so far.
    pub fn weeks_so_far(&self) -> Vec<WeekSoFar> {
        self.weeks
            .iter()
            .map(|(&week, title)| WeekSoFar {
                number: week,
                title: title.clone(),
                units: self
                    .units
                    .range((week, 0)..(week + 1, 0))
                    .map(|(&(_, unit), title)| UnitSoFar {
                        number: unit,
                        title: title.clone(),
                    })
                    .collect(),
            })
            .collect()
    }
}

impl Drafts {
    /// Starts drafting `request` for `client`, which may have at most `at_once` drafting (0: no
    /// limit); returns the new draft's id.
    pub fn start(
        &self,
        app: Arc<Lyceum>,
        request: CourseRequest,
        client: Client,
        at_once: u32,
    ) -> Result<String, WebError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|error| WebError::Internal(error.to_string()))?;
        let id: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let draft = Arc::new(Draft {
            request,
            client,
            started: Instant::now(),
            state: Mutex::new(DraftState::default()),
            changes: watch::channel(0).0,
            confirming: tokio::sync::Mutex::new(()),
        });
        self.forget_expired();
        {
            let mut entries = self.lock();
            let drafting = entries
                .values()
                .filter(|other| other.client == client && other.lock().result.is_none())
                .count();
            if at_once > 0 && drafting >= at_once as usize {
                return Err(WebError::TooManyDrafts);
            }
            entries.insert(id.clone(), Arc::clone(&draft));
        }
        tokio::spawn(async move {
            let request = draft.request.clone();
            // A panic while drafting (a bug) must end the draft as failed, never leave it drafting.
            let drafted = AssertUnwindSafe(app.draft_outline(&request, |event| draft.apply(event)))
                .catch_unwind()
                .await;
            let result =
                match drafted {
                    Ok(Ok(done)) => Ok((done.outline, done.stats)),
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "drafting an outline failed");
                        Err(error.public_message())
                    }
                    Err(_) => {
                        tracing::error!("drafting an outline panicked");
                        Err("Lyceum hit an internal error while drafting this outline; it has been \
                         logged. Please try again."
                        .into())
                    }
                };
            draft.update(|state| state.result = Some(result));
        });
        Ok(id)
    }

    /// Forgets drafts older than a day, as the privacy page promises, even when nobody drafts.
    pub fn forget_expired(&self) {
        self.lock()
            .retain(|_, draft| draft.started.elapsed() < KEEP);
    }

    /// Every draft it keeps.
    pub fn all(&self) -> Vec<Arc<Draft>> {
        self.lock().values().cloned().collect()
    }

    /// How many drafts it keeps.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// The draft with this id, if there is one.
    pub fn get(&self, id: &str) -> Option<Arc<Draft>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Draft>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Draft {
    /// A copy of what it has so far.
    pub fn state(&self) -> DraftState {
        self.lock().clone()
    }

    /// Follows its changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Changes its state and tells followers.
    pub fn update(&self, change: impl FnOnce(&mut DraftState)) {
        change(&mut self.lock());
        self.changes.send_modify(|version| *version += 1);
    }

    fn apply(&self, event: DraftEvent<'_>) {
        let piece = match event {
            DraftEvent::Piece(piece) | DraftEvent::Replaced(piece) => piece,
            // The step is written again; its pieces come again and replace the old ones.
            DraftEvent::Retry(_) => return,
        };
        self.update(|state| match piece {
            OutlinePiece::Title(title) => state.title = Some(title),
            OutlinePiece::Summary(summary) => state.summary = Some(summary),
            OutlinePiece::Week(week, title) => {
                state.weeks.insert(week, title);
            }
            OutlinePiece::Unit(week, unit, title) => {
                state.units.insert((week, unit), title);
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, DraftState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
