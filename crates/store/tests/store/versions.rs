//! A unit's texts over time on both backends: edits and restores keep every earlier text, the unit
//! keeps its id, and learners keep their progress and attempts.

use lyceum_store::{Author, DoneHow, ItemKind, NewAttempt, Output};

use crate::helpers::{
    create_course, next_change, on_each_backend, person, stats, written_with_quiz,
};

#[tokio::test]
async fn edits_and_restores_keep_every_text_and_every_learner_s_progress() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        let units = store.units(course.id).await.unwrap();
        let (first, second) = (units[0].clone(), units[1].clone());
        let ada = person(&store, "ada@example.org", "Ada").await;
        let bob = person(&store, "bob@example.org", "Bob").await;
        assert!(
            !store
                .edit_unit(first.id, "T", "Text.", ada, 2_000)
                .await
                .unwrap(),
            "a unit not written yet has no text to replace"
        );
        let writing = store
            .generation_of(ItemKind::Unit, first.id)
            .await
            .unwrap()
            .unwrap();
        store
            .finish_generation(
                writing.id,
                Output::Unit("The model's text."),
                &stats(),
                None,
            )
            .await
            .unwrap();
        store
            .mark_done(bob, first.id, DoneHow::Marked, 3_000)
            .await
            .unwrap();
        store
            .record_attempt(&NewAttempt {
                user_id: bob,
                unit_id: first.id,
                quiz_version: "v1",
                answers: &[0],
                score: 1,
                total: 1,
                now: 3_500,
            })
            .await
            .unwrap();
        let mut changes = store.changes().await.unwrap();

        assert!(
            store
                .edit_unit(first.id, "Tides, plainly", "Ada's text.", ada, 4_000)
                .await
                .unwrap()
        );
        assert_eq!(
            next_change(&mut changes).await,
            lyceum_store::Change::Course(course.id),
            "every node renders the course's pages again"
        );
        let now = store.units(course.id).await.unwrap();
        assert_eq!(now[0].id, first.id, "the unit keeps its id");
        assert_eq!(now[0].title, "Tides, plainly");
        assert_eq!(now[0].body.as_deref(), Some("Ada's text."));
        assert_eq!(now[0].author, Author::Person(Some((ada, "Ada".into()))));
        assert_eq!(now[1], second, "the other unit is untouched");
        let authorship = store.authorship(first.id).await.unwrap();
        assert_eq!(authorship.written_at, Some(4_000));

        let versions = store.unit_versions(first.id).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(
            (versions[0].title.as_str(), versions[0].body.as_str()),
            (first.title.as_str(), "The model's text.")
        );
        assert_eq!(versions[0].author, Author::Model);
        assert_eq!(
            (versions[0].written_at, versions[0].replaced_at),
            (None, 4_000)
        );

        // Restoring the model's text keeps Ada's as a version too.
        let model = versions[0].id;
        assert!(
            !store
                .restore_unit_version(second.id, model, 5_000)
                .await
                .unwrap(),
            "a version restores only its own unit"
        );
        assert!(
            store
                .restore_unit_version(first.id, model, 5_000)
                .await
                .unwrap()
        );
        let now = store.units(course.id).await.unwrap();
        assert_eq!(now[0].body.as_deref(), Some("The model's text."));
        assert_eq!(now[0].title, first.title);
        assert_eq!(now[0].author, Author::Model, "restored with who wrote it");
        let versions = store.unit_versions(first.id).await.unwrap();
        let texts: Vec<&str> = versions.iter().map(|v| v.body.as_str()).collect();
        assert_eq!(texts, ["Ada's text.", "The model's text."], "newest first");
        assert_eq!(versions[0].written_at, Some(4_000));

        // Bob's progress and attempt were never touched.
        assert_eq!(store.units_done(bob, None).await.unwrap().len(), 1);
        assert_eq!(store.attempts(bob, Some(first.id)).await.unwrap().len(), 1);

        // Ada's account goes: her texts stay, by a former learner.
        assert!(store.delete_user(ada, true).await.unwrap());
        let versions = store.unit_versions(first.id).await.unwrap();
        assert_eq!(versions[0].author, Author::Person(None));
        assert!(store.delete_course(course.id).await.unwrap());
        assert!(store.unit_versions(first.id).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_unit_written_again_keeps_its_text_until_stored_then_its_quiz_is_written_again() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 1).await;
        let unit = store.units(course.id).await.unwrap()[0].clone();
        let refused = store.request_rewrite(unit.id, None, 2_000).await;
        assert!(
            matches!(refused, Err(lyceum_store::StoreError::Conflict(_))),
            "not written yet: {refused:?}"
        );
        written_with_quiz(&store, course.id, 0, "First text.", &crate::helpers::quiz()).await;
        let items_before = store.list_courses(10, 0).await.unwrap()[0].items;

        let rewrite = store
            .request_rewrite(unit.id, Some("simpler"), 3_000)
            .await
            .unwrap();
        assert_eq!(rewrite.kind, ItemKind::Rewrite);
        assert_eq!(
            store
                .rewrite_instruction(rewrite.id)
                .await
                .unwrap()
                .as_deref(),
            Some("simpler")
        );
        let twice = store.request_rewrite(unit.id, None, 3_500).await;
        assert!(
            matches!(twice, Err(lyceum_store::StoreError::Conflict(_))),
            "{twice:?}"
        );
        let summary = store.list_courses(10, 0).await.unwrap().remove(0);
        assert_eq!(summary.items, items_before, "not one of the course's parts");
        let now = store.units(course.id).await.unwrap();
        assert_eq!(now[0].body.as_deref(), Some("First text."), "until stored");

        // A failed rewrite is not retried with the course's failed parts.
        store
            .fail_generation(rewrite.id, "the model was down", None)
            .await
            .unwrap();
        assert_eq!(store.retry_failed(course.id).await.unwrap(), 0);
        let rewrite = store.request_rewrite(unit.id, None, 4_000).await.unwrap();
        assert_eq!(store.rewrite_instruction(rewrite.id).await.unwrap(), None);
        assert!(
            store
                .finish_generation(rewrite.id, Output::Rewrite("Second text."), &stats(), None)
                .await
                .unwrap()
        );
        let now = store.units(course.id).await.unwrap();
        assert_eq!(
            (now[0].id, now[0].body.as_deref()),
            (unit.id, Some("Second text."))
        );
        assert_eq!(now[0].author, Author::Model);
        let versions = store.unit_versions(unit.id).await.unwrap();
        assert_eq!(versions[0].body, "First text.");
        // The quiz is written again (the web suite follows it through the worker); the stored one
        // stays until then.
        let quizzing = store
            .generation_of(ItemKind::Quiz, unit.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(quizzing.status, lyceum_store::Status::Pending);
        assert!(store.quiz(unit.id).await.unwrap().is_some());
    })
    .await;
}
