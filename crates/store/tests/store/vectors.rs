//! Vectors for search by meaning on both backends: the database queues an item's `embed` job
//! whenever what its vector is made from changes, and forgets the stale vector; a vector made from a
//! text edited meanwhile is refused; vectors read back since a point; items found by meaning come
//! back in the order asked, without courses others may not see.

use std::collections::HashSet;
use std::time::Duration;

use lyceum_store::jobs::Task;
use lyceum_store::vectors::VectorItem;
use lyceum_store::{Store, Visibility};

use crate::helpers::{
    create_course, made_by, on_each_backend, outline, person, quiz, written_with_quiz,
};

/// The items whose `embed` jobs are queued; the queue is left as it was.
async fn queued(store: &Store) -> HashSet<VectorItem> {
    let mut claimed = Vec::new();
    let mut items = HashSet::new();
    while let Some(job) = store
        .claim("test", Duration::from_secs(60), i64::MAX / 2)
        .await
        .unwrap()
    {
        if let Task::Embed(item) = job.task {
            items.insert(item);
        }
        claimed.push(job.id);
    }
    for id in claimed {
        store.release_job(id, "test").await.unwrap();
    }
    items
}

/// Completes every queued `embed` job, as a worker would after making the vectors.
async fn done(store: &Store) {
    while let Some(job) = store
        .claim("test", Duration::from_secs(60), i64::MAX / 2)
        .await
        .unwrap()
    {
        if matches!(job.task, Task::Embed(_)) {
            store.complete_job(job.id).await.unwrap();
        } else {
            // Not ours to finish: put it back where the next claim will not reach it.
            store
                .requeue_job(job.id, "test", i64::MAX, None)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn writing_or_editing_an_item_queues_its_vector_and_a_stale_one_is_refused() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Tides", 1, 2).await;
        assert!(
            queued(&store)
                .await
                .contains(&VectorItem::Course(course.id)),
            "a new course is queued"
        );
        done(&store).await;

        let unit =
            written_with_quiz(&store, course.id, 0, "The moon pulls the sea.", &quiz()).await;
        assert_eq!(
            queued(&store).await,
            HashSet::from([VectorItem::Unit(unit)]),
            "a written unit is queued, its quiz is not"
        );
        let source = store
            .vector_source(VectorItem::Unit(unit))
            .await
            .unwrap()
            .unwrap();
        assert!(
            source.text.ends_with("The moon pulls the sea."),
            "{source:?}"
        );
        assert_eq!(source.language, "en");
        let unwritten = store.units(course.id).await.unwrap()[1].id;
        assert_eq!(
            store
                .vector_source(VectorItem::Unit(unwritten))
                .await
                .unwrap(),
            None
        );

        let vector = [0.6_f32, 0.8];
        assert!(
            store
                .put_vector(VectorItem::Unit(unit), "enc", &vector, &source.text)
                .await
                .unwrap()
        );
        let stored = store.unit_vectors_since(0, "enc").await.unwrap();
        assert_eq!(stored.vectors, [(unit, vector.to_vec())]);
        assert!(
            store
                .unit_vectors_since(stored.seq, "enc")
                .await
                .unwrap()
                .vectors
                .is_empty()
        );
        assert!(
            store
                .unit_vectors_since(0, "another")
                .await
                .unwrap()
                .vectors
                .is_empty()
        );
        done(&store).await;

        // An edit forgets the vector and queues the unit again; the old text's vector is refused.
        let editor = person(&store, "ed@example.com", "Ed").await;
        store
            .edit_unit(unit, "Tides", "The sun pulls too.", editor, 1)
            .await
            .unwrap();
        assert!(
            store
                .unit_vectors_since(0, "enc")
                .await
                .unwrap()
                .vectors
                .is_empty()
        );
        assert!(queued(&store).await.contains(&VectorItem::Unit(unit)));
        assert!(
            !store
                .put_vector(VectorItem::Unit(unit), "enc", &vector, &source.text)
                .await
                .unwrap()
        );
        assert!(
            store
                .unit_vectors_since(0, "enc")
                .await
                .unwrap()
                .vectors
                .is_empty()
        );

        let course_source = store
            .vector_source(VectorItem::Course(course.id))
            .await
            .unwrap()
            .unwrap();
        assert!(
            course_source.text.starts_with("Tides. "),
            "{course_source:?}"
        );
        assert!(course_source.text.contains("Weeks: "), "{course_source:?}");
        assert!(
            store
                .put_vector(
                    VectorItem::Course(course.id),
                    "enc",
                    &vector,
                    &course_source.text
                )
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .course_vectors_since(0, "enc")
                .await
                .unwrap()
                .vectors
                .len(),
            1
        );

        // A rebuild forgets every vector and queues every item with text.
        done(&store).await;
        let queued_now = store.queue_reindex().await.unwrap();
        assert_eq!(queued_now, 2, "one unit with text and one course");
        assert!(
            store
                .course_vectors_since(0, "enc")
                .await
                .unwrap()
                .vectors
                .is_empty()
        );
        assert_eq!(
            queued(&store).await,
            HashSet::from([VectorItem::Unit(unit), VectorItem::Course(course.id)])
        );
    })
    .await;
}

#[tokio::test]
async fn items_found_by_meaning_come_in_the_order_asked_and_only_where_allowed() {
    on_each_backend(|store| async move {
        let maker = person(&store, "maker@example.com", "Maker").await;
        let stranger = person(&store, "other@example.com", "Other").await;
        let public = create_course(&store, "Tides", 1, 2).await;
        let private = made_by(&store, maker, &outline("Secrets", 1, 1)).await;
        store
            .set_visibility(private.id, Visibility::Private)
            .await
            .unwrap();
        let text = format!("# Heading\n\n{}", "word ".repeat(100));
        let first = written_with_quiz(&store, public.id, 0, &text, &quiz()).await;
        let second = written_with_quiz(&store, public.id, 1, "Short <b>text</b>.", &quiz()).await;
        let secret = written_with_quiz(&store, private.id, 0, "Hidden.", &quiz()).await;

        let ids = [second, secret, first];
        let found = store
            .search_hits(&ids, &[private.id, public.id], Some(stranger), None)
            .await
            .unwrap();
        let units: Vec<i64> = found.units.iter().map(|hit| hit.id).collect();
        assert_eq!(units, [second, first], "in order, the private one left out");
        assert_eq!(found.courses.len(), 1);
        assert_eq!(found.courses[0].id, public.id);
        assert_eq!(
            found.units[0].snippet.html(),
            "Short &lt;b&gt;text&lt;/b&gt;."
        );
        let opening = found.units[1].snippet.text();
        assert!(
            !opening.contains("Heading") && opening.ends_with('…'),
            "{opening}"
        );
        assert_eq!(opening.split_whitespace().count(), 30, "{opening}");

        let mine = store
            .search_hits(&ids, &[], Some(maker), None)
            .await
            .unwrap();
        assert_eq!(
            mine.units.len(),
            3,
            "a maker finds their own private course"
        );
        assert_eq!(
            store.search_hits(&[], &[], None, None).await.unwrap(),
            Default::default()
        );
    })
    .await;
}
