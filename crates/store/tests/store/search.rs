//! Full-text search on both backends: what is written or edited is found at once, word forms and
//! the start of a word match, the best match comes first, snippets are escaped text with Lyceum's own
//! marks, courses that are not public stay out of other people's results, and whatever is typed
//! answers normally.

use lyceum_course::{Language, Outline, OutlineModule, OutlineUnit};
use lyceum_store::search::{Found, SearchQuery};
use lyceum_store::{ItemKind, NewCourse, Output, Store, Visibility};

use crate::helpers::{made_by, on_each_backend, person, request, stats};

/// An outline titled `title` whose one week is `week` with these units.
pub(crate) fn outline(title: &str, summary: &str, week: &str, units: &[&str]) -> Outline {
    Outline {
        category: None,
        title: title.into(),
        summary: summary.into(),
        outcomes: vec!["Understand it".into()],
        modules: vec![OutlineModule {
            title: week.into(),
            units: units
                .iter()
                .map(|unit| OutlineUnit {
                    title: (*unit).into(),
                    objectives: vec![format!("Explain {unit}")],
                })
                .collect(),
        }],
    }
}

/// Stores `outline` as a course with no maker and writes its units' texts; the course's id.
pub(crate) async fn written(store: &Store, outline: &Outline, texts: &[&str]) -> i64 {
    written_in(store, Language::ENGLISH, outline, texts).await
}

/// [`written`], the course in `language`.
async fn written_in(store: &Store, language: Language, outline: &Outline, texts: &[&str]) -> i64 {
    let mut request = request(1, texts.len() as u32);
    request.language = language;
    let course = store
        .create_course(NewCourse {
            request: &request,
            outline,
            outline_stats: &stats(),
        })
        .await
        .unwrap();
    write_units(store, course.id, texts).await;
    course.id
}

async fn write_units(store: &Store, course_id: i64, texts: &[&str]) {
    for (unit, text) in store.units(course_id).await.unwrap().iter().zip(texts) {
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        store
            .finish_generation(generation.id, Output::Unit(text), &stats(), None)
            .await
            .unwrap();
    }
}

async fn search(store: &Store, text: &str, viewer: Option<i64>) -> Found {
    store
        .search(&SearchQuery {
            text,
            viewer,
            limit: 10,
            category: None,
        })
        .await
        .unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

fn unit_titles(found: &Found) -> Vec<&str> {
    found.units.iter().map(|unit| unit.title.as_str()).collect()
}

fn course_titles(found: &Found) -> Vec<&str> {
    found
        .courses
        .iter()
        .map(|course| course.title.as_str())
        .collect()
}

/// Three courses on different subjects; their ids.
async fn corpus(store: &Store) -> [i64; 3] {
    let neural = written(
        store,
        &outline(
            "Neural Networks from Scratch",
            "How machines learn from examples.",
            "Layers and weights",
            &["How a neural network learns", "Activation functions"],
        ),
        &[
            "A network of artificial neurons adjusts its weights after each example, \
             a little at a time, until its answers improve.",
            "An activation function decides how strongly a neuron fires; without one, \
             stacked layers of a neural network collapse into one.",
        ],
    )
    .await;
    let photosynthesis = written(
        store,
        &outline(
            "Photosynthesis",
            "How plants make their food from light.",
            "Light and leaves",
            &["Chlorophyll", "The Calvin cycle"],
        ),
        &[
            "Chlorophyll absorbs red and blue light, which is why leaves look green.",
            "The Calvin cycle fixes carbon dioxide into sugar, using the energy light gave.",
        ],
    )
    .await;
    let tides = written(
        store,
        &outline(
            "Tides",
            "Why the sea rises and falls twice a day.",
            "The pull of the moon",
            &["Spring and neap tides"],
        ),
        &["When the sun and the moon line up, their pulls add up: <b>spring tides</b>."],
    )
    .await;
    [neural, photosynthesis, tides]
}

#[tokio::test]
async fn what_is_written_is_found_best_first_with_its_words_marked() {
    on_each_backend(|store| async move {
        corpus(&store).await;
        // Fresh planner statistics change the plan, never the answer.
        store.analyze().await.unwrap();

        let found = search(&store, "neural network", None).await;
        assert_eq!(course_titles(&found), ["Neural Networks from Scratch"]);
        assert_eq!(
            unit_titles(&found)[0],
            "How a neural network learns",
            "a match in the title ranks first: {found:#?}"
        );
        assert_eq!(unit_titles(&found).len(), 2, "{found:#?}");
        let unit = &found.units[0];
        assert_eq!((unit.week, unit.number), (1, 1));
        assert_eq!(unit.course_title, "Neural Networks from Scratch");
        assert!(
            unit.snippet.html().contains("<mark>network</mark>"),
            "{:?}",
            unit.snippet
        );

        // Word forms, the start of a word, any case, accents aside.
        assert_eq!(
            unit_titles(&search(&store, "IMPROVING", None).await),
            ["How a neural network learns"]
        );
        assert_eq!(
            course_titles(&search(&store, "photosynth", None).await),
            ["Photosynthesis"]
        );
        assert_eq!(
            unit_titles(&search(&store, "chlorophyll absorbs", None).await),
            ["Chlorophyll"]
        );
        // A week's title finds its course.
        assert_eq!(
            course_titles(&search(&store, "moon pull", None).await),
            ["Tides"]
        );
        // Every word must be there.
        assert!(
            search(&store, "neural chlorophyll", None)
                .await
                .units
                .is_empty()
        );

        // A snippet is the stored text escaped, never its markup.
        let tides = search(&store, "spring", None).await;
        let html = tides.units[0].snippet.html();
        assert!(html.contains("<mark>spring</mark>"), "{html}");
        // SQLite shows the tag as text, PostgreSQL's headline leaves it out; neither lets it through.
        let unmarked = html.replace("<mark>", "").replace("</mark>", "");
        assert!(!unmarked.contains(['<', '>']), "{html}");
    })
    .await;
}

#[tokio::test]
async fn courses_in_different_languages_are_found_together() {
    on_each_backend(|store| async move {
        corpus(&store).await;
        let german = written_in(
            &store,
            Language::parse("de").unwrap(),
            &outline(
                "Honigbienen im Jahreslauf",
                "Wie ein Bienenvolk (Apis mellifera) den Winter übersteht.",
                "Das Volk",
                &["Die Wintertraube"],
            ),
            &["Im Winter drängen sich die Bienen zu einer Traube zusammen und zittern."],
        )
        .await;
        let english = written(
            &store,
            &outline(
                "Keeping Honey Bees",
                "How a colony of Apis mellifera lives through the year.",
                "The colony",
                &["The winter cluster"],
            ),
            &["In winter the bees of Apis mellifera huddle into a cluster and shiver."],
        )
        .await;
        store.analyze().await.unwrap();
        let found = search(&store, "apis mellifera", None).await;
        let mut courses = course_titles(&found);
        courses.sort_unstable();
        assert_eq!(courses, ["Honigbienen im Jahreslauf", "Keeping Honey Bees"]);
        assert_eq!(unit_titles(&found), ["The winter cluster"], "{found:#?}");
        // Each language's words, found in that language's course only.
        assert_eq!(
            unit_titles(&search(&store, "Traube", None).await),
            ["Die Wintertraube"]
        );
        assert_eq!(
            unit_titles(&search(&store, "shivering", None).await),
            ["The winter cluster"]
        );
        assert!(store.delete_course(german).await.unwrap());
        assert!(store.delete_course(english).await.unwrap());
        assert_eq!(search(&store, "mellifera", None).await, Found::default());
    })
    .await;
}

#[tokio::test]
async fn an_edit_a_new_week_title_and_a_deletion_show_at_once() {
    on_each_backend(|store| async move {
        let [_, course, _] = corpus(&store).await;
        let ada = person(&store, "ada@example.org", "Ada").await;
        let found = search(&store, "calvin", None).await;
        assert_eq!(unit_titles(&found), ["The Calvin cycle"]);
        let unit = store.units(course).await.unwrap()[1].clone();
        assert!(
            store
                .edit_unit(
                    unit.id,
                    "Fixing carbon",
                    "Rubisco grabs carbon dioxide.",
                    ada,
                    5_000
                )
                .await
                .unwrap()
        );
        assert!(search(&store, "calvin", None).await.units.is_empty());
        assert_eq!(
            unit_titles(&search(&store, "rubisco", None).await),
            ["Fixing carbon"]
        );

        assert!(store.delete_course(course).await.unwrap());
        assert!(search(&store, "rubisco", None).await.units.is_empty());
        assert!(
            search(&store, "photosynthesis", None)
                .await
                .courses
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_course_that_is_not_public_is_found_by_its_maker_only() {
    on_each_backend(|store| async move {
        corpus(&store).await;
        let ada = person(&store, "ada@example.org", "Ada").await;
        let bob = person(&store, "bob@example.org", "Bob").await;
        let hers = made_by(
            &store,
            ada,
            &outline(
                "Volcanoes",
                "Where magma comes from.",
                "Under the crust",
                &["Magma chambers", "Eruptions"],
            ),
        )
        .await;
        write_units(&store, hers.id, &["Magma gathers below.", "Magma rises."]).await;
        for visibility in [Visibility::Private, Visibility::Unlisted] {
            assert!(store.set_visibility(hers.id, visibility).await.unwrap());
            for someone in [None, Some(bob)] {
                let found = search(&store, "magma", someone).await;
                assert_eq!(found, Found::default(), "{visibility:?} to {someone:?}");
            }
            let found = search(&store, "magma", Some(ada)).await;
            assert_eq!(course_titles(&found), ["Volcanoes"]);
            assert_eq!(found.units.len(), 2);
        }
        assert!(
            store
                .set_visibility(hers.id, Visibility::Public)
                .await
                .unwrap()
        );
        assert_eq!(search(&store, "magma", Some(bob)).await.units.len(), 2);
        store.set_hidden(&hers.slug, true).await.unwrap();
        assert_eq!(search(&store, "magma", Some(ada)).await, Found::default());
    })
    .await;
}

#[tokio::test]
async fn whatever_is_typed_answers_normally() {
    on_each_backend(|store| async move {
        corpus(&store).await;
        let long = "neural ".repeat(1_500);
        for text in [
            "",
            "   ",
            "?!.,;",
            "\"",
            "\"neural",
            "NEAR(neural network)",
            "neural*",
            "*",
            "title:neural",
            "neural & | ! network",
            "'neural'",
            "-neural",
            "(neural) OR network",
            "\u{0}\u{2}\u{3}",
            long.as_str(),
            &"x".repeat(10_000),
        ] {
            search(&store, text, None).await;
        }
        assert_eq!(
            unit_titles(&search(&store, "\"neural\" network*", None).await)[0],
            "How a neural network learns",
            "FTS syntax is read as words"
        );
        assert_eq!(search(&store, "?!.,;", None).await, Found::default());
    })
    .await;
}
