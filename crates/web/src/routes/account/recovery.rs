//! An account's mailed links: a new password when the old one is lost ("Forgot your password?", then
//! a link that works once for an hour), and confirming the account's address. Opening a link only
//! shows a page; a button on it does the deed, since mail scanners open links too.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_app::mail::account::ResetRefused;
use serde::Deserialize;

use crate::auth::SignedIn;
use crate::client::Client;
use crate::extract::Params;
use crate::render::page;
use crate::{Web, WebError};

/// A page that says one thing, with a button that posts to its own address when there is something
/// to do.
#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub title: String,
    pub message: String,
    /// The button's words, when the page asks for a click.
    pub button: Option<String>,
    /// Where to go from here.
    pub next: Option<(String, String)>,
}

impl NoticePage {
    /// A page with `title` and `message`, and a link onwards.
    pub fn said(title: &str, message: &str, next: Option<(&str, &str)>) -> Self {
        Self {
            title: title.into(),
            message: message.into(),
            button: None,
            next: next.map(|(href, words)| (href.into(), words.into())),
        }
    }

    /// The page with `status`.
    pub fn with(self, status: StatusCode) -> Result<Response, WebError> {
        Ok((status, Html(self.render()?)).into_response())
    }
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    email: String,
    sent: bool,
}

/// `GET /account/forgot`: asks for the account's address.
pub async fn forgot_page() -> Result<Html<String>, WebError> {
    page(&ForgotPage {
        email: String::new(),
        sent: false,
    })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// `POST /account/forgot`: mails a new-password link if an account has the address, and says the
/// same either way.
pub async fn forgot(
    State(web): State<Web>,
    client: Client,
    Form(form): Form<ForgotForm>,
) -> Result<Html<String>, WebError> {
    web.mail_limit
        .check(client, 1)
        .map_err(WebError::TooManyRequests)?;
    web.app.request_password_reset(&form.email).await?;
    page(&ForgotPage {
        email: form.email.trim().to_owned(),
        sent: true,
    })
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    error: Option<String>,
}

/// The page a link that no longer works shows.
fn stale_reset() -> Result<Response, WebError> {
    NoticePage::said(
        "This link no longer works",
        &ResetRefused::Link.to_string(),
        Some(("/account/forgot", "Ask for a new link")),
    )
    .with(StatusCode::NOT_FOUND)
}

/// `GET /account/reset/{user}/{expires}/{signature}`: the new-password form, while the link works.
pub async fn reset_page(
    State(web): State<Web>,
    Params((user, expires, signature)): Params<(i64, i64, String)>,
) -> Result<Response, WebError> {
    match web.app.reset_link_user(user, expires, &signature).await? {
        Some(_) => Ok(page(&ResetPage { error: None })?.into_response()),
        None => stale_reset(),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

/// `POST /account/reset/{user}/{expires}/{signature}`: sets the new password and signs out every
/// session of the account.
pub async fn reset(
    State(web): State<Web>,
    Params((user, expires, signature)): Params<(i64, i64, String)>,
    Form(form): Form<ResetForm>,
) -> Result<Response, WebError> {
    match web
        .app
        .reset_password(user, expires, &signature, &form.password)
        .await
    {
        Ok(_) => NoticePage::said(
            "Your password is set",
            "Every session of the account was signed out. Sign in with the new password.",
            Some(("/account/sign-in", "Sign in")),
        )
        .with(StatusCode::OK),
        Err(ResetRefused::Link) => stale_reset(),
        Err(ResetRefused::Password(why)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&ResetPage { error: Some(why) })?,
        )
            .into_response()),
        Err(ResetRefused::Hashing(why)) => Err(WebError::Internal(why)),
        Err(ResetRefused::Store(error)) => Err(error.into()),
    }
}

/// `GET /account/verify/{user}/{expires}/{signature}`: a button that confirms the address.
pub async fn verify_page(
    Params((_, _, _)): Params<(i64, i64, String)>,
) -> Result<Response, WebError> {
    NoticePage {
        title: "Confirm your address".into(),
        message: "Confirm that this address belongs to your Lyceum account.".into(),
        button: Some("Confirm".into()),
        next: None,
    }
    .with(StatusCode::OK)
}

/// `POST /account/verify/{user}/{expires}/{signature}`: confirms the address.
pub async fn verify(
    State(web): State<Web>,
    Params((user, expires, signature)): Params<(i64, i64, String)>,
) -> Result<Response, WebError> {
    if web.app.verify_email(user, expires, &signature).await? {
        NoticePage::said(
            "Your address is confirmed",
            "Thank you. Mail from this site reaches you.",
            Some(("/account", "Your account")),
        )
        .with(StatusCode::OK)
    } else {
        NoticePage::said(
            "This link no longer works",
            &format!(
                "It lapsed after {} hours, or the account's address changed. Your account page can send a new one.",
                lyceum_app::mail::account::VERIFY_HOURS
            ),
            Some(("/account", "Your account")),
        )
        .with(StatusCode::NOT_FOUND)
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /account/verify`: sends the confirmation link again.
pub async fn resend_verification(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    client: Client,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    web.mail_limit
        .check(client, 1)
        .map_err(WebError::TooManyRequests)?;
    web.app.send_verification(&signed.user).await?;
    super::account_page(&web, &signed, StatusCode::OK, |account| {
        account.notice = Some(format!(
            "A link to confirm {} is on its way.",
            signed.user.email
        ));
    })
    .await
}

#[derive(Deserialize)]
pub struct ReadyMailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: bool,
}

/// `POST /account/ready-mail`: an email when a course I made is written, or not.
pub async fn ready_mail(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Form(form): Form<ReadyMailForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    web.app
        .store
        .set_ready_mail(signed.user.id, form.on)
        .await?;
    Ok(Redirect::to("/account").into_response())
}
