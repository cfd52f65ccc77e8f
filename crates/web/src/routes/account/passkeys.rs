//! Passkeys on the site: the JSON steps the pages' script takes with the browser's WebAuthn API, and
//! removing a passkey from the account page. Each ceremony is a `start` that answers the options for
//! `navigator.credentials` and a `finish` that takes the browser's answer. Signing up and in carry
//! the sign-in form's token (its cookie repeats it); adding a passkey carries the session's CSRF token.

use std::sync::Arc;

use axum::Form;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_app::accounts::{AccountError, describe_browser};
use lyceum_app::passkeys::{self, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn};
use serde::Deserialize;
use serde_json::json;

use super::{CsrfForm, start_session, user_agent};
use crate::auth::{self, SignedIn, Viewer};
use crate::client::Client;
use crate::error::JsonError;
use crate::{Web, WebError};

/// The first step of signing up: who the account is for.
#[derive(Deserialize)]
pub struct SignUpStart {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// The first step of signing in or adding a passkey: only the form's token.
#[derive(Deserialize)]
pub struct Start {
    #[serde(default)]
    token: String,
}

/// The last step of a ceremony: its id and the browser's answer.
#[derive(Deserialize)]
pub struct Finish<C> {
    #[serde(default)]
    token: String,
    ceremony: String,
    credential: C,
}

/// The site as passkeys know it, or a 404 that says why there is none.
fn relying_party(web: &Web) -> Result<&Arc<Webauthn>, JsonError> {
    web.passkeys.as_ref().ok_or_else(|| {
        JsonError::new(
            StatusCode::NOT_FOUND,
            "passkeys work only on a site served over https (or on localhost): sign in with a \
             password here",
        )
    })
}

/// What every step of signing up or in checks first: the form's token, and at a start, the
/// per-address limit on sign-in attempts. The site as passkeys know it.
fn signing_in<'w>(
    web: &'w Web,
    headers: &HeaderMap,
    token: &str,
    starting: Option<Client>,
) -> Result<&'w Arc<Webauthn>, JsonError> {
    auth::check_form_token(web, headers, token)?;
    if let Some(client) = starting {
        web.sign_in_limit
            .check(client, 1)
            .map_err(WebError::TooManySignIns)?;
    }
    relying_party(web)
}

/// A refused ceremony as JSON: which field is wrong, or what to do.
fn refused(error: AccountError) -> JsonError {
    let problem = |field: &str, message: String| {
        JsonError::invalid(
            "the account was not made",
            vec![json!({"field": field, "message": message})],
        )
    };
    match error {
        AccountError::Store(error) => error.into(),
        AccountError::InvalidEmail(why) => problem("email", why),
        AccountError::InvalidName(why) => problem("name", why),
        AccountError::EmailTaken => problem("email", AccountError::EmailTaken.to_string()),
        AccountError::WrongCredentials => JsonError::new(
            StatusCode::UNAUTHORIZED,
            "that passkey is not one of an account here: it may have been removed; sign in with \
             your password or another passkey",
        ),
        other => JsonError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

/// The JSON body, or why it is not one.
fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, JsonError> {
    Ok(body?.0)
}

/// Where the page goes once a ceremony is done.
fn done(to: &str) -> Json<serde_json::Value> {
    Json(json!({ "location": to }))
}

/// `POST /account/passkeys/sign-up/start`: checks the name and email and asks the browser for a new
/// passkey.
pub async fn sign_up_start(
    State(web): State<Web>,
    client: Client,
    headers: HeaderMap,
    start: Result<Json<SignUpStart>, JsonRejection>,
) -> Result<Response, JsonError> {
    let start = body(start)?;
    let rp = signing_in(&web, &headers, &start.token, Some(client))?;
    let challenge = passkeys::start_sign_up(rp, &web.app.store, &start.email, &start.name)
        .await
        .map_err(refused)?;
    Ok(Json(challenge).into_response())
}

/// `POST /account/passkeys/sign-up/finish`: makes the account with the browser's new passkey and
/// signs it in.
pub async fn sign_up_finish(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    finish: Result<Json<Finish<RegisterPublicKeyCredential>>, JsonRejection>,
) -> Result<Response, JsonError> {
    let finish = body(finish)?;
    let rp = signing_in(&web, &headers, &finish.token, None)?;
    let name = describe_browser(user_agent(&headers));
    let user = passkeys::finish_sign_up(
        rp,
        &web.app.store,
        &finish.ceremony,
        &finish.credential,
        &name,
    )
    .await
    .map_err(refused)?;
    tracing::info!(user = user.id, "signed up with a passkey");
    web.app.send_verification(&user).await?;
    Ok(start_session(&web, viewer, user, &headers, done("/account")).await?)
}

/// `POST /account/passkeys/sign-in/start`: asks the browser for any passkey it has for this site.
pub async fn sign_in_start(
    State(web): State<Web>,
    client: Client,
    headers: HeaderMap,
    start: Result<Json<Start>, JsonRejection>,
) -> Result<Response, JsonError> {
    let start = body(start)?;
    let rp = signing_in(&web, &headers, &start.token, Some(client))?;
    let challenge = passkeys::start_sign_in(rp, &web.app.store)
        .await
        .map_err(refused)?;
    Ok(Json(challenge).into_response())
}

/// `POST /account/passkeys/sign-in/finish`: signs in the account whose passkey answered.
pub async fn sign_in_finish(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
    finish: Result<Json<Finish<PublicKeyCredential>>, JsonRejection>,
) -> Result<Response, JsonError> {
    let finish = body(finish)?;
    let rp = signing_in(&web, &headers, &finish.token, None)?;
    let user = passkeys::finish_sign_in(rp, &web.app.store, &finish.ceremony, &finish.credential)
        .await
        .map_err(refused)?;
    Ok(start_session(&web, viewer, user, &headers, done("/account")).await?)
}

/// `POST /account/passkeys/add/start`: asks the browser for another passkey for this account.
pub async fn add_start(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    start: Result<Json<Start>, JsonRejection>,
) -> Result<Response, JsonError> {
    let start = body(start)?;
    signed.check_csrf(&start.token)?;
    let rp = relying_party(&web)?;
    let challenge = passkeys::start_adding(rp, &web.app.store, &signed.user)
        .await
        .map_err(refused)?;
    Ok(Json(challenge).into_response())
}

/// `POST /account/passkeys/add/finish`: keeps the browser's new passkey on the account.
pub async fn add_finish(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    headers: HeaderMap,
    finish: Result<Json<Finish<RegisterPublicKeyCredential>>, JsonRejection>,
) -> Result<Response, JsonError> {
    let finish = body(finish)?;
    signed.check_csrf(&finish.token)?;
    let rp = relying_party(&web)?;
    let name = describe_browser(user_agent(&headers));
    passkeys::finish_adding(
        rp,
        &web.app.store,
        &signed.user,
        &finish.ceremony,
        &finish.credential,
        &name,
    )
    .await
    .map_err(refused)?;
    Ok(done("/account").into_response())
}

/// `POST /account/passkeys/{id}/remove`: removes one of this person's passkeys, unless it is their
/// only way to sign in.
pub async fn remove(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    if !web.app.store.remove_passkey(signed.user.id, id).await? {
        return super::account_page(&web, &signed, StatusCode::CONFLICT, |account| {
            account.error = Some(
                "That passkey was not removed: it is your only way to sign in. Set a password or \
                 add another passkey first."
                    .into(),
            );
        })
        .await;
    }
    tracing::info!(user = signed.user.id, passkey = id, "passkey removed");
    Ok(Redirect::to("/account").into_response())
}
