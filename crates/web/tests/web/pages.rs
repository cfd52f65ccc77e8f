//! Every page of a course as a reader sees it: written, not yet written, and with hostile model output.

use axum::http::StatusCode;
use lyceum_testkit::Action;

use crate::helpers::{Page, spawn_web};

const COURSE: &str = "/courses/a-course-on-how-bridges-carry-their-loads";

fn assert_secure(page: &Page) {
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert!(page.headers.contains_key("referrer-policy"));
}

#[tokio::test]
async fn every_page_of_a_written_course_shows_its_content_and_links() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 2, 3).await;
    web.drain_jobs().await;

    let home = web.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_secure(&home);
    assert!(
        home.html.contains(&format!("href=\"{COURSE}\"")),
        "{}",
        home.html
    );
    assert!(
        home.html
            .contains("A course on How bridges carry their loads")
    );

    let course = web.get(COURSE).await;
    assert_eq!(course.status, StatusCode::OK);
    assert_secure(&course);
    assert!(
        course
            .html
            .contains("<title>A course on How bridges carry their loads · Lyceum</title>")
    );
    assert!(
        course.html.contains("Explain the key ideas"),
        "outcomes are listed"
    );
    assert!(
        course.html.contains("6 of 6 units written"),
        "{}",
        course.html
    );
    assert!(course.html.contains("Week 2: Stage 2 foundations"));
    assert!(
        course
            .html
            .contains(&format!("href=\"{COURSE}/weeks/2/units/3\"")),
        "{}",
        course.html
    );

    let week = web.get(&format!("{COURSE}/weeks/1")).await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(
        week.html.contains("<p>This week builds the ground"),
        "{}",
        week.html
    );
    assert!(week.html.contains("Depth study 1.3"));
    assert!(week.html.contains("Next week"));

    let unit = web.get(&format!("{COURSE}/weeks/1/units/3")).await;
    assert_eq!(unit.status, StatusCode::OK);
    assert_secure(&unit);
    assert!(
        unit.html.contains("<h2>Key takeaways</h2>"),
        "{}",
        unit.html
    );
    assert!(
        unit.html.contains("Describe topic 1.3"),
        "objectives are shown"
    );
    assert!(
        unit.html.contains(&format!(
            "href=\"{COURSE}/weeks/1/units/3\" aria-current=\"page\""
        )),
        "the syllabus marks this unit: {}",
        unit.html
    );
    assert!(
        unit.html
            .contains("Written by a language model and checked by no person"),
        "a learner is told where the text comes from: {}",
        unit.html
    );
    assert!(unit.html.contains("Previous: Depth study 1.2"));
    // "Next up" crosses into the next week.
    assert!(
        unit.html.contains(&format!(
            "<a rel=\"next\" href=\"{COURSE}/weeks/2/units/1\">Next up: Depth study 2.1</a>"
        )),
        "{}",
        unit.html
    );
    assert!(
        !unit.html.contains("role=\"status\""),
        "a written unit has no status note"
    );

    let last = web.get(&format!("{COURSE}/weeks/2/units/3")).await;
    assert!(
        !last.html.contains("Next up"),
        "the last unit has no next one"
    );

    for path in ["/about", "/terms", "/privacy", "/courses"] {
        let page = web.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_secure(&page);
    }
}

#[tokio::test]
async fn a_course_being_written_shows_each_unit_waiting_and_an_opened_unit_is_written_first() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 2, 3).await;

    let course = web.get(COURSE).await;
    assert!(
        course.html.contains("0 of 6 units written"),
        "{}",
        course.html
    );
    assert_eq!(
        course
            .html
            .matches("<span class=\"status\">waiting</span>")
            .count(),
        6
    );

    let unit = web.get(&format!("{COURSE}/weeks/2/units/2")).await;
    assert_eq!(unit.status, StatusCode::OK);
    assert!(
        unit.html.contains("moved to the front of the queue"),
        "{}",
        unit.html
    );

    web.drain_jobs().await;
    let keys: Vec<String> = web.model.calls().into_iter().map(|call| call.key).collect();
    let after_outline: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|key| !key.starts_with("outline"))
        .collect();
    assert_eq!(after_outline[0], "unit 2.2", "{keys:?}");

    let unit = web.get(&format!("{COURSE}/weeks/2/units/2")).await;
    assert!(
        unit.html.contains("<h2>Key takeaways</h2>"),
        "{}",
        unit.html
    );
    let course = web.get(COURSE).await;
    assert!(course.html.contains("6 of 6 units written"));
}

#[tokio::test]
async fn a_model_answer_with_scripts_and_handlers_renders_without_them() {
    let web = spawn_web().await;
    web.model.script(
        "unit 1.1",
        Action::Answer(format!(
            "Bridges <script>alert('x')</script> carry loads.\n\n<img src=x onerror=\"alert(1)\">\n\n\
             [a link](javascript:alert(2)) and <a href=\"javascript:alert(3)\" onclick=\"alert(4)\">another</a>\n\n\
             <iframe src=\"/about\"></iframe>\n\n{}- Loads flow to the ground\n",
            lyceum_testkit::article("Bridges")
        )),
    );
    web.course("How bridges carry their loads", 1, 2).await;
    web.drain_jobs().await;

    let unit = web.get(&format!("{COURSE}/weeks/1/units/1")).await;
    assert_eq!(unit.status, StatusCode::OK);
    assert!(unit.html.contains("carry loads."), "{}", unit.html);
    assert!(unit.html.contains("Loads flow to the ground"));
    for bad in ["alert(", "onerror", "onclick", "javascript:", "<iframe"] {
        assert!(
            !unit.html.contains(bad),
            "{bad} reached the page: {}",
            unit.html
        );
    }
    assert_eq!(
        unit.html.matches("<script").count(),
        1,
        "only the site's own script tag: {}",
        unit.html
    );
}

#[tokio::test]
async fn unknown_addresses_get_a_friendly_404() {
    let web = spawn_web().await;
    web.course("How bridges carry their loads", 1, 2).await;
    for path in [
        "/nothing-here",
        "/courses/no-such-course",
        &format!("{COURSE}/weeks/9"),
        &format!("{COURSE}/weeks/1/units/9"),
        &format!("{COURSE}/weeks/x/units/1"),
        &format!("{COURSE}/weeks/1/units/99999999999999999999"),
        &format!("{COURSE}/weeks/01e3"),
        "/drafts/%FF%FE",
        "/courses/%FF%FE",
        "/courses?page=2",
        "/courses?page=0",
        "/courses?page=abc",
        "/courses?page=9223372036854775807",
        "/courses?page=9223372036854775808",
        "/courses?page=-9223372036854775808",
        "/assets/secret.txt",
    ] {
        // Whatever the address, a page of the site saying so, never axum's plain-text 400.
        let page = web.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_secure(&page);
        assert!(
            page.html.contains("Page not found"),
            "{path}: {}",
            page.html
        );
        assert!(page.html.contains("href=\"/courses\""), "{path}");
    }
}

#[tokio::test]
async fn the_catalog_lists_featured_then_newest_courses_twenty_to_a_page() {
    let web = spawn_web().await;
    for n in 1..=21 {
        web.course(&format!("Bridge building, part {n:02}"), 1, 1)
            .await;
    }
    let first = web.get("/courses").await;
    assert_eq!(first.html.matches("class=\"card\"").count(), 20);
    assert!(first.html.contains("part 21"), "newest first");
    assert!(!first.html.contains("part 01"));
    assert!(
        first
            .html
            .contains("href=\"/courses?page=2\">Older courses")
    );
    assert!(!first.html.contains("Newer courses"));

    let second = web.get("/courses?page=2").await;
    assert_eq!(second.html.matches("class=\"card\"").count(), 1);
    assert!(second.html.contains("part 01"));
    assert!(
        second
            .html
            .contains("href=\"/courses?page=1\">Newer courses")
    );
    assert_eq!(
        web.get("/courses?page=3").await.status,
        StatusCode::NOT_FOUND
    );

    let home = web.get("/").await;
    assert_eq!(home.html.matches("class=\"card\"").count(), 6);
    assert!(!home.html.contains("Featured courses"));

    // A featured course leads the catalog and has its own place on the home page.
    let slug = "a-course-on-bridge-building-part-01";
    web.app.store.set_featured(slug, true).await.unwrap();
    let first = web.get("/courses").await;
    let cards: Vec<&str> = first.html.split("class=\"card\"").skip(1).collect();
    assert!(cards[0].contains("part 01"), "{}", cards[0]);
    assert!(cards[0].contains("Featured</span>"), "{}", cards[0]);
    assert!(!cards[1].contains("Featured</span>"), "{}", cards[1]);
    assert!(cards[1].contains("part 21"), "then the newest");
    let home = web.get("/").await;
    let (featured, newest) = home.html.split_once("Newest courses").unwrap();
    assert!(featured.contains("Featured courses") && featured.contains("part 01"));
    assert_eq!(featured.matches("class=\"card\"").count(), 1);
    assert_eq!(newest.matches("class=\"card\"").count(), 6);
    assert!(!newest.contains("part 01"), "the newest six are 16 to 21");
    let api = web.get("/api/courses").await.html;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["courses"][0]["slug"], slug);
    assert_eq!(api["courses"][0]["featured"], true);
}

#[tokio::test]
async fn search_engines_get_canonical_links_a_course_schema_and_a_sitemap() {
    let web = spawn_web().await;
    // A topic that tries to close the JSON-LD script element and open one of its own.
    web.course("Bridges </script><script>alert(1)</script> and loads", 1, 2)
        .await;
    web.drain_jobs().await;
    let slug = "/courses/a-course-on-bridges-script-script-alert-1-script-and-loads";

    let course = web.get(slug).await;
    assert_eq!(course.status, StatusCode::OK, "{}", course.html);
    assert!(
        course.html.contains(&format!(
            "<link rel=\"canonical\" href=\"http://localhost:8080{slug}\">"
        )),
        "{}",
        course.html
    );
    assert!(
        course.html.contains(
            "<meta property=\"og:title\" content=\"A course on Bridges &#60;/script&#62;"
        ),
        "{}",
        course.html
    );
    let start = course
        .html
        .find("<script type=\"application/ld+json\">")
        .unwrap();
    let json = &course.html[start + 35..];
    let json = &json[..json.find("</script>").unwrap()];
    let schema: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(schema["@type"], "Course");
    assert_eq!(
        schema["name"],
        "A course on Bridges </script><script>alert(1)</script> and loads"
    );
    assert_eq!(schema["url"], format!("http://localhost:8080{slug}"));
    assert!(!course.html.contains("<script>alert"), "{}", course.html);
    assert_eq!(
        course.html.matches("<script").count(),
        2,
        "app.js and the schema only"
    );

    let unit = web.get(&format!("{slug}/weeks/1/units/2")).await;
    assert!(
        unit.html
            .contains("<meta property=\"og:type\" content=\"article\">")
    );

    let robots = web.get("/robots.txt").await;
    assert!(
        robots
            .html
            .contains("Sitemap: http://localhost:8080/sitemap.xml"),
        "{}",
        robots.html
    );
    let index = web.get("/sitemap.xml").await;
    assert_eq!(
        index.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    assert!(
        index
            .html
            .contains("<sitemap><loc>http://localhost:8080/sitemaps/1.xml</loc></sitemap>"),
        "{}",
        index.html
    );
    assert!(!index.html.contains("sitemaps/2.xml"), "{}", index.html);
    let sitemap = web.get("/sitemaps/1.xml").await;
    assert_eq!(
        sitemap.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    assert!(
        sitemap
            .html
            .contains("<loc>http://localhost:8080/about</loc>")
    );
    for missing in [
        "/sitemaps/2.xml",
        "/sitemaps/0.xml",
        "/sitemaps/x.xml",
        "/sitemaps/9223372036854775807.xml",
    ] {
        assert_eq!(
            web.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    for path in [
        slug.to_owned(),
        format!("{slug}/weeks/1"),
        format!("{slug}/weeks/1/units/1"),
        format!("{slug}/weeks/1/units/2"),
    ] {
        assert!(
            sitemap
                .html
                .contains(&format!("<loc>http://localhost:8080{path}</loc>")),
            "{path} missing: {}",
            sitemap.html
        );
    }
}

#[tokio::test]
async fn a_failed_unit_is_written_again_from_its_course_page_but_not_from_another_site() {
    let web = spawn_web().await;
    web.model
        .script("unit 1.2", Action::Status(400, "refused".into()));
    web.course("How bridges carry their loads", 1, 2).await;
    web.drain_jobs().await;

    let course = web.get(COURSE).await;
    assert!(
        course.html.contains("1 of 2 units written, 1 failed"),
        "{}",
        course.html
    );
    assert!(
        course
            .html
            .contains(&format!("<form method=\"post\" action=\"{COURSE}/retry\"")),
        "{}",
        course.html
    );
    assert!(course.html.contains("Write the 1 failed unit again"));
    let unit = web.get(&format!("{COURSE}/weeks/1/units/2")).await;
    assert!(
        unit.html.contains("Writing this unit failed."),
        "{}",
        unit.html
    );
    assert!(
        !unit.html.contains("data-live"),
        "a failed unit is not written again by a visit"
    );
    // Nor by its live stream, which any page elsewhere could load: it only says the unit failed.
    let (_, body) = web.stream(&format!("{COURSE}/weeks/1/units/2/live")).await;
    let events = crate::live::read_events(body, "failed").await;
    assert_eq!(
        events.last().map(|(name, _)| name.as_str()),
        Some("failed"),
        "{events:?}"
    );
    let units = web
        .app
        .store
        .units(web.app.store.course(&COURSE[9..]).await.unwrap().id)
        .await
        .unwrap();
    assert_eq!(
        units[1].status,
        lyceum_store::Status::Failed,
        "not queued again"
    );
    assert_eq!(web.app.store.job_count().await.unwrap(), 0);

    let refused = web
        .post(
            &format!("{COURSE}/retry"),
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://elsewhere.example"),
            ],
            String::new(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.html.contains("Sent from another site"),
        "{}",
        refused.html
    );
    web.drain_jobs().await;
    assert_eq!(web.model.count("unit 1.2"), (1, 0), "nothing was queued");

    let retried = web
        .post(
            &format!("{COURSE}/retry"),
            &[("sec-fetch-site", "same-origin")],
            String::new(),
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    assert_eq!(retried.headers["location"], COURSE);
    web.drain_jobs().await;
    let course = web.get(COURSE).await;
    assert!(
        course.html.contains("2 of 2 units written"),
        "{}",
        course.html
    );
    assert!(
        !course.html.contains(&format!("action=\"{COURSE}/retry\"")),
        "no retry button once every unit is written"
    );
}
