//! Mail: subscriptions to a course's units by email, and the deliveries Lyceum means to send.
//!
//! A delivery is a row before it is a message: its key says what it is (`unit-7-42`: subscription 7,
//! unit 42) and is unique, so nothing is queued twice. Its worker marks it `sending` before talking to
//! the server and `sent` after; a delivery found still `sending` had its worker die somewhere in the
//! conversation, and is never sent again ([`Store::begin_delivery`]). The drip of a subscription is a
//! job that wakes at `next_at`; the subscription's row, not the job, says what is due.

use crate::jobs::{self, NewJob, Task};
use crate::{Change, Store, StoreError, with_pool};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    /// Asked for with an address that has not yet clicked its confirmation link: nothing is sent.
    Unconfirmed,
    /// Units arrive at the chosen pace.
    Active,
    /// Held by the learner; resuming keeps the place.
    Paused,
    /// Every unit was sent, and the last mail said so.
    Finished,
    /// Stopped by the learner, or after messages were refused for good.
    Stopped,
}

impl SubscriptionState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "unconfirmed",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Finished => "finished",
            Self::Stopped => "stopped",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "unconfirmed" => Self::Unconfirmed,
            "active" => Self::Active,
            "paused" => Self::Paused,
            "finished" => Self::Finished,
            "stopped" => Self::Stopped,
            other => return Err(StoreError::Corrupt(format!("subscription state {other:?}"))),
        })
    }
}

/// A course's units by email to one address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Subscription {
    pub id: i64,
    pub course_id: i64,
    /// The account it belongs to; `None` for an address given signed out.
    pub user_id: Option<i64>,
    pub email: String,
    /// Days between two units: 1, 2 or 7.
    pub pace_days: i64,
    /// The hour of the day units arrive, in `time_zone`.
    pub hour: i64,
    /// An IANA time zone name.
    pub time_zone: String,
    /// The syllabus position of the last unit sent (0: none yet).
    pub place: i64,
    #[sqlx(try_from = "String")]
    pub state: SubscriptionState,
    /// When the next unit is due (Unix ms), while active.
    pub next_at: Option<i64>,
    /// When an unconfirmed request lapses.
    pub expires_at: Option<i64>,
    /// Messages refused for good in a row.
    pub bounces: i64,
    /// Why it stopped.
    pub stopped_why: Option<String>,
    pub created_at: i64,
}

impl TryFrom<String> for SubscriptionState {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        Self::parse(&text)
    }
}

/// A subscription to make (or to make again, over a stopped, finished or lapsed one).
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub course_id: i64,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub pace_days: i64,
    pub hour: i64,
    pub time_zone: &'a str,
    /// The syllabus position of the last unit the learner has already (0: start at the beginning).
    pub place: i64,
    /// When the first unit is due.
    pub next_at: i64,
    /// For an address given signed out: when the request lapses unless its confirmation link is
    /// followed. `None`: the address is the learner's own account's, and the drip starts.
    pub confirm_by: Option<i64>,
}

/// What [`Store::subscribe`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// The drip runs (it did already, or starts now); the row as it is now.
    Active(Subscription),
    /// A confirmation mail is queued; nothing else is sent before its link is followed.
    Confirming(Subscription),
    /// The address already gets this course and the request came signed out: nothing changed and
    /// nothing is sent (a stranger cannot change someone else's subscription; each mail carries its
    /// own link for that).
    AlreadyActive,
}

/// What changes on a subscription.
#[derive(Debug, Clone)]
pub struct SubscriptionUpdate<'a> {
    pub pace_days: i64,
    pub hour: i64,
    pub time_zone: &'a str,
    pub state: SubscriptionState,
    /// When the next unit is due; set for an active one.
    pub next_at: Option<i64>,
    pub stopped_why: Option<&'a str>,
}

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// The link that confirms an address given signed out.
    Confirm,
    /// One unit of a subscribed course.
    Unit,
    /// The last mail of a subscription: the course is over.
    Finished,
    /// To a course's maker: every unit of it is written.
    Ready,
    /// The link that confirms an account's address.
    Verify,
    /// The link that sets a new password.
    Reset,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Unit => "unit",
            Self::Finished => "finished",
            Self::Ready => "ready",
            Self::Verify => "verify",
            Self::Reset => "reset",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "confirm" => Self::Confirm,
            "unit" => Self::Unit,
            "finished" => Self::Finished,
            "ready" => Self::Ready,
            "verify" => Self::Verify,
            "reset" => Self::Reset,
            other => return Err(StoreError::Corrupt(format!("delivery kind {other:?}"))),
        })
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its job.
    Queued,
    /// A worker is talking to the server.
    Sending,
    /// The server took it (or its file was written).
    Sent,
    /// The server refused it for good.
    Failed,
    /// Its worker died during the conversation: it may or may not have arrived, and is not sent again.
    Unknown,
    /// Not sent, and never will be (the learner stopped the drip before it went).
    Cancelled,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            "unknown" => Self::Unknown,
            "cancelled" => Self::Cancelled,
            other => return Err(StoreError::Corrupt(format!("delivery state {other:?}"))),
        })
    }
}

/// A message Lyceum means to send, or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    /// What it is; the message's Message-ID is built from it.
    pub key: String,
    pub kind: DeliveryKind,
    pub subscription_id: Option<i64>,
    /// The account, for account mail (ready, verify, reset).
    pub user_id: Option<i64>,
    /// The course, for "your course is ready".
    pub course_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub state: DeliveryState,
    /// Conversations with the server begun.
    pub attempts: i64,
    /// The server's words, or why it was not sent.
    pub reply: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    key: String,
    kind: String,
    subscription_id: Option<i64>,
    user_id: Option<i64>,
    course_id: Option<i64>,
    unit_id: Option<i64>,
    state: String,
    attempts: i64,
    reply: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            key: row.key,
            kind: DeliveryKind::parse(&row.kind)?,
            subscription_id: row.subscription_id,
            user_id: row.user_id,
            course_id: row.course_id,
            unit_id: row.unit_id,
            state: DeliveryState::parse(&row.state)?,
            attempts: row.attempts,
            reply: row.reply,
            created_at: row.created_at,
            sent_at: row.sent_at,
        })
    }
}

/// A delivery in the operator's list: with the address it went to (the caller masks it) and its course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub delivery: Delivery,
    pub email: Option<String>,
    pub course_slug: Option<String>,
}

/// How a conversation with the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// Taken, with the server's words.
    Sent(&'a str),
    /// Not taken for now: back to the queue.
    Retry(&'a str),
    /// Refused for good: counts towards stopping the drip after `bounce_limit` in a row.
    Failed { reply: &'a str, bounce_limit: i64 },
    /// Not to be sent (the drip stopped meanwhile): why.
    Cancelled(&'a str),
}

const SUBSCRIPTION_COLUMNS: &str = "id, course_id, user_id, email, pace_days, hour, time_zone, \
     place, state, next_at, expires_at, bounces, stopped_why, created_at";
const DELIVERY_COLUMNS: &str = "id, key, kind, subscription_id, user_id, course_id, unit_id, state, \
     attempts, reply, created_at, sent_at";

/// Queues (or moves) the drip job of subscription `$id` to run at `$run_at`, on any executor. The row
/// of a drip job that is running is released too: its worker leaves it to run again then.
macro_rules! schedule_drip {
    ($executor:expr, $id:expr, $run_at:expr, $now:expr) => {{
        let task = Task::Drip($id);
        sqlx::query(
            "INSERT INTO jobs (kind, payload, dedupe_key, priority, run_at, created_at) \
             VALUES ($1, $2, $3, $6, $4, $5) ON CONFLICT (dedupe_key) DO UPDATE \
             SET run_at = excluded.run_at, locked_by = NULL, lease_until = NULL, attempts = 0",
        )
        .bind(task.kind())
        .bind($id.to_string())
        .bind(task.key())
        .bind($run_at)
        .bind($now)
        .bind(jobs::MAIL)
        .execute($executor)
        .await?;
    }};
}

/// Inserts a delivery and its job, on a transaction; evaluates to its id, or `None` when a delivery
/// with the key exists already.
macro_rules! queue_delivery {
    ($tx:expr, $key:expr, $kind:expr, $subscription:expr, $unit:expr, $now:expr) => {{
        let ids: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO deliveries (key, kind, subscription_id, unit_id, state, created_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5) ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .bind($key)
        .bind($kind.as_str())
        .bind($subscription)
        .bind($unit)
        .bind($now)
        .fetch_all(&mut *$tx)
        .await?;
        let id = ids.into_iter().next();
        if let Some(id) = id {
            jobs::insert!(&mut *$tx, &NewJob::new(Task::Deliver(id), jobs::MAIL, $now));
        }
        id
    }};
}

/// In a transaction that has just stored an item of course `$course`: when nothing of the course is
/// left to write and its maker wants to hear, queues "your course is ready" to them, once.
macro_rules! queue_ready_mail {
    ($tx:expr, $course:expr, $now:expr) => {{
        let course: i64 = $course;
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM generations WHERE course_id = $1 AND kind <> 'rewrite' AND status <> 'ready'",
        )
        .bind(course)
        .fetch_one(&mut *$tx)
        .await?;
        let maker: Option<i64> = if left == 0 {
            sqlx::query_scalar(
                "SELECT u.id FROM courses c JOIN users u ON u.id = c.owner_id \
                 WHERE c.id = $1 AND u.ready_mail = 1 AND u.disabled_at IS NULL",
            )
            .bind(course)
            .fetch_optional(&mut *$tx)
            .await?
        } else {
            None
        };
        if let Some(maker) = maker {
            let ids: Vec<i64> = sqlx::query_scalar(
                "INSERT INTO deliveries (key, kind, user_id, course_id, state, created_at) \
                 VALUES ($1, 'ready', $2, $3, 'queued', $4) ON CONFLICT (key) DO NOTHING RETURNING id",
            )
            .bind(format!("ready-{course}"))
            .bind(maker)
            .bind(course)
            .bind($now)
            .fetch_all(&mut *$tx)
            .await?;
            if let Some(id) = ids.into_iter().next() {
                $crate::jobs::insert!(
                    &mut *$tx,
                    &$crate::jobs::NewJob::new($crate::jobs::Task::Deliver(id), $crate::jobs::MAIL, $now)
                );
            }
        }
    }};
}
pub(crate) use queue_ready_mail;

impl Store {
    /// Queues mail to an account (`verify` or `reset`, with a key that says which request it
    /// answers); the delivery's id, or `None` when that key was queued before.
    pub async fn queue_account_mail(
        &self,
        kind: DeliveryKind,
        user_id: i64,
        key: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "INSERT INTO deliveries (key, kind, user_id, state, created_at) \
                 VALUES ($1, $2, $3, 'queued', $4) ON CONFLICT (key) DO NOTHING RETURNING id",
            )
            .bind(key)
            .bind(kind.as_str())
            .bind(user_id)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let id = ids.into_iter().next();
            if let Some(id) = id {
                jobs::insert!(&mut *tx, &NewJob::new(Task::Deliver(id), jobs::MAIL, now));
            }
            tx.commit().await?;
            id
        });
        self.publish(Change::Queued).await;
        Ok(id)
    }

    /// When an account's address was confirmed, if it was.
    pub async fn email_verified_at(&self, user_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT email_verified_at FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?)
        .flatten())
    }

    /// Records that the account's address `email` was confirmed at `now`; false when the account is
    /// gone or its address is another one now.
    pub async fn verify_email(
        &self,
        user_id: i64,
        email: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1 AND email = $2",
        )
        .bind(user_id)
        .bind(email)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        if updated == 1 {
            self.publish(Change::Account(user_id)).await;
        }
        Ok(updated == 1)
    }

    /// Whether an account wants an email when a course it made is written.
    pub async fn ready_mail(&self, user_id: i64) -> Result<bool, StoreError> {
        let wanted: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT ready_mail FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
        Ok(wanted == Some(1))
    }

    /// Says whether an account wants an email when a course it made is written.
    pub async fn set_ready_mail(&self, user_id: i64, wanted: bool) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE users SET ready_mail = $2 WHERE id = $1")
            .bind(user_id)
            .bind(i64::from(wanted))
            .execute(pool)
            .await?
            .rows_affected());
        self.publish(Change::Account(user_id)).await;
        Ok(())
    }

    /// Subscribes an address to a course's units, or answers why nothing changed ([`Subscribed`]).
    /// A signed-in learner's subscription starts at once (or, if it runs already, takes the new pace
    /// and keeps its place); an address given signed out gets a confirmation mail first.
    pub async fn subscribe(
        &self,
        new: &NewSubscription<'_>,
        now: i64,
    ) -> Result<Subscribed, StoreError> {
        let subscribed = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let existing: Option<Subscription> = sqlx::query_as(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE course_id = $1 AND email = $2"
            ))
            .bind(new.course_id)
            .bind(new.email)
            .fetch_optional(&mut *tx)
            .await?;
            let running = existing.as_ref().is_some_and(|existing| {
                matches!(existing.state, SubscriptionState::Active | SubscriptionState::Paused)
            });
            if running && new.confirm_by.is_some() {
                tx.commit().await?;
                return Ok(Subscribed::AlreadyActive);
            }
            let (state, next_at, expires_at) = match new.confirm_by {
                Some(expires_at) => (SubscriptionState::Unconfirmed, None, Some(expires_at)),
                None => (SubscriptionState::Active, Some(new.next_at), None),
            };
            // A running drip keeps its place; one made again starts where this request says.
            let place = match &existing {
                Some(existing) if running => existing.place,
                _ => new.place,
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subscriptions (course_id, user_id, email, pace_days, hour, time_zone, \
                 place, state, next_at, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (course_id, email) DO UPDATE SET \
                 user_id = COALESCE(excluded.user_id, subscriptions.user_id), \
                 pace_days = excluded.pace_days, hour = excluded.hour, time_zone = excluded.time_zone, \
                 place = excluded.place, state = excluded.state, next_at = excluded.next_at, \
                 expires_at = excluded.expires_at, \
                 bounces = 0, stopped_why = NULL \
                 RETURNING id",
            )
            .bind(new.course_id)
            .bind(new.user_id)
            .bind(new.email)
            .bind(new.pace_days)
            .bind(new.hour)
            .bind(new.time_zone)
            .bind(place)
            .bind(state.as_str())
            .bind(next_at)
            .bind(expires_at)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            match next_at {
                Some(next_at) => schedule_drip!(&mut *tx, id, next_at, now),
                None => {
                    queue_delivery!(tx, format!("confirm-{id}-{now}"), DeliveryKind::Confirm, Some(id), None::<i64>, now);
                }
            }
            let subscription: Subscription = sqlx::query_as(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            match state {
                SubscriptionState::Active => Subscribed::Active(subscription),
                _ => Subscribed::Confirming(subscription),
            }
        });
        self.publish(Change::Queued).await;
        Ok(subscribed)
    }

    /// A subscription.
    pub async fn subscription(&self, id: i64) -> Result<Option<Subscription>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// A learner's subscriptions to `email` that wait for the address to be confirmed and have not
    /// lapsed at `now`.
    pub async fn waiting_subscriptions(
        &self,
        user_id: i64,
        email: &str,
        now: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let ids: Vec<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM subscriptions WHERE user_id = $1 AND email = $2 \
             AND state = 'unconfirmed' AND expires_at > $3 ORDER BY id",
        )
        .bind(user_id)
        .bind(email)
        .bind(now)
        .fetch_all(pool)
        .await?);
        let mut waiting = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(subscription) = self.subscription(id).await? {
                waiting.push(subscription);
            }
        }
        Ok(waiting)
    }

    /// A learner's subscriptions, newest first, each with its course's slug and title.
    pub async fn subscriptions_of(
        &self,
        user_id: i64,
    ) -> Result<Vec<(Subscription, String, String)>, StoreError> {
        let rows: Vec<(i64, String, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT s.id, c.slug, c.title FROM subscriptions s JOIN courses c ON c.id = s.course_id \
             WHERE s.user_id = $1 AND s.state <> 'unconfirmed' ORDER BY s.id DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?);
        let mut subscriptions = Vec::with_capacity(rows.len());
        for (id, slug, title) in rows {
            if let Some(subscription) = self.subscription(id).await? {
                subscriptions.push((subscription, slug, title));
            }
        }
        Ok(subscriptions)
    }

    /// Changes a subscription's pace, hour, zone and state in one step; an active one's drip job is
    /// moved to `next_at`. False when the subscription is gone.
    pub async fn update_subscription(
        &self,
        id: i64,
        update: &SubscriptionUpdate<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE subscriptions SET pace_days = $2, hour = $3, time_zone = $4, state = $5, \
                 next_at = $6, stopped_why = $7, expires_at = NULL, \
                 bounces = CASE WHEN $5 = 'active' THEN 0 ELSE bounces END WHERE id = $1",
            )
            .bind(id)
            .bind(update.pace_days)
            .bind(update.hour)
            .bind(update.time_zone)
            .bind(update.state.as_str())
            .bind(update.next_at)
            .bind(update.stopped_why)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if updated && let (SubscriptionState::Active, Some(next_at)) = (update.state, update.next_at) {
                schedule_drip!(&mut *tx, id, next_at, now);
            }
            tx.commit().await?;
            updated
        });
        self.publish(Change::Queued).await;
        Ok(updated)
    }

    /// Queues unit `unit_id` (at syllabus `position`) for a subscription, moves its place there and its
    /// next unit to `next_at`; returns the delivery's id, or `None` when that unit was queued for it
    /// before (the place still moves).
    pub async fn queue_unit_delivery(
        &self,
        subscription_id: i64,
        unit_id: i64,
        position: i64,
        next_at: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id = queue_delivery!(
                tx,
                format!("unit-{subscription_id}-{unit_id}"),
                DeliveryKind::Unit,
                Some(subscription_id),
                Some(unit_id),
                now
            );
            sqlx::query("UPDATE subscriptions SET place = $2, next_at = $3 WHERE id = $1 AND state = 'active'")
                .bind(subscription_id)
                .bind(position)
                .bind(next_at)
                .execute(&mut *tx)
                .await?;
            schedule_drip!(&mut *tx, subscription_id, next_at, now);
            tx.commit().await?;
            id
        });
        self.publish(Change::Queued).await;
        Ok(id)
    }

    /// Moves a subscription's place past a unit that will not be sent (its writing failed for good).
    pub async fn skip_unit_delivery(
        &self,
        subscription_id: i64,
        position: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE subscriptions SET place = $2, next_at = $3 WHERE id = $1 AND state = 'active'")
                .bind(subscription_id)
                .bind(position)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            schedule_drip!(&mut *tx, subscription_id, now, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stops a subscription, saying why (an internal error, a course gone from view).
    pub async fn stop_subscription(&self, id: i64, why: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE subscriptions SET state = 'stopped', next_at = NULL, stopped_why = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(why)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Ends a subscription whose every unit was sent, queueing the mail that says so.
    pub async fn finish_subscription(&self, id: i64, now: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let finished = sqlx::query(
                "UPDATE subscriptions SET state = 'finished', next_at = NULL WHERE id = $1 AND state = 'active'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if finished == 1 {
                queue_delivery!(tx, format!("finished-{id}"), DeliveryKind::Finished, Some(id), None::<i64>, now);
            }
            tx.commit().await?;
        });
        self.publish(Change::Queued).await;
        Ok(())
    }

    /// A delivery.
    pub async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        let row: Option<DeliveryRow> = with_pool!(self, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?);
        row.map(Delivery::try_from).transpose()
    }

    /// A subscription's deliveries, oldest first.
    pub async fn deliveries_of(&self, subscription_id: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = with_pool!(self, pool => sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = $1 ORDER BY id"
        ))
        .bind(subscription_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(Delivery::try_from).collect()
    }

    /// The newest deliveries, up to `limit`, for the operator's outbox.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, Option<String>, Option<String>)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT d.id, COALESCE(s.email, u.email), c.slug FROM deliveries d \
             LEFT JOIN subscriptions s ON s.id = d.subscription_id \
             LEFT JOIN users u ON u.id = d.user_id \
             LEFT JOIN courses c ON c.id = COALESCE(s.course_id, d.course_id) \
             ORDER BY d.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?);
        let mut entries = Vec::with_capacity(rows.len());
        for (id, email, course_slug) in rows {
            if let Some(delivery) = self.delivery(id).await? {
                entries.push(OutboxEntry {
                    delivery,
                    email,
                    course_slug,
                });
            }
        }
        Ok(entries)
    }

    /// Marks a queued delivery `sending` before its conversation with the server begins; false when it
    /// is not queued. A delivery left `sending` by a worker that died is marked `unknown` instead, and
    /// false is returned: it may have arrived, and Lyceum does not send a message twice.
    pub async fn begin_delivery(&self, id: i64) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let begun = sqlx::query(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1 WHERE id = $1 AND state = 'queued'",
            )
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected();
            if begun == 1 {
                return Ok(true);
            }
            sqlx::query(
                "UPDATE deliveries SET state = 'unknown', \
                 reply = 'the worker stopped while sending it; it may not have arrived' \
                 WHERE id = $1 AND state = 'sending'",
            )
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(false)
    }

    /// Records how a delivery's conversation ended ([`Outcome`]). A message refused for good counts
    /// against its subscription; `bounce_limit` in a row stop it, with the server's words as the
    /// reason. A sent one clears the count.
    pub async fn end_delivery(
        &self,
        id: i64,
        outcome: Outcome<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let (state, reply) = match outcome {
            Outcome::Sent(reply) => (DeliveryState::Sent, reply),
            Outcome::Retry(reply) => (DeliveryState::Queued, reply),
            Outcome::Failed { reply, .. } => (DeliveryState::Failed, reply),
            Outcome::Cancelled(why) => (DeliveryState::Cancelled, why),
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let subscription: Option<Option<i64>> = sqlx::query_scalar(
                "UPDATE deliveries SET state = $2, reply = $3, \
                 sent_at = CASE WHEN $2 = 'sent' THEN $4 ELSE sent_at END \
                 WHERE id = $1 RETURNING subscription_id",
            )
            .bind(id)
            .bind(state.as_str())
            .bind(reply)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(Some(subscription)) = subscription {
                match outcome {
                    Outcome::Sent(_) => {
                        sqlx::query("UPDATE subscriptions SET bounces = 0 WHERE id = $1")
                            .bind(subscription)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Outcome::Failed { reply, bounce_limit } => {
                        sqlx::query(
                            "UPDATE subscriptions SET bounces = bounces + 1, \
                             state = CASE WHEN bounces + 1 >= $2 AND state = 'active' THEN 'stopped' ELSE state END, \
                             next_at = CASE WHEN bounces + 1 >= $2 AND state = 'active' THEN NULL ELSE next_at END, \
                             stopped_why = CASE WHEN bounces + 1 >= $2 AND state = 'active' THEN $3 ELSE stopped_why END \
                             WHERE id = $1",
                        )
                        .bind(subscription)
                        .bind(bounce_limit)
                        .bind(format!("the mail server refused {bounce_limit} messages in a row: {reply}"))
                        .execute(&mut *tx)
                        .await?;
                    }
                    Outcome::Retry(_) | Outcome::Cancelled(_) => {}
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The site's key called `name`, made by `make` the first time any node asks, then the same for
    /// every node.
    pub async fn site_key(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query("INSERT INTO site_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(make())
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT value FROM site_keys WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await?
        }))
    }
}
