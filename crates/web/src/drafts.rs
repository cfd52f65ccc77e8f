//! Outlines being drafted for people on the web, before they confirm them. Each draft runs
//! `Lyceum::draft_outline` in a task of its own and keeps what has been written so far, so its page
//! can be opened, reloaded or followed live at any time. A draft is addressed by a random id that only
//! its author's browser knows.
//!
//! Drafts live in this process: with several web nodes, a draft's page must be served by the node that
//! started it. They are forgotten a day after they start.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lyceum_app::{DraftEvent, Lyceum};
use lyceum_course::{CourseRequest, Outline, OutlinePiece};
use lyceum_store::GenerationStats;
use tokio::sync::watch;

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
    /// Starts drafting `request`; returns the new draft's id.
    pub fn start(
        &self,
        app: Arc<Lyceum>,
        request: CourseRequest,
    ) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        let id: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let draft = Arc::new(Draft {
            request,
            started: Instant::now(),
            state: Mutex::new(DraftState::default()),
            changes: watch::channel(0).0,
            confirming: tokio::sync::Mutex::new(()),
        });
        {
            let mut entries = self.lock();
            entries.retain(|_, draft| draft.started.elapsed() < KEEP);
            entries.insert(id.clone(), Arc::clone(&draft));
        }
        tokio::spawn(async move {
            let request = draft.request.clone();
            let result = app
                .draft_outline(&request, |event| draft.apply(event))
                .await;
            draft.update(|state| {
                state.result = Some(
                    result
                        .map(|done| (done.outline, done.stats))
                        .map_err(|error| error.to_string()),
                );
            });
        });
        Ok(id)
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
