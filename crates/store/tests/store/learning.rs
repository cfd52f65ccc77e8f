//! Learners' quiz attempts on both backends.

use lyceum_course::Quiz;
use lyceum_store::{ItemKind, NewAttempt, NewUser, Output, Store};

use crate::helpers::{create_course, on_each_backend, quiz, stats};

async fn learner(store: &Store, email: &str) -> i64 {
    let new = NewUser {
        email,
        display_name: "Ada",
        password_hash: None,
        is_admin: false,
        passkey: None,
    };
    store.create_user(&new, 1_000).await.unwrap().id
}

/// Writes unit `position` of the course and its quiz; the unit's id.
async fn written_with_quiz(store: &Store, course_id: i64, position: usize, quiz: &Quiz) -> i64 {
    let unit = store.units(course_id).await.unwrap()[position].clone();
    let writing = store
        .generation_of(ItemKind::Unit, unit.id)
        .await
        .unwrap()
        .unwrap();
    store
        .finish_generation(writing.id, Output::Unit("Text."), &stats(), None)
        .await
        .unwrap();
    let quizzing = store
        .generation_of(ItemKind::Quiz, unit.id)
        .await
        .unwrap()
        .unwrap();
    store
        .finish_generation(quizzing.id, Output::Quiz(quiz), &stats(), None)
        .await
        .unwrap();
    unit.id
}

fn attempt(user_id: i64, unit_id: i64, answers: &[usize], score: i64, now: i64) -> NewAttempt<'_> {
    NewAttempt {
        user_id,
        unit_id,
        quiz_version: "v1",
        answers,
        score,
        total: 3,
        now,
    }
}

#[tokio::test]
async fn a_learner_s_attempts_are_theirs_newest_first_and_go_with_the_account_or_the_course() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        let first = store.units(course.id).await.unwrap()[0].id;
        assert_eq!(store.quiz(first).await.unwrap(), None, "not written yet");
        let first = written_with_quiz(&store, course.id, 0, &quiz()).await;
        let second = written_with_quiz(&store, course.id, 1, &quiz()).await;
        assert_eq!(store.quiz(first).await.unwrap(), Some(quiz()));

        let ada = learner(&store, "ada@example.org").await;
        let bob = learner(&store, "bob@example.org").await;
        let kept = store
            .record_attempt(&attempt(ada, first, &[0, 1, 1], 2, 5_000))
            .await
            .unwrap();
        assert_eq!(kept.answers, [0, 1, 1]);
        assert_eq!(
            (kept.score, kept.total, kept.quiz_version.as_str()),
            (2, 3, "v1")
        );
        store
            .record_attempt(&attempt(ada, first, &[1, 1, 1], 3, 6_000))
            .await
            .unwrap();
        store
            .record_attempt(&attempt(ada, second, &[0, 0, 0], 0, 7_000))
            .await
            .unwrap();
        store
            .record_attempt(&attempt(bob, first, &[2, 2, 2], 0, 8_000))
            .await
            .unwrap();

        let scores = |attempts: Vec<lyceum_store::Attempt>| -> Vec<(i64, i64)> {
            attempts.iter().map(|a| (a.unit_id, a.score)).collect()
        };
        assert_eq!(
            scores(store.attempts(ada, Some(first)).await.unwrap()),
            [(first, 3), (first, 2)]
        );
        assert_eq!(
            scores(store.attempts(ada, None).await.unwrap()),
            [(second, 0), (first, 3), (first, 2)]
        );
        assert_eq!(
            scores(store.attempts(bob, None).await.unwrap()),
            [(first, 0)]
        );

        // Gone with the account; and with the course, for everyone else.
        assert!(store.delete_user(ada, true).await.unwrap());
        assert!(store.attempts(ada, None).await.unwrap().is_empty());
        assert!(store.delete_course(course.id).await.unwrap());
        assert!(store.attempts(bob, None).await.unwrap().is_empty());
    })
    .await;
}
