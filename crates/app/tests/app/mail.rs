//! The mail drip against the scripted model and the in-memory transport, on a clock the tests move:
//! a course arrives one unit a morning at the learner's hour across a daylight-saving change, an
//! address given signed out gets nothing but its confirmation until the link is followed, and
//! stopping, pausing and resuming do what they say.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lyceum_app::Lyceum;
use lyceum_app::mail::{Pace, SubscribeRequest, SubscriptionChange};
use lyceum_app::settings::{MailTransport, SmtpSecurity};
use lyceum_mail::Sent;
use lyceum_store::mail::DeliveryState;
use lyceum_store::{NewUser, Subscribed, Subscription, SubscriptionState, User};
use lyceum_testkit::smtp::{Mode, SmtpPeer, readable};

use crate::helpers::{TestApp, spawn_app_with};

const HOUR: Duration = Duration::from_secs(3_600);

async fn mail_app() -> TestApp {
    spawn_app_with(|settings| settings.mail.transport = MailTransport::Memory).await
}

async fn learner(app: &Lyceum, email: &str) -> User {
    let new = NewUser {
        email,
        display_name: "Ada",
        password_hash: None,
        is_admin: false,
        passkey: None,
    };
    let user = app.store.create_user(&new, 1_000).await.unwrap();
    assert!(app.store.verify_email(user.id, email, 1_000).await.unwrap());
    user
}

/// The signature of the confirmation link of `subscription` in `raw`.
fn confirm_signature(raw: &str, subscription: i64) -> String {
    let prefix = format!("/mail/confirm/{subscription}/");
    let at = raw.find(&prefix).unwrap_or_else(|| panic!("{raw}"));
    raw[at + prefix.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// A course of `weeks` × `units`, written, Ada's account, and the clock stopped at `now`.
async fn written(
    test: &TestApp,
    weeks: u32,
    units: u32,
    now: &str,
) -> (lyceum_store::Course, User) {
    let (_, course) = test.confirmed_course(weeks, units).await;
    test.drain_jobs().await;
    let ada = learner(&test.app, "ada@example.org").await;
    test.app.clock.set(ms(now));
    (course, ada)
}

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

/// The clock moves an hour at a time for `hours`, and the worker runs whatever is due at each step;
/// returns what was sent on the way, each with the time it went.
async fn hours_pass(test: &TestApp, hours: u32) -> Vec<(i64, Sent)> {
    time_passes(test, HOUR, hours).await
}

/// [`hours_pass`], `steps` steps of `step`.
async fn time_passes(test: &TestApp, step: Duration, steps: u32) -> Vec<(i64, Sent)> {
    let mut seen = test.app.mailer.sent().len();
    let mut sent = Vec::new();
    for _ in 0..steps {
        test.app.clock.advance(step);
        test.drain_jobs().await;
        let now = test.app.mailer.sent();
        for message in &now[seen..] {
            sent.push((test.app.clock.now_ms(), message.clone()));
        }
        seen = now.len();
    }
    sent
}

fn text(sent: &Sent) -> String {
    readable(&sent.raw)
}

fn local(ms: i64, zone: &str) -> jiff::Zoned {
    Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(TimeZone::get(zone).unwrap())
}

#[tokio::test]
async fn a_course_arrives_one_unit_each_morning_at_the_learners_hour_across_a_dst_change() {
    let test = mail_app().await;
    // Noon in New York on Friday 12 March 2027; the clocks spring forward on Sunday the 14th.
    let (course, ada) = written(&test, 2, 3, "2027-03-12T17:00:00Z").await;
    let subscription = started(
        &test,
        &SubscribeRequest {
            course: &course,
            user: Some(&ada),
            email: "",
            pace: Pace::Daily,
            hour: 7,
            time_zone: "America/New_York",
            after: 0,
        },
    )
    .await;

    let sent = hours_pass(&test, 24 * 9).await;
    let units = test.app.store.units(course.id).await.unwrap();
    assert_eq!(
        sent.len(),
        units.len() + 1,
        "six units and the closing mail"
    );
    for (day, ((at, message), unit)) in sent.iter().zip(&units).enumerate() {
        let local = local(*at, "America/New_York");
        assert_eq!(
            (local.day(), local.hour()),
            (13 + day as i8, 7),
            "unit {}",
            unit.position
        );
        let id = format!("<unit-{}-{}@", subscription.id, unit.id);
        assert!(
            message.message_id.starts_with(&id),
            "{}",
            message.message_id
        );
        let raw = text(message);
        assert!(raw.contains("To: ada@example.org"), "{raw}");
        assert!(raw.contains(&unit.title), "{raw}");
        assert!(
            raw.contains(&format!("Unit {} of 6", unit.position)),
            "{raw}"
        );
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(raw.contains("Content-Type: text/html"), "{raw}");
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
        assert!(
            raw.contains(&format!("/mail/subscriptions/{}/", subscription.id)),
            "{raw}"
        );
        assert!(
            raw.contains(&format!(
                "/courses/{}/weeks/{}/units/{}#quiz",
                course.slug, unit.week, unit.number
            )),
            "{raw}"
        );
        match units.get(day + 1) {
            Some(next) => assert!(
                raw.contains(&format!(
                    "Next up, in your next email: unit {}",
                    next.position
                )),
                "{raw}"
            ),
            None => assert!(raw.contains("This was the last unit"), "{raw}"),
        }
    }
    let (at, closing) = sent.last().unwrap();
    assert_eq!(local(*at, "America/New_York").day(), 19);
    assert!(
        text(closing).contains("That was every unit of"),
        "{}",
        text(closing)
    );
    let done = test
        .app
        .store
        .subscription(subscription.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, SubscriptionState::Finished);
}

#[tokio::test]
async fn an_address_given_signed_out_gets_only_its_confirmation_until_the_link_is_followed() {
    let test = mail_app().await;
    let (_, course) = test.confirmed_course(1, 2).await;
    test.drain_jobs().await;
    test.app.clock.set(ms("2026-12-07T09:30:00Z"));
    let request = SubscribeRequest {
        course: &course,
        user: None,
        email: "Bob@Example.ORG",
        pace: Pace::Daily,
        hour: 10,
        time_zone: "Europe/Paris",
        after: 0,
    };
    let Subscribed::Confirming(subscription) = test.app.subscribe(&request).await.unwrap() else {
        panic!("confirmed first");
    };
    assert_eq!(subscription.email, "Bob@example.org");

    let sent = hours_pass(&test, 30).await;
    assert_eq!(sent.len(), 1, "only the confirmation");
    let raw = text(&sent[0].1);
    assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    let signature = confirm_signature(&raw, subscription.id);

    assert!(
        test.app
            .confirm_subscription(subscription.id, "0123")
            .await
            .unwrap()
            .is_none()
    );
    let confirmed = test
        .app
        .confirm_subscription(subscription.id, &signature)
        .await
        .unwrap()
        .expect("the link confirms");
    assert_eq!(confirmed.state, SubscriptionState::Active);
    assert!(
        test.app
            .confirm_subscription(subscription.id, &signature)
            .await
            .unwrap()
            .is_none(),
        "a link confirms once"
    );
    let sent = hours_pass(&test, 24).await;
    assert_eq!(sent.len(), 1, "the first unit, at 10:00 in Paris");
    assert_eq!(local(sent[0].0, "Europe/Paris").hour(), 10);

    // A request not confirmed within 48 hours lapses.
    let carol = SubscribeRequest {
        email: "carol@example.org",
        ..request
    };
    let Subscribed::Confirming(lapsing) = test.app.subscribe(&carol).await.unwrap() else {
        panic!("confirming");
    };
    let sent = hours_pass(&test, 49).await;
    assert_eq!(
        sent.len(),
        3,
        "Carol's confirmation, Bob's second unit and his closing mail"
    );
    let raw = sent
        .iter()
        .map(|(_, sent)| text(sent))
        .find(|raw| raw.contains("carol@"))
        .unwrap();
    let signature = confirm_signature(&raw, lapsing.id);
    assert!(
        test.app
            .confirm_subscription(lapsing.id, &signature)
            .await
            .unwrap()
            .is_none(),
        "lapsed after 48 hours"
    );
}

#[tokio::test]
async fn an_account_whose_address_was_never_confirmed_confirms_it_before_any_unit_comes() {
    let test = mail_app().await;
    let (_, course) = test.confirmed_course(1, 2).await;
    test.drain_jobs().await;
    test.app.clock.set(ms("2026-12-07T09:30:00Z"));
    let new = NewUser {
        email: "eve@example.org",
        display_name: "Someone with Eve's address",
        password_hash: None,
        is_admin: false,
        passkey: None,
    };
    let eve = test.app.store.create_user(&new, 1_000).await.unwrap();
    let request = SubscribeRequest {
        course: &course,
        user: Some(&eve),
        email: "",
        pace: Pace::Daily,
        hour: 10,
        time_zone: "UTC",
        after: 0,
    };
    let Subscribed::Confirming(subscription) = test.app.subscribe(&request).await.unwrap() else {
        panic!("an address never confirmed is confirmed first");
    };
    let sent = hours_pass(&test, 30).await;
    assert_eq!(sent.len(), 1, "only the confirmation");
    let signature = confirm_signature(&text(&sent[0].1), subscription.id);
    test.app
        .confirm_subscription(subscription.id, &signature)
        .await
        .unwrap()
        .expect("the link confirms");
    assert!(
        test.app
            .store
            .email_verified_at(eve.id)
            .await
            .unwrap()
            .is_some(),
        "the link reached the account's address, so it is confirmed"
    );
    assert_eq!(hours_pass(&test, 24).await.len(), 1, "the first unit");
    // From now on a change of pace starts at once.
    let weekly = SubscribeRequest {
        pace: Pace::Weekly,
        ..request
    };
    let changed = started(&test, &weekly).await;
    assert_eq!((changed.id, changed.pace_days), (subscription.id, 7));
}

/// A signed-in learner's subscription, started.
async fn started(test: &TestApp, request: &SubscribeRequest<'_>) -> Subscription {
    match test.app.subscribe(request).await.unwrap() {
        Subscribed::Active(subscription) => subscription,
        other => panic!("{other:?}"),
    }
}

/// Ada's subscription from unit 1's page: every two days at 08:00 UTC.
async fn subscribed(test: &TestApp, course: &lyceum_store::Course, ada: &User) -> Subscription {
    started(
        test,
        &SubscribeRequest {
            course,
            user: Some(ada),
            email: "",
            pace: Pace::EveryTwoDays,
            hour: 8,
            time_zone: "UTC",
            after: 1,
        },
    )
    .await
}

async fn change(
    test: &TestApp,
    subscription: &Subscription,
    change: SubscriptionChange<'_>,
) -> Subscription {
    test.app
        .change_subscription(subscription, change)
        .await
        .unwrap()
}

#[tokio::test]
async fn pausing_keeps_the_place_and_stopping_sends_nothing_more() {
    let test = mail_app().await;
    let (course, ada) = written(&test, 2, 2, "2026-12-07T00:00:00Z").await;
    let subscription = subscribed(&test, &course, &ada).await;

    // From the first unit's page: the drip starts with the second, every two days at 08:00 UTC.
    let sent = hours_pass(&test, 24 * 3).await;
    assert_eq!(
        sent.len(),
        2,
        "{:?}",
        sent.iter().map(|(at, _)| at).collect::<Vec<_>>()
    );
    assert_eq!(local(sent[0].0, "UTC").day(), 7);
    assert_eq!(local(sent[1].0, "UTC").day(), 9);
    assert!(text(&sent[0].1).contains("Unit 2 of 4"));

    let paused = change(&test, &subscription, SubscriptionChange::Pause).await;
    assert_eq!(paused.state, SubscriptionState::Paused);
    assert!(
        hours_pass(&test, 24 * 5).await.is_empty(),
        "nothing while paused"
    );
    let resumed = change(&test, &paused, SubscriptionChange::Resume).await;
    assert_eq!(resumed.place, 3);
    let sent = hours_pass(&test, 24).await;
    assert_eq!(sent.len(), 1);
    assert!(
        text(&sent[0].1).contains("Unit 4 of 4"),
        "the place was kept"
    );

    let stopped = change(&test, &resumed, SubscriptionChange::Stop).await;
    assert_eq!(stopped.state, SubscriptionState::Stopped);
    assert!(
        hours_pass(&test, 24 * 4).await.is_empty(),
        "not even the closing mail"
    );
}

#[tokio::test]
async fn a_drip_never_outlives_the_account_it_belongs_to() {
    let test = mail_app().await;
    let (course, ada) = written(&test, 1, 3, "2026-12-07T00:00:00Z").await;
    let subscription = subscribed(&test, &course, &ada).await;
    assert!(test.app.store.delete_user(ada.id, true).await.unwrap());
    assert!(hours_pass(&test, 24 * 5).await.is_empty());
    assert!(
        test.app
            .store
            .subscription(subscription.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        test.app.store.job_count().await.unwrap(),
        0,
        "its drip job ended too"
    );
}

/// The application sending through `peer` with `security`, trusting the peer's test authority.
async fn smtp_app(peer: &SmtpPeer, security: SmtpSecurity) -> TestApp {
    let port = peer.port;
    let authority = peer.authority();
    spawn_app_with(move |settings| {
        settings.mail.transport = MailTransport::Smtp;
        settings.mail.smtp.host = "localhost".into();
        settings.mail.smtp.port = port;
        settings.mail.smtp.security = security;
        settings.mail.smtp.ca_certificate = authority;
        settings.mail.smtp.timeout_secs = 10;
    })
    .await
}

#[tokio::test]
async fn the_drip_speaks_real_smtp_with_starttls_one_message_per_due_unit() {
    let Some(peer) = SmtpPeer::start(Mode::StartTls) else {
        return;
    };
    let test = smtp_app(&peer, SmtpSecurity::Starttls).await;
    let (course, ada) = written(&test, 1, 2, "2026-12-07T00:00:00Z").await;
    let subscription = subscribed(&test, &course, &ada).await;

    // From unit 1's page: unit 2 on the 7th at 08:00 UTC, the closing mail two days later.
    hours_pass(&test, 24 * 5).await;
    let messages = peer.messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let units = test.app.store.units(course.id).await.unwrap();
    let unit = &messages[0];
    assert!(
        unit.starts_with("X-Peer-Envelope: lyceum@localhost -> ada@example.org (tls)"),
        "{unit}"
    );
    assert!(
        unit.contains(&format!(
            "Message-ID: <unit-{}-{}@",
            subscription.id, units[1].id
        )),
        "{unit}"
    );
    assert!(unit.contains("List-Unsubscribe: <http://"), "{unit}");
    assert!(
        unit.contains(&format!("/mail/subscriptions/{}/", subscription.id)),
        "{unit}"
    );
    assert!(
        unit.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{unit}"
    );
    assert!(
        unit.contains("Content-Type: text/plain") && unit.contains("Content-Type: text/html"),
        "{unit}"
    );
    assert!(
        messages[1].contains(&format!("Message-ID: <finished-{}@", subscription.id)),
        "{}",
        messages[1]
    );
    let delivered = test.app.store.deliveries_of(subscription.id).await.unwrap();
    assert_eq!(delivered.len(), 2);
    for delivery in delivered {
        assert_eq!(delivery.state, DeliveryState::Sent);
        assert!(delivery.reply.unwrap().starts_with("250 2.0.0 kept as"));
    }
}

#[tokio::test]
async fn a_server_that_refuses_for_now_is_tried_again_and_one_that_refuses_for_good_stops_the_drip()
{
    let Some(busy) = SmtpPeer::start(Mode::Reply(451)) else {
        return;
    };
    let test = smtp_app(&busy, SmtpSecurity::None).await;
    let (course, ada) = written(&test, 1, 4, "2026-12-07T07:30:00Z").await;
    let subscription = subscribed(&test, &course, &ada).await;
    hours_pass(&test, 1).await;
    let mut deliveries = test.app.store.deliveries_of(subscription.id).await.unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let delivery = deliveries.remove(0);
    assert_eq!(
        delivery.state,
        DeliveryState::Queued,
        "kept for another try"
    );
    assert!(
        delivery.reply.as_deref().unwrap().contains("451"),
        "{delivery:?}"
    );
    // 1 + 2 + 4 + 8 + 16 + 32 + 60 minutes later, the eighth try has failed too.
    time_passes(&test, Duration::from_secs(60), 122).await;
    let delivery = test.app.store.delivery(delivery.id).await.unwrap().unwrap();
    assert_eq!(
        (delivery.state, delivery.attempts),
        (DeliveryState::Queued, 7),
        "{delivery:?}"
    );
    time_passes(&test, Duration::from_secs(60), 2).await;
    let delivery = test.app.store.delivery(delivery.id).await.unwrap().unwrap();
    assert_eq!(
        (delivery.state, delivery.attempts),
        (DeliveryState::Failed, 8),
        "{delivery:?}"
    );
    drop(test);

    let Some(gone) = SmtpPeer::start(Mode::Reply(550)) else {
        return;
    };
    let test = smtp_app(&gone, SmtpSecurity::None).await;
    let (course, ada) = written(&test, 1, 4, "2026-12-07T00:00:00Z").await;
    let daily = SubscribeRequest {
        course: &course,
        user: Some(&ada),
        email: "",
        pace: Pace::Daily,
        hour: 8,
        time_zone: "UTC",
        after: 0,
    };
    let subscription = started(&test, &daily).await;
    hours_pass(&test, 24 * 5).await;
    let deliveries = test.app.store.deliveries_of(subscription.id).await.unwrap();
    assert_eq!(
        deliveries.len(),
        3,
        "three refusals in a row, then no fourth try: {deliveries:#?}"
    );
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.state == DeliveryState::Failed)
    );
    let stopped = test
        .app
        .store
        .subscription(subscription.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.state, SubscriptionState::Stopped);
    assert!(stopped.stopped_why.unwrap().contains("550"));
}
