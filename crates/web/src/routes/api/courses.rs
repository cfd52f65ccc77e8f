//! The courses as JSON: the catalog a page at a time, a course, a week, a unit, and checking answers
//! to a unit's quiz.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use lyceum_app::dates::rfc3339;
use lyceum_app::editing::{self, EditRefused};
use lyceum_app::export::{self, CourseExport, UnitExport, WeekExport};
use lyceum_app::learning::{self, QuizRefused};
use lyceum_course::Category;
use lyceum_store::{Author, CourseSummary, User, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{ApiCaller, ApiUser};
use crate::error::JsonError;
use crate::extract::ApiParams;
use crate::views::course_href;
use crate::{Web, WebError};

/// A course in the catalog.
#[derive(Serialize)]
pub struct CourseItem {
    slug: String,
    title: String,
    summary: String,
    language: &'static str,
    level: &'static str,
    weeks: i64,
    /// Generated items so far (outline, overviews, units, quizzes), and how many are ready or failed.
    items: i64,
    ready: i64,
    failed: i64,
    /// Whether an operator features it (featured courses come first).
    featured: bool,
    /// `public`, `unlisted` or `private`.
    visibility: &'static str,
    /// Its subject's slug (see `/categories`), when it has one.
    category: Option<&'static str>,
    /// The course's page.
    url: String,
}

/// A page of the catalog.
#[derive(Serialize)]
pub struct CatalogPage {
    courses: Vec<CourseItem>,
    page: i64,
    /// The next page's number, when there is one.
    next_page: Option<i64>,
}

impl From<CourseSummary> for CourseItem {
    fn from(summary: CourseSummary) -> Self {
        let url = course_href(&summary.course);
        let course = summary.course;
        Self {
            slug: course.slug,
            title: course.title,
            summary: course.summary,
            language: course.language.tag,
            level: course.level.as_str(),
            weeks: course.weeks,
            items: summary.items,
            ready: summary.ready,
            failed: summary.failed,
            featured: course.featured_at.is_some(),
            visibility: course.visibility.as_str(),
            category: course.category.map(|category| category.slug),
            url,
        }
    }
}

/// The catalog's query string in the API: the page, and a subject.
#[derive(Deserialize)]
pub struct CatalogQuery {
    /// From 1.
    page: Option<i64>,
    /// A subject's slug: only its courses.
    category: Option<String>,
}

/// `GET /api/courses?page=N&category=SLUG` (20 a page, as on the site).
pub async fn catalog(
    State(web): State<Web>,
    query: Result<Query<CatalogQuery>, QueryRejection>,
) -> Result<Json<CatalogPage>, JsonError> {
    let (page, category) = match query {
        Ok(Query(query)) => (query.page.unwrap_or(1), query.category),
        Err(_) => (0, None),
    };
    if page < 1 {
        return Err(JsonError::new(
            StatusCode::BAD_REQUEST,
            "page is a whole number from 1",
        ));
    }
    let (courses, has_next) = match category.as_deref() {
        None => web.app.catalog_page(page).await?,
        Some(slug) => {
            let category = Category::from_slug(slug).ok_or_else(|| unknown_category(slug))?;
            web.app.category_page(category, page).await?
        }
    };
    let next_page = has_next.then(|| page + 1);
    Ok(Json(CatalogPage {
        courses: courses.into_iter().map(CourseItem::from).collect(),
        page,
        next_page,
    }))
}

/// The answer to a subject's slug that names none.
pub fn unknown_category(slug: &str) -> JsonError {
    JsonError::new(
        StatusCode::BAD_REQUEST,
        format!("\"{slug}\" is not a subject: category is the slug of one of /categories"),
    )
}

async fn load(web: &Web, slug: &str, caller: Option<&User>) -> Result<CourseExport, JsonError> {
    let course = crate::routes::courses::shown(web, slug, caller).await?;
    Ok(export::load(&web.app.store, &course).await?)
}

/// `GET /api/courses/{slug}`: the whole course, every week and unit with its status and text.
pub async fn course(
    State(web): State<Web>,
    ApiCaller(caller): ApiCaller,
    ApiParams(slug): ApiParams<String>,
) -> Result<Json<CourseExport>, JsonError> {
    Ok(Json(load(&web, &slug, caller.as_ref()).await?))
}

async fn load_week(
    web: &Web,
    slug: &str,
    week: i64,
    caller: Option<&User>,
) -> Result<WeekExport, JsonError> {
    load(web, slug, caller)
        .await?
        .weeks
        .into_iter()
        .find(|found| found.number == week)
        .ok_or_else(|| WebError::NotFound.into())
}

/// `GET /api/courses/{slug}/weeks/{week}`.
pub async fn week(
    State(web): State<Web>,
    ApiCaller(caller): ApiCaller,
    ApiParams((slug, week)): ApiParams<(String, i64)>,
) -> Result<Json<WeekExport>, JsonError> {
    load_week(&web, &slug, week, caller.as_ref())
        .await
        .map(Json)
}

/// `GET /api/courses/{slug}/weeks/{week}/units/{unit}`.
pub async fn unit(
    State(web): State<Web>,
    ApiCaller(caller): ApiCaller,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
) -> Result<Json<UnitExport>, JsonError> {
    load_week(&web, &slug, week, caller.as_ref())
        .await?
        .units
        .into_iter()
        .find(|unit| unit.number == number)
        .map(Json)
        .ok_or_else(|| WebError::NotFound.into())
}

/// What `POST …/units/{unit}/quiz` checks: the option chosen for each question, in order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswers {
    answers: Vec<Option<usize>>,
}

/// One question's result.
#[derive(Serialize)]
pub struct QuestionResult {
    chosen: usize,
    right: bool,
    /// The right option's index, and why it is right.
    answer: usize,
    explanation: String,
}

/// A checked quiz.
#[derive(Serialize)]
pub struct QuizResult {
    score: usize,
    total: usize,
    /// Whether the attempt was kept: the request carried a token.
    saved: bool,
    /// The token's learner's best score at this version of the quiz.
    best: Option<usize>,
    questions: Vec<QuestionResult>,
}

/// `POST /api/courses/{slug}/weeks/{week}/units/{unit}/quiz`: checks answers to the unit's quiz, as
/// its page does; with a token, the attempt is kept for the token's account.
pub async fn answer_quiz(
    State(web): State<Web>,
    ApiCaller(caller): ApiCaller,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
    body: Result<Json<QuizAnswers>, JsonRejection>,
) -> Result<Json<QuizResult>, JsonError> {
    let Json(body) = body?;
    let (_, _, units) = crate::routes::courses::load(&web, &slug, caller.as_ref()).await?;
    let unit = units
        .iter()
        .find(|unit| unit.week == week && unit.number == number)
        .ok_or(WebError::NotFound)?;
    let checked = learning::answer_quiz(
        &web.app.store,
        caller.as_ref(),
        unit.id,
        &body.answers,
        None,
    )
    .await;
    let (quiz, graded) = match checked {
        Ok(checked) => checked,
        Err(QuizRefused::NoQuiz) => return Err(WebError::NotFound.into()),
        Err(QuizRefused::Store(error)) => return Err(error.into()),
        Err(refused @ QuizRefused::Outdated) => {
            return Err(JsonError::new(StatusCode::CONFLICT, refused.to_string()));
        }
        Err(refused @ QuizRefused::TooMany(_)) => {
            return Err(JsonError::invalid(
                "the answers were not checked",
                vec![json!({"field": "answers", "message": refused.to_string()})],
            ));
        }
        Err(QuizRefused::Unanswered(questions)) => {
            return Err(JsonError::invalid(
                "the answers were not checked",
                questions
                    .iter()
                    .map(|number| {
                        json!({
                            "field": format!("answers[{}]", number - 1),
                            "message": "choose one of the question's 4 options: 0 to 3",
                        })
                    })
                    .collect(),
            ));
        }
    };
    let questions = quiz
        .questions
        .into_iter()
        .zip(graded.answers.iter().zip(&graded.right))
        .map(|(question, (&chosen, &right))| QuestionResult {
            chosen,
            right,
            answer: question.answer,
            explanation: question.explanation,
        })
        .collect();
    Ok(Json(QuizResult {
        score: graded.score,
        total: graded.total,
        saved: graded.saved,
        best: graded.best,
        questions,
    }))
}

/// What `PATCH /api/courses/{slug}` changes: who may see it, its subject, or both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseChange {
    visibility: Option<String>,
    /// A subject's slug, or `null` for none; left out, the subject stays.
    #[serde(default, deserialize_with = "present")]
    category: Option<Option<String>>,
}

/// A field that is present, `null` or not: told apart from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Who may see a course and its subject, as `PATCH /api/courses/{slug}` answers.
#[derive(Serialize)]
pub struct CourseSettings {
    slug: String,
    visibility: &'static str,
    category: Option<&'static str>,
}

/// Course `slug`, for the token's account when it made the course or is an admin's: 404 when the
/// account may not see it, 403 when it sees it but may not change it.
async fn owned(web: &Web, user: &User, slug: &str) -> Result<lyceum_store::Course, JsonError> {
    let course = crate::routes::courses::shown(web, slug, Some(user)).await?;
    if user.is_admin || course.maker.account() == Some(user.id) {
        Ok(course)
    } else {
        Err(WebError::Forbidden.into())
    }
}

/// `PATCH /api/courses/{slug}`: sets who may see a course the token's account made, or its subject.
pub async fn update(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams(slug): ApiParams<String>,
    change: Result<Json<CourseChange>, JsonRejection>,
) -> Result<Json<CourseSettings>, JsonError> {
    let Json(change) = change?;
    let course = owned(&web, &user, &slug).await?;
    let mut problems = Vec::new();
    let visibility = match change.visibility.as_deref() {
        None => None,
        Some(text) => match Visibility::parse(text) {
            Some(visibility) => Some(visibility),
            None => {
                problems.push(json!({"field": "visibility", "message": "must be \"public\", \"unlisted\" or \"private\""}));
                None
            }
        },
    };
    let category = match &change.category {
        None => None,
        Some(None) => Some(None),
        Some(Some(slug)) => match Category::from_slug(slug) {
            Some(category) => Some(Some(category)),
            None => {
                problems.push(json!({"field": "category", "message": "must be the slug of one of /categories, or null"}));
                None
            }
        },
    };
    if change.visibility.is_none() && change.category.is_none() {
        problems
            .push(json!({"field": "visibility", "message": "give visibility, category or both"}));
    }
    if !problems.is_empty() {
        return Err(JsonError::invalid("the course was not changed", problems));
    }
    let store = &web.app.store;
    if let Some(visibility) = visibility {
        store.set_visibility(course.id, visibility).await?;
    }
    if let Some(category) = category {
        store.set_category(course.id, category).await?;
    }
    web.pages.changed(course.id);
    tracing::info!(user = user.id, course = %course.slug, "course settings changed through the API");
    Ok(Json(CourseSettings {
        slug: course.slug,
        visibility: visibility.unwrap_or(course.visibility).as_str(),
        category: category
            .unwrap_or(course.category)
            .map(|category| category.slug),
    }))
}

/// `DELETE /api/courses/{slug}`: deletes a course the token's account made, with its units, quizzes
/// and every learner's progress in it.
pub async fn delete(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams(slug): ApiParams<String>,
) -> Result<StatusCode, JsonError> {
    let course = owned(&web, &user, &slug).await?;
    web.app.store.delete_course(course.id).await?;
    web.pages.changed(course.id);
    tracing::info!(user = user.id, course = %course.slug, "course deleted through the API");
    Ok(StatusCode::NO_CONTENT)
}

/// What `PATCH /api/courses/{slug}/weeks/{week}/units/{unit}` changes: the title, the text, or both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitChange {
    title: Option<String>,
    body: Option<String>,
}

/// The course `slug` (for the token's account when it made the course or is an admin's) and its
/// unit `number` of week `week`.
async fn owned_unit(
    web: &Web,
    user: &User,
    slug: &str,
    week: i64,
    number: i64,
) -> Result<(lyceum_store::Course, lyceum_store::Unit), JsonError> {
    let course = owned(web, user, slug).await?;
    let unit = crate::routes::courses::unit_of(web, &course, week, number).await?;
    Ok((course, unit))
}

/// `PATCH /api/courses/{slug}/weeks/{week}/units/{unit}`: edits a written unit of a course the
/// token's account made, as the unit's edit page does; the unit as it is now.
pub async fn edit_unit(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
    change: Result<Json<UnitChange>, JsonRejection>,
) -> Result<Json<UnitExport>, JsonError> {
    let Json(change) = change?;
    let (course, unit) = owned_unit(&web, &user, &slug, week, number).await?;
    let title = change.title.unwrap_or_else(|| unit.title.clone());
    let body = change
        .body
        .or_else(|| unit.body.clone())
        .unwrap_or_default();
    match editing::edit_unit(&web.app.store, &unit, &user, &title, &body).await {
        Ok(()) => {}
        Err(EditRefused::Store(error)) => return Err(error.into()),
        Err(EditRefused::NotWritten) => {
            return Err(JsonError::new(
                StatusCode::CONFLICT,
                EditRefused::NotWritten.to_string(),
            ));
        }
        Err(refused) => {
            return Err(JsonError::invalid(
                "the unit was not changed",
                vec![json!({"field": refused.field(), "message": refused.to_string()})],
            ));
        }
    }
    web.pages.changed(course.id);
    unit_of(&web, &slug, week, number, &user).await.map(Json)
}

/// The unit as the API shows it.
async fn unit_of(
    web: &Web,
    slug: &str,
    week: i64,
    number: i64,
    user: &User,
) -> Result<UnitExport, JsonError> {
    load_week(web, slug, week, Some(user))
        .await?
        .units
        .into_iter()
        .find(|unit| unit.number == number)
        .ok_or_else(|| WebError::NotFound.into())
}

/// A text a unit had before, as the API shows it.
#[derive(Serialize)]
pub struct VersionItem {
    id: i64,
    title: String,
    body: String,
    /// `model`, or a person's display name (`null` for an account since deleted).
    author: Option<String>,
    written_at: Option<String>,
    replaced_at: String,
}

/// `GET /api/courses/{slug}/weeks/{week}/units/{unit}/versions`: the unit's earlier texts, the most
/// recently replaced first, for the course's maker.
pub async fn unit_versions(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
) -> Result<Json<Vec<VersionItem>>, JsonError> {
    let (_, unit) = owned_unit(&web, &user, &slug, week, number).await?;
    let versions = web.app.store.unit_versions(unit.id).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|version| VersionItem {
                id: version.id,
                author: match version.author {
                    Author::Model => Some("model".into()),
                    Author::Person(person) => person.map(|(_, name)| name),
                },
                written_at: version.written_at.map(rfc3339),
                replaced_at: rfc3339(version.replaced_at),
                title: version.title,
                body: version.body,
            })
            .collect(),
    ))
}

/// `POST /api/courses/{slug}/weeks/{week}/units/{unit}/versions/{id}/restore`: makes an earlier
/// text the unit's again, keeping the current one; the unit as it is now.
pub async fn restore_unit_version(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number, id)): ApiParams<(String, i64, i64, i64)>,
) -> Result<Json<UnitExport>, JsonError> {
    let (course, unit) = owned_unit(&web, &user, &slug, week, number).await?;
    if !web
        .app
        .store
        .restore_unit_version(unit.id, id, lyceum_store::now_ms())
        .await?
    {
        return Err(JsonError::new(
            StatusCode::NOT_FOUND,
            "this unit has no earlier version with that id",
        ));
    }
    web.pages.changed(course.id);
    unit_of(&web, &slug, week, number, &user).await.map(Json)
}

/// What `POST …/units/{unit}/rewrite` asks for: the wish for the new text, if any.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewriteRequest {
    #[serde(default)]
    instruction: String,
}

/// A unit being written again, as the API says it.
#[derive(Serialize)]
pub struct RewriteStatus {
    /// `pending` until a worker starts it.
    status: &'static str,
    /// The unit, whose `body` stays the current text until the new one is stored.
    url: String,
}

/// `POST /api/courses/{slug}/weeks/{week}/units/{unit}/rewrite`: queues a written unit of a course the
/// token's account made to be written again (and then its quiz), ahead of background work.
pub async fn rewrite_unit(
    State(web): State<Web>,
    ApiUser(user): ApiUser,
    ApiParams((slug, week, number)): ApiParams<(String, i64, i64)>,
    body: Result<Json<RewriteRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RewriteStatus>), JsonError> {
    let Json(body) = body?;
    let (_, unit) = owned_unit(&web, &user, &slug, week, number).await?;
    let generation =
        match editing::rewrite_unit(&web.app.store, &unit, &user, &body.instruction).await {
            Ok(generation) => generation,
            Err(EditRefused::Store(error)) => return Err(error.into()),
            Err(refused) => {
                return Err(JsonError::invalid(
                    "the unit was not queued",
                    vec![json!({"field": refused.field(), "message": refused.to_string()})],
                ));
            }
        };
    Ok((
        StatusCode::ACCEPTED,
        Json(RewriteStatus {
            status: generation.status.as_str(),
            url: format!("/api/courses/{slug}/weeks/{week}/units/{number}"),
        }),
    ))
}
