//! The tutor on the tests' real local model: "Test me" asks about the unit (the stored quiz's
//! question, then one the model writes from the text) and grades answers.

use std::sync::Arc;

use futures::StreamExt;
use lyceum_app::Lyceum;
use lyceum_app::settings::EngineKind;
use lyceum_app::tutor::{self, Ask, Reply, TutorEvent};
use lyceum_course::tutor::Verdict;
use lyceum_course::{Question, Quiz};
use lyceum_store::{GenerationStats, ItemKind, NewUser, Output, User};

use crate::helpers::spawn_app;

const ARTICLE: &str = "An arch bridge carries its load by turning it into compression. The weight \
of the deck and the traffic pushes down on the arch, and the curved shape passes that push along the \
arch to its two ends, called abutments. Stone and concrete are very strong when squeezed, which is why \
Roman arches still stand. The abutments must resist the outward push of the arch, called thrust: if \
they moved apart, the arch would flatten and fall.\n\n## Beams\n\nA beam bridge is a horizontal beam \
resting on a support at each end. Under a load, the top of the beam is squeezed and its bottom is \
stretched, so the top is in compression and the bottom in tension. Longer beams bend more, so beam \
bridges are short or stand on piers.\n\n## Key takeaways\n- An arch turns its load into compression.\n\
- The abutments resist the thrust of the arch.\n- A loaded beam is in compression on top and in \
tension below.\n";

/// Everything the tutor said in answer to `ask`.
async fn ask(
    app: &Arc<Lyceum>,
    learner: &User,
    course: &lyceum_store::Course,
    unit_id: i64,
    ask: Ask,
) -> Vec<Reply> {
    let units = app.store.units(course.id).await.unwrap();
    let events: Vec<TutorEvent> = tutor::chat(app, learner, course, &units, unit_id, ask)
        .await
        .unwrap()
        .collect()
        .await;
    let mut replies = Vec::new();
    for event in events {
        match event {
            TutorEvent::Stored(said) if said.message.role == lyceum_store::ChatRole::Tutor => {
                replies.push(said.reply)
            }
            TutorEvent::Failed(why) => panic!("the reply failed: {why}"),
            _ => {}
        }
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_real_model_test_me_asks_about_the_unit_and_grades_answers() {
    let test = spawn_app(1).await;
    let (_, course) = test.confirmed_course(1, 1).await;
    let store = &test.app.store;
    let unit = store.units(course.id).await.unwrap()[0].clone();
    let quiz = Quiz {
        questions: vec![Question {
            prompt: "What must the abutments of an arch bridge resist?".into(),
            options: vec![
                "The thrust: the arch's outward push".into(),
                "The wind".into(),
                "Rain".into(),
                "The river's current".into(),
            ],
            answer: 0,
            explanation: "If the abutments moved apart, the arch would flatten and fall.".into(),
        }],
    };
    for (kind, output) in [
        (ItemKind::Unit, Output::Unit(ARTICLE)),
        (ItemKind::Quiz, Output::Quiz(&quiz)),
    ] {
        let generation = store.generation_of(kind, unit.id).await.unwrap().unwrap();
        store
            .finish_generation(
                generation.id,
                output,
                &GenerationStats {
                    engine: "person".into(),
                    model: "a test".into(),
                    tokens_in: None,
                    tokens_out: None,
                    duration: std::time::Duration::ZERO,
                },
                None,
            )
            .await
            .unwrap();
    }
    let learner = store
        .create_user(
            &NewUser {
                email: "ada@example.org",
                display_name: "Ada",
                password_hash: None,
                is_admin: false,
                passkey: None,
            },
            1_000,
        )
        .await
        .unwrap();
    let mut settings = test.app.settings.clone();
    settings.engine.kind = EngineKind::Local;
    settings.engine.local.model = lyceum_testkit::test_model();
    let engine = lyceum_app::engine::build(&settings).unwrap();
    let app = Lyceum::new(settings, store.clone(), Arc::new(engine)).expect("app");

    let asked = ask(&app, &learner, &course, unit.id, Ask::TestMe).await;
    let [Reply::Question { number: 1, text }] = asked.as_slice() else {
        panic!("{asked:?}");
    };
    assert!(text.contains("abutments"), "the quiz's question: {text}");

    // The unit's answer in the learner's words: not graded wrong, with a sentence of the unit; then
    // the model asks a question of its own about the unit.
    let graded = ask(
        &app,
        &learner,
        &course,
        unit.id,
        Ask::Message("They resist the thrust, the outward push of the arch.".into()),
    )
    .await;
    let Reply::Grade(grade) = &graded[0] else {
        panic!("{graded:?}");
    };
    eprintln!("grade of a right answer: {grade:?}");
    assert_ne!(grade.verdict, Some(Verdict::Wrong), "{grade:?}");
    assert!(!grade.feedback.trim().is_empty());
    assert!(
        ARTICLE.contains(&grade.quote) && !grade.quote.is_empty(),
        "the quote is the unit's own: {:?}",
        grade.quote
    );
    let Some(Reply::Question { number: 2, text }) = graded.get(1) else {
        panic!("{graded:?}");
    };
    eprintln!("the model's question: {text}");
    let words = text.split_whitespace().count();
    assert!(words >= 5, "{text}");
    assert!(text.contains("Question 2 of 5."), "{text}");
    assert!(
        !lyceum_course::tutor::same_question(
            text,
            "What must the abutments of an arch bridge resist?"
        ),
        "a question of its own: {text}"
    );

    // An answer about something else entirely is not graded right.
    let off = ask(
        &app,
        &learner,
        &course,
        unit.id,
        Ask::Message("I had toast for breakfast.".into()),
    )
    .await;
    let Reply::Grade(grade) = &off[0] else {
        panic!("{off:?}");
    };
    eprintln!("grade of an answer off the subject: {grade:?}");
    assert_ne!(grade.verdict, Some(Verdict::Right), "{grade:?}");
}
