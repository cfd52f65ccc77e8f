//! Signing up, in and out, and the account page: sessions, passkeys, password and API tokens.

pub mod passkeys;
pub mod recovery;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_app::accounts::{self, AccountError, SignUp};
use lyceum_app::dates::utc_minute as when;
use lyceum_store::now_ms;
use serde::Deserialize;

use crate::auth::{self, Signed, SignedIn, Viewer};
use crate::client::Client;
use crate::render::page;
use crate::views::{course_href, progress_text};
use crate::{Web, WebError};

impl From<AccountError> for WebError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Store(error) => error.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "account/sign_in.html")]
struct SignInPage {
    token: String,
    /// Whether browsers allow passkeys on this site.
    passkeys_here: bool,
    email: String,
    error: Option<String>,
}

/// The sign-up page.
#[derive(Template)]
#[template(path = "account/sign_up.html")]
struct SignUpPage {
    token: String,
    passkeys_here: bool,
    name: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

/// A signed-in page's form that only says "do it".
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// A sign-in or sign-up page (`template` given the form's token), or the account page for someone
/// signed in already.
fn form_page<T: Template>(
    web: &Web,
    viewer: Option<Signed>,
    headers: &HeaderMap,
    template: impl FnOnce(String) -> T,
) -> Result<Response, WebError> {
    if viewer.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    let (token, new) = auth::form_token(web, headers)?;
    let html = page(&template(token.clone()))?;
    Ok(auth::with_form_token(web, &token, new, html))
}

/// `GET /account/sign-in`.
pub async fn sign_in_page(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let passkeys_here = web.passkeys.is_some();
    form_page(&web, viewer, &headers, |token| SignInPage {
        token,
        passkeys_here,
        email: String::new(),
        error: None,
    })
}

/// `POST /account/sign-in`: a wrong email and a wrong password get the same answer, in the same time.
pub async fn sign_in(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    auth::check_form_token(&web, &headers, &form.token)?;
    let key = form.email.trim().to_lowercase();
    web.sign_in_limit
        .check(client, 1)
        .map_err(WebError::TooManySignIns)?;
    web.account_sign_in_limit
        .check(key.clone(), 1)
        .map_err(WebError::TooManySignIns)?;
    let store = &web.app.store;
    let user = match accounts::check_credentials(store, &form.email, &form.password).await {
        Ok(user) => user,
        Err(AccountError::WrongCredentials) => {
            let html = page(&SignInPage {
                token: form.token,
                passkeys_here: web.passkeys.is_some(),
                email: form.email,
                error: Some(AccountError::WrongCredentials.to_string()),
            })?;
            return Ok((StatusCode::UNAUTHORIZED, html).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    // The person got in: their own failed attempts no longer count against the account.
    web.account_sign_in_limit.refund(key, 1);
    start_session(&web, viewer, user, &headers, Redirect::to("/account")).await
}

/// Ends the session this browser had (signed in as anyone) and starts a new one for `user`, set by
/// `response`: a session id is never carried across a sign-in.
async fn start_session(
    web: &Web,
    viewer: Option<Signed>,
    user: lyceum_store::User,
    headers: &HeaderMap,
    response: impl IntoResponse,
) -> Result<Response, WebError> {
    let store = &web.app.store;
    if let Some(old) = viewer {
        store.end_session(old.user.id, old.session.id).await?;
    }
    let signed = accounts::start_session(store, user, user_agent(headers)).await?;
    Ok(auth::with_session(web, &signed.secret, response))
}

/// `GET /account/sign-up`.
pub async fn sign_up_page(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let passkeys_here = web.passkeys.is_some();
    form_page(&web, viewer, &headers, |token| SignUpPage {
        token,
        passkeys_here,
        name: String::new(),
        email: String::new(),
        error: None,
    })
}

/// `POST /account/sign-up`: makes the account and signs it in.
pub async fn sign_up(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Result<Response, WebError> {
    auth::check_form_token(&web, &headers, &form.token)?;
    web.sign_in_limit
        .check(client, 1)
        .map_err(WebError::TooManySignIns)?;
    let made = accounts::create_account(
        &web.app.store,
        SignUp {
            email: &form.email,
            display_name: &form.name,
            password: Some(&form.password),
            is_admin: false,
        },
    )
    .await;
    let user = match made {
        Ok(user) => user,
        Err(AccountError::Store(error)) => return Err(error.into()),
        Err(refused) => {
            let html = page(&SignUpPage {
                token: form.token,
                passkeys_here: web.passkeys.is_some(),
                name: form.name,
                email: form.email,
                error: Some(refused.to_string()),
            })?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    web.app.send_verification(&user).await?;
    start_session(&web, viewer, user, &headers, Redirect::to("/account")).await
}

/// `POST /account/sign-out`: ends this session.
pub async fn sign_out(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    web.app
        .store
        .end_session(signed.user.id, signed.session.id)
        .await?;
    tracing::info!(user = signed.user.id, "signed out");
    Ok(auth::without_session(&web, Redirect::to("/")))
}

/// A session as the account page lists it.
struct SessionView {
    id: i64,
    browser: String,
    started: String,
    last_seen: String,
    current: bool,
}

/// An API token as the account page lists it.
struct TokenView {
    id: i64,
    name: String,
    created: String,
    last_used: String,
}

/// A passkey as the account page lists it.
struct PasskeyView {
    id: i64,
    name: String,
    created: String,
    last_used: String,
}

/// A course as "Made by me" lists it.
struct MadeView {
    title: String,
    href: String,
    progress: String,
    created: String,
    hidden: bool,
    /// `unlisted` or `private`; `None` when public.
    seen_by: Option<&'static str>,
}

/// A course that comes by email, on the account page.
struct EmailView {
    title: String,
    course_href: String,
    summary: String,
    /// Its own page: change the pace, pause, resume, stop.
    manage_href: String,
}

/// The account page.
#[derive(Template)]
#[template(path = "account/account.html")]
pub(crate) struct AccountPage {
    name: String,
    email: String,
    csrf: String,
    is_admin: bool,
    has_password: bool,
    /// Whether browsers allow passkeys on this site.
    passkeys_here: bool,
    passkeys: Vec<PasskeyView>,
    courses: Vec<MadeView>,
    emails: Vec<EmailView>,
    /// Whether the address was confirmed through the link mailed to it.
    verified: bool,
    /// Whether an email comes when a course made here is written.
    ready_mail: bool,
    sessions: Vec<SessionView>,
    tokens: Vec<TokenView>,
    /// A token made just now, shown this once.
    new_token: Option<String>,
    /// What the last form did, or why it was refused.
    notice: Option<String>,
    error: Option<String>,
}

impl AccountPage {
    async fn load(web: &Web, signed: &Signed) -> Result<Self, WebError> {
        let store = &web.app.store;
        let user = &signed.user;
        let has_password = store
            .user_by_email(&user.email)
            .await?
            .is_some_and(|(_, hash)| hash.is_some());
        let sessions = store
            .sessions(user.id, now_ms())
            .await?
            .into_iter()
            .map(|session| SessionView {
                id: session.id,
                browser: session.user_agent,
                started: when(session.created_at),
                last_seen: when(session.last_seen_at),
                current: session.id == signed.session.id,
            })
            .collect();
        let tokens = store
            .api_tokens(user.id)
            .await?
            .into_iter()
            .map(|token| TokenView {
                id: token.id,
                name: token.name,
                created: when(token.created_at),
                last_used: token.last_used_at.map_or("never".into(), when),
            })
            .collect();
        let passkeys = store
            .passkeys(user.id)
            .await?
            .into_iter()
            .map(|passkey| PasskeyView {
                id: passkey.id,
                name: passkey.name,
                created: when(passkey.created_at),
                last_used: passkey.last_used_at.map_or("never".into(), when),
            })
            .collect();
        let courses = store
            .courses_made_by(user.id)
            .await?
            .into_iter()
            .map(|summary| MadeView {
                href: course_href(&summary.course),
                progress: progress_text(&summary),
                created: when(summary.course.created_at),
                hidden: summary.course.hidden_at.is_some(),
                seen_by: (summary.course.visibility != lyceum_store::Visibility::Public)
                    .then(|| summary.course.visibility.as_str()),
                title: summary.course.title,
            })
            .collect();
        let mut emails = Vec::new();
        for (subscription, slug, title) in store.subscriptions_of(user.id).await? {
            emails.push(EmailView {
                title,
                course_href: crate::views::href(&slug, None, None),
                summary: crate::routes::mail::summary(&subscription),
                manage_href: lyceum_app::mail::Link::Manage(subscription.id)
                    .path(store)
                    .await?,
            });
        }
        Ok(Self {
            verified: store.email_verified_at(user.id).await?.is_some(),
            ready_mail: store.ready_mail(user.id).await?,
            emails,
            name: user.display_name.clone(),
            email: user.email.clone(),
            csrf: signed.session.csrf_token.clone(),
            is_admin: user.is_admin,
            has_password,
            passkeys_here: web.passkeys.is_some(),
            passkeys,
            courses,
            sessions,
            tokens,
            new_token: None,
            notice: None,
            error: None,
        })
    }
}

/// The account page with `status`, after `edit` adds what the last form did.
pub(crate) async fn account_page(
    web: &Web,
    signed: &Signed,
    status: StatusCode,
    edit: impl FnOnce(&mut AccountPage),
) -> Result<Response, WebError> {
    let mut account = AccountPage::load(web, signed).await?;
    edit(&mut account);
    Ok((status, page(&account)?).into_response())
}

/// `GET /account`.
pub async fn show(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
) -> Result<Response, WebError> {
    Ok(page(&AccountPage::load(&web, &signed).await?)?.into_response())
}

/// `POST /account/sessions/{id}/end`: ends one of this person's sessions.
pub async fn end_session(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    if !web.app.store.end_session(signed.user.id, id).await? {
        return Err(WebError::NotFound);
    }
    if id == signed.session.id {
        return Ok(auth::without_session(&web, Redirect::to("/")));
    }
    Ok(Redirect::to("/account").into_response())
}

/// `POST /account/sessions/end-others`: "sign out everywhere else".
pub async fn end_other_sessions(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let ended = web
        .app
        .store
        .end_sessions(signed.user.id, Some(signed.session.id))
        .await?;
    account_page(&web, &signed, StatusCode::OK, |account| {
        account.notice = Some(match ended {
            1 => "Signed out of 1 other session.".into(),
            n => format!("Signed out of {n} other sessions."),
        });
    })
    .await
}

/// `POST /account/password`: sets or changes the password; the current one is needed to change it.
/// Every other session ends, so a changed password shuts out whoever knew the old one.
pub async fn change_password(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let store = &web.app.store;
    let user = &signed.user;
    let current_hash = store
        .user_by_email(&user.email)
        .await?
        .and_then(|(_, hash)| hash);
    // Setting a first password needs no current one; changing it does.
    let wrong_current = match current_hash {
        Some(hash) => {
            let current = form.current.clone();
            !tokio::task::spawn_blocking(move || accounts::verify_password(&current, &hash))
                .await
                .unwrap_or(false)
        }
        None => false,
    };
    let refused = if wrong_current {
        Some("The current password is not right.".to_owned())
    } else {
        accounts::check_password(&form.new, &user.email, &user.display_name)
            .err()
            .map(|error| format!("The new password cannot be used: {error}."))
    };
    if let Some(error) = refused {
        return account_page(&web, &signed, StatusCode::UNPROCESSABLE_ENTITY, |account| {
            account.error = Some(error);
        })
        .await;
    }
    let new = form.new.clone();
    let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&new))
        .await
        .map_err(|error| WebError::Internal(error.to_string()))??;
    store.set_password(user.id, &hash).await?;
    store.end_sessions(user.id, Some(signed.session.id)).await?;
    tracing::info!(user = user.id, "password set");
    account_page(&web, &signed, StatusCode::OK, |account| {
        account.notice = Some("Password saved. Every other session was signed out.".into());
    })
    .await
}

/// `POST /account/tokens`: makes an API token and shows it this once.
pub async fn create_token(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    match accounts::create_api_token(&web.app.store, &signed.user, &form.name).await {
        Ok((token, _)) => {
            account_page(&web, &signed, StatusCode::OK, |account| {
                account.new_token = Some(token);
            })
            .await
        }
        Err(AccountError::Store(error)) => Err(error.into()),
        Err(refused) => {
            account_page(&web, &signed, StatusCode::UNPROCESSABLE_ENTITY, |account| {
                account.error = Some(format!("The token was not made: {refused}."));
            })
            .await
        }
    }
}

/// `POST /account/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    if !web.app.store.delete_api_token(signed.user.id, id).await? {
        return Err(WebError::NotFound);
    }
    tracing::info!(user = signed.user.id, token = id, "API token revoked");
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /account/name`: changes the name shown on the account's courses.
pub async fn rename(
    State(web): State<Web>,
    SignedIn(mut signed): SignedIn,
    Form(form): Form<NameForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    match accounts::rename(&web.app.store, &signed.user, &form.name).await {
        Ok(name) => {
            signed.user.display_name = name;
            account_page(&web, &signed, StatusCode::OK, |account| {
                account.notice = Some("Name saved.".into());
            })
            .await
        }
        Err(AccountError::Store(error)) => Err(error.into()),
        Err(refused) => {
            account_page(&web, &signed, StatusCode::UNPROCESSABLE_ENTITY, |account| {
                account.error = Some(format!("The name was not saved: {refused}."));
            })
            .await
        }
    }
}

/// `GET /account/data`: everything stored about the person, as a JSON file to keep.
pub async fn data(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
) -> Result<Response, WebError> {
    let data = accounts::personal_data(&web.app.store, &signed.user, &web.public_url).await?;
    let body = serde_json::to_string_pretty(&data)
        .map_err(|error| WebError::Internal(error.to_string()))?;
    Ok((
        [
            (CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"lyceum-my-data.json\"",
            ),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    /// The account's email, typed again.
    #[serde(default)]
    confirm: String,
    /// `keep` or `delete`: what becomes of the courses the person made.
    #[serde(default)]
    courses: String,
}

/// Says an account was deleted.
#[derive(Template)]
#[template(path = "account/deleted.html")]
struct DeletedPage {
    kept: bool,
}

/// `POST /account/delete`: deletes the account once its email is typed again.
pub async fn delete(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<DeleteForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let keep = match form.courses.as_str() {
        "keep" => true,
        "delete" => false,
        _ => {
            return account_page(&web, &signed, StatusCode::UNPROCESSABLE_ENTITY, |account| {
                account.error = Some(
                    "The account was not deleted: choose whether to keep or delete your courses."
                        .into(),
                );
            })
            .await;
        }
    };
    if form.confirm.trim().to_lowercase() != signed.user.email {
        return account_page(&web, &signed, StatusCode::UNPROCESSABLE_ENTITY, |account| {
            account.error = Some(
                "The account was not deleted: type your email address exactly as shown above to \
                 confirm."
                    .into(),
            );
        })
        .await;
    }
    accounts::delete_account(&web.app.store, &signed.user, keep).await?;
    web.pages.clear();
    let html = page(&DeletedPage { kept: keep })?;
    Ok(auth::without_session(&web, html))
}
