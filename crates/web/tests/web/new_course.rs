//! Making a course on the web: the form, its errors, drafting the outline live, confirming it, and the
//! per-address limit.

use axum::http::StatusCode;

use crate::helpers::spawn_web;
use crate::live::read_events;

const COURSE: &str = "/courses/a-course-on-how-bridges-carry-their-loads";

fn form<'a>(description: &'a str, weeks: &'a str, language: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("description", description),
        ("weeks", weeks),
        ("units_per_week", "2"),
        ("language", language),
        ("level", "intermediate"),
        ("audience", "civil engineering students"),
    ]
}

#[tokio::test]
async fn the_home_page_offers_the_form_with_its_defaults() {
    let web = spawn_web().await;
    let home = web.get("/").await;
    assert!(
        home.html
            .contains("<form method=\"post\" action=\"/courses\""),
        "{}",
        home.html
    );
    assert!(home.html.contains(
        "name=\"weeks\" type=\"number\" min=\"1\" max=\"26\" list=\"week-presets\" value=\"12\""
    ));
    for preset in ["4", "8", "12", "13"] {
        assert!(
            home.html.contains(&format!("<option value=\"{preset}\">")),
            "{preset}"
        );
    }
    assert!(
        home.html
            .contains("<option value=\"French\">Français</option>")
    );
    assert!(home.html.contains("<option value=\"beginner\" selected>"));
}

#[tokio::test]
async fn bad_answers_are_shown_next_to_their_fields_and_what_was_typed_is_kept() {
    let web = spawn_web().await;
    let page = web
        .post_form(
            "/courses",
            &[
                ("description", "abc"),
                ("weeks", "40"),
                ("units_per_week", "two"),
                ("language", "klingon"),
                ("level", "beginner"),
                ("audience", "bees & <wasps>"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (id, message) in [
        ("description-error", "is 3 characters long"),
        ("weeks-error", "must be between 1 and 26, not 40"),
        (
            "units-error",
            "must be a whole number between 1 and 6, not &#34;two&#34;",
        ),
        ("language-error", "is not a language"),
    ] {
        let at = page
            .html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}: {}", page.html));
        assert!(
            page.html[at..at + 200].contains(message),
            "{id}: {}",
            &page.html[at..at + 200]
        );
    }
    assert!(
        page.html.contains(">abc</textarea>"),
        "the description is kept"
    );
    assert!(page.html.contains("value=\"40\""), "the weeks are kept");
    assert!(
        page.html.contains("value=\"bees &#38; &#60;wasps&#62;\""),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("aria-invalid=\"true\" aria-describedby=\"weeks-error\"")
    );
    assert!(web.model.calls().is_empty(), "nothing was drafted");
}

#[tokio::test]
async fn a_course_is_drafted_while_the_person_watches_and_created_when_confirmed() {
    let web = spawn_web().await;
    let started = web
        .post_form(
            "/courses",
            &form("How bridges carry their loads", "2", "French"),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    let draft = started.headers["location"].to_str().unwrap().to_owned();
    assert!(
        draft.starts_with("/drafts/") && draft.len() == "/drafts/".len() + 32,
        "{draft}"
    );

    let (content_type, body) = web.stream(&format!("{draft}/live")).await;
    assert_eq!(content_type, "text/event-stream");
    let events = read_events(body, "done").await;
    assert!(
        events
            .iter()
            .any(|(name, html)| name == "html" && html.contains("Week 2: Stage 2 foundations")),
        "{events:?}"
    );

    let ready = web.get(&draft).await;
    assert!(ready.html.contains("Topic 2.2 in depth"), "{}", ready.html);
    assert!(
        ready.html.contains(&format!("action=\"{draft}/confirm\"")),
        "{}",
        ready.html
    );
    assert!(
        web.get(COURSE).await.status == StatusCode::NOT_FOUND,
        "nothing is stored before confirming"
    );

    let confirmed = web.post_form(&format!("{draft}/confirm"), &[]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(confirmed.headers["location"], COURSE);
    let course = web.get(COURSE).await;
    assert!(
        course.html.contains("0 of 4 units written"),
        "{}",
        course.html
    );
    assert!(
        course.html.contains("lang=\"fr\""),
        "written in the language asked for"
    );
    assert!(course.html.contains("for civil engineering students"));

    // Confirming twice, or opening the draft again, leads to the same course.
    let again = web.post_form(&format!("{draft}/confirm"), &[]).await;
    assert_eq!(again.headers["location"], COURSE);
    assert_eq!(web.get(&draft).await.status, StatusCode::SEE_OTHER);
    assert_eq!(web.app.store.list_courses(10, 0).await.unwrap().len(), 1);

    web.drain_jobs().await;
    assert!(web.get(COURSE).await.html.contains("4 of 4 units written"));
}

#[tokio::test]
async fn one_address_may_start_ten_drafts_an_hour() {
    let web = spawn_web().await;
    for n in 0..10 {
        let topic = format!("Bridge building, part {n}");
        let page = web
            .post_form("/courses", &form(&topic, "1", "English"))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "draft {n}");
    }
    let refused = web
        .post_form("/courses", &form("One bridge too many", "1", "English"))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    assert!(refused.html.contains("Please wait a little"));
    // A form with mistakes is not counted: it never reaches the limit.
    let invalid = web
        .post_form("/courses", &form("abc", "1", "English"))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        web.get("/drafts/0123456789abcdef0123456789abcdef")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_nothing_is_drafted() {
    let web = spawn_web().await;
    let huge = "a".repeat(70 * 1024);
    let page = web
        .post_form("/courses", &form(&huge, "1", "English"))
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(web.model.calls().is_empty());
}

#[tokio::test]
async fn titles_renamed_before_confirming_are_kept_and_bad_ones_are_explained() {
    let web = spawn_web().await;
    let started = web
        .post_form(
            "/courses",
            &form("How bridges carry their loads", "2", "English"),
        )
        .await;
    let draft = started.headers["location"].to_str().unwrap().to_owned();
    read_events(web.stream(&format!("{draft}/live")).await.1, "done").await;
    let ready = web.get(&draft).await;
    assert!(
        ready
            .html
            .contains("name=\"unit-1-2\" value=\"Topic 1.2 in depth\""),
        "{}",
        ready.html
    );
    assert!(
        ready.html.contains("Describe topic 1.2"),
        "objectives are shown"
    );

    // A blank unit title and a repeated week title: nothing is stored, the edits are kept.
    let refused = web
        .post_form(
            &format!("{draft}/confirm"),
            &[
                ("title", "Bridges, from beams to suspension"),
                ("week-2", "Stage 1 foundations"),
                ("unit-1-2", "  "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("Unit 1.2 title is empty"),
        "{}",
        refused.html
    );
    assert!(
        refused
            .html
            .contains("Week 2 title repeats the week title &#34;Stage 1 foundations&#34;"),
        "{}",
        refused.html
    );
    assert!(
        refused
            .html
            .contains("value=\"Bridges, from beams to suspension\"")
    );
    assert!(web.app.store.list_courses(10, 0).await.unwrap().is_empty());

    let confirmed = web
        .post_form(
            &format!("{draft}/confirm"),
            &[
                ("title", "Bridges, from beams to suspension"),
                ("week-2", "Long spans"),
                ("unit-1-2", "Why arches stand"),
            ],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.html
    );
    let course = confirmed.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(course, "/courses/bridges-from-beams-to-suspension");
    let page = web.get(&course).await;
    assert!(
        page.html
            .contains("<h1>Bridges, from beams to suspension</h1>"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Week 2: Long spans"));
    assert!(page.html.contains("Why arches stand"));
    assert!(
        page.html.contains("Topic 1.1 in depth"),
        "untouched titles stay"
    );
}
