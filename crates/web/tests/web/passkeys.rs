//! The passkey steps as a page's script meets them: the options a browser needs, bad input refused
//! with the field and the reason, and every step behind its token. Chromium makes and uses real
//! passkeys in the cli suite (`browser.rs`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::accounts::PASSWORD;
use crate::helpers::{Browser, Page, location, spawn_web, spawn_web_with};

fn json_of(page: &Page) -> Value {
    serde_json::from_str(&page.html).unwrap_or_else(|_| panic!("not JSON: {}", page.html))
}

/// The first problem's field and message.
fn problem(page: &Page) -> (String, String) {
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    let body = json_of(page);
    let problem = &body["problems"][0];
    (
        problem["field"].as_str().unwrap_or_default().to_owned(),
        problem["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn signing_up_with_a_passkey_checks_the_fields_first_and_makes_no_account_until_one_verifies()
{
    let web = spawn_web().await;
    let mut someone = Browser::new(&web);
    someone.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let mut browser = Browser::new(&web);
    let form = browser.get("/account/sign-up").await;
    assert!(
        form.html.contains("data-passkey=\"sign-up\""),
        "{}",
        form.html
    );
    let token = Browser::hidden(&form, "token");
    let start = "/account/passkeys/sign-up/start";

    for (name, email, field, says) in [
        ("Grace", "grace.example.org", "email", "@"),
        ("", "grace@example.org", "name", "name"),
        ("Grace", "ADA@example.org ", "email", "exists already"),
    ] {
        let refused = browser
            .post_json(
                start,
                &json!({"token": token, "name": name, "email": email}),
            )
            .await;
        let (got_field, message) = problem(&refused);
        assert_eq!(got_field, field, "{name:?} {email:?}: {message}");
        assert!(message.contains(says), "{message}");
    }

    let started = browser
        .post_json(
            start,
            &json!({"token": token, "name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.html);
    let challenge = json_of(&started);
    let ceremony = challenge["ceremony"].as_str().unwrap().to_owned();
    assert_eq!(ceremony.len(), 32);
    let options = &challenge["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["user"]["name"], "grace@example.org");
    assert_eq!(options["user"]["displayName"], "Grace");
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "a passkey that can sign in without an email: {options}"
    );
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    let store = &web.app.store;
    assert!(
        store
            .user_by_email("grace@example.org")
            .await
            .unwrap()
            .is_none()
    );

    // An answer that does not verify makes no account, and uses the challenge up.
    let forged = json!({
        "token": token,
        "ceremony": ceremony,
        "credential": {
            "id": "AAAA", "rawId": "AAAA", "type": "public-key", "extensions": {},
            "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"},
        },
    });
    let finish = "/account/passkeys/sign-up/finish";
    let refused = browser.post_json(finish, &forged).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json_of(&refused)["error"]
            .as_str()
            .unwrap()
            .contains("could not be used")
    );
    let again = browser.post_json(finish, &forged).await;
    assert!(
        json_of(&again)["error"]
            .as_str()
            .unwrap()
            .contains("ran out of time")
    );
    assert!(
        store
            .user_by_email("grace@example.org")
            .await
            .unwrap()
            .is_none()
    );
    assert!(refused.headers.get("set-cookie").is_none());

    // A body that is not an answer says what is missing.
    let missing = browser.post_json(finish, &json!({"token": token})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        json_of(&missing)["error"]
            .as_str()
            .unwrap()
            .contains("ceremony")
    );
}

#[tokio::test]
async fn each_passkey_step_needs_its_token_and_adding_one_needs_the_session() {
    let web = spawn_web().await;
    let mut browser = Browser::new(&web);
    let form = browser.get("/account/sign-in").await;
    assert!(
        form.html.contains("data-passkey=\"sign-in\""),
        "{}",
        form.html
    );
    let token = Browser::hidden(&form, "token");

    // The form's cookie without its token (a page elsewhere cannot read it): refused.
    let forged = browser
        .post_json(
            "/account/passkeys/sign-in/start",
            &json!({"token": "0".repeat(64)}),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let started = browser
        .post_json("/account/passkeys/sign-in/start", &json!({"token": token}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.html);
    let options = &json_of(&started)["options"]["publicKey"];
    assert_eq!(options["rpId"], "localhost");
    assert!(
        options["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "the browser offers any passkey of the site, without an email: {options}"
    );

    // Adding a passkey is for someone signed in, with the session's CSRF token.
    let signed_out = browser
        .post_json("/account/passkeys/add/start", &json!({"token": token}))
        .await;
    assert!(signed_out.status.is_redirection());
    assert_eq!(location(&signed_out), "/account/sign-in");
    browser.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let csrf = browser.csrf().await;
    let wrong = browser
        .post_json("/account/passkeys/add/start", &json!({"token": token}))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let adding = browser
        .post_json("/account/passkeys/add/start", &json!({"token": csrf}))
        .await;
    assert_eq!(adding.status, StatusCode::OK, "{}", adding.html);
    let options = &json_of(&adding)["options"]["publicKey"];
    assert_eq!(options["user"]["name"], "ada@example.org");

    // Nobody removes a passkey that is not theirs.
    let removed = browser
        .post("/account/passkeys/1/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_site_reached_by_an_ip_address_offers_passwords_only_and_says_why() {
    let web =
        spawn_web_with(|settings| settings.web.public_url = "http://192.0.2.10:8080".into()).await;
    let mut browser = Browser::new(&web);
    let form = browser.get("/account/sign-in").await;
    assert!(!form.html.contains("data-passkey"), "{}", form.html);
    let token = Browser::hidden(&form, "token");
    let refused = browser
        .post_json("/account/passkeys/sign-in/start", &json!({"token": token}))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(
        json_of(&refused)["error"]
            .as_str()
            .unwrap()
            .contains("https")
    );
    browser.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let account = browser.get("/account").await;
    assert!(!account.html.contains("data-passkey"));
    assert!(account.html.contains("only on a site served over https"));
}
