//! What the privacy page promises to forget is forgotten on time, on a quiet site too.

use std::time::Duration;

use axum::http::StatusCode;
use lyceum_web::client::Client;

use crate::helpers::spawn_web;

#[tokio::test]
async fn addresses_after_an_hour_and_drafts_after_a_day_are_forgotten_with_no_new_visitor() {
    let test = spawn_web().await;
    let started = test
        .post_form(
            "/courses",
            &[
                ("description", "How bridges carry their loads"),
                ("weeks", "1"),
                ("units_per_week", "1"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    let draft = started.headers["location"].to_str().unwrap().to_owned();
    let created_at = test
        .app
        .store
        .draft(draft.trim_start_matches("/drafts/"))
        .await
        .unwrap()
        .created_at;
    test.web
        .draft_limit
        .check(Client([198, 51, 100, 4].into()), 1)
        .unwrap();

    // Drafts are rows with the wall-clock time they started: a day less a minute later the draft
    // is kept, a day and a minute later it is gone.
    let minute = 60_000;
    let day = 24 * 60 * minute;
    assert_eq!(
        test.app
            .forget_expired_drafts(created_at + day - minute)
            .await
            .unwrap(),
        0
    );
    assert_eq!(test.get(&draft).await.status, StatusCode::OK);
    assert_eq!(
        test.app
            .forget_expired_drafts(created_at + day + minute)
            .await
            .unwrap(),
        1
    );
    assert_eq!(test.get(&draft).await.status, StatusCode::NOT_FOUND);

    // Addresses are kept in memory and forgotten by the timer that runs on a quiet site.
    tokio::time::pause();
    let forgetting = tokio::spawn(lyceum_web::forget_expired(test.web.clone()));
    // The clock is paused: time passes only when the test says, and the runtime then runs the timers
    // that came due (a paused sleep returns at once, after they ran).
    tokio::time::advance(Duration::from_secs(3600 + 60)).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(test.web.draft_limit.remembered(), 0);
    forgetting.abort();
}
