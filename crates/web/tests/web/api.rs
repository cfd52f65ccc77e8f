//! The JSON API: what the pages show, as data, and an OpenAPI document that matches the routes.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_web;

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
    assert_eq!(unit["title"], "Topic 2.1 in depth");
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
    ] {
        let missing = web.get(&path).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json(&missing.html)["error"], "not found", "{path}");
    }
    assert_eq!(
        web.get("/api/courses?page=0").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn every_path_in_the_openapi_document_is_served() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 1, 1).await;
    web.drain_jobs().await;

    let document = json(&web.get("/api/openapi.json").await.html);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "http://127.0.0.1:8080");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 5, "{paths:?}");
    for (template, operations) in paths {
        assert!(
            operations["get"]["responses"]["200"].is_object(),
            "{template}"
        );
        let path = template
            .replace("{slug}", SLUG)
            .replace("{week}", "1")
            .replace("{unit}", "1");
        let page = web.get(&path).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{template} is documented but not served"
        );
    }
}
