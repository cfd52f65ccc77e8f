//! Learners' quiz attempts on both backends.

use lyceum_store::{Done, DoneHow, NewAttempt, NewUser, Store};

use crate::helpers::{create_course, next_change, on_each_backend, quiz, written_with_quiz};

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
        let first = written_with_quiz(&store, course.id, 0, "Text.", &quiz()).await;
        let second = written_with_quiz(&store, course.id, 1, "Text.", &quiz()).await;
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
        // The best of each quiz, in syllabus order; a later equal score is the one kept.
        store
            .record_attempt(&attempt(ada, first, &[1, 1, 0], 3, 9_000))
            .await
            .unwrap();
        let best = store.best_attempts(ada, course.id).await.unwrap();
        assert_eq!(scores(best.clone()), [(first, 3), (second, 0)]);
        assert_eq!(best[0].created_at, 9_000);
        assert_eq!(
            scores(store.best_attempts(bob, course.id).await.unwrap()),
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

#[tokio::test]
async fn a_learner_starts_courses_and_finishes_units_their_own_way_once() {
    on_each_backend(|store| async move {
        let tides = create_course(&store, "Tides", 1, 2).await;
        let bridges = create_course(&store, "Bridges", 1, 1).await;
        let units = store.units(tides.id).await.unwrap();
        let bridge = store.units(bridges.id).await.unwrap()[0].id;
        let ada = learner(&store, "ada@example.org").await;
        let bob = learner(&store, "bob@example.org").await;
        assert_eq!(store.enrolment(ada, tides.id).await.unwrap(), None);

        store.enrol(ada, tides.id, 1_000).await.unwrap();
        store.enrol(ada, tides.id, 2_000).await.unwrap();
        let started = store.enrolment(ada, tides.id).await.unwrap().unwrap();
        assert_eq!((started.started_at, started.last_active_at), (1_000, 2_000));

        // Marking a unit of a course not started starts it; a unit done stays done the first way.
        store
            .mark_done(ada, bridge, DoneHow::Quiz, 3_000)
            .await
            .unwrap();
        store
            .mark_done(ada, bridge, DoneHow::Marked, 4_000)
            .await
            .unwrap();
        let done = store.units_done(ada, Some(bridges.id)).await.unwrap();
        assert_eq!(
            done,
            [Done {
                unit_id: bridge,
                how: DoneHow::Quiz,
                done_at: 3_000
            }]
        );
        let courses: Vec<i64> = store
            .enrolments(ada)
            .await
            .unwrap()
            .iter()
            .map(|enrolment| enrolment.course_id)
            .collect();
        assert_eq!(
            courses,
            [bridges.id, tides.id],
            "the most recently active first"
        );
        store.touch_enrolment(ada, tides.id, 5_000).await.unwrap();
        store.touch_enrolment(bob, tides.id, 5_000).await.unwrap();
        assert_eq!(store.enrolments(ada).await.unwrap()[0].course_id, tides.id);
        assert!(
            store.enrolments(bob).await.unwrap().is_empty(),
            "touching starts nothing"
        );

        store
            .mark_done(ada, units[1].id, DoneHow::Marked, 6_000)
            .await
            .unwrap();
        store
            .mark_done(bob, units[0].id, DoneHow::Marked, 6_000)
            .await
            .unwrap();
        let mine: Vec<i64> = store
            .units_done(ada, Some(tides.id))
            .await
            .unwrap()
            .iter()
            .map(|done| done.unit_id)
            .collect();
        assert_eq!(mine, [units[1].id]);
        assert_eq!(store.units_done(ada, None).await.unwrap().len(), 2);
        assert!(store.mark_not_done(ada, units[1].id).await.unwrap());
        assert!(!store.mark_not_done(ada, units[1].id).await.unwrap());
        assert_eq!(
            store.units_done(bob, None).await.unwrap().len(),
            1,
            "Bob's stays"
        );
        let missing = store.mark_done(ada, 999_999, DoneHow::Marked, 7_000).await;
        assert!(
            matches!(missing, Err(lyceum_store::StoreError::NotFound(_))),
            "{missing:?}"
        );

        // Gone with the course, and with the account.
        assert!(store.delete_course(bridges.id).await.unwrap());
        assert_eq!(store.units_done(ada, None).await.unwrap().len(), 0);
        assert_eq!(store.enrolments(ada).await.unwrap().len(), 1);
        assert!(store.delete_user(bob, true).await.unwrap());
        assert!(store.units_done(bob, None).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_learner_s_courses_say_how_far_they_are_and_what_comes_next() {
    on_each_backend(|store| async move {
        let tides = create_course(&store, "Tides", 2, 2).await;
        let bridges = create_course(&store, "Bridges", 1, 1).await;
        let hidden = create_course(&store, "Hidden", 1, 1).await;
        let units = store.units(tides.id).await.unwrap();
        let ada = learner(&store, "ada@example.org").await;
        store.enrol(ada, tides.id, 1_000).await.unwrap();
        store.enrol(ada, hidden.id, 1_500).await.unwrap();
        store.set_hidden(&hidden.slug, true).await.unwrap();
        let bridge = store.units(bridges.id).await.unwrap()[0].id;
        store
            .mark_done(ada, bridge, DoneHow::Marked, 2_000)
            .await
            .unwrap();
        for unit in &units[..2] {
            store
                .mark_done(ada, unit.id, DoneHow::Marked, 3_000)
                .await
                .unwrap();
        }

        let courses = store.learner_courses(ada).await.unwrap();
        let seen: Vec<(&str, i64, i64)> = courses
            .iter()
            .map(|c| (c.course.title.as_str(), c.units, c.done))
            .collect();
        assert_eq!(
            seen,
            [(tides.title.as_str(), 4, 2), (bridges.title.as_str(), 1, 1)]
        );
        assert_eq!(
            courses[0].next,
            Some((2, 1, units[2].title.clone())),
            "week 2's first unit"
        );
        assert_eq!(courses[1].next, None, "every unit done");
        assert_eq!(courses[0].enrolment.last_active_at, 3_000);
        let bob = learner(&store, "bob@example.org").await;
        assert!(store.learner_courses(bob).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn every_change_to_what_a_signed_in_page_shows_of_an_account_is_announced() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 1).await;
        let unit = written_with_quiz(&store, course.id, 0, "Text.", &quiz()).await;
        let ada = learner(&store, "ada@example.org").await;
        let session = store
            .create_session(&lyceum_store::NewSession {
                secret_hash: "hash",
                user_id: ada,
                csrf_token: "csrf",
                user_agent: "test",
                now: 1_000,
                expires_at: 1_000_000,
            })
            .await
            .unwrap();
        let mut changes = store.changes().await.unwrap();
        let mut announced = Vec::new();
        for step in 0..9 {
            match step {
                0 => store.enrol(ada, course.id, 2_000).await.unwrap(),
                1 => store.touch_enrolment(ada, course.id, 3_000).await.unwrap(),
                2 => drop(
                    store
                        .record_attempt(&attempt(ada, unit, &[0, 0, 0], 1, 4_000))
                        .await
                        .unwrap(),
                ),
                3 => store
                    .mark_done(ada, unit, DoneHow::Marked, 5_000)
                    .await
                    .unwrap(),
                4 => assert!(store.mark_not_done(ada, unit).await.unwrap()),
                5 => store.set_display_name(ada, "Ada L.").await.unwrap(),
                6 => assert_eq!(store.end_sessions(ada, Some(session.id)).await.unwrap(), 0),
                7 => assert!(store.end_session(ada, session.id).await.unwrap()),
                _ => store.disable_user(ada, 6_000).await.unwrap(),
            }
            announced.push((step, next_change(&mut changes).await));
        }
        for (step, change) in announced {
            assert_eq!(change, lyceum_store::Change::Account(ada), "step {step}");
        }
    })
    .await;
}
