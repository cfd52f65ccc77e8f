//! Search through the site: `/search?q=` as a page that works without JavaScript, and
//! `/api/search` as JSON; the words marked in escaped passages, and courses that are not public left
//! out.

use axum::http::StatusCode;
use lyceum_course::{Outline, OutlineModule, OutlineUnit};
use lyceum_store::{ItemKind, NewCourse, Output, Visibility};

use crate::helpers::{TestWeb, spawn_web};

/// A one-week course titled `title` whose units have these titles and texts; its slug and id.
pub(crate) async fn written(web: &TestWeb, title: &str, units: &[(&str, &str)]) -> (String, i64) {
    let outline = Outline {
        category: None,
        title: title.into(),
        summary: format!("A course on {title}."),
        outcomes: vec!["Know it".into()],
        modules: vec![OutlineModule {
            title: "The basics".into(),
            units: units
                .iter()
                .map(|(unit, _)| OutlineUnit {
                    title: (*unit).into(),
                    objectives: vec![format!("Explain {unit}")],
                })
                .collect(),
        }],
    };
    let description = format!("A course on {title}");
    let mut request =
        lyceum_course::CourseRequest::new(lyceum_course::Description::parse(&description).unwrap());
    request.weeks = lyceum_course::Weeks::new(1).unwrap();
    request.units_per_week = lyceum_course::UnitsPerWeek::new(units.len() as u32).unwrap();
    let store = &web.app.store;
    let stats = lyceum_store::GenerationStats {
        engine: "test".into(),
        model: "test".into(),
        tokens_in: None,
        tokens_out: None,
        duration: std::time::Duration::ZERO,
    };
    let course = store
        .create_course(NewCourse {
            request: &request,
            outline: &outline,
            outline_stats: &stats,
        })
        .await
        .unwrap();
    for (unit, (_, text)) in store.units(course.id).await.unwrap().iter().zip(units) {
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        store
            .finish_generation(generation.id, Output::Unit(text), &stats, None)
            .await
            .unwrap();
    }
    (course.slug, course.id)
}

#[tokio::test]
async fn the_search_page_finds_units_and_courses_with_their_words_marked_and_nothing_more() {
    let web = spawn_web().await;
    let (tides, _) = written(
        &web,
        "Tides",
        &[
            (
                "Spring tides",
                "When sun and moon line up, the tides run high. <script>alert(1)</script>",
            ),
            (
                "Neap tides",
                "At half moon the pulls cross and the tides run low.",
            ),
        ],
    )
    .await;
    let (_, secret) = written(&web, "Secret tides", &[("Hidden moon", "The moon hides.")]).await;
    assert!(
        web.app
            .store
            .set_visibility(secret, Visibility::Private)
            .await
            .unwrap()
    );

    let empty = web.get("/search").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.html.contains("role=\"search\""), "{}", empty.html);
    assert!(!empty.html.contains("hold all of"));
    assert!(
        web.get("/").await.html.contains("href=\"/search\""),
        "a visible way to search"
    );

    let page = web.get("/search?q=Moon+tides").await;
    assert_eq!(page.status, StatusCode::OK);
    let spring = format!("href=\"/courses/{tides}/weeks/1/units/1\"");
    let neap = format!("href=\"/courses/{tides}/weeks/1/units/2\"");
    assert!(page.html.contains(&spring), "{}", page.html);
    assert!(page.html.contains(&neap), "{}", page.html);
    assert!(page.html.contains("<mark>moon</mark>"), "{}", page.html);
    assert!(
        !page.html.contains("<script>alert(1)"),
        "model text is escaped"
    );
    assert!(
        !page.html.contains("Hidden moon"),
        "a private course is its maker's"
    );
    assert!(
        page.html.contains("value=\"Moon tides\""),
        "the words stay in the box"
    );

    let nothing = web.get("/search?q=%22NEAR(%3A*").await;
    assert_eq!(nothing.status, StatusCode::OK);
    assert!(
        nothing.html.contains("Nothing holds all of"),
        "{}",
        nothing.html
    );
}

#[tokio::test]
async fn the_api_answers_by_kind_and_says_what_a_kind_is() {
    let web = spawn_web().await;
    let (tides, _) = written(
        &web,
        "Tides",
        &[(
            "Spring tides",
            "When sun and moon line up, the tides run high.",
        )],
    )
    .await;
    let answer = web.get("/api/search?q=tides&kind=unit").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.html);
    let json: serde_json::Value = serde_json::from_str(&answer.html).unwrap();
    assert_eq!(json["courses"], serde_json::json!([]));
    assert_eq!(
        json["units"][0]["url"],
        format!("/courses/{tides}/weeks/1/units/1")
    );
    assert_eq!(
        (
            json["units"][0]["week"].as_i64(),
            json["units"][0]["unit"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(
        json["units"][0]["snippet_html"]
            .as_str()
            .unwrap()
            .contains("<mark>tides</mark>"),
        "{json}"
    );

    let both = web.get("/api/search?q=tides").await;
    let json: serde_json::Value = serde_json::from_str(&both.html).unwrap();
    assert_eq!(json["courses"][0]["slug"], tides.as_str());

    let wrong = web.get("/api/search?q=tides&kind=week").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong.html.contains("kind is course or unit"),
        "{}",
        wrong.html
    );

    let document = web.get("/api/openapi.json").await;
    assert!(document.html.contains("\"/api/search\""));
}
