//! The router: every address of the site and its API, and the handler that answers it. Handlers
//! live in a tree by resource: [`courses`], [`drafts`], [`api`], and the [`site`]'s own pages.

pub(crate) mod account;
mod api;
pub(crate) mod courses;
mod drafts;
pub(crate) mod mail;
mod site;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::{Web, WebError};

/// Every route of the site.
pub fn router() -> Router<Web> {
    Router::new()
        .route("/", get(courses::catalog::home))
        .route(
            "/courses",
            get(courses::catalog::list).post(courses::catalog::create),
        )
        .route("/categories", get(courses::catalog::categories))
        .route("/categories/{slug}", get(courses::catalog::category))
        .route("/drafts/{id}", get(drafts::show))
        .route("/drafts/{id}/live", get(drafts::live))
        .route("/drafts/{id}/confirm", post(drafts::confirm))
        .route("/courses/{slug}", get(courses::course::course))
        .route("/courses/{slug}/retry", post(courses::course::retry))
        .route("/courses/{slug}/enrol", post(courses::course::enrol))
        .route("/courses/{slug}/manage", post(courses::manage::manage))
        .route(
            "/courses/{slug}/delete",
            get(courses::manage::confirm_delete),
        )
        .route("/admin/courses", get(courses::manage::admin_courses))
        .route("/courses/{slug}/live", get(courses::course::live))
        .route("/courses/{slug}/weeks/{week}", get(courses::course::week))
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}",
            get(courses::unit::get),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/quiz",
            post(courses::unit::answer),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/done",
            post(courses::unit::mark),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/edit",
            get(courses::edit::get).post(courses::edit::post),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/versions/{id}/restore",
            post(courses::edit::restore),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/rewrite",
            post(courses::edit::rewrite),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/rewrite/live",
            get(courses::edit::rewrite_live),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/live",
            get(courses::live::get),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/chat",
            post(courses::tutor::send),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/chat/clear",
            post(courses::tutor::clear),
        )
        .route(
            "/courses/{slug}/weeks/{week}/units/{unit}/chat/warm",
            post(courses::tutor::warm),
        )
        .route("/api/courses", get(api::courses::catalog))
        .route(
            "/api/courses/{slug}",
            get(api::courses::course)
                .patch(api::courses::update)
                .delete(api::courses::delete),
        )
        .route("/api/courses/{slug}/weeks/{week}", get(api::courses::week))
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}",
            get(api::courses::unit).patch(api::courses::edit_unit),
        )
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}/rewrite",
            post(api::courses::rewrite_unit),
        )
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}/versions",
            get(api::courses::unit_versions),
        )
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}/versions/{id}/restore",
            post(api::courses::restore_unit_version),
        )
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}/quiz",
            post(api::courses::answer_quiz),
        )
        .route(
            "/api/courses/{slug}/weeks/{week}/units/{unit}/chat",
            get(api::tutor::list)
                .post(api::tutor::send)
                .delete(api::tutor::clear),
        )
        .route("/api/drafts", post(api::drafts::create))
        .route("/api/drafts/{id}", get(api::drafts::get))
        .route("/api/drafts/{id}/live", get(api::drafts::live))
        .route("/api/drafts/{id}/confirm", post(api::drafts::confirm))
        .route("/api/me", get(api::me::get).patch(api::me::update))
        .route("/api/me/courses", get(api::me::courses))
        .route("/api/me/data", get(api::me::data))
        .route("/api/me/sessions", get(api::me::sessions))
        .route("/api/me/sessions/{id}", delete(api::me::end_session))
        .route("/api/me/tokens", get(api::me::tokens))
        .route("/api/me/tokens/{id}", delete(api::me::revoke_token))
        .route("/api/openapi.json", get(api::openapi::get))
        .route(
            "/account/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route(
            "/account/sign-up",
            get(account::sign_up_page).post(account::sign_up),
        )
        .route("/account/sign-out", post(account::sign_out))
        .route("/account", get(account::show))
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route(
            "/account/sessions/end-others",
            post(account::end_other_sessions),
        )
        .route(
            "/account/passkeys/sign-up/start",
            post(account::passkeys::sign_up_start),
        )
        .route(
            "/account/passkeys/sign-up/finish",
            post(account::passkeys::sign_up_finish),
        )
        .route(
            "/account/passkeys/sign-in/start",
            post(account::passkeys::sign_in_start),
        )
        .route(
            "/account/passkeys/sign-in/finish",
            post(account::passkeys::sign_in_finish),
        )
        .route(
            "/account/passkeys/add/start",
            post(account::passkeys::add_start),
        )
        .route(
            "/account/passkeys/add/finish",
            post(account::passkeys::add_finish),
        )
        .route(
            "/account/passkeys/{id}/remove",
            post(account::passkeys::remove),
        )
        .route("/account/password", post(account::change_password))
        .route("/account/name", post(account::rename))
        .route("/account/data", get(account::data))
        .route("/account/delete", post(account::delete))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/courses/{slug}/email", post(mail::subscribe))
        .route(
            "/mail/ready/{user}/{signature}",
            get(mail::ready_page).post(mail::ready_stop),
        )
        .route(
            "/account/forgot",
            get(account::recovery::forgot_page).post(account::recovery::forgot),
        )
        .route(
            "/account/reset/{user}/{expires}/{signature}",
            get(account::recovery::reset_page).post(account::recovery::reset),
        )
        .route(
            "/account/verify/{user}/{expires}/{signature}",
            get(account::recovery::verify_page).post(account::recovery::verify),
        )
        .route(
            "/account/verify",
            post(account::recovery::resend_verification),
        )
        .route("/account/ready-mail", post(account::recovery::ready_mail))
        .route(
            "/mail/confirm/{id}/{signature}",
            get(mail::confirm_page).post(mail::confirm),
        )
        .route(
            "/mail/subscriptions/{id}/{signature}",
            get(mail::subscription).post(mail::change),
        )
        .route("/search", get(site::search::search))
        .route("/api/search", get(api::search::search))
        .route("/about", get(site::pages::about))
        .route("/terms", get(site::pages::terms))
        .route("/privacy", get(site::pages::privacy))
        .route("/assets/{name}", get(site::assets::get))
        .route("/robots.txt", get(site::seo::robots))
        .route("/sitemap.xml", get(site::seo::sitemap_index))
        .route("/sitemaps/{file}", get(site::seo::sitemap))
        .route("/healthz", get(site::health::healthz))
        .route("/readyz", get(site::health::readyz))
        .route("/metrics", get(site::health::metrics))
        .fallback(|| async { WebError::NotFound })
}
