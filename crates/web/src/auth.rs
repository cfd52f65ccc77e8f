//! Who is signed in: the session cookie, the extractors that read it, and the CSRF tokens on forms.
//!
//! The cookie holds a random secret (the store keeps only its SHA-256). It is `HttpOnly` and
//! `SameSite=Lax`; when the site is served over https it is also `Secure` and named with the `__Host-`
//! prefix, which browsers bind to this exact host and path `/`. A plain-http site (a laptop) cannot use
//! that prefix, so its cookie has a plain name.
//!
//! Cross-site forms are refused in front of every handler by [`crate::cross_site`] (Fetch Metadata, or
//! `Origin`). For a browser that sends neither, every form of a signed-in page also carries the
//! session's CSRF token, and the sign-in and sign-up forms carry a token that a cookie of their own
//! repeats (a page on another site can set neither).

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use lyceum_app::accounts::{self, SESSION_LIFETIME};
use lyceum_store::{Session, User};

use crate::error::JsonError;
use crate::{Web, WebError};

/// The session cookie's name on an https site.
const SECURE_SESSION_COOKIE: &str = "__Host-lyceum_session";
/// Its name on a plain-http site.
const SESSION_COOKIE: &str = "lyceum_session";
/// The cookie that repeats the sign-in form's token, on an https site.
const SECURE_FORM_COOKIE: &str = "__Host-lyceum_form";
/// Its name on a plain-http site.
const FORM_COOKIE: &str = "lyceum_form";

/// A signed-in person and the session they came with.
#[derive(Debug, Clone)]
pub struct Signed {
    pub session: Session,
    pub user: User,
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        if same(token, &self.session.csrf_token) {
            Ok(())
        } else {
            tracing::warn!(
                user = self.user.id,
                "form without its session's CSRF token refused"
            );
            Err(WebError::CrossSite)
        }
    }
}

/// The person making the request, if signed in.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<Signed>);

impl FromRequestParts<Web> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let Some(secret) = cookie(&parts.headers, session_cookie(web)) else {
            return Ok(Self(None));
        };
        let hash = accounts::secret_hash(&secret);
        if let Some(signed) = web.people.session(&hash, lyceum_store::now_ms()) {
            return Ok(Self(Some(signed)));
        }
        let reading = web.people.reading();
        let found = accounts::session_of_hash(&web.app.store, &hash).await?;
        let signed = found.map(|(session, user)| Signed { session, user });
        if let Some(signed) = &signed {
            web.people.keep_session(hash, signed.clone(), reading);
        }
        Ok(Self(signed))
    }
}

/// A signed-in person; anyone else is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Signed);

impl FromRequestParts<Web> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        match Viewer::from_request_parts(parts, web).await {
            Ok(Viewer(Some(signed))) => Ok(Self(signed)),
            Ok(Viewer(None)) => Err(Redirect::to("/account/sign-in").into_response()),
            Err(error) => Err(error.into_response()),
        }
    }
}

/// The account an API request's bearer token (`Authorization: Bearer <token>`) stands for; `None`
/// without a token. A token that stands for nobody (unknown, revoked, of a disabled account) is
/// refused with 401 rather than taken as no one.
#[derive(Debug, Clone)]
pub struct ApiCaller(pub Option<User>);

impl FromRequestParts<Web> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Self(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let user = match token {
            Some(token) => accounts::api_token_user(&web.app.store, token)
                .await
                .map_err(|error| JsonError::from(error).into_response())?,
            None => None,
        };
        match user {
            Some(user) => Ok(Self(Some(user))),
            None => Err(unauthorized(
                "that API token is not valid: it may have been revoked",
            )),
        }
    }
}

/// An API request with a valid bearer token; anyone else gets 401.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

impl FromRequestParts<Web> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        match ApiCaller::from_request_parts(parts, web).await? {
            ApiCaller(Some(user)) => Ok(Self(user)),
            ApiCaller(None) => Err(unauthorized(
                "send an API token from your account page as `Authorization: Bearer <token>`",
            )),
        }
    }
}

/// A 401 that asks for a bearer token.
fn unauthorized(message: &str) -> Response {
    let mut response = JsonError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

fn secure(web: &Web) -> bool {
    web.public_url.starts_with("https://")
}

fn session_cookie(web: &Web) -> &'static str {
    if secure(web) {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

fn form_cookie(web: &Web) -> &'static str {
    if secure(web) {
        SECURE_FORM_COOKIE
    } else {
        FORM_COOKIE
    }
}

/// The value of cookie `name` in a request's headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` header for `name`: `value` for `max_age` seconds (0: delete it).
fn set_cookie(web: &Web, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if secure(web) { "; Secure" } else { "" };
    let header =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    // Names are ours and values are hex digits: always a valid header.
    HeaderValue::from_str(&header).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `response` with the cookie that signs this browser in with `secret`.
pub fn with_session(web: &Web, secret: &str, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(web, session_cookie(web), secret, SESSION_LIFETIME.as_secs()),
    );
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(web, form_cookie(web), "", 0));
    response
}

/// `response` with the session cookie deleted.
pub fn without_session(web: &Web, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(web, session_cookie(web), "", 0));
    response
}

/// The token of a sign-in or sign-up form: the one its cookie holds already, or a new one that
/// [`with_form_token`] sets.
pub fn form_token(web: &Web, headers: &HeaderMap) -> Result<(String, bool), WebError> {
    if let Some(token) = cookie(headers, form_cookie(web)).filter(|token| token.len() == 64) {
        return Ok((token, false));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| WebError::Internal(error.to_string()))?;
    Ok((
        bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        true,
    ))
}

/// `response` with the form token's cookie set, when it is new (for an hour).
pub fn with_form_token(web: &Web, token: &str, new: bool, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if new {
        response
            .headers_mut()
            .append(SET_COOKIE, set_cookie(web, form_cookie(web), token, 3600));
    }
    response
}

/// Refuses a sign-in or sign-up form whose token its cookie does not repeat.
pub fn check_form_token(web: &Web, headers: &HeaderMap, token: &str) -> Result<(), WebError> {
    match cookie(headers, form_cookie(web)) {
        Some(cookie) if same(&cookie, token) => Ok(()),
        _ => {
            tracing::warn!("sign-in form without its cookie's token refused");
            Err(WebError::CrossSite)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; lyceum_session_old=x; lyceum_session=abc; z=1"),
        );
        assert_eq!(cookie(&headers, "lyceum_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }
}
