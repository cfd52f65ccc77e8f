//! The mail Lyceum sends: a course's units by email at the learner's pace (the drip), the
//! confirmation an address given signed out gets first, and the operator's test message.
//!
//! Nothing is sent without a delivery row first ([`lyceum_store::mail`]); each delivery is a job that
//! marks it `sending`, talks to the server and marks it `sent`. A worker killed between the server's
//! "250 OK" and that mark leaves the row `sending`, and the delivery is then never sent again: Lyceum
//! errs on the side of a missing message over a duplicate, since every unit stays on the site and the
//! next mail links to it. A worker killed before the mark leaves the row `queued`, and the job sends it
//! when its lease runs out. The drip is a job per subscription, woken when its next unit is due: it
//! queues that unit's delivery, moves the place, and sleeps until the next due time.

pub mod account;
pub mod compose;
pub mod links;
pub mod schedule;

use lyceum_mail::{Address, Email, MailError};
use lyceum_store::mail::{Delivery, DeliveryKind, DeliveryState, Outcome};
use lyceum_store::{
    Course, ItemKind, NewSubscription, Status, StoreError, Subscribed, Subscription,
    SubscriptionState, SubscriptionUpdate, User,
};

pub use links::Link;
pub use lyceum_mail::masked;
pub use schedule::Pace;

use crate::{Lyceum, Settings};

/// How long an address given signed out has to confirm, in hours.
pub const CONFIRM_HOURS: i64 = 48;

/// Messages to one subscription refused for good in a row that stop its drip.
pub const BOUNCE_LIMIT: i64 = 3;

/// How long a drip waits for a unit still being written before it looks again.
const UNWRITTEN_WAIT_MS: i64 = 60_000;

/// How long past its due time a drip keeps waiting for a unit whose writing failed before it skips it.
const FAILED_UNIT_PATIENCE_MS: i64 = 24 * 3_600_000;

/// Why a mail request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MailRequestError {
    /// Something given is wrong; the words say what to change.
    #[error("{0}")]
    Invalid(String),
    /// The course or subscription is not there (or not shown to this person).
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request for a course's units by email.
#[derive(Debug, Clone, Copy)]
pub struct SubscribeRequest<'a> {
    pub course: &'a Course,
    /// The signed-in learner: mail goes to their account's address and starts at once.
    pub user: Option<&'a User>,
    /// The address given signed out (unused when `user` is set); it is confirmed first.
    pub email: &'a str,
    pub pace: Pace,
    /// The hour of the day, 0 to 23, in `time_zone`.
    pub hour: i64,
    pub time_zone: &'a str,
    /// The syllabus position of the unit the learner is reading (0 from the course page): the drip
    /// starts with the unit after it.
    pub after: i64,
}

/// What a subscription's page can change.
#[derive(Debug, Clone, Copy)]
pub enum SubscriptionChange<'a> {
    /// A new pace, hour or zone; a paused subscription stays paused.
    Schedule {
        pace: Pace,
        hour: i64,
        time_zone: &'a str,
    },
    /// Hold the drip, keeping the place.
    Pause,
    /// Go on from the place, at the next due hour.
    Resume,
    /// Stop for good (what the one-click unsubscribe does).
    Stop,
}

/// What the worker does with a drip job after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DripStep {
    /// Its job was moved to the next due time by the store.
    Scheduled,
    /// Wake again at this time (Unix ms).
    WakeAt(i64),
    /// The subscription is over (stopped, finished, gone): the job ends.
    Over,
}

/// How a delivery job ended.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// Sent, or nothing left to do (already sent, cancelled, gone).
    Done,
    /// The server did not take it for now: try again later.
    Retry(MailError),
}

fn check_hour(hour: i64) -> Result<(), MailRequestError> {
    if (0..24).contains(&hour) {
        Ok(())
    } else {
        Err(MailRequestError::Invalid(format!(
            "the hour must be 0 to 23, not {hour}"
        )))
    }
}

impl Lyceum {
    /// Subscribes to a course's units by email ([`Subscribed`] says what happened). A signed-in
    /// learner's drip starts at once; an address given signed out gets a confirmation mail first, and
    /// nothing else until its link is followed.
    pub async fn subscribe(
        &self,
        request: &SubscribeRequest<'_>,
    ) -> Result<Subscribed, MailRequestError> {
        if !request.course.shown_to(request.user) {
            return Err(MailRequestError::NotFound);
        }
        check_hour(request.hour)?;
        let zone = schedule::zone(request.time_zone).map_err(MailRequestError::Invalid)?;
        let email = match request.user {
            Some(user) => user.email.clone(),
            None => Address::parse(request.email)
                .map_err(|error| MailRequestError::Invalid(error.to_string()))?
                .as_str()
                .to_owned(),
        };
        let now = self.clock.now_ms();
        // An account's address that was never confirmed is confirmed for the drip as a stranger's
        // would be (an account can be made with anyone's address); changing a running drip is not
        // new mail, so it needs no new click.
        let confirm = match request.user {
            None => true,
            Some(user) => {
                self.store.email_verified_at(user.id).await?.is_none()
                    && !self.store.subscriptions_of(user.id).await?.iter().any(
                        |(subscription, _, _)| {
                            subscription.course_id == request.course.id
                                && matches!(
                                    subscription.state,
                                    SubscriptionState::Active | SubscriptionState::Paused
                                )
                        },
                    )
            }
        };
        let subscribed = self
            .store
            .subscribe(
                &NewSubscription {
                    course_id: request.course.id,
                    user_id: request.user.map(|user| user.id),
                    email: &email,
                    pace_days: request.pace.days(),
                    hour: request.hour,
                    time_zone: request.time_zone.trim(),
                    place: request.after.max(0),
                    next_at: schedule::first_after(now, request.hour, &zone),
                    confirm_by: confirm.then_some(now + CONFIRM_HOURS * 3_600_000),
                },
                now,
            )
            .await?;
        tracing::info!(
            course = request.course.id,
            to = %lyceum_mail::masked(&email),
            outcome = match &subscribed {
                Subscribed::Active(_) => "active",
                Subscribed::Confirming(_) => "confirming",
                Subscribed::AlreadyActive => "already active",
            },
            "subscribed to a course by email"
        );
        Ok(subscribed)
    }

    /// Follows a confirmation link: the subscription starts, and its first unit comes at the next
    /// chosen hour. `None` when the link is not (or no longer) good: wrong, lapsed, asked again since,
    /// or confirmed already.
    pub async fn confirm_subscription(
        &self,
        id: i64,
        signature: &str,
    ) -> Result<Option<Subscription>, MailRequestError> {
        let now = self.clock.now_ms();
        let Some(subscription) = self.store.subscription(id).await? else {
            return Ok(None);
        };
        let Some(expires_at) = subscription.expires_at else {
            return Ok(None);
        };
        if subscription.state != SubscriptionState::Unconfirmed
            || expires_at <= now
            || !Link::Confirm(id, expires_at)
                .is_signed_by(&self.store, signature)
                .await?
        {
            return Ok(None);
        }
        self.start_confirmed(&subscription, now).await?;
        if let Some(user_id) = subscription.user_id {
            // The link reached the account's address: it is confirmed for everything else too.
            self.store
                .verify_email(user_id, &subscription.email, now)
                .await?;
        }
        Ok(self.store.subscription(id).await?)
    }

    /// Starts a subscription whose address was just confirmed: its first unit comes at the next
    /// chosen hour.
    async fn start_confirmed(
        &self,
        subscription: &Subscription,
        now: i64,
    ) -> Result<(), MailRequestError> {
        let zone = schedule::zone(&subscription.time_zone).map_err(MailRequestError::Invalid)?;
        let update = SubscriptionUpdate {
            pace_days: subscription.pace_days,
            hour: subscription.hour,
            time_zone: &subscription.time_zone,
            state: SubscriptionState::Active,
            next_at: Some(schedule::first_after(now, subscription.hour, &zone)),
            stopped_why: None,
        };
        self.store
            .update_subscription(subscription.id, &update, now)
            .await?;
        Ok(())
    }

    /// An account's address was confirmed: its drips that waited for that start.
    pub(crate) async fn start_waiting_drips(
        &self,
        user: &lyceum_store::User,
        now: i64,
    ) -> Result<(), StoreError> {
        for subscription in self
            .store
            .waiting_subscriptions(user.id, &user.email, now)
            .await?
        {
            match self.start_confirmed(&subscription, now).await {
                Ok(()) => {}
                Err(MailRequestError::Store(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(subscription = subscription.id, %error, "a waiting drip could not start");
                }
            }
        }
        Ok(())
    }

    /// The subscription a signed mail link names, or `None` when the signature is not its own.
    pub async fn linked_subscription(
        &self,
        id: i64,
        signature: &str,
    ) -> Result<Option<Subscription>, MailRequestError> {
        if !Link::Manage(id)
            .is_signed_by(&self.store, signature)
            .await?
        {
            return Ok(None);
        }
        Ok(self.store.subscription(id).await?)
    }

    /// Changes a subscription ([`SubscriptionChange`]); returns it as it is now.
    pub async fn change_subscription(
        &self,
        subscription: &Subscription,
        change: SubscriptionChange<'_>,
    ) -> Result<Subscription, MailRequestError> {
        let now = self.clock.now_ms();
        let current = Pace::from_days(subscription.pace_days).unwrap_or(Pace::Daily);
        let (pace, hour, time_zone) = match change {
            SubscriptionChange::Schedule {
                pace,
                hour,
                time_zone,
            } => (pace, hour, time_zone.trim()),
            _ => (current, subscription.hour, subscription.time_zone.as_str()),
        };
        check_hour(hour)?;
        let zone = schedule::zone(time_zone).map_err(MailRequestError::Invalid)?;
        let state = match (change, subscription.state) {
            (SubscriptionChange::Stop, _) => SubscriptionState::Stopped,
            (SubscriptionChange::Pause, SubscriptionState::Active) => SubscriptionState::Paused,
            (SubscriptionChange::Resume, SubscriptionState::Paused) => SubscriptionState::Active,
            (_, state) => state,
        };
        let next_at = (state == SubscriptionState::Active).then(|| {
            // A new hour or a resume starts from now; an unchanged schedule keeps its due time.
            match (change, subscription.next_at) {
                (SubscriptionChange::Schedule { .. }, _)
                | (SubscriptionChange::Resume, _)
                | (_, None) => schedule::first_after(now, hour, &zone),
                (_, Some(next_at)) => next_at,
            }
        });
        let update = SubscriptionUpdate {
            pace_days: pace.days(),
            hour,
            time_zone,
            state,
            next_at,
            stopped_why: (state == SubscriptionState::Stopped).then_some("stopped by the learner"),
        };
        if !self
            .store
            .update_subscription(subscription.id, &update, now)
            .await?
        {
            return Err(MailRequestError::NotFound);
        }
        self.store
            .subscription(subscription.id)
            .await?
            .ok_or(MailRequestError::NotFound)
    }

    /// One step of a subscription's drip: when its next unit is due, queue it and move on; a unit not
    /// yet written is moved to the front of the writing queue and waited for.
    pub(crate) async fn drip_step(&self, id: i64) -> Result<DripStep, StoreError> {
        let now = self.clock.now_ms();
        let Some(subscription) = self.store.subscription(id).await? else {
            return Ok(DripStep::Over);
        };
        if subscription.state != SubscriptionState::Active {
            return Ok(DripStep::Over);
        }
        let Some(due) = subscription.next_at else {
            return Ok(DripStep::Over);
        };
        if due > now {
            return Ok(DripStep::WakeAt(due));
        }
        let units = self.store.units(subscription.course_id).await?;
        let Some(unit) = units.iter().find(|unit| unit.position > subscription.place) else {
            self.store.finish_subscription(id, now).await?;
            return Ok(DripStep::Over);
        };
        let pace = Pace::from_days(subscription.pace_days).unwrap_or(Pace::Daily);
        let zone = schedule::zone(&subscription.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let next_at = schedule::next_after(due, now, pace, subscription.hour, &zone);
        match unit.status {
            Status::Ready => {
                self.store
                    .queue_unit_delivery(id, unit.id, unit.position, next_at, now)
                    .await?;
                Ok(DripStep::Scheduled)
            }
            Status::Failed if now - due > FAILED_UNIT_PATIENCE_MS => {
                tracing::warn!(
                    subscription = id,
                    unit = unit.id,
                    "a unit could not be written for a day; the drip goes on without it"
                );
                self.store
                    .skip_unit_delivery(id, unit.position, now)
                    .await?;
                Ok(DripStep::WakeAt(now))
            }
            Status::Failed => {
                self.store.retry_failed(subscription.course_id).await?;
                self.store.hurry_generation(ItemKind::Unit, unit.id).await?;
                Ok(DripStep::WakeAt(now + 10 * UNWRITTEN_WAIT_MS))
            }
            Status::Pending | Status::Generating => {
                self.store.hurry_generation(ItemKind::Unit, unit.id).await?;
                Ok(DripStep::WakeAt(now + UNWRITTEN_WAIT_MS))
            }
        }
    }

    /// Sends one delivery, if it is still to be sent; what it says is written now, from the course as
    /// it is now.
    pub(crate) async fn deliver(&self, id: i64) -> Result<Delivered, StoreError> {
        let Some(delivery) = self.store.delivery(id).await? else {
            return Ok(Delivered::Done);
        };
        if delivery.state != DeliveryState::Queued && delivery.state != DeliveryState::Sending {
            return Ok(Delivered::Done);
        }
        let email = match self.compose(&delivery).await? {
            Ok(email) => email,
            Err(why) => {
                let now = self.clock.now_ms();
                self.store
                    .end_delivery(id, Outcome::Cancelled(&why), now)
                    .await?;
                return Ok(Delivered::Done);
            }
        };
        crate::failpoint("mail-before-send").await;
        // Marked before the conversation: a worker that dies during it leaves the row `sending`, and
        // the delivery is not sent again.
        if !self.store.begin_delivery(id).await? {
            tracing::warn!(
                delivery = id,
                "a delivery was interrupted while sending; not sending it again"
            );
            return Ok(Delivered::Done);
        }
        let sent = self.mailer.send(&email).await;
        crate::failpoint("mail-after-send").await;
        let now = self.clock.now_ms();
        let to = email.to.masked();
        match sent {
            Ok(sent) => {
                tracing::info!(delivery = id, %to, reply = %sent.reply, "mail sent");
                self.store
                    .end_delivery(id, Outcome::Sent(&sent.reply), now)
                    .await?;
                Ok(Delivered::Done)
            }
            Err(error) if error.is_transient() => {
                tracing::warn!(delivery = id, %to, %error, "mail not taken for now");
                self.store
                    .end_delivery(id, Outcome::Retry(&error.to_string()), now)
                    .await?;
                Ok(Delivered::Retry(error))
            }
            Err(error) => {
                tracing::warn!(delivery = id, %to, %error, "mail refused");
                self.refused(id, &error.to_string()).await?;
                Ok(Delivered::Done)
            }
        }
    }

    /// Gives up on a delivery the server kept refusing for now.
    pub(crate) async fn give_up_delivery(&self, id: i64, why: &str) -> Result<(), StoreError> {
        self.refused(id, &format!("gave up after repeated tries: {why}"))
            .await
    }

    /// Records a delivery as refused for good, which counts against its subscription.
    async fn refused(&self, id: i64, reply: &str) -> Result<(), StoreError> {
        let outcome = Outcome::Failed {
            reply,
            bounce_limit: BOUNCE_LIMIT,
        };
        self.store
            .end_delivery(id, outcome, self.clock.now_ms())
            .await
    }

    /// The message of a delivery, or why it is not to be sent.
    async fn compose(&self, delivery: &Delivery) -> Result<Result<Email, String>, StoreError> {
        match delivery.kind {
            DeliveryKind::Ready | DeliveryKind::Verify | DeliveryKind::Reset => {
                self.compose_account(delivery).await
            }
            DeliveryKind::Confirm | DeliveryKind::Unit | DeliveryKind::Finished => {
                self.compose_drip(delivery).await
            }
        }
    }

    /// Account mail, to the account's address as it is now.
    async fn compose_account(
        &self,
        delivery: &Delivery,
    ) -> Result<Result<Email, String>, StoreError> {
        let user = match delivery.user_id {
            Some(user_id) => match self.store.user(user_id).await {
                Ok(user) if user.disabled_at.is_none() => user,
                Ok(_) => return Ok(Err("the account is disabled".into())),
                Err(StoreError::NotFound(_)) => return Ok(Err("the account is gone".into())),
                Err(error) => return Err(error),
            },
            None => return Ok(Err("it belongs to no account".into())),
        };
        let Ok(to) = Address::parse(&user.email) else {
            return Ok(Err("the address is not one".into()));
        };
        let site = self.settings.public_url();
        let site = site.trim_end_matches('/');
        let context = compose::AccountContext {
            site,
            to,
            name: &user.display_name,
        };
        let key = delivery.key.clone();
        Ok(Ok(match delivery.kind {
            DeliveryKind::Ready => {
                if !self.store.ready_mail(user.id).await? {
                    return Ok(Err("the account asked for no such emails".into()));
                }
                let Some(course_id) = delivery.course_id else {
                    return Ok(Err("it names no course".into()));
                };
                let course = self.store.course_by_id(course_id).await?;
                let units = self.store.units(course.id).await?.len();
                let stop = format!(
                    "{site}{}",
                    Link::ReadyMail(user.id).path(&self.store).await?
                );
                compose::ready(&context, &course, units, &stop, key)
            }
            DeliveryKind::Verify => {
                if self.store.email_verified_at(user.id).await?.is_some() {
                    return Ok(Err("the address is confirmed already".into()));
                }
                let link = Link::Verify {
                    user: user.id,
                    expires: delivery.created_at + account::VERIFY_HOURS * 3_600_000,
                    email: user.email.clone(),
                };
                let url = format!("{site}{}", link.path(&self.store).await?);
                compose::verify(&context, &url, account::VERIFY_HOURS, key)
            }
            _ => {
                let expires = delivery.created_at + account::RESET_MINUTES * 60_000;
                if expires <= self.clock.now_ms() {
                    return Ok(Err("the request lapsed before it could be sent".into()));
                }
                let link = Link::Reset {
                    user: user.id,
                    expires,
                    password_hash: account::password_hash(self, &user).await?,
                };
                let url = format!("{site}{}", link.path(&self.store).await?);
                compose::reset(&context, &url, account::RESET_MINUTES, key)
            }
        }))
    }

    /// Drip mail, to the subscription's address.
    async fn compose_drip(&self, delivery: &Delivery) -> Result<Result<Email, String>, StoreError> {
        let Some(subscription_id) = delivery.subscription_id else {
            return Ok(Err("it belongs to nothing".into()));
        };
        let Some(subscription) = self.store.subscription(subscription_id).await? else {
            return Ok(Err("its subscription is gone".into()));
        };
        let wanted = match delivery.kind {
            DeliveryKind::Confirm => subscription.state == SubscriptionState::Unconfirmed,
            DeliveryKind::Unit => subscription.state == SubscriptionState::Active,
            DeliveryKind::Finished => subscription.state == SubscriptionState::Finished,
            DeliveryKind::Ready | DeliveryKind::Verify | DeliveryKind::Reset => false,
        };
        if !wanted {
            return Ok(Err(format!(
                "the subscription is {} now",
                subscription.state.as_str()
            )));
        }
        let course = self.store.course_by_id(subscription.course_id).await?;
        let owner = match subscription.user_id {
            Some(user_id) => Some(self.store.user(user_id).await?),
            None => None,
        };
        if !course.shown_to(owner.as_ref()) {
            return Ok(Err("the course is no longer shown to this reader".into()));
        }
        let Ok(to) = Address::parse(&subscription.email) else {
            return Ok(Err("the address is not one".into()));
        };
        let site = self.settings.public_url();
        let site = site.trim_end_matches('/');
        let manage_url = format!(
            "{site}{}",
            Link::Manage(subscription.id).path(&self.store).await?
        );
        let context = compose::Context {
            site,
            to,
            course: &course,
            manage_url: &manage_url,
            pace: Pace::from_days(subscription.pace_days).unwrap_or(Pace::Daily),
            hour: subscription.hour,
            time_zone: &subscription.time_zone,
        };
        let key = delivery.key.clone();
        Ok(Ok(match delivery.kind {
            DeliveryKind::Confirm => {
                let Some(expires_at) = subscription.expires_at else {
                    return Ok(Err("the request has no expiry".into()));
                };
                let confirm_url = format!(
                    "{site}{}",
                    Link::Confirm(subscription.id, expires_at)
                        .path(&self.store)
                        .await?
                );
                compose::confirm(&context, &confirm_url, CONFIRM_HOURS, key)
            }
            DeliveryKind::Unit => {
                let units = self.store.units(course.id).await?;
                let Some(unit) = units.iter().find(|unit| Some(unit.id) == delivery.unit_id) else {
                    return Ok(Err("the unit is gone".into()));
                };
                let next = units.iter().find(|next| next.position > unit.position);
                compose::unit(&context, unit, units.len(), next, key)
            }
            _ => {
                let units = self.store.units(course.id).await?;
                compose::finished(&context, units.len(), key)
            }
        }))
    }
}

/// The message `lyceum mail test` sends: says which site and transport sent it, so the person who
/// receives it can tell the setup works.
pub fn test_message(settings: &Settings, to: Address, now_ms: i64) -> Email {
    let site = settings.public_url();
    let text = format!(
        "This is a test message from Lyceum at {site}.\n\n\
         It was sent with `lyceum mail test` to check that mail from this site reaches its readers. \
         Nothing needs to be done.\n"
    );
    let html = format!(
        "<p style=\"font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1f2328\">\
         This is a test message from Lyceum at <a href=\"{site}\" style=\"color:#0b57d0\">{site}</a>.</p>\
         <p style=\"font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1f2328\">\
         It was sent with <code>lyceum mail test</code> to check that mail from this site reaches \
         its readers. Nothing needs to be done.</p>",
        site = compose::escape(&site),
    );
    Email {
        to,
        to_name: None,
        subject: "Lyceum: a test message".into(),
        text,
        html,
        key: format!("test.{now_ms}"),
        unsubscribe: None,
    }
}
