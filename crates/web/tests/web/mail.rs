//! The mail pages: the form on course and unit pages, the confirmation link, and a subscription's
//! signed page, whose GET never changes anything and whose one-click POST (RFC 8058) stops the drip.

use axum::http::StatusCode;
use lyceum_app::settings::MailTransport;
use lyceum_store::SubscriptionState;

use crate::account_mail::confirmed_sign_up;
use crate::helpers::{Browser, TestWeb, location, spawn_web_with};

pub(crate) async fn mail_web() -> TestWeb {
    spawn_web_with(|settings| settings.mail.transport = MailTransport::Memory).await
}

/// The path of the first link in the newest mail that starts with `prefix`.
fn link_in_last_mail(web: &TestWeb, prefix: &str) -> String {
    let sent = web.app.mailer.sent();
    let raw = lyceum_testkit::smtp::readable(&sent.last().expect("a mail was sent").raw);
    let at = raw
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {raw}"));
    raw[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
        .collect()
}

/// The first subscription of the account with `email`.
pub(crate) async fn first_subscription(web: &TestWeb, email: &str) -> lyceum_store::Subscription {
    let (user, _) = web.app.store.user_by_email(email).await.unwrap().unwrap();
    let (subscription, _, _) = web
        .app
        .store
        .subscriptions_of(user.id)
        .await
        .unwrap()
        .remove(0);
    subscription
}

#[tokio::test]
async fn an_address_given_on_the_course_page_is_confirmed_by_a_click_not_by_a_visit() {
    let web = mail_web().await;
    let course = web.course("The tides of the oceans", 1, 2).await;
    web.drain_jobs().await;
    let href = format!("/courses/{}", course.slug);
    let page = web.get(&href).await;
    assert!(
        page.html.contains("Get the next unit by email"),
        "{}",
        page.html
    );
    assert!(page.html.contains(&format!("action=\"{href}/email\"")));

    let asked = web
        .post_form(
            &format!("{href}/email"),
            &[
                ("email", "bob@example.org"),
                ("pace", "weekly"),
                ("hour", "9"),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(asked.html.contains("Check your inbox"), "{}", asked.html);
    web.drain_jobs().await;
    let confirm = link_in_last_mail(&web, "/mail/confirm/");

    // Opening the link (as a mail scanner does) shows a button and confirms nothing.
    let shown = web.get(&confirm).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains(">Confirm</button>"), "{}", shown.html);
    let id: i64 = confirm.split('/').nth(3).unwrap().parse().unwrap();
    let waiting = web.app.store.subscription(id).await.unwrap().unwrap();
    assert_eq!(waiting.state, SubscriptionState::Unconfirmed);

    let confirmed = web.post_form(&confirm, &[]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.html);
    assert!(confirmed.html.contains("You are in"), "{}", confirmed.html);
    let active = web.app.store.subscription(id).await.unwrap().unwrap();
    assert_eq!(
        (active.state, active.pace_days, active.hour),
        (SubscriptionState::Active, 7, 9)
    );
    assert_eq!(active.time_zone, "Europe/Berlin");
    let again = web.post_form(&confirm, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a link confirms once");
    assert!(again.html.contains("This link no longer works"));

    // An address that is not one, or a zone that is not one: the form again, saying what to change.
    for (email, zone, says) in [
        ("not an address", "Europe/Berlin", "address"),
        ("carol@example.org", "Mars/Olympus", "not a time zone"),
    ] {
        let refused = web
            .post_form(
                &format!("{href}/email"),
                &[
                    ("email", email),
                    ("pace", "daily"),
                    ("hour", "8"),
                    ("time_zone", zone),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.html
        );
        assert!(refused.html.contains(says), "{}", refused.html);
        assert!(
            refused.html.contains(&format!("value=\"{zone}\"")),
            "what was typed stays"
        );
    }
}

#[tokio::test]
async fn a_signed_link_shows_the_subscription_and_only_a_post_stops_it() {
    let web = mail_web().await;
    let course = web.course("The tides of the oceans", 1, 3).await;
    web.drain_jobs().await;
    let mut browser = Browser::new(&web);
    confirmed_sign_up(&web, &mut browser, "Ada", "ada@example.org").await;
    let unit = web.app.store.units(course.id).await.unwrap()[0].clone();
    let unit_page = browser
        .get(&format!("/courses/{}/weeks/1/units/1", course.slug))
        .await;
    assert!(
        unit_page
            .html
            .contains("to your account's address (a…@example.org)"),
        "{}",
        unit_page.html
    );
    let csrf = Browser::hidden(&unit_page, "csrf");
    let started = browser
        .post(
            &format!("/courses/{}/email", course.slug),
            &[
                ("csrf", &csrf),
                ("after_unit", &unit.id.to_string()),
                ("pace", "daily"),
                ("hour", "7"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.html);
    assert!(
        started
            .html
            .contains("The next unit will come to a…@example.org"),
        "{}",
        started.html
    );
    let subscription = first_subscription(&web, "ada@example.org").await;
    assert_eq!(
        subscription.place, 1,
        "from the first unit's page, the drip starts after it"
    );

    let link = lyceum_app::mail::Link::Manage(subscription.id)
        .path(&web.app.store)
        .await
        .unwrap();
    let page = web.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Unit 2 of 3"), "{}", page.html);
    assert!(page.html.contains("Stop these emails"));
    let forged = web
        .get(&format!(
            "/mail/subscriptions/{}/{}",
            subscription.id,
            "0".repeat(32)
        ))
        .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    let state = || async {
        web.app
            .store
            .subscription(subscription.id)
            .await
            .unwrap()
            .unwrap()
            .state
    };
    assert_eq!(
        state().await,
        SubscriptionState::Active,
        "a GET changes nothing"
    );

    let paused = web.post_form(&link, &[("action", "pause")]).await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&paused), link);
    assert_eq!(state().await, SubscriptionState::Paused);
    let bad_zone = web
        .post_form(
            &link,
            &[
                ("action", "schedule"),
                ("pace", "daily"),
                ("hour", "7"),
                ("time_zone", "Nowhere"),
            ],
        )
        .await;
    assert_eq!(bad_zone.status, StatusCode::UNPROCESSABLE_ENTITY);
    web.post_form(&link, &[("action", "resume")]).await;
    assert_eq!(state().await, SubscriptionState::Active);

    // A mail client's one-click POST, from its own servers: no browser headers.
    let one_click = web
        .post(
            &link,
            &[("content-type", "application/x-www-form-urlencoded")],
            "List-Unsubscribe=One-Click".into(),
        )
        .await;
    assert_eq!(one_click.status, StatusCode::OK, "{}", one_click.html);
    assert_eq!(state().await, SubscriptionState::Stopped);
    let after = web.get(&link).await;
    assert!(
        after.html.contains("Stopped: stopped by the learner"),
        "{}",
        after.html
    );
}

#[tokio::test]
async fn the_account_page_lists_each_course_that_comes_by_email_with_its_own_link() {
    let web = mail_web().await;
    let course = web.course("The tides of the oceans", 1, 2).await;
    web.drain_jobs().await;
    let mut browser = Browser::new(&web);
    confirmed_sign_up(&web, &mut browser, "Ada", "ada@example.org").await;
    let account = browser.get("/account").await;
    assert!(
        account.html.contains("Courses by email"),
        "{}",
        account.html
    );
    assert!(!account.html.contains("Change or stop…"));
    let page = browser.get(&format!("/courses/{}", course.slug)).await;
    let csrf = Browser::hidden(&page, "csrf");
    browser
        .post(
            &format!("/courses/{}/email", course.slug),
            &[
                ("csrf", &csrf),
                ("pace", "two-days"),
                ("hour", "18"),
                ("time_zone", "Asia/Tokyo"),
            ],
        )
        .await;
    let account = browser.get("/account").await;
    assert!(
        account.html.contains("Every two days at 18:00; next unit"),
        "{}",
        account.html
    );
    let subscription = first_subscription(&web, "ada@example.org").await;
    let link = lyceum_app::mail::Link::Manage(subscription.id)
        .path(&web.app.store)
        .await
        .unwrap();
    assert!(
        account.html.contains(&format!("href=\"{link}\"")),
        "{}",
        account.html
    );
}
