//! Per-client limits: outlines drafting at once, course units an hour, live streams held open, and
//! who the client is behind a trusted reverse proxy.

use axum::http::StatusCode;

use crate::helpers::{Page, TestWeb, spawn_web_with};

/// A draft of `weeks` × `units` on `topic`, posted as the form does, from behind a proxy that says
/// it forwards for `client` when one is given.
async fn draft(web: &TestWeb, topic: &str, weeks: u32, units: u32, client: Option<&str>) -> Page {
    let body = format!(
        "description={}&weeks={weeks}&units_per_week={units}&language=English&level=beginner",
        topic.replace(' ', "+")
    );
    let mut headers = vec![
        ("sec-fetch-site", "same-origin"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    if let Some(client) = client {
        headers.push(("x-forwarded-for", client));
    }
    web.post("/courses", &headers, body).await
}

#[tokio::test]
async fn a_client_may_have_two_outlines_drafting_at_once() {
    let web = spawn_web_with(|_| {}).await;
    // No worker runs yet: what is started stays drafting.
    for topic in ["Bridges of Rome", "Bridges of Paris"] {
        assert_eq!(
            draft(&web, topic, 1, 1, None).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let third = draft(&web, "Bridges of London", 1, 1, None).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(third.html.contains("still being drafted"), "{}", third.html);
    assert!(third.headers.contains_key("retry-after"));
    // Once they are drafted, the client may start more; the refusal was not counted.
    web.drain_jobs().await;
    assert_eq!(
        draft(&web, "Bridges of London", 1, 1, None).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn course_units_asked_for_are_counted_an_hour_not_only_drafts() {
    let web = spawn_web_with(|settings| settings.web.drafts_at_once = 0).await;
    // 26 × 6 is 156 units of the 200 an hour.
    let big = draft(&web, "Everything about bridges", 26, 6, None).await;
    assert_eq!(big.status, StatusCode::SEE_OTHER);
    let second = draft(&web, "Everything about tunnels", 26, 6, None).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(second.html.contains("as many courses"), "{}", second.html);
    // What is left of the hour still allows a small course: the refused draft was not counted.
    let small = draft(&web, "Tunnels in short", 4, 3, None).await;
    assert_eq!(small.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    // Requests in these tests come from 203.0.113.7: here it is the site's reverse proxy.
    let web = spawn_web_with(|settings| {
        settings.web.trusted_proxies = vec!["203.0.113.0/24".to_owned().try_into().unwrap()];
        settings.web.drafts_per_hour = 1;
        settings.web.drafts_at_once = 0;
    })
    .await;
    let first = draft(&web, "Bridges of Rome", 1, 1, Some("198.51.100.1")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let other = draft(&web, "Bridges of Paris", 1, 1, Some("198.51.100.2")).await;
    assert_eq!(
        other.status,
        StatusCode::SEE_OTHER,
        "another client behind the proxy"
    );
    let again = draft(&web, "Bridges of Oslo", 1, 1, Some("198.51.100.1")).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    // A client that claims to be someone else is still itself: its claim is the first hop, and the
    // proxy appended the address it really saw.
    let spoofed = draft(
        &web,
        "Bridges of Bern",
        1,
        1,
        Some("192.0.2.99, 198.51.100.1"),
    )
    .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    let web = spawn_web_with(|settings| {
        settings.web.drafts_per_hour = 1;
        settings.web.drafts_at_once = 0;
    })
    .await;
    let first = draft(&web, "Bridges of Rome", 1, 1, Some("198.51.100.1")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second = draft(&web, "Bridges of Paris", 1, 1, Some("198.51.100.2")).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_client_holds_a_bounded_number_of_live_streams() {
    let web = spawn_web_with(|settings| settings.web.streams_per_client = 3).await;
    let course = web.course("How bridges carry their loads", 1, 2).await;
    let live = format!("/courses/{}/live", course.slug);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(web.stream(&live).await);
    }
    let refused = web.get(&live).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.html.contains("pages open that follow writing"),
        "{}",
        refused.html
    );
    assert_eq!(web.web.streams.open_now(), 3);
    drop(open.pop());
    assert_eq!(
        web.web.streams.open_now(),
        2,
        "a closed stream frees its slot"
    );
    let _again = web.stream(&live).await;
}
