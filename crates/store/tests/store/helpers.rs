//! A fresh database per test: a temporary SQLite file, or a new PostgreSQL database created from
//! `TEST_DATABASE_URL` and dropped afterwards.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lyceum_course::{
    CourseRequest, Description, Outline, OutlineModule, OutlineUnit, UnitsPerWeek, Weeks,
};
use lyceum_store::drafts::Drafted;
use lyceum_store::{Course, GenerationStats, ItemKind, NewCourse, NewDraft, Output, Store};

/// Runs `test` against a fresh SQLite store, then against a fresh PostgreSQL one when
/// `TEST_DATABASE_URL` is set. Under CI the variable is required, so the PostgreSQL half cannot be
/// skipped unnoticed.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lyceum.db").display());
    let store = Store::open(&url).await.unwrap();
    test(store.clone()).await;
    store.close().await;

    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let (store, _, drop_database) = postgres_database(&admin_url).await;
    test(store.clone()).await;
    store.close().await;
    drop_database.await;
}

/// `TEST_DATABASE_URL`, the server's admin database; `None` when it is not set, which CI does not
/// allow, so the PostgreSQL half of the store suite cannot be skipped unnoticed.
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty());
    assert!(
        url.is_some() || std::env::var("CI").is_err(),
        "TEST_DATABASE_URL must be set in CI so the PostgreSQL half of the store suite runs"
    );
    url
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh PostgreSQL database: a store on it, its URL (for more stores, as other nodes have), and
/// the future that drops it.
pub async fn postgres_database(admin_url: &str) -> (Store, String, impl Future<Output = ()>) {
    use sqlx::Executor;
    let name = format!(
        "lyceum_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    let url = format!("{base}/{name}");
    let store = Store::open(&url).await.unwrap();
    let cleanup = async move {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin.close().await;
    };
    (store, url, cleanup)
}

/// An outline of `weeks` × `units` with distinct titles.
pub fn outline(title: &str, weeks: usize, units: usize) -> Outline {
    Outline {
        category: None,
        title: title.into(),
        summary: "A course used by the store tests.".into(),
        outcomes: vec!["Pass the tests".into()],
        modules: (1..=weeks)
            .map(|m| OutlineModule {
                title: format!("Week {m}"),
                units: (1..=units)
                    .map(|u| OutlineUnit {
                        title: format!("Unit {m}.{u}"),
                        objectives: vec![format!("Learn {m}.{u}")],
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn stats() -> GenerationStats {
    GenerationStats {
        engine: "openai".into(),
        model: "scripted".into(),
        tokens_in: Some(100),
        tokens_out: Some(50),
        duration: Duration::from_millis(1234),
    }
}

/// A request for a course of `weeks` × `units`.
pub fn request(weeks: u32, units: u32) -> CourseRequest {
    let mut request =
        CourseRequest::new(Description::parse("A topic for the store tests").unwrap());
    request.weeks = Weeks::new(weeks).unwrap();
    request.units_per_week = UnitsPerWeek::new(units).unwrap();
    request
}

/// A draft of `request` for `owner`, not signed in, who may have `at_once` drafting.
pub fn anonymous<'a>(owner: &'a str, request: &'a CourseRequest, at_once: u32) -> NewDraft<'a> {
    NewDraft {
        request,
        owner,
        user_id: None,
        at_once,
        per_day: None,
    }
}

/// Stores a course of `weeks` × `units`.
pub async fn create_course(store: &Store, title: &str, weeks: usize, units: usize) -> Course {
    store
        .create_course(NewCourse {
            request: &request(weeks as u32, units as u32),
            outline: &outline(title, weeks, units),
            outline_stats: &stats(),
        })
        .await
        .unwrap()
}

/// A valid three-question quiz whose answers are all option 2.
pub fn quiz() -> lyceum_course::Quiz {
    lyceum_course::Quiz {
        questions: (0..3)
            .map(|i| lyceum_course::Question {
                prompt: format!("Question {i}?"),
                options: vec!["a".into(), "b".into(), "c".into(), "d".into()],
                answer: 2,
                explanation: "Because.".into(),
            })
            .collect(),
    }
}

/// The next change of the feed, failing the test when none comes in 10 s.
pub async fn next_change(changes: &mut lyceum_store::Changes) -> lyceum_store::Change {
    tokio::time::timeout(std::time::Duration::from_secs(10), changes.next())
        .await
        .expect("no change announced within 10 s")
        .expect("the feed ended")
}

/// An account with this email and name, signed up at 1,000 ms; its id.
pub async fn person(store: &Store, email: &str, name: &str) -> i64 {
    let new = lyceum_store::NewUser {
        email,
        display_name: name,
        password_hash: None,
        is_admin: false,
        passkey: None,
    };
    store.create_user(&new, 1_000).await.unwrap().id
}

/// Writes unit `position` of the course as `text`, and its quiz; the unit's id.
pub async fn written_with_quiz(
    store: &Store,
    course_id: i64,
    position: usize,
    text: &str,
    quiz: &lyceum_course::Quiz,
) -> i64 {
    let unit = store.units(course_id).await.unwrap()[position].clone();
    for (kind, output) in [
        (ItemKind::Unit, Output::Unit(text)),
        (ItemKind::Quiz, Output::Quiz(quiz)),
    ] {
        let generation = store.generation_of(kind, unit.id).await.unwrap().unwrap();
        store
            .finish_generation(generation.id, output, &stats(), None)
            .await
            .unwrap();
    }
    unit.id
}

/// A course of `outline` made by account `user_id` through a draft, as the site makes one.
pub async fn made_by(store: &Store, user_id: i64, outline: &Outline) -> Course {
    let weeks = outline.modules.len() as u32;
    let request = request(weeks, outline.modules[0].units.len() as u32);
    let draft = store
        .create_draft(&NewDraft {
            request: &request,
            owner: "account",
            user_id: Some(user_id),
            at_once: 0,
            per_day: None,
        })
        .await
        .unwrap()
        .unwrap();
    store
        .finish_draft(&draft, Drafted::Ready(outline, &stats()), None)
        .await
        .unwrap();
    store
        .confirm_draft(
            &draft,
            NewCourse {
                request: &request,
                outline,
                outline_stats: &stats(),
            },
        )
        .await
        .unwrap()
}
