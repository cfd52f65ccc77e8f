//! Subjects: each subject's page lists its public courses and the catalog goes to it; the sitemap
//! names it; a course page links its subject and shows courses like it; the model's choice comes
//! with the drafted outline and the person may change it before confirming; its maker changes it on
//! the course page or through the API; the API lists and searches one subject.

use axum::http::StatusCode;
use lyceum_course::{CATEGORIES, Category};
use lyceum_store::Visibility;

use crate::helpers::Page;
use crate::helpers::{Browser, location, spawn_web};
use crate::ownership::{ada_and_bob, api_call, bearer, course_setting};
use crate::search::written;

fn subject(slug: &str) -> Category {
    Category::from_slug(slug).unwrap()
}

#[tokio::test]
async fn each_subject_lists_its_public_courses_and_a_course_shows_its_neighbours() {
    let web = spawn_web().await;
    let store = &web.app.store;
    let (plants, plants_id) =
        written(&web, "Photosynthesis", &[("Leaves", "Leaves catch light.")]).await;
    let (cells, cells_id) = written(
        &web,
        "Cell biology",
        &[("Membranes", "A membrane keeps a cell.")],
    )
    .await;
    let (nets, nets_id) = written(
        &web,
        "Neural networks",
        &[("Weights", "Weights change as it learns.")],
    )
    .await;
    let (secret, secret_id) = written(&web, "Secret botany", &[("Roots", "Roots drink.")]).await;
    let (_, _untagged) = written(&web, "Tides", &[("The moon", "The moon pulls the sea.")]).await;
    for (id, slug) in [
        (plants_id, "biology"),
        (cells_id, "biology"),
        (secret_id, "biology"),
        (nets_id, "computer-science"),
    ] {
        assert!(store.set_category(id, Some(subject(slug))).await.unwrap());
    }
    store
        .set_visibility(secret_id, Visibility::Private)
        .await
        .unwrap();

    let index = web.get("/categories").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index.html.contains(r#"<a href="/categories/biology">Biological and Biomedical Sciences</a> <span class="meta">2 courses</span>"#),
        "a private course is not counted: {}",
        index.html
    );
    assert!(
        index
            .html
            .contains(r#"href="/categories/computer-science""#)
    );
    assert!(
        !index.html.contains("/categories/history"),
        "a subject without courses is not listed"
    );

    let biology = web.get("/categories/biology").await;
    assert_eq!(biology.status, StatusCode::OK);
    assert!(
        biology
            .html
            .contains("<h1>Biological and Biomedical Sciences</h1>")
    );
    for slug in [&plants, &cells] {
        assert!(
            biology.html.contains(&format!("/courses/{slug}\"")),
            "{slug}"
        );
    }
    for slug in [&nets, &secret] {
        assert!(
            !biology.html.contains(&format!("/courses/{slug}\"")),
            "{slug}"
        );
    }
    assert!(
        biology
            .html
            .contains(r#"<option value="biology" selected>"#),
        "the filter says which subject is shown"
    );
    assert!(
        !biology.html.contains("page=1"),
        "page 1's canonical address is the subject's own: {}",
        biology.html
    );
    let empty = web.get("/categories/history").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.html.contains("No courses of this subject yet"));
    for missing in [
        "/categories/cooking",
        "/categories/biology?page=2",
        "/categories/biology?page=x",
    ] {
        assert_eq!(
            web.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    let filtered = web.get("/courses?category=computer-science").await;
    assert_eq!(filtered.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&filtered), "/categories/computer-science");
    assert_eq!(
        web.get("/courses?category=cooking").await.status,
        StatusCode::NOT_FOUND
    );
    let catalog = web.get("/courses?category=").await;
    assert_eq!(
        catalog.status,
        StatusCode::OK,
        "an empty choice is every subject"
    );
    assert!(
        catalog
            .html
            .contains(r#"<select id="subject" name="category">"#)
    );

    let sitemap = web.get("/sitemaps/1.xml").await.html;
    assert!(sitemap.contains("/categories/biology</loc>"), "{sitemap}");
    assert!(sitemap.contains("/categories</loc>"));
    assert!(!sitemap.contains("/categories/history</loc>"));

    // Without the encoder, a course's neighbours are the other public courses of its subject.
    let page = web.get(&format!("/courses/{plants}")).await.html;
    assert!(
        page.contains(
            r#"<a href="/categories/biology" lang="en">Biological and Biomedical Sciences</a>"#
        ),
        "{page}"
    );
    let related = page
        .split("<h2 id=\"related-heading\">")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("a related section");
    assert!(
        related.contains(&format!("/courses/{cells}\"")),
        "{related}"
    );
    for other in [&plants, &nets, &secret] {
        assert!(
            !related.contains(&format!("/courses/{other}\"")),
            "{other}: {related}"
        );
    }
    let alone = web.get(&format!("/courses/{nets}")).await.html;
    assert!(
        !alone.contains("related-heading"),
        "no neighbours, no section"
    );
}

/// Posts the course page's "Subject" form at `manage` as `browser`.
async fn set_subject(browser: &mut Browser<'_>, manage: &str, csrf: &str, category: &str) -> Page {
    course_setting(browser, manage, csrf, "category", category).await
}

#[tokio::test]
async fn the_model_s_subject_comes_with_the_outline_and_the_maker_may_change_it() {
    let web = spawn_web().await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    // The scripted model chooses the first subject; the person picks another before confirming.
    let started = ada
        .post(
            "/courses",
            &[
                ("description", "How tides rise and fall"),
                ("weeks", "1"),
                ("units_per_week", "2"),
                ("language", "English"),
                ("level", "beginner"),
                ("audience", ""),
            ],
        )
        .await;
    let draft = location(&started).to_owned();
    web.drain_jobs().await;
    let drafted = ada.get(&draft).await.html;
    let first = CATEGORIES[0];
    assert!(
        drafted.contains(&format!(r#"<option value="{}" selected>"#, first.slug)),
        "{drafted}"
    );
    let confirmed = ada
        .post(
            &format!("{draft}/confirm"),
            &[("category", "physical-sciences")],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.html
    );
    let hers = location(&confirmed).to_owned();
    let slug = hers.trim_start_matches("/courses/").to_owned();
    let course = web.app.store.course(&slug).await.unwrap();
    assert_eq!(course.category, Some(subject("physical-sciences")));

    // On the course page: only its maker sees the choice, a subject not on the list changes nothing.
    let page = ada.get(&hers).await;
    assert!(
        page.html
            .contains(r#"<option value="physical-sciences" selected>"#)
    );
    assert!(!bob.get(&hers).await.html.contains("Save the subject"));
    let csrf = Browser::hidden(&page, "csrf");
    let manage = format!("{hers}/manage");
    let bobs_csrf = bob.csrf().await;
    let refused = set_subject(&mut bob, &manage, &bobs_csrf, "history").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = set_subject(&mut ada, &manage, &csrf, "cooking").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("is not a subject"), "{}", bad.html);
    let saved = set_subject(&mut ada, &manage, &csrf, "history").await;
    assert_eq!(location(&saved), hers);
    assert!(
        web.get(&hers)
            .await
            .html
            .contains(r#"href="/categories/history""#)
    );
    assert!(web.get("/categories/history").await.html.contains(&hers));
    set_subject(&mut ada, &manage, &csrf, "").await;
    assert_eq!(web.app.store.course(&slug).await.unwrap().category, None);

    // Through the API.
    let api = format!("/api/courses/{slug}");
    let token = bearer(&web, "ada@example.org").await;
    let set = api_call(
        &web,
        "PATCH",
        &api,
        token.clone(),
        r#"{"category": "biology"}"#,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.html);
    assert!(set.html.contains(r#""category":"biology""#), "{}", set.html);
    assert!(
        set.html.contains(r#""visibility":"public""#),
        "unchanged: {}",
        set.html
    );
    let bad = api_call(
        &web,
        "PATCH",
        &api,
        token.clone(),
        r#"{"category": "cooking"}"#,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains(r#""field":"category""#), "{}", bad.html);
    let nothing = api_call(&web, "PATCH", &api, token.clone(), "{}").await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nothing.html
    );
    assert_eq!(
        web.app.store.course(&slug).await.unwrap().category,
        Some(subject("biology")),
        "a refused change leaves it"
    );
    let listed = web.get("/api/courses?category=biology").await.html;
    assert!(listed.contains(&format!(r#""slug":"{slug}""#)), "{listed}");
    assert!(
        !web.get("/api/courses?category=history")
            .await
            .html
            .contains(&slug)
    );
    let unknown = web.get("/api/courses?category=cooking").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.html.contains("is not a subject"));
    let cleared = api_call(&web, "PATCH", &api, token, r#"{"category": null}"#).await;
    assert!(
        cleared.html.contains(r#""category":null"#),
        "{}",
        cleared.html
    );
}

#[tokio::test]
async fn a_search_through_the_api_keeps_to_one_subject() {
    let web = spawn_web().await;
    let store = &web.app.store;
    let (tides, tides_id) = written(
        &web,
        "Tides",
        &[("Spring tides", "The moon pulls the sea high.")],
    )
    .await;
    let (_, poems_id) = written(
        &web,
        "Moon poems",
        &[("Sonnets", "Poets wrote of the moon.")],
    )
    .await;
    store
        .set_category(tides_id, Some(subject("physical-sciences")))
        .await
        .unwrap();
    store
        .set_category(poems_id, Some(subject("english-and-literature")))
        .await
        .unwrap();
    let both: serde_json::Value =
        serde_json::from_str(&web.get("/api/search?q=moon").await.html).unwrap();
    assert_eq!(both["units"].as_array().unwrap().len(), 2, "{both}");
    let one: serde_json::Value = serde_json::from_str(
        &web.get("/api/search?q=moon&category=physical-sciences")
            .await
            .html,
    )
    .unwrap();
    assert_eq!(one["units"].as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one["units"][0]["course_slug"], tides.as_str());
    let bad = web.get("/api/search?q=moon&category=cooking").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let document = web.get("/api/openapi.json").await.html;
    assert!(
        document.contains("\"computer-science\""),
        "the subjects are in the API's document"
    );
}
