//! The JSON API: what the pages show, as data, and an OpenAPI document that matches the routes.

use axum::http::StatusCode;
use serde_json::Value;

use lyceum_testkit::Action;

use crate::helpers::{Page, TestWeb, drain, spawn_web};
use crate::live::read_events;

const SLUG: &str = "a-course-on-how-bridges-carry-their-loads";

fn json(html: &str) -> Value {
    serde_json::from_str(html).unwrap_or_else(|error| panic!("{error}: {html}"))
}

#[tokio::test]
async fn the_api_gives_the_catalog_a_course_a_week_and_a_unit_as_json() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 2, 2).await;
    web.drain_jobs().await;

    let catalog = web.get("/api/courses").await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert_eq!(catalog.headers["content-type"], "application/json");
    let catalog = json(&catalog.html);
    assert_eq!(catalog["courses"][0]["slug"], SLUG);
    assert_eq!(catalog["courses"][0]["url"], format!("/courses/{SLUG}"));
    // Outline, 2 overviews, 4 units, 4 quizzes.
    assert_eq!(catalog["courses"][0]["ready"], 11);
    assert_eq!(catalog["next_page"], Value::Null);

    let course = json(&web.get(&format!("/api/courses/{SLUG}")).await.html);
    assert_eq!(course["weeks"].as_array().unwrap().len(), 2);
    assert_eq!(course["weeks"][1]["title"], "Stage 2 foundations");

    let week = json(&web.get(&format!("/api/courses/{SLUG}/weeks/2")).await.html);
    assert_eq!(week["number"], 2);
    assert!(week["overview"].as_str().unwrap().contains("week 2"));

    let unit = json(
        &web.get(&format!("/api/courses/{SLUG}/weeks/2/units/1"))
            .await
            .html,
    );
    assert_eq!(unit["title"], "Depth study 2.1");
    assert_eq!(unit["status"], "ready");
    assert!(unit["body"].as_str().unwrap().contains("## Key takeaways"));
    assert_eq!(
        unit["quiz"]["questions"][0]["options"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    for path in [
        format!("/api/courses/{SLUG}/weeks/2/units/9"),
        format!("/api/courses/{SLUG}/weeks/9"),
        "/api/courses/no-such-course".to_owned(),
        format!("/api/courses/{SLUG}/weeks/x"),
        format!("/api/courses/{SLUG}/weeks/1/units/99999999999999999999"),
        "/api/courses/%FF".to_owned(),
    ] {
        let missing = web.get(&path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json(&missing.html)["error"], "not found", "{path}");
    }
    for page in ["0", "abc", "99999999999999999999"] {
        let refused = web.get(&format!("/api/courses?page={page}")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{page}");
        assert_eq!(
            json(&refused.html)["error"],
            "page is a whole number from 1"
        );
    }
    // Past the end of any catalog, not an overflow (a 500 on PostgreSQL) or page 1 (SQLite).
    let far = web.get("/api/courses?page=9223372036854775807").await;
    assert_eq!(far.status, StatusCode::OK);
    assert_eq!(json(&far.html)["courses"], serde_json::json!([]));
}

#[tokio::test]
async fn every_path_in_the_openapi_document_is_served() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 1, 1).await;
    web.drain_jobs().await;

    let draft = json(
        &post_json(
            &web,
            "/api/drafts",
            r#"{"description": "How tides rise and fall", "weeks": 1, "units_per_week": 1}"#,
        )
        .await
        .html,
    );
    let id = draft["id"].as_str().unwrap().to_owned();
    // Drafted, so that its live stream ends.
    web.drain_jobs().await;

    let document = json(&web.get("/api/openapi.json").await.html);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "http://localhost:8080");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 9, "{paths:?}");
    for (template, operations) in paths {
        if operations.get("post").is_some() {
            assert!(
                template.starts_with("/api/drafts")
                    || template.ends_with("/quiz")
                    || template.ends_with("/restore")
                    || template.ends_with("/rewrite")
                    || template.ends_with("/chat"),
                "{template} changes something"
            );
            continue;
        }
        let path = template
            .replace("{slug}", SLUG)
            .replace("{week}", "1")
            .replace("{unit}", "1")
            .replace("{id}", &id);
        // Changing and deleting are an account's own: without a token, 401 as documented.
        for method in ["DELETE", "PATCH"] {
            if let Some(operation) = operations.get(method.to_lowercase()) {
                assert!(operation["responses"]["401"].is_object(), "{template}");
                let page = web.call(method, &path, &[], "{}".into()).await;
                assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{method} {template}");
            }
        }
        if operations.get("get").is_none() {
            continue;
        }
        assert!(
            operations["get"]["responses"]["200"].is_object(),
            "{template}"
        );
        let page = web.get(&path).await;
        // An operation that needs a token answers 401 without one, as documented.
        let expected = if operations["get"].get("security").is_some() {
            assert!(
                operations["get"]["responses"]["401"].is_object(),
                "{template}"
            );
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(
            page.status, expected,
            "{template} is documented but not served"
        );
    }
}

/// `body` posted to `path` as JSON by a program (no browser headers).
async fn post_json(web: &TestWeb, path: &str, body: &str) -> Page {
    web.post(
        path,
        &[("content-type", "application/json")],
        body.to_owned(),
    )
    .await
}

/// Confirms draft `id` with `outline` as edited.
async fn confirm_edited(web: &TestWeb, id: &str, outline: &Value) -> Page {
    post_json(
        web,
        &format!("/api/drafts/{id}/confirm"),
        &serde_json::json!({ "outline": outline }).to_string(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_drafts_follows_edits_and_confirms_a_course_through_the_api() {
    let web = spawn_web().await;
    web.model.script("outline week 1", Action::Hold);
    let created = post_json(
        &web,
        "/api/drafts",
        r#"{"description": "How tides rise and fall", "weeks": 2, "units_per_week": 2, "language": "fr", "level": "advanced"}"#,
    )
    .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.html);
    let draft = json(&created.html);
    let id = draft["id"].as_str().unwrap();
    assert_eq!(created.headers["location"], format!("/api/drafts/{id}"));
    assert_eq!(draft["status"], "drafting");

    // Confirming before the outline is drafted is a conflict, and stores nothing.
    let worker = tokio::spawn(drain(web.clone_app()));
    assert_eq!(web.model.held().await, "outline week 1");
    let early = post_json(&web, &format!("/api/drafts/{id}/confirm"), "").await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.html);
    assert!(
        json(&early.html)["error"]
            .as_str()
            .unwrap()
            .contains("still being drafted")
    );
    web.model.release();

    // The live stream carries the draft as JSON, growing, then `done`.
    let events = read_events(
        web.stream(&format!("/api/drafts/{id}/live")).await.1,
        "done",
    )
    .await;
    worker.await.unwrap();
    let drafts: Vec<Value> = events
        .iter()
        .filter(|(name, _)| name == "draft")
        .map(|(_, data)| json(data))
        .collect();
    let last = drafts.last().unwrap();
    assert_eq!(last["status"], "ready");
    assert_eq!(last["weeks"][1]["units"][1]["title"], "Depth study 2.2");
    let mut outline = last["outline"].clone();
    assert_eq!(outline["modules"].as_array().unwrap().len(), 2);
    assert_eq!(
        json(&web.get(&format!("/api/drafts/{id}")).await.html),
        *last
    );

    // An edit that breaks the rules says where, and stores nothing.
    outline["modules"][0]["units"][1]["title"] = "".into();
    let refused = confirm_edited(&web, id, &outline).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.html
    );
    let problems = &json(&refused.html)["problems"];
    assert_eq!(
        problems[0]["path"], "modules[0].units[1].title",
        "{problems}"
    );
    assert!(web.app.store.list_courses(10, 0).await.unwrap().is_empty());

    // Length counts the title as sent, as the document's schema does: padding past the limit is
    // refused, not trimmed into the limit.
    outline["modules"][0]["units"][1]["title"] = format!("Neap tides{}", " ".repeat(120)).into();
    let padded = confirm_edited(&web, id, &outline).await;
    assert_eq!(
        padded.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        padded.html
    );
    assert!(
        padded
            .html
            .contains("130 characters long; the limit is 120"),
        "{}",
        padded.html
    );

    // Renamed, with a week removed: stored exactly so.
    outline["modules"][0]["units"][1]["title"] = "Spring and neap tides".into();
    outline["modules"].as_array_mut().unwrap().pop();
    let confirmed = confirm_edited(&web, id, &outline).await;
    assert_eq!(confirmed.status, StatusCode::CREATED, "{}", confirmed.html);
    let link = json(&confirmed.html);
    let api = link["api"].as_str().unwrap();
    assert_eq!(confirmed.headers["location"], api);
    let course = json(&web.get(api).await.html);
    assert_eq!(course["language"], "fr");
    assert_eq!(course["level"], "advanced");
    let weeks = course["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0]["units"][1]["title"], "Spring and neap tides");

    // Confirming again gives the same course; the draft says where it went.
    let again = post_json(&web, &format!("/api/drafts/{id}/confirm"), "").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(json(&again.html)["slug"], link["slug"]);
    // But a broken outline is refused even then, rather than answered as if it were taken.
    outline["title"] = "".into();
    let broken = confirm_edited(&web, id, &outline).await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.html
    );
    assert_eq!(json(&broken.html)["problems"][0]["path"], "title");
    let draft = json(&web.get(&format!("/api/drafts/{id}")).await.html);
    assert_eq!(draft["status"], "confirmed");
    assert_eq!(draft["course"]["slug"], link["slug"]);
    assert_eq!(web.app.store.list_courses(10, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn bad_draft_requests_say_what_to_change_in_json() {
    let web = spawn_web().await;
    let invalid = post_json(
        &web,
        "/api/drafts",
        r#"{"description": "Tides", "weeks": 40, "language": "klingon"}"#,
    )
    .await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.html
    );
    let problems = json(&invalid.html)["problems"].clone();
    let fields: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["description", "weeks", "language"], "{problems}");

    for (body, says) in [
        ("not json", "JSON"),
        (r#"{"weeks": 2}"#, "description"),
        (
            r#"{"description": "How tides rise and fall", "colour": "red"}"#,
            "colour",
        ),
        (
            r#"{"description": "How tides rise and fall", "weeks": "two"}"#,
            "weeks",
        ),
    ] {
        let bad = post_json(&web, "/api/drafts", body).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{body}: {}", bad.html);
        let error = json(&bad.html)["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{body}: {error}");
    }
    let unknown = web
        .get("/api/drafts/0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&unknown.html)["error"], "not found");

    // A browser page on another site cannot start drafts through the API either.
    let cross = web
        .post(
            "/api/drafts",
            &[
                ("content-type", "application/json"),
                ("sec-fetch-site", "cross-site"),
            ],
            r#"{"description": "How tides rise and fall"}"#.to_owned(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(web.model.calls().is_empty(), "nothing was drafted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_confirmations_at_once_make_one_course() {
    let web = spawn_web().await;
    let created = post_json(
        &web,
        "/api/drafts",
        r#"{"description": "How tides rise and fall", "weeks": 1, "units_per_week": 2}"#,
    )
    .await;
    let id = json(&created.html)["id"].as_str().unwrap().to_owned();
    web.follow_while_working(&format!("/api/drafts/{id}/live"), "done")
        .await;

    // A double click: both requests are in flight together.
    let confirm = format!("/api/drafts/{id}/confirm");
    let (first, second) =
        tokio::join!(post_json(&web, &confirm, ""), post_json(&web, &confirm, ""));
    assert!(first.status.is_success(), "{}", first.html);
    assert!(second.status.is_success(), "{}", second.html);
    assert_eq!(json(&first.html)["slug"], json(&second.html)["slug"]);
    assert_eq!(web.app.store.list_courses(10, 0).await.unwrap().len(), 1);
}
