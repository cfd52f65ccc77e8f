//! The web app: server-rendered pages over the course use cases of `lyceum-app`.
//!
//! Handlers extract, call one use case, and render an auto-escaping template; HTML is never built with
//! `format!`. Model output reaches a page only through [`markdown`], which renders and then sanitises it.
//! Every response carries the security headers of [`headers`]. This crate owns no business rules and
//! no SQL: it asks `lyceum-app` and `lyceum-store`.

pub mod auth;
pub mod client;
pub mod cross_site;
pub mod drafts;
mod error;
mod extract;
pub mod headers;
pub use lyceum_app::markdown;
pub mod page_cache;
pub mod people;
pub mod rate_limit;
mod render;
mod routes;
pub mod shared_live;
mod views;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use lyceum_app::Lyceum;
use tokio::net::TcpListener;

pub use error::WebError;

/// Largest request body accepted, in bytes; more is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Sign-in attempts one address may make an hour: enough for a household behind one address.
pub const SIGN_INS_PER_CLIENT: u32 = 30;
/// Sign-in attempts one account may be tried with an hour, from anywhere: guessing a password this
/// slowly gets nowhere, and its owner is locked out for an hour at most.
pub const SIGN_INS_PER_ACCOUNT: u32 = 10;

/// What every handler shares.
#[derive(Clone)]
pub struct Web {
    /// The application.
    pub app: Arc<Lyceum>,
    /// Rendered articles, once per version.
    pub articles: Arc<markdown::RenderCache>,
    /// The site's public address, for canonical links and the sitemap.
    pub public_url: Arc<str>,
    /// Course, week and unit pages, once per change of their course.
    pub pages: Arc<page_cache::PageCache>,
    /// Sessions and learners' standings, until their account changes.
    pub people: Arc<people::People>,
    /// Drafts per client an hour.
    pub draft_limit: Arc<rate_limit::RateLimit>,
    /// Course units asked for per client an hour.
    pub unit_limit: Arc<rate_limit::RateLimit>,
    /// Sign-in attempts per client an hour.
    pub sign_in_limit: Arc<rate_limit::RateLimit>,
    /// Sign-in attempts per account (by email) an hour.
    pub account_sign_in_limit: Arc<rate_limit::RateLimit<String>>,
    /// Live streams open per client.
    pub streams: Arc<client::StreamSlots>,
    /// Units being written, rendered once per change for all their viewers (by unit id).
    pub live_units: Arc<shared_live::SharedLive<i64>>,
    /// Units being written again at their maker's request, rendered once per change (by unit id).
    pub live_rewrites: Arc<shared_live::SharedLive<i64>>,
    /// Courses being written, rendered once per change for all their viewers (by course id).
    pub live_courses: Arc<shared_live::SharedLive<i64>>,
    /// The site as passkeys know it; `None` where browsers refuse passkeys (not https, not localhost).
    pub passkeys: Option<Arc<lyceum_app::passkeys::Webauthn>>,
    /// Requests for mail per client an hour, signed out: each may send a confirmation.
    pub mail_limit: Arc<rate_limit::RateLimit>,
    /// Times a learner (by account id) had the tutor prepared an hour.
    pub warm_limit: Arc<rate_limit::RateLimit<i64>>,
}

impl Web {
    /// The web layer over an application.
    pub fn new(app: Arc<Lyceum>) -> Self {
        Self {
            public_url: app.settings.public_url().into(),
            passkeys: lyceum_app::passkeys::relying_party(&app.settings.public_url()).map(Arc::new),
            pages: Arc::new(page_cache::PageCache::new(
                app.hub.progress(),
                app.store.watch(),
                std::time::Duration::from_secs(app.settings.web.page_cache_secs),
            )),
            people: Arc::new(people::People::new(&app.store)),
            draft_limit: Arc::new(rate_limit::RateLimit::per_hour(
                app.settings.web.drafts_per_hour,
            )),
            unit_limit: Arc::new(rate_limit::RateLimit::per_hour(
                app.settings.web.units_per_hour,
            )),
            sign_in_limit: Arc::new(rate_limit::RateLimit::per_hour(SIGN_INS_PER_CLIENT)),
            account_sign_in_limit: Arc::new(rate_limit::RateLimit::per_hour(SIGN_INS_PER_ACCOUNT)),
            streams: Arc::new(client::StreamSlots::new(
                app.settings.web.streams_per_client,
            )),
            live_units: Arc::default(),
            live_rewrites: Arc::default(),
            warm_limit: Arc::new(rate_limit::RateLimit::per_hour(
                routes::courses::tutor::WARMS_PER_HOUR,
            )),
            live_courses: Arc::default(),
            mail_limit: Arc::new(rate_limit::RateLimit::per_hour(
                routes::mail::REQUESTS_PER_HOUR,
            )),
            app,
            articles: Arc::new(markdown::RenderCache::default()),
        }
    }
}

/// Every route, with the body limit and the security headers.
pub fn router(web: Web) -> Router {
    routes::router()
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(cross_site::same_origin))
        .layer(axum::middleware::from_fn(headers::secure))
        .route_layer(axum::middleware::from_fn_with_state(web.clone(), count))
        .with_state(web)
}

/// Counts every request of a route for `/metrics`, by the route's pattern, and how long it took
/// (to its first byte, for a stream).
async fn count(
    axum::extract::State(web): axum::extract::State<Web>,
    route: axum::extract::MatchedPath,
    params: Result<axum::extract::RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // Every log line of the request names its route and, where it has one, its course. A draft's id
    // is its capability and stays out of logs.
    let course = params
        .iter()
        .flat_map(|params| params.iter())
        .find_map(|(name, value)| (name == "slug").then(|| value.to_owned()));
    let span = tracing::info_span!("request", %method, route = route.as_str(), course);
    let response = tracing::Instrument::instrument(next.run(request), span).await;
    web.app.metrics.request(
        route.as_str(),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// How often what the privacy page promises to forget is looked through.
const FORGET_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// How often pages too old to serve are dropped from the page cache, and sessions and standings
/// from [`people`].
const FORGET_PAGES_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the router on `listener` until `shutdown` completes, then stops accepting and lets requests
/// in flight finish. Expired drafts and rate-limit addresses are forgotten on a timer meanwhile.
pub async fn serve(
    web: Web,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut forgetting = tokio::spawn(forget_expired(web.clone()));
    // Several nodes share a PostgreSQL database: show viewers here what the others write.
    let mut relaying = web.app.store.is_shared().then(|| {
        let app = Arc::clone(&web.app);
        tokio::spawn(async move {
            if let Err(error) = app.relay_other_nodes().await {
                tracing::error!(%error, "cannot follow other nodes' progress; their live text will not show here");
            }
        })
    });
    let relayed = async {
        match &mut relaying {
            Some(task) => task.await,
            None => std::future::pending().await,
        }
    };
    // Client addresses are needed for the per-address limit on drafting.
    let service = router(web).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(shutdown);
    // A background task that panics stops the server with the reason, never silently.
    let result = tokio::select! {
        served = served => served,
        Err(panic) = &mut forgetting => Err(std::io::Error::other(format!(
            "forgetting expired records failed: {panic}"
        ))),
        Err(panic) = relayed => Err(std::io::Error::other(format!(
            "following other nodes failed: {panic}"
        ))),
    };
    forgetting.abort();
    if let Some(relaying) = relaying {
        relaying.abort();
    }
    result
}

/// Forgets expired drafts and rate-limit addresses every [`FORGET_EVERY`], and pages that can no
/// longer be served every [`FORGET_PAGES_EVERY`], forever.
pub async fn forget_expired(web: Web) {
    let mut records = tokio::time::interval(FORGET_EVERY);
    let mut pages = tokio::time::interval(FORGET_PAGES_EVERY);
    loop {
        tokio::select! {
            _ = records.tick() => {
                web.draft_limit.forget_expired();
                web.unit_limit.forget_expired();
                web.sign_in_limit.forget_expired();
                web.account_sign_in_limit.forget_expired();
                web.warm_limit.forget_expired();
                if let Err(error) = lyceum_app::accounts::forget_ended_sessions(&web.app.store).await {
                    tracing::warn!(%error, "could not delete ended sessions");
                }
                if let Err(error) = web.app.forget_expired_drafts(lyceum_store::now_ms()).await {
                    tracing::warn!(%error, "could not delete expired drafts");
                }
            }
            _ = pages.tick() => {
                web.pages.forget_expired();
                web.people.forget_expired();
            }
        }
    }
}
