//! The mail an account gets: "your course is ready" once to a course's maker (with a link that stops
//! it), the link that confirms the address, and a new password through a link that works once and
//! lapses. Every link only shows a page when opened; a button on it does the deed.

use std::time::Duration;

use axum::http::StatusCode;
use lyceum_app::mail::account::RESET_MINUTES;

use crate::accounts::PASSWORD;
use crate::helpers::{Browser, TestWeb, location};
use crate::mail::mail_web;
use crate::ownership::make_course;

/// Every mail sent so far to `address`, as a person reads it.
fn mails_to(web: &TestWeb, address: &str) -> Vec<String> {
    web.app
        .mailer
        .sent()
        .iter()
        .map(|sent| lyceum_testkit::smtp::readable(&sent.raw))
        .filter(|mail| {
            mail.contains(&format!("To: {address}")) || mail.contains(&format!("<{address}>"))
        })
        .collect()
}

/// The path of the first link in `mail` that starts with `prefix`.
fn link_in(mail: &str, prefix: &str) -> String {
    let at = mail
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {mail}"));
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c))
        .collect()
}

fn with_subject<'a>(mails: &'a [String], subject: &str) -> Vec<&'a String> {
    mails
        .iter()
        .filter(|mail| mail.contains(&format!("Subject: {subject}")))
        .collect()
}

/// Signs up in `browser` and follows the link that confirms the address, as a learner who reads
/// their mail does.
pub(crate) async fn confirmed_sign_up(
    web: &TestWeb,
    browser: &mut Browser<'_>,
    name: &str,
    email: &str,
) {
    let made = browser.sign_up(name, email, PASSWORD).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    web.drain_jobs().await;
    let mails = mails_to(web, email);
    let link = link_in(
        with_subject(&mails, "Confirm your address")[0],
        "/account/verify/",
    );
    assert_eq!(web.post_form(&link, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_course_made_signed_in_brings_its_maker_one_ready_mail_which_can_stop_them() {
    let web = mail_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut someone = Browser::new(&web);

    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    make_course(&web, &mut someone, "How bridges carry their loads").await;
    web.drain_jobs().await;

    let mails = mails_to(&web, "ada@example.org");
    let ready = with_subject(&mails, "Your course is ready");
    assert_eq!(
        ready.len(),
        1,
        "one mail, once every unit is written: {mails:?}"
    );
    let ready = ready[0];
    assert!(ready.contains("Every unit of"), "{ready}");
    assert!(
        ready.contains(&format!("{hers}\n")) || ready.contains(&format!("{hers}\"")),
        "{ready}"
    );
    assert!(
        ready.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{ready}"
    );
    let all = web.app.mailer.sent().len();
    assert_eq!(
        all,
        mails.len(),
        "nothing to anyone else: the other course has no maker to tell"
    );
    // Writing nothing new sends nothing new.
    web.drain_jobs().await;
    assert_eq!(web.app.mailer.sent().len(), all);

    // The link in it asks before it stops anything (mail scanners open links)...
    let stop = link_in(ready, "/mail/ready/");
    let asked = web.get(&stop).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.html.contains(">Stop these emails</button>"),
        "{}",
        asked.html
    );
    let (user, _) = web
        .app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(web.app.store.ready_mail(user.id).await.unwrap());
    let forged = web.post_form(&format!("{stop}x"), &[]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    // ...and a click (or a mail client's one-click POST) does.
    let stopped = web
        .post_form(&stop, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.html);
    assert!(!web.app.store.ready_mail(user.id).await.unwrap());
    let account = ada.get("/account").await;
    assert!(
        account.html.contains("Email me when one is"),
        "{}",
        account.html
    );

    make_course(&web, &mut ada, "How glaciers carve valleys").await;
    web.drain_jobs().await;
    assert_eq!(web.app.mailer.sent().len(), all, "no mail once stopped");

    // The account page turns it on again.
    let csrf = ada.csrf().await;
    let on = ada
        .post("/account/ready-mail", &[("csrf", &csrf), ("on", "true")])
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert!(web.app.store.ready_mail(user.id).await.unwrap());
    make_course(&web, &mut ada, "How rivers find the sea").await;
    web.drain_jobs().await;
    let mails = mails_to(&web, "ada@example.org");
    assert_eq!(with_subject(&mails, "Your course is ready").len(), 2);
}

#[tokio::test]
async fn signing_up_mails_a_link_that_confirms_the_address_on_a_click() {
    let web = mail_web().await;
    let course = web.course("The tides of the oceans", 1, 2).await;
    web.drain_jobs().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    web.drain_jobs().await;
    let account = ada.get("/account").await;
    assert!(
        account.html.contains("not confirmed yet"),
        "{}",
        account.html
    );

    // Units by email wait for the address too (anyone can make an account with anyone's address).
    let page = ada.get(&format!("/courses/{}", course.slug)).await;
    let csrf = Browser::hidden(&page, "csrf");
    let asked = ada
        .post(
            &format!("/courses/{}/email", course.slug),
            &[
                ("csrf", &csrf),
                ("pace", "daily"),
                ("hour", "8"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.html);
    assert!(
        asked
            .html
            .contains("address is not confirmed yet, so a link to confirm went to a…@example.org"),
        "{}",
        asked.html
    );
    web.drain_jobs().await;

    let mails = mails_to(&web, "ada@example.org");
    let confirm = with_subject(&mails, "Confirm your address");
    assert_eq!(confirm.len(), 1, "{mails:?}");
    assert!(
        !confirm[0].contains("List-Unsubscribe"),
        "a link the account asked for is not a list"
    );
    let link = link_in(confirm[0], "/account/verify/");

    let shown = web.get(&link).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains(">Confirm</button>"), "{}", shown.html);
    assert!(ada.get("/account").await.html.contains("not confirmed yet"));

    let forged = web.post_form(&format!("{link}0"), &[]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(forged.html.contains("This link no longer works"));

    let confirmed = web.post_form(&link, &[]).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.html);
    assert!(confirmed.html.contains("Your address is confirmed"));
    let waited = crate::mail::first_subscription(&web, "ada@example.org").await;
    assert_eq!(
        waited.state,
        lyceum_store::SubscriptionState::Active,
        "the drip that waited for the address starts"
    );
    let account = ada.get("/account").await;
    assert!(
        account
            .html
            .contains("<span class=\"badge\">confirmed</span>"),
        "{}",
        account.html
    );
    assert!(!account.html.contains("Send the confirmation link again"));

    // Asking again once confirmed sends nothing.
    let sent = web.app.mailer.sent().len();
    web.app
        .send_verification(
            &web.app
                .store
                .user_by_email("ada@example.org")
                .await
                .unwrap()
                .unwrap()
                .0,
        )
        .await
        .unwrap();
    web.drain_jobs().await;
    assert_eq!(web.app.mailer.sent().len(), sent);

    // A link lapses after two days.
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    web.drain_jobs().await;
    let mails = mails_to(&web, "bob@example.org");
    let link = link_in(
        with_subject(&mails, "Confirm your address")[0],
        "/account/verify/",
    );
    web.app.clock.advance(Duration::from_secs(49 * 3600));
    let lapsed = web.post_form(&link, &[]).await;
    assert_eq!(lapsed.status, StatusCode::NOT_FOUND);
    assert!(bob.get("/account").await.html.contains("not confirmed yet"));
    // The account page sends a new one.
    let csrf = bob.csrf().await;
    let again = bob.post("/account/verify", &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again
            .html
            .contains("A link to confirm bob@example.org is on its way."),
        "{}",
        again.html
    );
    web.drain_jobs().await;
    let mails = mails_to(&web, "bob@example.org");
    let fresh = with_subject(&mails, "Confirm your address");
    assert_eq!(fresh.len(), 2);
    let link = link_in(fresh[1], "/account/verify/");
    assert_eq!(web.post_form(&link, &[]).await.status, StatusCode::OK);
    assert!(
        bob.get("/account")
            .await
            .html
            .contains("<span class=\"badge\">confirmed</span>")
    );
}

#[tokio::test]
async fn a_forgotten_password_is_set_again_through_a_link_that_works_once_for_an_hour() {
    let web = mail_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let sign_in = web.get("/account/sign-in").await;
    assert!(
        sign_in.html.contains("href=\"/account/forgot\""),
        "{}",
        sign_in.html
    );

    // Known and unknown addresses get the same answer; only a known one gets mail.
    let mut someone = Browser::new(&web);
    let known = someone
        .post("/account/forgot", &[("email", "Ada@Example.org")])
        .await;
    let unknown = someone
        .post("/account/forgot", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(
        (known.status, unknown.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(
        known.html.replace("Ada@Example.org", "…"),
        unknown.html.replace("nobody@example.org", "…")
    );
    web.drain_jobs().await;
    assert!(mails_to(&web, "nobody@example.org").is_empty());
    let mails = mails_to(&web, "ada@example.org");
    let reset = with_subject(&mails, "A new password for Lyceum");
    assert_eq!(reset.len(), 1, "{mails:?}");
    let link = link_in(reset[0], "/account/reset/");

    let form = web.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("Choose a new password"), "{}", form.html);
    let weak = someone.post(&link, &[("password", "password1")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.html.contains("The new password cannot be used"),
        "{}",
        weak.html
    );

    let new = "harbour violet lantern sixty";
    let set = someone.post(&link, &[("password", new)]).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.html);
    assert!(set.html.contains("Your password is set"));
    // Whoever was signed in is signed out; the old password no longer works, the new one does.
    let away = ada.get("/account").await;
    assert_eq!(location(&away), "/account/sign-in");
    let old = ada.sign_in("ada@example.org", PASSWORD).await;
    assert_ne!(old.status, StatusCode::SEE_OTHER);
    let back = ada.sign_in("ada@example.org", new).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    assert!(
        ada.get("/account")
            .await
            .html
            .contains("<span class=\"badge\">confirmed</span>"),
        "the link reached the address, so it is confirmed"
    );

    // The link worked once.
    let used = someone
        .post(&link, &[("password", "another quite long phrase")])
        .await;
    assert_eq!(used.status, StatusCode::NOT_FOUND);
    assert!(used.html.contains("This link no longer works"));
    assert_eq!(web.get(&link).await.status, StatusCode::NOT_FOUND);

    // A new link lapses after an hour.
    someone
        .post("/account/forgot", &[("email", "ada@example.org")])
        .await;
    web.drain_jobs().await;
    let mails = mails_to(&web, "ada@example.org");
    let link = link_in(
        with_subject(&mails, "A new password for Lyceum")[1],
        "/account/reset/",
    );
    web.app.clock.advance(Duration::from_secs(
        60 * u64::try_from(RESET_MINUTES).unwrap() + 1,
    ));
    let lapsed = someone
        .post(&link, &[("password", "another quite long phrase")])
        .await;
    assert_eq!(lapsed.status, StatusCode::NOT_FOUND);
    let still = Browser::new(&web).sign_in("ada@example.org", new).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER);
}
