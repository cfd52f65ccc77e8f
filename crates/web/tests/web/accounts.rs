//! Accounts through the pages: signing up, in and out, sessions, passwords, tokens, and what another
//! person, another site or a guesser cannot do.

use axum::http::StatusCode;

use crate::helpers::{Browser, Page, TestWeb, location, spawn_web};

pub const PASSWORD: &str = "copper lantern orbit mossy";

#[tokio::test]
async fn a_person_signs_up_sees_only_their_account_signs_out_and_back_in() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    let made = ada.sign_up("Ada", " Ada@Example.org ", PASSWORD).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    assert_eq!(location(&made), "/account");
    let cookie = made.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("lyceum_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let page = ada.get("/account").await;
    assert!(page.html.contains("ada@example.org"), "{}", page.html);
    assert!(
        page.html
            .contains("Firefox on Linux</strong> (this browser)"),
        "{}",
        page.html
    );

    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let bobs = bob.get("/account").await;
    assert!(bobs.html.contains("bob@example.org"));
    assert!(!bobs.html.contains("ada@example.org"));

    let csrf = ada.csrf().await;
    let out = ada.post("/account/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let away = ada.get("/account").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&away), "/account/sign-in");

    let back = ada.sign_in("ADA@example.org", PASSWORD).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    assert!(ada.get("/account").await.html.contains("ada@example.org"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let web = spawn_web().await;
    Browser::new(&web)
        .sign_up("Ada", "ada@example.org", PASSWORD)
        .await;
    let mut someone = Browser::new(&web);
    let wrong = someone
        .sign_in("ada@example.org", "not her password at all")
        .await;
    let unknown = someone.sign_in("nobody@example.org", PASSWORD).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = "that email and password do not match an account";
    assert!(wrong.html.contains(message), "{}", wrong.html);
    assert!(unknown.html.contains(message));
    assert_eq!(someone.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn weak_passwords_and_taken_emails_are_refused_with_the_reason_and_the_typing_kept() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    let short = ada.sign_up("Ada", "ada@example.org", "abc123").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.html.contains("at least 10 characters"),
        "{}",
        short.html
    );
    assert!(short.html.contains("value=\"ada@example.org\""));
    let guessable = ada.sign_up("Ada", "ada@example.org", "password1234").await;
    assert!(
        guessable.html.contains("easy to guess"),
        "{}",
        guessable.html
    );
    assert!(
        !guessable.html.contains("password1234"),
        "a password is never shown back"
    );

    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let again = Browser::new(&web)
        .sign_up("Ada", "ada@example.org", "violet harbour tangent quiet")
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.html.contains("sign in instead"), "{}", again.html);
}

#[tokio::test]
async fn forms_without_their_token_are_refused_even_from_a_browser_without_fetch_metadata() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    // No CSRF token: refused, and still signed in.
    let out = ada.post("/account/sign-out", &[("csrf", "guess")]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);
    assert_eq!(ada.get("/account").await.status, StatusCode::OK);
    // A sign-in form without its cookie's token (a page elsewhere posting it): refused.
    let mut other = Browser::new(&web);
    let forged = other
        .post(
            "/account/sign-in",
            &[
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("token", "0000"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        other
            .cookies
            .iter()
            .all(|(name, _)| name != "lyceum_session")
    );
}

#[tokio::test]
async fn sessions_are_listed_and_ended_by_their_owner_only() {
    let web = spawn_web().await;
    let mut laptop = Browser::new(&web);
    laptop.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut phone = Browser::new(&web);
    phone.sign_in("ada@example.org", PASSWORD).await;
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;

    let phone_session = web
        .app
        .store
        .sessions(
            web.app
                .store
                .user_by_email("ada@example.org")
                .await
                .unwrap()
                .unwrap()
                .0
                .id,
            lyceum_store::now_ms(),
        )
        .await
        .unwrap()[0]
        .id;
    // Bob cannot end Ada's session, even with his own CSRF token.
    let bobs_csrf = bob.csrf().await;
    let refused = bob
        .post(
            &format!("/account/sessions/{phone_session}/end"),
            &[("csrf", &bobs_csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(phone.get("/account").await.status, StatusCode::OK);

    let csrf = laptop.csrf().await;
    let page = laptop
        .post("/account/sessions/end-others", &[("csrf", &csrf)])
        .await;
    assert!(
        page.html.contains("Signed out of 1 other session."),
        "{}",
        page.html
    );
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/account").await.status, StatusCode::OK);
    assert_eq!(bob.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_sessions() {
    let web = spawn_web().await;
    let mut laptop = Browser::new(&web);
    laptop.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut phone = Browser::new(&web);
    phone.sign_in("ada@example.org", PASSWORD).await;
    let csrf = laptop.csrf().await;
    let new = "saffron meadow glacier piano";
    let wrong = laptop
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", "not it at all"), ("new", new)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("current password is not right"));
    let saved = laptop
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", new)],
        )
        .await;
    assert!(saved.html.contains("Password saved"), "{}", saved.html);
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    let mut elsewhere = Browser::new(&web);
    assert_eq!(
        elsewhere.sign_in("ada@example.org", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        elsewhere.sign_in("ada@example.org", new).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_api_token_is_shown_once_stands_for_its_owner_and_is_revoked_by_them_only() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let csrf = ada.csrf().await;
    let made = ada
        .post(
            "/account/tokens",
            &[("csrf", &csrf), ("name", "export script")],
        )
        .await;
    let start = made.html.find("lyceum_").expect("the token is shown");
    let token: String = made.html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(token.len(), "lyceum_".len() + 64, "{token}");
    let again = ada.get("/account").await;
    assert!(again.html.contains("export script"));
    assert!(!again.html.contains(&token), "shown only once");

    let bearer = format!("Bearer {token}");
    let me = web.get_with("/api/me", &[("authorization", &bearer)]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.html);
    let me: serde_json::Value = serde_json::from_str(&me.html).unwrap();
    assert_eq!(me["email"], "ada@example.org");
    let owner = lyceum_app::accounts::api_token_user(&web.app.store, &token)
        .await
        .unwrap()
        .unwrap();
    let nobody = web.get("/api/me").await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert_eq!(nobody.headers["www-authenticate"], "Bearer");

    let token_id = web.app.store.api_tokens(owner.id).await.unwrap()[0].id;
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let bobs_csrf = bob.csrf().await;
    let refused = bob
        .post(
            &format!("/account/tokens/{token_id}/revoke"),
            &[("csrf", &bobs_csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let revoked = ada
        .post(
            &format!("/account/tokens/{token_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let revoked = web.get_with("/api/me", &[("authorization", &bearer)]).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
}

/// A JSON request with a bearer token.
async fn api(web: &TestWeb, bearer: &str, method: &str, path: &str, body: &str) -> Page {
    let headers = [
        ("authorization", bearer),
        ("content-type", "application/json"),
    ];
    web.call(method, path, &headers, body.into()).await
}

/// An API token of the account with this email, made as the account page makes one.
async fn token_of(web: &TestWeb, email: &str) -> (String, i64) {
    let (user, _) = web.app.store.user_by_email(email).await.unwrap().unwrap();
    let (token, stored) = lyceum_app::accounts::create_api_token(&web.app.store, &user, "script")
        .await
        .unwrap();
    (format!("Bearer {token}"), stored.id)
}

#[tokio::test]
async fn a_token_looks_after_its_own_account_through_the_api_and_reaches_no_other() {
    let web = spawn_web().await;
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    Browser::new(&web)
        .sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let (hers, her_token) = token_of(&web, "ada@example.org").await;
    let (his, _) = token_of(&web, "bob@example.org").await;
    let json = |page: &Page| -> serde_json::Value {
        serde_json::from_str(&page.html).unwrap_or_else(|_| panic!("{}", page.html))
    };

    let blank = api(&web, &hers, "PATCH", "/api/me", r#"{"display_name": "  "}"#).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&blank)["problems"][0]["field"], "display_name");
    let unknown = api(&web, &hers, "PATCH", "/api/me", r#"{"name": "Ada L."}"#).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.html);
    let renamed = api(
        &web,
        &hers,
        "PATCH",
        "/api/me",
        r#"{"display_name": "Ada L."}"#,
    )
    .await;
    assert_eq!(json(&renamed)["display_name"], "Ada L.");
    let data = api(&web, &hers, "GET", "/api/me/data", "").await;
    assert_eq!(json(&data)["account"]["display_name"], "Ada L.");
    assert!(
        !data.html.contains(hers.trim_start_matches("Bearer ")),
        "no token in the data"
    );
    assert_eq!(
        json(&api(&web, &hers, "GET", "/api/me/courses", "").await),
        serde_json::json!([])
    );
    let tokens = api(&web, &hers, "GET", "/api/me/tokens", "").await;
    assert_eq!(json(&tokens)[0]["name"], "script");
    assert!(!tokens.html.contains(hers.trim_start_matches("Bearer ")));

    // Her browser's session, seen and ended through the API; his token cannot touch it.
    let sessions = json(&api(&web, &hers, "GET", "/api/me/sessions", "").await);
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
    assert_eq!(sessions[0]["browser"], "Firefox on Linux");
    let session = format!("/api/me/sessions/{}", sessions[0]["id"]);
    let his_try = web
        .call(
            "DELETE",
            &session,
            &[("authorization", &his)],
            String::new(),
        )
        .await;
    assert_eq!(his_try.status, StatusCode::NOT_FOUND);
    assert_eq!(ada.get("/account").await.status, StatusCode::OK);
    let ended = web
        .call(
            "DELETE",
            &session,
            &[("authorization", &hers)],
            String::new(),
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(location(&ada.get("/account").await), "/account/sign-in");

    // Her token, revoked by her own request: not by his, and it stops at once.
    let revoke = format!("/api/me/tokens/{her_token}");
    let his_try = web
        .call("DELETE", &revoke, &[("authorization", &his)], String::new())
        .await;
    assert_eq!(his_try.status, StatusCode::NOT_FOUND);
    let revoked = web
        .call(
            "DELETE",
            &revoke,
            &[("authorization", &hers)],
            String::new(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = web.get_with("/api/me", &[("authorization", &hers)]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn guessing_one_account_s_password_is_stopped_after_ten_tries_an_hour() {
    let web = spawn_web().await;
    Browser::new(&web)
        .sign_up("Ada", "ada@example.org", PASSWORD)
        .await;
    let mut guesser = Browser::new(&web);
    for guess in 0..lyceum_web::SIGN_INS_PER_ACCOUNT {
        let tried = guesser
            .sign_in("ada@example.org", &format!("guess number {guess} here"))
            .await;
        assert_eq!(tried.status, StatusCode::UNAUTHORIZED);
    }
    let stopped = guesser.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(stopped.headers.contains_key("retry-after"));
    assert!(
        stopped.html.contains("too many attempts to sign in"),
        "{}",
        stopped.html
    );
}

#[tokio::test]
async fn a_session_ended_and_a_unit_done_on_another_node_show_here_once_it_hears() {
    let Some(database) = lyceum_testkit::postgres_database().await else {
        return;
    };
    let url = database.url.clone();
    let here = crate::helpers::spawn_web_with(move |settings| settings.database.url = url).await;
    let url = database.url.clone();
    let there = crate::helpers::spawn_web_with(move |settings| settings.database.url = url).await;
    let course = here.course("How tides rise and fall", 1, 1).await;
    here.drain_jobs().await;
    let unit = here.app.store.units(course.id).await.unwrap()[0].clone();
    let path = format!("/courses/{}/weeks/1/units/1", course.slug);

    let mut ada = Browser::new(&here);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let ada_id = here
        .app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap()
        .0
        .id;
    // Read once here, so that this node keeps her session and her standing in the course.
    assert!(ada.get(&path).await.html.contains("Mark as done"));
    let mut heard = here.app.store.changes().await.unwrap();
    there
        .app
        .store
        .mark_done(
            ada_id,
            unit.id,
            lyceum_store::DoneHow::Marked,
            lyceum_store::now_ms(),
        )
        .await
        .unwrap();
    hear(&mut heard, ada_id).await;
    assert!(ada.get(&path).await.html.contains("✓ Done."));

    assert_eq!(there.app.store.end_sessions(ada_id, None).await.unwrap(), 1);
    hear(&mut heard, ada_id).await;
    let page = ada.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "signed out here too");
}

/// Waits for the feed to say account `id` changed, failing the test after 10 s.
async fn hear(heard: &mut lyceum_store::Changes, id: i64) {
    loop {
        let change = tokio::time::timeout(std::time::Duration::from_secs(10), heard.next())
            .await
            .expect("no word from the other node within 10 s")
            .expect("the feed ended");
        if change == lyceum_store::Change::Account(id) {
            return;
        }
    }
}
