//! Editing a unit, for its course's maker (or an admin): its title and Markdown text with a preview
//! rendered by the same sanitiser as articles, and every earlier text kept below, each restorable.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use lyceum_app::dates::utc_minute;
use lyceum_app::editing::{self, EditRefused, MAX_BODY_CHARS, MAX_WISH_CHARS};
use lyceum_course::Outline;
use lyceum_store::{Author, Course, ItemKind, Status, StoreError, Unit};

use super::manage::maker_or_admin;
use crate::auth::{Signed, SignedIn};
use crate::client::Client;
use crate::extract::Params;
use crate::shared_live::{End, Frame, events};
use crate::views::{course_href, unit_href};
use crate::{Web, WebError, markdown};

#[derive(Template)]
#[template(path = "unit_edit.html")]
struct EditPage {
    lang: &'static str,
    course_title: String,
    course_href: String,
    unit_href: String,
    label: String,
    current_title: String,
    /// Who wrote the text now shown to learners.
    current_by: String,
    action: String,
    csrf: String,
    title: String,
    body: String,
    max_title: usize,
    max_body: usize,
    /// Why the text was not saved, naming the field.
    error: Option<String>,
    /// The sanitised HTML of the text as typed, when a preview was asked for.
    preview: Option<String>,
    versions: Vec<VersionView>,
    rewrite: RewriteView,
}

/// "Write this unit again": the form, or the new text as it is written.
struct RewriteView {
    action: String,
    max_wish: usize,
    /// The wish as typed, sent back with `error`.
    wish: String,
    error: Option<String>,
    /// While it is written: its live stream and the sanitised text so far.
    live: Option<(String, String)>,
    /// The wish it is being written with.
    asked: Option<String>,
    /// Why the last try failed.
    failed: Option<String>,
}

struct VersionView {
    title: String,
    by: String,
    replaced: String,
    html: String,
    restore: String,
}

/// Who wrote a text, in words.
fn by(author: &Author, written_at: Option<i64>) -> String {
    match (author, written_at) {
        (Author::Model, _) => "written by the model".into(),
        (Author::Person(Some((_, name))), Some(at)) => {
            format!("edited by {name}, {}", utc_minute(at))
        }
        (Author::Person(Some((_, name))), None) => format!("edited by {name}"),
        (Author::Person(None), _) => "edited by a former learner".into(),
    }
}

/// What the edit form says and holds.
struct Typed {
    title: String,
    body: String,
    error: Option<String>,
    preview: Option<String>,
}

/// The unit at week `week`, number `number` of course `slug`, for someone who may edit it.
async fn editable(
    web: &Web,
    signed: &Signed,
    slug: &str,
    week: i64,
    number: i64,
) -> Result<(Course, Unit), WebError> {
    let course = maker_or_admin(web, signed, slug, true).await?;
    let unit = super::unit_of(web, &course, week, number).await?;
    Ok((course, unit))
}

async fn render(
    web: &Web,
    signed: &Signed,
    course: &Course,
    unit: &Unit,
    typed: Typed,
) -> Result<String, WebError> {
    render_with(web, signed, course, unit, typed, (String::new(), None)).await
}

/// The edit page, with the rewrite form's `wish` as typed and why it was refused.
async fn render_with(
    web: &Web,
    signed: &Signed,
    course: &Course,
    unit: &Unit,
    typed: Typed,
    (wish, error): (String, Option<String>),
) -> Result<String, WebError> {
    let href = unit_href(course, unit);
    let rewriting = web
        .app
        .store
        .generation_of(ItemKind::Rewrite, unit.id)
        .await?;
    let writing = rewriting
        .as_ref()
        .filter(|generation| matches!(generation.status, Status::Pending | Status::Generating));
    let rewrite = RewriteView {
        action: format!("{href}/rewrite"),
        max_wish: MAX_WISH_CHARS,
        wish,
        error,
        live: match writing {
            Some(generation) => {
                let so_far = web
                    .app
                    .store
                    .live_text(generation.id)
                    .await?
                    .map(|(_, text)| markdown::render(&text))
                    .unwrap_or_default();
                Some((format!("{href}/rewrite/live"), so_far))
            }
            None => None,
        },
        asked: match writing {
            Some(generation) => web.app.store.rewrite_instruction(generation.id).await?,
            None => None,
        },
        failed: rewriting
            .filter(|generation| generation.status == Status::Failed)
            .and_then(|generation| generation.error),
    };
    let versions = web
        .app
        .store
        .unit_versions(unit.id)
        .await?
        .into_iter()
        .map(|version| VersionView {
            by: by(&version.author, version.written_at),
            replaced: utc_minute(version.replaced_at),
            html: markdown::render(&version.body),
            restore: format!("{href}/versions/{}/restore", version.id),
            title: version.title,
        })
        .collect();
    let authorship = web.app.store.authorship(unit.id).await?;
    Ok(EditPage {
        lang: course.language.tag,
        course_title: course.title.clone(),
        course_href: course_href(course),
        label: format!("{}.{}", unit.week, unit.number),
        current_title: unit.title.clone(),
        current_by: by(&authorship.author, authorship.written_at),
        action: format!("{href}/edit"),
        unit_href: href,
        csrf: signed.session.csrf_token.clone(),
        title: typed.title,
        body: typed.body,
        max_title: Outline::MAX_TITLE_CHARS,
        max_body: MAX_BODY_CHARS,
        error: typed.error,
        preview: typed.preview,
        versions,
        rewrite,
    }
    .render()?)
}

/// `GET /courses/{slug}/weeks/{week}/units/{unit}/edit`: the unit's title and text in a form.
pub async fn get(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Html<String>, WebError> {
    let (course, unit) = editable(&web, &signed, &slug, week, number).await?;
    if unit.body.is_none() {
        return Err(StoreError::Conflict(EditRefused::NotWritten.to_string()).into());
    }
    let typed = Typed {
        title: unit.title.clone(),
        body: unit.body.clone().unwrap_or_default(),
        error: None,
        preview: None,
    };
    Ok(Html(render(&web, &signed, &course, &unit, typed).await?))
}

#[derive(serde::Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/edit`: previews the text as typed, or saves it
/// (keeping the text it replaces) and goes to the unit. A refused edit comes back (422) with what was
/// typed and why.
pub async fn post(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(form): Form<EditForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let (course, unit) = editable(&web, &signed, &slug, week, number).await?;
    let refused = match form.action.as_str() {
        "preview" => match editing::check_edit(&form.title, &form.body) {
            Ok((_, body)) => {
                let typed = Typed {
                    preview: Some(markdown::render(&body)),
                    title: form.title,
                    body: form.body,
                    error: None,
                };
                let html = render(&web, &signed, &course, &unit, typed).await?;
                return Ok(Html(html).into_response());
            }
            Err(refused) => refused,
        },
        "save" => {
            match editing::edit_unit(&web.app.store, &unit, &signed.user, &form.title, &form.body)
                .await
            {
                Ok(()) => {
                    web.pages.changed(course.id);
                    return Ok(Redirect::to(&unit_href(&course, &unit)).into_response());
                }
                Err(EditRefused::Store(error)) => return Err(error.into()),
                Err(refused) => refused,
            }
        }
        _ => {
            return Err(WebError::BadForm(
                "action must be \"preview\" or \"save\"".into(),
            ));
        }
    };
    let typed = Typed {
        error: Some(format!("{}: {refused}", refused.field())),
        title: form.title,
        body: form.body,
        preview: None,
    };
    let html = render(&web, &signed, &course, &unit, typed).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
}

#[derive(serde::Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/versions/{id}/restore`: makes an earlier text the
/// unit's again (keeping the current one as a version) and goes to the unit.
pub async fn restore(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number, id)): Params<(String, i64, i64, i64)>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let (course, unit) = editable(&web, &signed, &slug, week, number).await?;
    if !web
        .app
        .store
        .restore_unit_version(unit.id, id, lyceum_store::now_ms())
        .await?
    {
        return Err(WebError::NotFound);
    }
    web.pages.changed(course.id);
    tracing::info!(
        user = signed.user.id,
        unit = unit.id,
        version = id,
        "unit version restored"
    );
    Ok(Redirect::to(&unit_href(&course, &unit)).into_response())
}

#[derive(serde::Deserialize)]
pub struct RewriteForm {
    #[serde(default)]
    csrf: String,
    /// The wish for the new text; empty for none.
    #[serde(default)]
    instruction: String,
}

/// `POST /courses/{slug}/weeks/{week}/units/{unit}/rewrite`: queues the unit to be written again with
/// the wish typed, ahead of background work, and goes back to the edit page, which shows the new
/// text as it is written. Learners read the current text until the new one is stored.
pub async fn rewrite(
    State(web): State<Web>,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
    Form(form): Form<RewriteForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(&form.csrf)?;
    let (course, unit) = editable(&web, &signed, &slug, week, number).await?;
    match editing::rewrite_unit(&web.app.store, &unit, &signed.user, &form.instruction).await {
        Ok(_) => Ok(
            Redirect::to(&format!("{}/edit#rewrite", unit_href(&course, &unit))).into_response(),
        ),
        Err(EditRefused::Store(error)) => Err(error.into()),
        Err(refused) => {
            let typed = Typed {
                title: unit.title.clone(),
                body: unit.body.clone().unwrap_or_default(),
                error: None,
                preview: None,
            };
            let why = format!("{}: {refused}", refused.field());
            let html = render_with(
                &web,
                &signed,
                &course,
                &unit,
                typed,
                (form.instruction, Some(why)),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

/// `GET /courses/{slug}/weeks/{week}/units/{unit}/rewrite/live`: the new text of a unit being written
/// again, as its live stream (see [`super::live`]); `done` at once when none is being written.
pub async fn rewrite_live(
    State(web): State<Web>,
    client: Client,
    SignedIn(signed): SignedIn,
    Params((slug, week, number)): Params<(String, i64, i64)>,
) -> Result<Response, WebError> {
    let slot = web.streams.open(client)?;
    let (_, unit) = editable(&web, &signed, &slug, week, number).await?;
    let frames = match web.app.follow_rewrite(unit.id).await? {
        Some(watch) => {
            let so_far = watch.so_far.clone();
            web.live_rewrites.follow(
                unit.id,
                || Frame::html(markdown::render(&so_far)),
                |frames| super::live::render_unit(frames, watch),
            )
        }
        None => tokio::sync::watch::channel(Frame::ended(End::Done)).1,
    };
    Ok(events(frames, slot))
}
