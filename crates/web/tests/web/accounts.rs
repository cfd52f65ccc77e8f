//! Accounts through the pages: signing up, in and out, sessions, passwords, tokens, and what another
//! person, another site or a guesser cannot do.

use axum::http::StatusCode;

use crate::helpers::{Page, TestWeb, form_body, spawn_web};

const PASSWORD: &str = "copper lantern orbit mossy";

/// One browser: the cookies it was given, sent back with every request.
struct Browser<'a> {
    web: &'a TestWeb,
    cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    fn new(web: &'a TestWeb) -> Self {
        Self {
            web,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, page: &Page) {
        for value in page.headers.get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, cookie) = pair.split_once('=').unwrap();
            self.cookies.retain(|(kept, _)| kept != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), cookie.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let cookies = self.cookie_header();
        let page = self.web.get_with(path, &[("cookie", &cookies)]).await;
        self.keep(&page);
        page
    }

    /// A form posted from a page of this site.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let cookies = self.cookie_header();
        let page = self
            .web
            .post(
                path,
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookies),
                    (
                        "user-agent",
                        "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                    ),
                ],
                form_body(fields),
            )
            .await;
        self.keep(&page);
        page
    }

    /// The value of the first hidden field `name` on `page`.
    fn hidden(page: &Page, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", page.html))
            + marker.len();
        page.html[start..].split('"').next().unwrap().to_owned()
    }

    async fn sign_up(&mut self, name: &str, email: &str, password: &str) -> Page {
        let form = self.get("/account/sign-up").await;
        let token = Self::hidden(&form, "token");
        self.post(
            "/account/sign-up",
            &[
                ("name", name),
                ("email", email),
                ("password", password),
                ("token", &token),
            ],
        )
        .await
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/account/sign-in").await;
        let token = Self::hidden(&form, "token");
        self.post(
            "/account/sign-in",
            &[("email", email), ("password", password), ("token", &token)],
        )
        .await
    }

    /// The account page's CSRF token.
    async fn csrf(&mut self) -> String {
        let page = self.get("/account").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        Self::hidden(&page, "csrf")
    }
}

fn location(page: &Page) -> &str {
    page.headers["location"].to_str().unwrap()
}

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
