//! Whose courses: a course made signed in is its maker's ("Made by me", "made by" on its page), counts
//! against their account's day rather than their address's hour, goes or stays when they delete the
//! account; their data downloads as JSON; admins feature, hide and delete any course.

use axum::http::StatusCode;
use lyceum_app::accounts::{self, SignUp};

use crate::accounts::PASSWORD;
use crate::helpers::{Browser, TestWeb, location, spawn_web, spawn_web_with};

/// Starts a 1 × 2 course on `topic` from the home page's form in `browser`, drafts it and confirms
/// it; the course's address.
pub(crate) async fn make_course(web: &TestWeb, browser: &mut Browser<'_>, topic: &str) -> String {
    let started = browser.post("/courses", &form(topic)).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    let draft = location(&started).to_owned();
    web.drain_jobs().await;
    let confirmed = browser.post(&format!("{draft}/confirm"), &[]).await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.html
    );
    location(&confirmed).to_owned()
}

fn form(topic: &str) -> Vec<(&str, &str)> {
    vec![
        ("description", topic),
        ("weeks", "1"),
        ("units_per_week", "2"),
        ("language", "English"),
        ("level", "beginner"),
        ("audience", ""),
    ]
}

#[tokio::test]
async fn a_course_made_signed_in_is_its_maker_s_and_says_so() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada Lovelace", "ada@example.org", PASSWORD)
        .await;
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let mut someone = Browser::new(&web);

    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    let theirs = make_course(&web, &mut someone, "How bridges carry their loads").await;

    let page = web.get(&hers).await;
    assert!(page.html.contains("made by Ada Lovelace"), "{}", page.html);
    let page = web.get(&theirs).await;
    assert!(!page.html.contains("made by"), "{}", page.html);

    let account = ada.get("/account").await;
    assert!(
        account.html.contains("A course on How tides rise and fall"),
        "{}",
        account.html
    );
    assert!(!account.html.contains("How bridges carry their loads"));
    // Written meanwhile: draining the second course's draft wrote the first course too.
    assert!(
        account.html.contains("all 6 parts written"),
        "{}",
        account.html
    );
    let bobs = bob.get("/account").await;
    assert!(!bobs.html.contains("How tides rise and fall"));
    assert!(bobs.html.contains("No courses yet."));

    // A new name is saved (and refused when blank) and shown on the course.
    let csrf = ada.csrf().await;
    let refused = ada
        .post("/account/name", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("enter a name to show"),
        "{}",
        refused.html
    );
    let renamed = ada
        .post("/account/name", &[("csrf", &csrf), ("name", "Ada L.")])
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert!(renamed.html.contains("Name saved."));
    web.web.pages.clear();
    assert!(web.get(&hers).await.html.contains("made by Ada L."));

    // Through the API, a token's owner makes the draft; a token that is not valid is refused.
    let token = accounts::create_api_token(
        &web.app.store,
        &web.app
            .store
            .user_by_email("bob@example.org")
            .await
            .unwrap()
            .unwrap()
            .0,
        "script",
    )
    .await
    .unwrap()
    .0;
    let body = r#"{"description": "How lighthouses guide ships", "weeks": 1, "units_per_week": 1}"#;
    let bearer = format!("Bearer {token}");
    let json = [
        ("content-type", "application/json"),
        ("authorization", bearer.as_str()),
    ];
    let made = web.post("/api/drafts", &json, body.into()).await;
    assert_eq!(made.status, StatusCode::ACCEPTED, "{}", made.html);
    let id = location(&made).rsplit('/').next().unwrap().to_owned();
    let draft = web.app.store.draft(&id).await.unwrap();
    assert_eq!(draft.user_id, Some(bobs_id(&web).await));
    let forged = [
        ("content-type", "application/json"),
        ("authorization", "Bearer lyceum_0000"),
    ];
    let refused = web.post("/api/drafts", &forged, body.into()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.html);
    assert_eq!(refused.headers["www-authenticate"], "Bearer");
}

async fn bobs_id(web: &TestWeb) -> i64 {
    let found = web.app.store.user_by_email("bob@example.org").await;
    found.unwrap().unwrap().0.id
}

#[tokio::test]
async fn a_signed_in_person_is_held_to_their_account_s_day_not_their_address_s_hour() {
    let web = spawn_web_with(|settings| {
        settings.web.drafts_per_hour = 1;
        settings.web.drafts_per_day_per_account = 2;
        settings.web.drafts_at_once = 0;
    })
    .await;
    let mut someone = Browser::new(&web);
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let topic = form("How tides rise and fall");

    assert_eq!(
        someone.post("/courses", &topic).await.status,
        StatusCode::SEE_OTHER
    );
    let again = someone.post("/courses", &topic).await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address's hour is used"
    );

    for _ in 0..2 {
        let started = ada.post("/courses", &topic).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    }
    let refused = ada.post("/courses", &topic).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.html.contains("That is all for today"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("started 2 outlines in the last day"));
    assert_eq!(refused.headers["retry-after"], "3600");
}

#[tokio::test]
async fn my_data_downloads_as_json_with_my_courses_and_no_secret() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    make_course(&web, &mut ada, "How tides rise and fall").await;
    let csrf = ada.csrf().await;
    let with_token = ada
        .post("/account/tokens", &[("csrf", &csrf), ("name", "laptop")])
        .await;
    let token = with_token
        .html
        .split("<code class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();

    let file = ada.get("/account/data").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers["content-disposition"],
        "attachment; filename=\"lyceum-my-data.json\""
    );
    assert_eq!(file.headers["cache-control"], "no-store");
    let data: serde_json::Value = serde_json::from_str(&file.html).unwrap();
    assert_eq!(data["account"]["email"], "ada@example.org");
    assert_eq!(data["account"]["has_password"], true);
    assert_eq!(data["sessions"][0]["browser"], "Firefox on Linux");
    assert_eq!(data["api_tokens"][0]["name"], "laptop");
    assert_eq!(
        data["courses_made"][0]["title"],
        "A course on How tides rise and fall"
    );
    assert_eq!(data["drafts"][0]["status"], "confirmed");
    assert_eq!(data["drafts"][0]["description"], "How tides rise and fall");
    let session = ada
        .cookies
        .iter()
        .find(|(name, _)| name == "lyceum_session");
    for secret in [
        token.as_str(),
        &csrf,
        &session.unwrap().1,
        "$argon2id",
        PASSWORD,
    ] {
        assert!(!file.html.contains(secret), "{secret} is in {}", file.html);
    }
    assert_eq!(
        Browser::new(&web).get("/account/data").await.status,
        StatusCode::SEE_OTHER,
        "nobody's data without signing in"
    );
}

#[tokio::test]
async fn deleting_an_account_needs_its_email_and_keeps_or_deletes_its_courses() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut phone = Browser::new(&web);
    phone.sign_in("ada@example.org", PASSWORD).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let his = make_course(&web, &mut bob, "How bridges carry their loads").await;

    let csrf = ada.csrf().await;
    let refused = ada
        .post(
            "/account/delete",
            &[
                ("csrf", &csrf),
                ("confirm", "bob@example.org"),
                ("courses", "keep"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("type your email address exactly"),
        "{}",
        refused.html
    );
    assert_eq!(
        ada.get("/account").await.status,
        StatusCode::OK,
        "nothing deleted"
    );

    let deleted = ada
        .post(
            "/account/delete",
            &[
                ("csrf", &csrf),
                ("confirm", " Ada@Example.org "),
                ("courses", "keep"),
            ],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.html);
    assert!(deleted.html.contains("Your account is deleted"));
    assert_eq!(ada.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        phone.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "every session ended"
    );
    let again = Browser::new(&web)
        .sign_in("ada@example.org", PASSWORD)
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let page = web.get(&hers).await;
    assert!(
        page.html.contains("made by a former learner"),
        "{}",
        page.html
    );

    let csrf = bob.csrf().await;
    let deleted = bob
        .post(
            "/account/delete",
            &[
                ("csrf", &csrf),
                ("confirm", "bob@example.org"),
                ("courses", "delete"),
            ],
        )
        .await;
    assert!(
        deleted
            .html
            .contains("The courses you made are deleted too.")
    );
    assert_eq!(web.get(&his).await.status, StatusCode::NOT_FOUND);
    assert_eq!(web.app.store.list_courses(10, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn admins_feature_hide_and_delete_any_course_and_nobody_else_can() {
    let web = spawn_web().await;
    accounts::create_account(
        &web.app.store,
        SignUp {
            email: "root@example.org",
            display_name: "Root",
            password: Some(PASSWORD),
            is_admin: true,
        },
    )
    .await
    .unwrap();
    let mut admin = Browser::new(&web);
    admin.sign_in("root@example.org", PASSWORD).await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    let manage = format!("{hers}/manage");

    assert_eq!(
        bob.get("/admin/courses").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        Browser::new(&web).get("/admin/courses").await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = bob.csrf().await;
    for action in ["feature", "hide", "delete"] {
        let refused = bob
            .post(&manage, &[("csrf", &csrf), ("action", action)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
    }
    let odd = bob
        .post(&manage, &[("csrf", &csrf), ("action", "burn")])
        .await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST);

    let csrf = admin.csrf().await;
    let list = admin.get("/admin/courses").await;
    assert!(
        list.html.contains("A course on How tides rise and fall"),
        "{}",
        list.html
    );
    let featured = admin
        .post(
            &manage,
            &[("csrf", &csrf), ("action", "feature"), ("from", "admin")],
        )
        .await;
    assert_eq!(location(&featured), "/admin/courses");
    assert!(web.get("/").await.html.contains("Featured</span>"));

    admin
        .post(
            &manage,
            &[("csrf", &csrf), ("action", "hide"), ("from", "admin")],
        )
        .await;
    assert_eq!(web.get(&hers).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        web.get(&format!("{hers}/weeks/1")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        web.get(&format!("/api{hers}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !web.get("/courses")
            .await
            .html
            .contains("How tides rise and fall")
    );
    assert!(!web.get("/").await.html.contains("How tides rise and fall"));
    assert!(
        admin
            .get("/admin/courses")
            .await
            .html
            .contains(">hidden</span>")
    );
    let account = ada.get("/account").await;
    assert!(
        account.html.contains("hidden by an admin"),
        "{}",
        account.html
    );

    admin
        .post(
            &manage,
            &[("csrf", &csrf), ("action", "show"), ("from", "admin")],
        )
        .await;
    assert_eq!(web.get(&hers).await.status, StatusCode::OK);

    // Its maker deletes it from their account page.
    let csrf = ada.csrf().await;
    let deleted = ada
        .post(
            &manage,
            &[("csrf", &csrf), ("action", "delete"), ("from", "account")],
        )
        .await;
    assert_eq!(location(&deleted), "/account");
    assert_eq!(web.get(&hers).await.status, StatusCode::NOT_FOUND);
    web.drain_jobs().await;
    assert_eq!(web.app.store.job_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_maker_makes_a_course_unlisted_then_private_and_nobody_else_finds_it_anywhere() {
    let web = spawn_web().await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    web.drain_jobs().await;
    let slug = hers.trim_start_matches("/courses/").to_owned();
    let unit = format!("{hers}/weeks/1/units/1");
    let addresses = [
        hers.clone(),
        format!("{hers}/weeks/1"),
        unit.clone(),
        format!("/api/courses/{slug}"),
        format!("/api/courses/{slug}/weeks/1/units/1"),
    ];
    let bobs_csrf = bob.csrf().await;
    bob.post(&format!("{hers}/enrol"), &[("csrf", &bobs_csrf)])
        .await;
    assert!(bob.get("/").await.html.contains(&slug), "Bob started it");
    // Everyone reads it once, so that its pages are in the page cache.
    for address in &addresses {
        assert_eq!(web.get(address).await.status, StatusCode::OK, "{address}");
    }
    let page = ada.get(&hers).await;
    assert!(page.html.contains("Who can see it"), "{}", page.html);
    assert!(!bob.get(&hers).await.html.contains("Who can see it"));
    let csrf = Browser::hidden(&page, "csrf");
    let manage = format!("{hers}/manage");
    // Unlisted: readable by its address, asked not to be indexed, listed nowhere.
    let refused = set_visibility(&mut bob, &manage, &bobs_csrf, "unlisted").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "only its maker");
    let bad = set_visibility(&mut ada, &manage, &csrf, "secret").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("visibility must be"), "{}", bad.html);
    let saved = set_visibility(&mut ada, &manage, &csrf, "unlisted").await;
    assert_eq!(location(&saved), hers);
    let page = web.get(&unit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html
            .contains(r#"<meta name="robots" content="noindex">"#)
    );
    assert!(
        ada.get(&hers)
            .await
            .html
            .contains("Unlisted: anyone with the address")
    );
    for listing in ["/courses", "/", "/sitemaps/1.xml", "/api/courses"] {
        assert!(
            !web.get(listing).await.html.contains(&slug),
            "{listing} lists an unlisted course"
        );
    }

    // Private: a 404 to everyone but its maker, even from pages kept in memory.
    set_visibility(&mut ada, &manage, &csrf, "private").await;
    for address in &addresses {
        assert_eq!(
            web.get(address).await.status,
            StatusCode::NOT_FOUND,
            "{address} signed out"
        );
        assert_eq!(
            bob.get(address).await.status,
            StatusCode::NOT_FOUND,
            "{address} for Bob"
        );
    }
    assert_eq!(ada.get(&unit).await.status, StatusCode::OK);
    assert!(
        !bob.get("/").await.html.contains(&slug),
        "gone from the home page of a learner who started it"
    );
    let page = ada.get(&hers).await;
    assert!(page.html.contains("Private: only you"), "{}", page.html);
    assert_eq!(
        web.get(&unit).await.status,
        StatusCode::NOT_FOUND,
        "her reading kept nothing others are served"
    );
    assert!(ada.get("/account").await.html.contains(">private</span>"));

    // Public again: everyone reads it.
    set_visibility(&mut ada, &manage, &csrf, "public").await;
    assert_eq!(web.get(&unit).await.status, StatusCode::OK);
    assert!(web.get("/courses").await.html.contains(&slug));
}

#[tokio::test]
async fn deleting_a_course_asks_first_and_says_what_goes_with_it() {
    let web = spawn_web().await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    let csrf = bob.csrf().await;
    bob.post(&format!("{hers}/enrol"), &[("csrf", &csrf)]).await;

    let account = ada.get("/account").await;
    assert!(
        account.html.contains(&format!("{hers}/delete")),
        "{}",
        account.html
    );
    assert_eq!(
        bob.get(&format!("{hers}/delete")).await.status,
        StatusCode::FORBIDDEN
    );
    let asked = ada.get(&format!("{hers}/delete")).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.html.contains("Its 2 units") && asked.html.contains("1 learner has started it"),
        "{}",
        asked.html
    );
    assert_eq!(
        web.get(&hers).await.status,
        StatusCode::OK,
        "asking deletes nothing"
    );
    let csrf = Browser::hidden(&asked, "csrf");
    let deleted = ada
        .post(
            &format!("{hers}/manage"),
            &[("csrf", &csrf), ("action", "delete"), ("from", "account")],
        )
        .await;
    assert_eq!(location(&deleted), "/account");
    assert_eq!(web.get(&hers).await.status, StatusCode::NOT_FOUND);
}

/// Posts the course page's "Who can see it" form at `manage` as `browser`.
async fn set_visibility(
    browser: &mut Browser<'_>,
    manage: &str,
    csrf: &str,
    visibility: &str,
) -> crate::helpers::Page {
    course_setting(browser, manage, csrf, "visibility", visibility).await
}

/// Posts one of the course page's forms for its maker at `manage` as `browser`: the `action`
/// (`visibility`, `category`) with its field of that name set to `value`.
pub(crate) async fn course_setting(
    browser: &mut Browser<'_>,
    manage: &str,
    csrf: &str,
    action: &str,
    value: &str,
) -> crate::helpers::Page {
    browser
        .post(
            manage,
            &[
                ("csrf", csrf),
                ("action", action),
                (action, value),
                ("from", "course"),
            ],
        )
        .await
}

#[tokio::test]
async fn a_program_with_its_maker_s_token_sets_who_sees_a_course_and_deletes_it() {
    let web = spawn_web().await;
    let (mut ada, _bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    let api = hers.replacen("/courses/", "/api/courses/", 1);
    let (hers_token, bobs_token) = (
        bearer(&web, "ada@example.org").await,
        bearer(&web, "bob@example.org").await,
    );

    let refused = api_call(
        &web,
        "PATCH",
        &api,
        bobs_token.clone(),
        r#"{"visibility": "private"}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let bad = api_call(
        &web,
        "PATCH",
        &api,
        hers_token.clone(),
        r#"{"visibility": "hidden"}"#,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains(r#""field":"visibility""#), "{}", bad.html);
    let unknown = api_call(
        &web,
        "PATCH",
        &api,
        hers_token.clone(),
        r#"{"title": "Mine"}"#,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.html);
    let set = api_call(
        &web,
        "PATCH",
        &api,
        hers_token.clone(),
        r#"{"visibility": "private"}"#,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.html);
    assert!(set.html.contains(r#""visibility":"private""#));
    assert_eq!(web.get(&api).await.status, StatusCode::NOT_FOUND);
    let own = api_call(&web, "GET", &api, hers_token.clone(), "").await;
    assert_eq!(own.status, StatusCode::OK, "its maker's token reads it");
    let unseen = api_call(&web, "DELETE", &api, bobs_token, "").await;
    assert_eq!(
        unseen.status,
        StatusCode::NOT_FOUND,
        "a private course is nobody else's to find"
    );

    let deleted = api_call(&web, "DELETE", &api, hers_token.clone(), "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.html);
    assert_eq!(web.get(&hers).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api_call(&web, "DELETE", &api, hers_token, "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_maker_previews_edits_and_restores_a_unit_while_a_learner_keeps_their_progress() {
    let web = spawn_web().await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    web.drain_jobs().await;
    let unit = format!("{hers}/weeks/1/units/1");
    let edit = format!("{unit}/edit");

    // Bob finishes the unit; the page everyone shares is in the page cache.
    let bobs_csrf = bob.csrf().await;
    bob.post(
        &format!("{unit}/done"),
        &[("csrf", &bobs_csrf), ("action", "done")],
    )
    .await;
    let before = web.get(&unit).await.html;
    assert!(before.contains("checked by no person"));
    assert!(
        ada.get(&unit)
            .await
            .html
            .contains(&format!(r#"href="{edit}""#))
    );
    assert!(!bob.get(&unit).await.html.contains("Edit this unit"));
    assert_eq!(bob.get(&edit).await.status, StatusCode::FORBIDDEN);

    let form = ada.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = Browser::hidden(&form, "csrf");
    let model_text = web
        .app
        .store
        .units(
            web.app
                .store
                .course(hers.trim_start_matches("/courses/"))
                .await
                .unwrap()
                .id,
        )
        .await
        .unwrap()[0]
        .body
        .clone()
        .unwrap();
    assert!(
        form.html.contains(&askama_escape(&model_text[..40])),
        "{}",
        form.html
    );

    // A preview renders through the article sanitiser and stores nothing.
    let body = "## Why the sea rises\n\nThe **Moon** pulls.<script>alert(1)</script>";
    let preview = ada
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("action", "preview"),
                ("title", "Tides, plainly"),
                ("body", body),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.html.contains("<strong>Moon</strong>") && !preview.html.contains("<script>alert")
    );
    assert!(
        web.get(&unit).await.html.contains("checked by no person"),
        "not saved"
    );

    let refused = ada
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("title", " "),
                ("body", body),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("title: give the unit a title"),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("Why the sea rises"),
        "what was typed is kept"
    );
    let forged = ada
        .post(
            &edit,
            &[
                ("csrf", "guess"),
                ("action", "save"),
                ("title", "X"),
                ("body", "Y"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let saved = ada
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("title", "Tides, plainly"),
                ("body", body),
            ],
        )
        .await;
    assert_eq!(location(&saved), unit);
    let page = web.get(&unit).await.html;
    assert!(page.contains("Tides, plainly") && page.contains("<strong>Moon</strong>"));
    assert!(page.contains("edited by Ada"), "{page}");
    assert!(
        bob.get(&unit).await.html.contains("✓ Done."),
        "Bob's progress stays"
    );

    // The model's text is kept, and restored.
    let form = ada.get(&edit).await;
    assert!(
        form.html.contains("written by the model; replaced"),
        "{}",
        form.html
    );
    let restore = form
        .html
        .split(r#"action=""#)
        .filter_map(|rest| rest.split('"').next())
        .find(|action| action.ends_with("/restore"))
        .unwrap()
        .to_owned();
    let restored = ada.post(&restore, &[("csrf", &csrf)]).await;
    assert_eq!(location(&restored), unit);
    let page = web.get(&unit).await.html;
    assert!(page.contains("checked by no person") && !page.contains("Tides, plainly"));
    assert!(
        ada.get(&edit).await.html.contains("Tides, plainly"),
        "Ada's text is kept too"
    );
    assert!(bob.get(&unit).await.html.contains("✓ Done."));
}

/// `text` as an askama template shows it.
fn askama_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn a_program_with_its_maker_s_token_edits_a_unit_lists_its_versions_and_restores_one() {
    let web = spawn_web().await;
    let (mut ada, _bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    web.drain_jobs().await;
    let unit = format!(
        "{}/weeks/1/units/1",
        hers.replacen("/courses/", "/api/courses/", 1)
    );
    let (hers_token, bobs_token) = (
        bearer(&web, "ada@example.org").await,
        bearer(&web, "bob@example.org").await,
    );

    let refused = api_call(
        &web,
        "PATCH",
        &unit,
        bobs_token.clone(),
        r#"{"title": "Mine"}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = api_call(
        &web,
        "PATCH",
        &unit,
        hers_token.clone(),
        r#"{"body": "   "}"#,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains(r#""field":"body""#), "{}", bad.html);
    let edited = api_call(
        &web,
        "PATCH",
        &unit,
        hers_token.clone(),
        r#"{"body": "The Moon pulls the sea."}"#,
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.html);
    let edited: serde_json::Value = serde_json::from_str(&edited.html).unwrap();
    assert_eq!(edited["body"], "The Moon pulls the sea.");
    assert!(
        edited["title"]
            .as_str()
            .is_some_and(|title| !title.is_empty()),
        "kept"
    );

    let versions = api_call(
        &web,
        "GET",
        &format!("{unit}/versions"),
        hers_token.clone(),
        "",
    )
    .await;
    assert_eq!(versions.status, StatusCode::OK);
    let versions: serde_json::Value = serde_json::from_str(&versions.html).unwrap();
    assert_eq!(versions[0]["author"], "model");
    let id = versions[0]["id"].as_i64().unwrap();
    assert_eq!(
        api_call(&web, "GET", &format!("{unit}/versions"), bobs_token, "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = api_call(
        &web,
        "POST",
        &format!("{unit}/versions/999999/restore"),
        hers_token.clone(),
        "",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let restored = api_call(
        &web,
        "POST",
        &format!("{unit}/versions/{id}/restore"),
        hers_token,
        "",
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.html);
    assert_ne!(
        serde_json::from_str::<serde_json::Value>(&restored.html).unwrap()["body"],
        "The Moon pulls the sea."
    );
}

/// `Bearer` and a new API token of the account with this email.
pub(crate) async fn bearer(web: &TestWeb, email: &str) -> String {
    let (user, _) = web.app.store.user_by_email(email).await.unwrap().unwrap();
    let (token, _) = accounts::create_api_token(&web.app.store, &user, "script")
        .await
        .unwrap();
    format!("Bearer {token}")
}

/// `body` sent to `path` as JSON by a program with `token`.
pub(crate) async fn api_call(
    web: &TestWeb,
    method: &str,
    path: &str,
    token: String,
    body: &str,
) -> crate::helpers::Page {
    let headers = [
        ("authorization", token.as_str()),
        ("content-type", "application/json"),
    ];
    web.call(method, path, &headers, body.into()).await
}

#[tokio::test]
async fn a_unit_written_again_with_a_wish_replaces_the_text_only_when_stored_and_keeps_every_learner()
 {
    let web = spawn_web().await;
    let (mut ada, mut bob) = ada_and_bob(&web).await;
    let hers = make_course(&web, &mut ada, "How tides rise and fall").await;
    web.drain_jobs().await;
    let course = web
        .app
        .store
        .course(hers.trim_start_matches("/courses/"))
        .await
        .unwrap();
    let first = web.app.store.units(course.id).await.unwrap()[0].clone();
    let old_text = first.body.clone().unwrap();
    let unit = format!("{hers}/weeks/1/units/1");
    let edit = format!("{unit}/edit");

    // Bob takes the quiz (all wrong) and marks the unit done.
    let bobs_csrf = bob.csrf().await;
    let quiz = web.app.store.quiz(first.id).await.unwrap().unwrap();
    let wrong: Vec<(String, String)> = quiz
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| (format!("q{}", i + 1), ((q.answer + 1) % 4).to_string()))
        .collect();
    let wrong: Vec<(&str, &str)> = wrong
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let opened = bob.get(&unit).await;
    let version = Browser::hidden(&opened, "version");
    let mut answered = wrong.clone();
    answered.push(("version", &version));
    assert_eq!(
        bob.post(&format!("{unit}/quiz"), &answered).await.status,
        StatusCode::OK
    );
    bob.post(
        &format!("{unit}/done"),
        &[("csrf", &bobs_csrf), ("action", "done")],
    )
    .await;

    let form = ada.get(&edit).await;
    let csrf = Browser::hidden(&form, "csrf");
    assert!(form.html.contains("Write this unit again"));
    let long = "s".repeat(301);
    let refused = ada
        .post(
            &format!("{unit}/rewrite"),
            &[("csrf", &csrf), ("instruction", &long)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("instruction: shorten the wish"),
        "{}",
        refused.html
    );
    let theirs = bob
        .post(
            &format!("{unit}/rewrite"),
            &[("csrf", &bobs_csrf), ("instruction", "")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);

    let new_text = format!(
        "{}\n\nTides, now told more simply.",
        lyceum_testkit::article(&first.title)
    );
    web.model
        .script("unit 1.1", lyceum_testkit::Action::Answer(new_text.clone()));
    // Its quiz is written again too, with other questions.
    let new_quiz = lyceum_testkit::quiz(&format!("{}, told again", first.title));
    web.model
        .script("quiz", lyceum_testkit::Action::Answer(new_quiz.to_string()));
    let asked = ada
        .post(
            &format!("{unit}/rewrite"),
            &[("csrf", &csrf), ("instruction", "simpler, please")],
        )
        .await;
    assert_eq!(location(&asked), format!("{edit}#rewrite"));
    let again = ada
        .post(
            &format!("{unit}/rewrite"),
            &[("csrf", &csrf), ("instruction", "")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "one rewrite at a time");
    // Until the new text is stored, everyone reads the old one; its maker sees it coming.
    let page = web.get(&unit).await.html;
    assert!(!page.contains("now told more simply"));
    let waiting = ada.get(&edit).await.html;
    assert!(
        waiting.contains(&format!(r#"data-live="{unit}/rewrite/live""#))
            && waiting.contains("asked for “simpler, please”"),
        "{waiting}"
    );

    web.drain_jobs().await;
    let asked_with = web
        .model
        .calls()
        .into_iter()
        .rev()
        .find(|call| call.key == "unit 1.1")
        .unwrap();
    assert!(
        asked_with
            .last_user
            .contains("<maker_wish>\nsimpler, please\n</maker_wish>"),
        "{}",
        asked_with.last_user
    );
    let page = web.get(&unit).await.html;
    assert!(page.contains("now told more simply"), "{page}");
    let units = web.app.store.units(course.id).await.unwrap();
    assert_eq!(units[0].id, first.id, "the same unit");
    let versions = web.app.store.unit_versions(first.id).await.unwrap();
    assert_eq!(versions[0].body, old_text, "the old text is kept");
    // Bob's progress and attempt stay; his best is now on an earlier version of the quiz, which
    // was written again with the unit.
    let bobs_unit = bob.get(&unit).await.html;
    assert!(bobs_unit.contains("✓ Done."), "{bobs_unit}");
    assert!(
        bobs_unit.contains("on an earlier version of the quiz"),
        "{bobs_unit}"
    );
    let bobs_course = bob.get(&hers).await.html;
    assert!(bobs_course.contains("(earlier version)"), "{bobs_course}");
    // Answers sent from a page opened before the quiz was written again are not checked against
    // its new questions.
    let stale = bob.post(&format!("{unit}/quiz"), &answered).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.html.contains("answer its new questions"),
        "{}",
        stale.html
    );
    assert!(
        stale.html.contains("told again"),
        "the new questions are shown"
    );
    assert_eq!(
        web.app
            .store
            .attempts(bobs_id(&web).await, None)
            .await
            .unwrap()
            .len(),
        1
    );
    // Writing it again is not writing the course: the course page still counts its own parts.
    assert!(!web.get(&hers).await.html.contains("failed"));
}

/// Ada and Bob, each signed up in a browser of their own.
pub(crate) async fn ada_and_bob(web: &TestWeb) -> (Browser<'_>, Browser<'_>) {
    let mut ada = Browser::new(web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut bob = Browser::new(web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    (ada, bob)
}
