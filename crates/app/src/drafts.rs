//! Drafting a course's outline for a person, on any node: [`Lyceum::start_draft`] stores the draft and
//! queues its drafting, a worker drafts it ([`Lyceum::write_draft`]) and records every title as it
//! comes, anyone with its id reads it or follows it on the store's change feed, and
//! [`Lyceum::confirm_draft`] makes it into a course, once.

use std::time::Duration;

use lyceum_course::{Outline, OutlineSoFar};
use lyceum_store::drafts::Drafted;
use lyceum_store::{Course, Draft, DraftRefused, DraftStatus, NewCourse, NewDraft, StoreError};
use tokio::sync::watch;

use crate::courses::{confirmable, confirmed};
use crate::{DraftEvent, GenerateError, Lyceum};

/// How long a draft is kept after it starts, as the privacy page promises.
pub const KEEP_DRAFTS: Duration = Duration::from_secs(24 * 3600);

impl Lyceum {
    /// Starts drafting `new.request` for its owner, within their limits: the draft's id, or which
    /// limit they have reached.
    #[tracing::instrument(skip_all, fields(weeks = new.request.weeks.get()))]
    pub async fn start_draft(
        &self,
        new: &NewDraft<'_>,
    ) -> Result<Result<String, DraftRefused>, GenerateError> {
        Ok(self.store.create_draft(new).await?)
    }

    /// Makes a ready draft into its course from `outline` (as drafted, or as edited), and starts
    /// writing it. A draft confirmed before, here or on another node, gives the course it made.
    // Never the draft's id: it is its author's capability.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_draft(
        &self,
        draft: &Draft,
        outline: Outline,
    ) -> Result<Course, GenerateError> {
        if let Some(slug) = &draft.course {
            return Ok(self.store.course(slug).await?);
        }
        let outline = confirmable(outline)?;
        let stats = draft.stats.clone().ok_or_else(|| {
            StoreError::Conflict(format!(
                "the draft is {}, not ready to confirm",
                draft.status.as_str()
            ))
        })?;
        let course = self
            .store
            .confirm_draft(
                &draft.id,
                NewCourse {
                    request: &draft.request,
                    outline: &outline,
                    outline_stats: &stats,
                },
            )
            .await?;
        Ok(confirmed(course, &outline))
    }

    /// Deletes drafts older than [`KEEP_DRAFTS`] at `now` (Unix ms); returns how many.
    pub async fn forget_expired_drafts(&self, now: i64) -> Result<u64, StoreError> {
        let before = now.saturating_sub(KEEP_DRAFTS.as_millis() as i64);
        self.store.forget_drafts(before).await
    }

    /// Drafts one stored draft: what a drafting job does. Every title is stored as it comes (each
    /// store write carries the newest outline so far, so a slow write skips to the newest); the
    /// outcome is stored with the job's end. A draft no longer drafting, or gone, is left alone.
    pub(crate) async fn write_draft(&self, draft_id: &str, job_id: i64) -> Result<(), StoreError> {
        let draft = match self.store.start_drafting(draft_id).await {
            Ok(draft) => draft,
            Err(StoreError::NotFound(_)) => return self.store.complete_job(job_id).await,
            Err(error) => return Err(error),
        };
        if draft.status != DraftStatus::Drafting {
            return self.store.complete_job(job_id).await;
        }
        let (pieces, mut so_far) = watch::channel(OutlineSoFar::default());
        let drafting = self.draft_outline(&draft.request, move |event| {
            let piece = match event {
                DraftEvent::Piece(piece) | DraftEvent::Replaced(piece) => piece,
                // The step is written again; its pieces come again and replace the old ones.
                DraftEvent::Retry(_) => return,
            };
            pieces.send_modify(|so_far| so_far.apply(piece));
        });
        let recording = async {
            // Ends when drafting does (and drops the sender), after recording the last change.
            while so_far.changed().await.is_ok() {
                let newest = so_far.borrow_and_update().clone();
                if let Err(error) = self.store.draft_progress(draft_id, &newest).await {
                    tracing::warn!(%error, "could not record a draft's progress");
                }
            }
        };
        let (drafted, ()) = tokio::join!(drafting, recording);
        let drafted = match drafted {
            // The store is away: the job is taken again once its lease runs out.
            Err(GenerateError::Store(error)) => return Err(error),
            other => other,
        };
        let message;
        let outcome = match &drafted {
            Ok(done) => {
                self.metrics.generated(&done.stats);
                Drafted::Ready(&done.outline, &done.stats)
            }
            Err(error) => {
                tracing::warn!(%error, "drafting an outline failed");
                message = error.public_message();
                Drafted::Failed(&message)
            }
        };
        self.store
            .finish_draft(draft_id, outcome, Some(job_id))
            .await?;
        if let Ok(done) = &drafted {
            self.warm_first_unit(&draft.request, &done.outline).await;
        }
        Ok(())
    }
}
