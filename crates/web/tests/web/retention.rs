//! What the privacy page promises to forget is forgotten on time, on a quiet site too.

use std::time::Duration;

use lyceum_course::{CourseRequest, Description, UnitsPerWeek, Weeks};
use lyceum_web::client::Client;

use crate::helpers::spawn_web;

#[tokio::test]
async fn addresses_after_an_hour_and_drafts_after_a_day_are_forgotten_with_no_new_visitor() {
    let test = spawn_web().await;
    let mut request =
        CourseRequest::new(Description::parse("How bridges carry their loads").unwrap());
    request.weeks = Weeks::new(1).unwrap();
    request.units_per_week = UnitsPerWeek::new(1).unwrap();
    let id = test
        .web
        .drafts
        .start(
            std::sync::Arc::clone(&test.app),
            request,
            Client([198, 51, 100, 4].into()),
            0,
        )
        .unwrap();
    let draft = test.web.drafts.get(&id).unwrap();
    let mut changes = draft.changes();
    while draft.state().result.is_none() {
        changes.changed().await.unwrap();
    }
    test.web
        .draft_limit
        .check(Client([198, 51, 100, 4].into()), 1)
        .unwrap();

    tokio::time::pause();
    let forgetting = tokio::spawn(lyceum_web::forget_expired(test.web.clone()));
    // The clock is paused: time passes only when the test says, and the runtime then runs the timers
    // that came due (a paused sleep returns at once, after they ran).
    let after = |hours: u64| async move {
        tokio::time::advance(Duration::from_secs(hours * 3600 + 60)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    after(1).await;
    assert_eq!(test.web.draft_limit.remembered(), 0);
    assert_eq!(test.web.drafts.count(), 1, "a draft is kept for a day");
    after(23).await;
    assert_eq!(test.web.drafts.count(), 0);
    assert!(test.web.drafts.get(&id).is_none());
    forgetting.abort();
}
