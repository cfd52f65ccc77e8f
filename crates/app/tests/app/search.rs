//! Search by meaning end to end with the real sentence encoder: written units are embedded by the
//! worker's `embed` jobs, and a search that shares no word with a unit still finds it first.

use std::sync::Arc;
use std::time::Duration;

use lyceum_app::Lyceum;
use lyceum_app::models::ENCODER;
use lyceum_app::worker::{Until, Worker};
use lyceum_course::{Outline, OutlineModule, OutlineUnit};
use lyceum_store::search::SearchQuery;
use lyceum_store::{GenerationStats, ItemKind, NewCourse, Output, Task};

use crate::helpers::request;

/// Ten units on different subjects, one course each: (course title, unit title, text).
const UNITS: [(&str, &str, &str); 10] = [
    (
        "Botany basics",
        "Photosynthesis",
        "Green plants use sunlight, water and carbon dioxide to produce glucose and oxygen in their leaves.",
    ),
    (
        "Deep learning",
        "Neural networks",
        "Layers of artificial neurons with weights and activation functions, trained by backpropagation.",
    ),
    (
        "Modern Europe",
        "The French Revolution",
        "The fall of the monarchy in 1789, the Terror, and the rise of Napoleon.",
    ),
    (
        "Money",
        "Budgeting basics",
        "Tracking income and expenses, saving a share of every paycheck, avoiding debt.",
    ),
    (
        "Earth science",
        "Plate tectonics",
        "The continents drift on the mantle; earthquakes happen at plate boundaries.",
    ),
    (
        "Media history",
        "The printing press",
        "Gutenberg's movable type and how cheap books spread the Reformation.",
    ),
    (
        "Health",
        "Vaccines",
        "The immune system learns to recognise a pathogen from a harmless copy of it.",
    ),
    (
        "Economics",
        "Supply and demand",
        "Prices settle where what buyers want meets what sellers offer.",
    ),
    (
        "Poetry",
        "Sonnets",
        "Fourteen lines of iambic pentameter, from Petrarch to Shakespeare.",
    ),
    (
        "Computing",
        "Sorting algorithms",
        "Quicksort, mergesort and their running times on large arrays.",
    ),
];

/// A one-unit course whose summary is the unit's text, as a model's summary says what it covers.
fn outline(course: &str, unit: &str, text: &str) -> Outline {
    Outline {
        category: None,
        title: course.into(),
        summary: text.into(),
        outcomes: vec!["Understand it".into()],
        modules: vec![OutlineModule {
            title: unit.into(),
            units: vec![OutlineUnit {
                title: unit.into(),
                objectives: vec!["Explain it".into()],
            }],
        }],
    }
}

fn stats() -> GenerationStats {
    GenerationStats {
        engine: "test".into(),
        model: "test".into(),
        tokens_in: None,
        tokens_out: None,
        duration: Duration::ZERO,
    }
}

#[tokio::test]
async fn a_search_in_other_words_finds_the_unit_that_answers_it() {
    let installed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/models")
        .join(ENCODER.file_name);
    assert!(
        installed.exists(),
        "run `lyceum model install --model fast` for the encoder"
    );
    let model = lyceum_testkit::ScriptedModel::start().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = model.settings(dir.path());
    std::fs::create_dir_all(settings.models_dir()).unwrap();
    std::os::unix::fs::symlink(&installed, settings.models_dir().join(ENCODER.file_name)).unwrap();
    let app = Lyceum::open(settings).await.unwrap();
    assert!(app.meaning.is_some(), "the installed encoder is loaded");

    for (course, unit, text) in UNITS {
        let created = app
            .store
            .create_course(NewCourse {
                request: &request(1, 1),
                outline: &outline(course, unit, text),
                outline_stats: &stats(),
            })
            .await
            .unwrap();
        let unit = &app.store.units(created.id).await.unwrap()[0];
        let generation = app
            .store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        app.store
            .finish_generation(generation.id, Output::Unit(text), &stats(), None)
            .await
            .unwrap();
    }
    // The queue also holds the courses' overviews and quizzes, which this test leaves unwritten:
    // dropped, so the worker runs only the `embed` jobs the database queued.
    let mut embeds = Vec::new();
    while let Some(job) = app
        .store
        .claim("test", Duration::from_secs(60), i64::MAX / 2)
        .await
        .unwrap()
    {
        match job.task {
            Task::Embed(_) => embeds.push(job.id),
            _ => app.store.complete_job(job.id).await.unwrap(),
        }
    }
    assert_eq!(embeds.len(), 20, "ten units and ten courses");
    for id in embeds {
        app.store.release_job(id, "test").await.unwrap();
    }
    Worker::new(Arc::clone(&app))
        .run(Until::Idle, std::future::pending())
        .await
        .unwrap();

    for (query, unit) in [
        ("neural nets", "Neural networks"),
        ("how do plants make food", "Photosynthesis"),
    ] {
        let found = app
            .search(&SearchQuery::new(query, None, 10))
            .await
            .unwrap();
        let titles: Vec<&str> = found.units.iter().map(|hit| hit.title.as_str()).collect();
        assert_eq!(titles.first(), Some(&unit), "{query}: {titles:?}");
    }
    // A word in the text still finds it by its words, marked.
    let found = app
        .search(&SearchQuery::new("Gutenberg", None, 10))
        .await
        .unwrap();
    assert_eq!(found.units[0].title, "The printing press");
    assert!(
        found.units[0].snippet.html().contains("<mark>"),
        "{:?}",
        found.units[0]
    );
    // Related courses: the close ones by meaning (measured with these texts: money and economics
    // 0.38, the other pairs below 0.3 but the two histories at 0.40), then others of its subject.
    let related = |title: &'static str| {
        let app = Arc::clone(&app);
        async move {
            let course = app
                .store
                .course(&lyceum_course::slugify(title))
                .await
                .unwrap();
            let related = app.related_courses(&course, 4).await.unwrap();
            related.into_iter().map(|hit| hit.title).collect::<Vec<_>>()
        }
    };
    assert_eq!(related("Money").await, ["Economics"]);
    assert_eq!(related("Economics").await, ["Money"]);
    assert!(
        related("Botany basics").await.is_empty(),
        "nothing is close to it"
    );
    let biology = lyceum_course::Category::from_slug("biology").unwrap();
    for title in ["Botany basics", "Health", "Money"] {
        let course = app
            .store
            .course(&lyceum_course::slugify(title))
            .await
            .unwrap();
        app.store
            .set_category(course.id, Some(biology))
            .await
            .unwrap();
    }
    assert_eq!(
        related("Money").await,
        ["Economics", "Health", "Botany basics"],
        "the close one first, then its subject's newest"
    );
    assert_eq!(
        related("Botany basics").await,
        ["Health", "Money"],
        "newest first"
    );
    // Nonsense finds nothing by meaning either.
    let found = app
        .search(&SearchQuery::new("qwxz zzkv", None, 10))
        .await
        .unwrap();
    assert!(found.units.is_empty(), "{found:?}");
}
