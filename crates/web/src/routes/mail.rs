//! Mail pages: "Get the next unit by email" on course and unit pages, the confirmation link an address
//! given signed out gets, and each subscription's own page, reached from a signed link in every mail
//! without signing in: change the pace, pause, resume or stop. The same link takes the RFC 8058
//! one-click POST that mail clients send; a GET only ever shows the page (mail scanners follow GETs).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_app::mail::schedule::{self, Pace};
use lyceum_app::mail::{MailRequestError, SubscribeRequest, SubscriptionChange};
use lyceum_store::{Subscribed, Subscription, SubscriptionState};
use serde::Deserialize;

use crate::auth::{Signed, Viewer};
use crate::client::Client;
use crate::extract::Params;
use crate::render::page;
use crate::routes::account::recovery::NoticePage;
use crate::routes::courses::shown;
use crate::views::course_href;
use crate::{Web, WebError};

/// Requests for mail one client may make an hour: each may send a confirmation to an address.
pub const REQUESTS_PER_HOUR: u32 = 10;

/// The hour offered first.
const DEFAULT_HOUR: i64 = 8;

/// "Get the next unit by email", as course and unit pages show it.
pub struct MailForm {
    /// Where it posts.
    pub action: String,
    /// The unit the reader is on (none on the course page): the drip starts after it.
    pub after_unit: Option<i64>,
    /// The signed-in learner's address, masked: mail goes there, and no address is asked for.
    pub account: Option<String>,
    pub csrf: String,
    pub email: String,
    pub time_zone: String,
    pub paces: Vec<Choice>,
    pub hours: Vec<Choice>,
    /// What to change, when a request was refused.
    pub error: Option<String>,
}

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

fn pace_choices(chosen: Pace) -> Vec<Choice> {
    Pace::ALL
        .into_iter()
        .map(|pace| Choice {
            value: pace.as_str().into(),
            label: capitalised(pace.words()),
            chosen: pace == chosen,
        })
        .collect()
}

fn hour_choices(chosen: i64) -> Vec<Choice> {
    (0..24)
        .map(|hour| Choice {
            value: hour.to_string(),
            label: format!("{hour:02}:00"),
            chosen: hour == chosen,
        })
        .collect()
}

fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl MailForm {
    /// The form of the course at `course_href`, on the page of unit `after_unit` (none: the course's
    /// own page).
    pub fn new(course_href: &str, after_unit: Option<i64>, signed: Option<&Signed>) -> Self {
        Self {
            action: format!("{course_href}/email"),
            after_unit,
            account: signed.map(|signed| lyceum_app::mail::masked(&signed.user.email)),
            csrf: signed
                .map(|signed| signed.session.csrf_token.clone())
                .unwrap_or_default(),
            email: String::new(),
            time_zone: "UTC".into(),
            paces: pace_choices(Pace::Daily),
            hours: hour_choices(DEFAULT_HOUR),
            error: None,
        }
    }
}

/// What the subscribe form sends.
#[derive(Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    pace: String,
    #[serde(default)]
    hour: String,
    #[serde(default)]
    time_zone: String,
    after_unit: Option<i64>,
}

#[derive(Template)]
#[template(path = "mail_subscribe.html")]
struct SubscribePage {
    course_title: String,
    course_href: String,
    /// What happened, when it worked.
    outcome: Option<String>,
    /// The form again, with what to change.
    mail: Option<MailForm>,
}

/// `POST /courses/{slug}/email`: starts a signed-in learner's drip, or sends the confirmation to an
/// address given signed out. Whether that address was subscribed already is not said.
pub async fn subscribe(
    State(web): State<Web>,
    Viewer(viewer): Viewer,
    client: Client,
    Params(slug): Params<String>,
    axum::Form(form): axum::Form<SubscribeForm>,
) -> Result<Response, WebError> {
    if let Some(signed) = &viewer {
        signed.check_csrf(&form.csrf)?;
    }
    let user = viewer.as_ref().map(|signed| &signed.user);
    let course = shown(&web, &slug, user).await?;
    let pace = Pace::parse(&form.pace)
        .ok_or_else(|| WebError::BadForm(format!("no pace “{}”", form.pace)))?;
    let hour: i64 = form
        .hour
        .parse()
        .map_err(|_| WebError::BadForm(format!("no hour “{}”", form.hour)))?;
    // From a unit's page, the drip starts after that unit.
    let after = match form.after_unit {
        Some(unit_id) => web
            .app
            .store
            .units(course.id)
            .await?
            .iter()
            .find(|unit| unit.id == unit_id)
            .map(|unit| unit.position)
            .ok_or_else(|| WebError::BadForm(format!("no unit {unit_id} in this course")))?,
        None => 0,
    };
    let request = SubscribeRequest {
        course: &course,
        user,
        email: &form.email,
        pace,
        hour,
        time_zone: &form.time_zone,
        after,
    };
    let refused = |error: String| {
        let mut mail = MailForm::new(&course_href(&course), form.after_unit, viewer.as_ref());
        mail.email = form.email.clone();
        mail.time_zone = form.time_zone.clone();
        mail.paces = pace_choices(pace);
        mail.hours = hour_choices(hour.clamp(0, 23));
        mail.error = Some(error);
        SubscribePage {
            course_title: course.title.clone(),
            course_href: course_href(&course),
            outcome: None,
            mail: Some(mail),
        }
    };
    // Each request signed out, or from an account whose address is not confirmed, may send a
    // confirmation: counted per client before anything is sent.
    let unconfirmed = match user {
        None => true,
        Some(user) => web.app.store.email_verified_at(user.id).await?.is_none(),
    };
    if unconfirmed && let Err(wait) = web.mail_limit.check(client, 1) {
        return Err(WebError::TooManyRequests(wait));
    }
    let outcome = match web.app.subscribe(&request).await {
        Ok(Subscribed::Active(subscription)) => format!(
            "The next unit will come to {} {}, then one {}. Every email has a link to change the \
             pace, pause or stop.",
            lyceum_app::mail::masked(&subscription.email),
            subscription
                .next_at
                .map(|at| format!(
                    "on {} ({})",
                    schedule::when(at, &subscription.time_zone),
                    subscription.time_zone
                ))
                .unwrap_or_default(),
            pace.words(),
        ),
        Ok(Subscribed::Confirming(subscription)) if viewer.is_some() => format!(
            "Check your inbox: your account's address is not confirmed yet, so a link to confirm \
             went to {}. No unit is sent until it is followed (it lapses after {} hours).",
            lyceum_app::mail::masked(&subscription.email),
            lyceum_app::mail::CONFIRM_HOURS,
        ),
        Ok(Subscribed::Confirming(_) | Subscribed::AlreadyActive) => format!(
            "Check your inbox: a link to confirm went to {}. Nothing else is sent to it until \
             the link is followed, and the request lapses after {} hours.",
            form.email.trim(),
            lyceum_app::mail::CONFIRM_HOURS,
        ),
        Err(MailRequestError::Invalid(why)) => {
            let page = refused(why);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
        Err(MailRequestError::NotFound) => return Err(WebError::NotFound),
        Err(MailRequestError::Store(error)) => return Err(error.into()),
    };
    Ok(page(&SubscribePage {
        course_title: course.title.clone(),
        course_href: course_href(&course),
        outcome: Some(outcome),
        mail: None,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "mail_confirm.html")]
struct ConfirmPage {
    /// The course, when the link is good.
    course: Option<(String, String)>,
    /// Set once confirmed: when the first unit comes.
    confirmed: Option<String>,
}

/// `GET /mail/confirm/{id}/{signature}`: a button that confirms; following the link alone changes
/// nothing, since mail scanners follow links too.
pub async fn confirm_page(
    State(web): State<Web>,
    Params((id, signature)): Params<(i64, String)>,
) -> Result<Response, WebError> {
    let subscription = web.app.store.subscription(id).await?;
    let good = match &subscription {
        Some(subscription) if subscription.state == SubscriptionState::Unconfirmed => {
            match subscription.expires_at {
                Some(expires_at) if expires_at > web.app.clock.now_ms() => {
                    lyceum_app::mail::Link::Confirm(id, expires_at)
                        .is_signed_by(&web.app.store, &signature)
                        .await?
                }
                _ => false,
            }
        }
        _ => false,
    };
    let course = match (good, subscription) {
        (true, Some(subscription)) => {
            let course = web.app.store.course_by_id(subscription.course_id).await?;
            Some((course.title.clone(), course_href(&course)))
        }
        _ => None,
    };
    let status = if course.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let html = ConfirmPage {
        course,
        confirmed: None,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

/// `POST /mail/confirm/{id}/{signature}`: confirms, and says when the first unit comes.
pub async fn confirm(
    State(web): State<Web>,
    Params((id, signature)): Params<(i64, String)>,
) -> Result<Response, WebError> {
    let confirmed = match web.app.confirm_subscription(id, &signature).await {
        Ok(confirmed) => confirmed,
        Err(MailRequestError::Store(error)) => return Err(error.into()),
        Err(_) => None,
    };
    let Some(subscription) = confirmed else {
        let html = ConfirmPage {
            course: None,
            confirmed: None,
        }
        .render()?;
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let course = web.app.store.course_by_id(subscription.course_id).await?;
    Ok(page(&ConfirmPage {
        confirmed: Some(next_words(&subscription)),
        course: Some((course.title.clone(), course_href(&course))),
    })?
    .into_response())
}

/// A subscription in a line, for the account page.
pub fn summary(subscription: &Subscription) -> String {
    let pace = Pace::from_days(subscription.pace_days).unwrap_or(Pace::Daily);
    match subscription.state {
        SubscriptionState::Active => format!(
            "{} at {:02}:00; next unit {}",
            capitalised(pace.words()),
            subscription.hour,
            next_words(subscription)
        ),
        SubscriptionState::Paused => format!("Paused after unit {}", subscription.place),
        SubscriptionState::Finished => "Finished: every unit was sent".into(),
        SubscriptionState::Stopped => match &subscription.stopped_why {
            Some(why) => format!("Stopped: {why}"),
            None => "Stopped".into(),
        },
        SubscriptionState::Unconfirmed => "Waiting for the address to be confirmed".into(),
    }
}

/// When a subscription's next unit comes, in words.
fn next_words(subscription: &Subscription) -> String {
    match subscription.next_at {
        Some(at) => format!(
            "{} ({})",
            schedule::when(at, &subscription.time_zone),
            subscription.time_zone
        ),
        None => "not scheduled".into(),
    }
}

#[derive(Template)]
#[template(path = "mail_subscription.html")]
struct SubscriptionPage {
    course_title: String,
    course_href: String,
    /// The address, masked.
    email: String,
    /// Where it stands, in words.
    standing: String,
    state: &'static str,
    /// This page's own address, which its forms post to.
    action: String,
    paces: Vec<Choice>,
    hours: Vec<Choice>,
    time_zone: String,
    /// What to change, when a change was refused.
    error: Option<String>,
}

async fn manage_page(
    web: &Web,
    subscription: &Subscription,
    action: String,
    error: Option<String>,
) -> Result<SubscriptionPage, WebError> {
    let course = web.app.store.course_by_id(subscription.course_id).await?;
    let units = web.app.store.units(course.id).await?;
    let next = units.iter().find(|unit| unit.position > subscription.place);
    let pace = Pace::from_days(subscription.pace_days).unwrap_or(Pace::Daily);
    let standing = match subscription.state {
        SubscriptionState::Active => match next {
            Some(unit) => format!(
                "Unit {} of {}, “{}”, comes {}; then one {}.",
                unit.position,
                units.len(),
                unit.title,
                next_words(subscription),
                pace.words()
            ),
            None => format!(
                "Every unit was sent; the closing email comes {}.",
                next_words(subscription)
            ),
        },
        SubscriptionState::Paused => format!(
            "Paused after unit {} of {}. Resuming sends the next one at your hour.",
            subscription.place,
            units.len()
        ),
        SubscriptionState::Finished => "Finished: every unit was sent.".into(),
        SubscriptionState::Stopped => format!(
            "Stopped{}. No more email comes for this course.",
            subscription
                .stopped_why
                .as_deref()
                .map(|why| format!(": {why}"))
                .unwrap_or_default()
        ),
        SubscriptionState::Unconfirmed => {
            "Waiting for the address to be confirmed through the link sent to it.".into()
        }
    };
    Ok(SubscriptionPage {
        course_title: course.title.clone(),
        course_href: course_href(&course),
        email: lyceum_app::mail::masked(&subscription.email),
        standing,
        state: subscription.state.as_str(),
        action,
        paces: pace_choices(pace),
        hours: hour_choices(subscription.hour),
        time_zone: subscription.time_zone.clone(),
        error,
    })
}

/// The subscription a signed link names; 404 for a link that is not one.
async fn linked(web: &Web, id: i64, signature: &str) -> Result<Subscription, WebError> {
    match web.app.linked_subscription(id, signature).await {
        Ok(Some(subscription)) => Ok(subscription),
        Ok(None) | Err(MailRequestError::NotFound | MailRequestError::Invalid(_)) => {
            Err(WebError::NotFound)
        }
        Err(MailRequestError::Store(error)) => Err(error.into()),
    }
}

/// `GET /mail/subscriptions/{id}/{signature}`: the subscription's page. Showing it changes nothing.
pub async fn subscription(
    State(web): State<Web>,
    Params((id, signature)): Params<(i64, String)>,
) -> Result<Html<String>, WebError> {
    let subscription = linked(&web, id, &signature).await?;
    let action = format!("/mail/subscriptions/{id}/{signature}");
    page(&manage_page(&web, &subscription, action, None).await?)
}

/// What the subscription page's forms send, read from the body by hand: the same address takes the
/// one-click POST of mail clients, as a form or as multipart.
#[derive(Default)]
struct ManageForm {
    action: String,
    pace: String,
    hour: String,
    time_zone: String,
    one_click: bool,
}

impl ManageForm {
    fn read(content_type: &str, body: &[u8]) -> Self {
        if content_type.starts_with("multipart/form-data") {
            // RFC 8058 allows the one-click body as multipart: a part named List-Unsubscribe.
            let text = String::from_utf8_lossy(body);
            return Self {
                one_click: text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click"),
                ..Self::default()
            };
        }
        let mut form = Self::default();
        for (name, value) in form_urlencoded::parse(body) {
            match name.as_ref() {
                "action" => form.action = value.into_owned(),
                "pace" => form.pace = value.into_owned(),
                "hour" => form.hour = value.into_owned(),
                "time_zone" => form.time_zone = value.into_owned(),
                "List-Unsubscribe" => form.one_click = value == "One-Click",
                _ => {}
            }
        }
        form
    }
}

/// `POST /mail/subscriptions/{id}/{signature}`: the one-click unsubscribe of RFC 8058 (a body of
/// `List-Unsubscribe=One-Click`, sent by mail clients), or a change from the page's forms.
pub async fn change(
    State(web): State<Web>,
    Params((id, signature)): Params<(i64, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let subscription = linked(&web, id, &signature).await?;
    let action = format!("/mail/subscriptions/{id}/{signature}");
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let form = ManageForm::read(content_type, &body);
    let one_click = form.one_click;
    let change = match (one_click, form.action.as_str()) {
        (true, _) | (false, "stop") => SubscriptionChange::Stop,
        (false, "pause") => SubscriptionChange::Pause,
        (false, "resume") => SubscriptionChange::Resume,
        (false, "schedule") => {
            let pace = Pace::parse(&form.pace)
                .ok_or_else(|| WebError::BadForm(format!("no pace “{}”", form.pace)))?;
            let hour = form
                .hour
                .parse()
                .map_err(|_| WebError::BadForm(format!("no hour “{}”", form.hour)))?;
            SubscriptionChange::Schedule {
                pace,
                hour,
                time_zone: &form.time_zone,
            }
        }
        (false, other) => return Err(WebError::BadForm(format!("no action “{other}”"))),
    };
    match web.app.change_subscription(&subscription, change).await {
        Ok(_) if one_click => Ok((
            StatusCode::OK,
            "Unsubscribed: no more email comes for this course.\n",
        )
            .into_response()),
        Ok(_) => Ok(Redirect::to(&action).into_response()),
        Err(MailRequestError::Invalid(why)) => {
            let page = manage_page(&web, &subscription, action, Some(why)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(MailRequestError::NotFound) => Err(WebError::NotFound),
        Err(MailRequestError::Store(error)) => Err(error.into()),
    }
}

/// `GET /mail/ready/{user}/{signature}`: a button that stops "your course is ready" emails.
pub async fn ready_page(
    State(web): State<Web>,
    Params((user, signature)): Params<(i64, String)>,
) -> Result<Response, WebError> {
    if !lyceum_app::mail::Link::ReadyMail(user)
        .is_signed_by(&web.app.store, &signature)
        .await?
    {
        return Err(WebError::NotFound);
    }
    NoticePage {
        title: "Emails when a course is ready".into(),
        message: "Stop the email that says a course you made is written? Your account page can turn it on again.".into(),
        button: Some("Stop these emails".into()),
        next: None,
    }
    .with(StatusCode::OK)
}

/// `POST /mail/ready/{user}/{signature}`: stops them (also the one-click POST of mail clients).
pub async fn ready_stop(
    State(web): State<Web>,
    Params((user, signature)): Params<(i64, String)>,
) -> Result<Response, WebError> {
    if !web.app.stop_ready_mail(user, &signature).await? {
        return Err(WebError::NotFound);
    }
    NoticePage::said(
        "No more emails when a course is ready",
        "Your account page can turn them on again.",
        Some(("/account", "Your account")),
    )
    .with(StatusCode::OK)
}
