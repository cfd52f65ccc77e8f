//! Courses, generation records and the transactions that save generated items.

use lyceum_store::vectors::VectorItem;
use lyceum_store::{ItemKind, Output, Status, Store, Task};

use crate::helpers::{create_course, next_change, on_each_backend, outline, quiz, stats};

const LEASE: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test]
async fn migrations_build_the_schema_from_empty_and_run_again_as_a_no_op() {
    on_each_backend(|store| async move {
        store.migrate().await.unwrap();
        assert!(store.list_courses(10, 0).await.unwrap().is_empty());
        assert_eq!(store.job_count().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_confirmed_course_has_a_queued_job_for_every_item_in_syllabus_order() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Roman History", 2, 3).await;
        assert_eq!(course.slug, "roman-history");
        assert_eq!(
            store.outline(&course).await.unwrap(),
            outline("Roman History", 2, 3)
        );

        let generations = store.generations(course.id).await.unwrap();
        assert_eq!(generations.len(), 1 + 2 + 6);
        assert_eq!(generations[0].kind, ItemKind::Outline);
        assert_eq!(generations[0].status, Status::Ready);
        assert_eq!(generations[0].tokens_out, Some(50));

        let units = store.units(course.id).await.unwrap();
        let modules = store.modules(course.id).await.unwrap();
        let mut order = Vec::new();
        while let Some(job) = store
            .claim("w", LEASE, lyceum_store::now_ms())
            .await
            .unwrap()
        {
            let generation = match job.task {
                Task::Generate(generation) => generation,
                // The course's vector for search by meaning, queued by the database.
                Task::Embed(VectorItem::Course(id)) if id == course.id => continue,
                _ => panic!("{job:?}"),
            };
            let generation = store.generation(generation).await.unwrap();
            let name = match generation.kind {
                ItemKind::Overview => {
                    let module = modules.iter().find(|m| m.id == generation.item_id).unwrap();
                    format!("week {}", module.number)
                }
                ItemKind::Unit => {
                    let unit = units.iter().find(|u| u.id == generation.item_id).unwrap();
                    format!("{}.{}", unit.week, unit.number)
                }
                other => panic!("unexpected {other:?}"),
            };
            order.push(name);
        }
        assert_eq!(
            order,
            ["week 1", "1.1", "1.2", "1.3", "week 2", "2.1", "2.2", "2.3"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_second_course_with_the_same_title_gets_its_own_slug() {
    on_each_backend(|store| async move {
        let first = create_course(&store, "Cooking basics", 1, 1).await;
        let second = create_course(&store, "Cooking basics", 1, 1).await;
        assert_eq!(first.slug, "cooking-basics");
        assert_eq!(second.slug, "cooking-basics-2");
        let listed = store.list_courses(10, 0).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].items, 3);
        assert_eq!(listed[0].ready, 1);
        assert!(matches!(
            store.course("no-such-course").await,
            Err(lyceum_store::StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn many_courses_with_one_title_never_run_out_of_slugs() {
    on_each_backend(|store| async move {
        // A title with nothing to transliterate gives "course", as every such title does.
        let mut slugs = std::collections::HashSet::new();
        for _ in 0..25 {
            let course = create_course(&store, "¿¡…!?", 1, 1).await;
            assert!(course.slug.starts_with("course"), "{}", course.slug);
            assert!(slugs.insert(course.slug));
        }
        assert!(slugs.contains("course-20"));
        assert!(slugs.iter().any(|slug| slug.len() == "course-".len() + 8));
    })
    .await;
}

#[tokio::test]
async fn the_sitemap_lists_courses_weeks_and_written_units_a_page_at_a_time() {
    on_each_backend(|store| async move {
        let first = create_course(&store, "Astronomy", 2, 2).await;
        let second = create_course(&store, "Botany", 1, 1).await;
        let unit = &store.units(first.id).await.unwrap()[1];
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        store
            .finish_generation(generation.id, Output::Unit("Text."), &stats(), None)
            .await
            .unwrap();
        assert_eq!(store.course_count().await.unwrap(), 2);
        let page: Vec<(String, Option<i64>, Option<i64>)> = store
            .sitemap(1, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|entry| (entry.slug, entry.week, entry.unit))
            .collect();
        let slug = first.slug.clone();
        assert_eq!(
            page,
            [
                (slug.clone(), None, None),
                (slug.clone(), Some(1), None),
                (slug.clone(), Some(1), Some(2)),
                (slug, Some(2), None),
            ],
            "only the written unit"
        );
        let next = store.sitemap(1, 1).await.unwrap();
        assert_eq!(next.len(), 2);
        assert!(next.iter().all(|entry| entry.slug == second.slug));
        assert!(store.sitemap(1, 2).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn featured_courses_come_first_in_the_catalog_and_can_be_unfeatured() {
    on_each_backend(|store| async move {
        let a = create_course(&store, "Astronomy", 1, 1).await;
        let b = create_course(&store, "Botany", 1, 1).await;
        let c = create_course(&store, "Chemistry", 1, 1).await;
        let slugs = |list: Vec<lyceum_store::CourseSummary>| -> Vec<String> {
            list.into_iter()
                .map(|summary| summary.course.slug)
                .collect()
        };
        assert_eq!(
            slugs(store.list_courses(10, 0).await.unwrap()),
            [c.slug.as_str(), b.slug.as_str(), a.slug.as_str()]
        );
        assert!(store.featured_courses(10).await.unwrap().is_empty());

        let featured = store.set_featured(&a.slug, true).await.unwrap();
        assert!(featured.featured_at.is_some());
        store.set_featured(&c.slug, true).await.unwrap();
        assert_eq!(
            slugs(store.list_courses(10, 0).await.unwrap()),
            [c.slug.as_str(), a.slug.as_str(), b.slug.as_str()]
        );
        assert_eq!(
            slugs(store.list_courses(1, 2).await.unwrap()),
            [b.slug.as_str()]
        );
        assert_eq!(
            slugs(store.featured_courses(10).await.unwrap()),
            [c.slug.as_str(), a.slug.as_str()]
        );
        assert_eq!(
            slugs(store.newest_courses(10).await.unwrap()),
            [c.slug.as_str(), b.slug.as_str(), a.slug.as_str()]
        );

        let plain = store.set_featured(&c.slug, false).await.unwrap();
        assert_eq!(plain.featured_at, None);
        assert_eq!(
            slugs(store.list_courses(10, 0).await.unwrap()),
            [a.slug.as_str(), c.slug.as_str(), b.slug.as_str()]
        );
        assert!(matches!(
            store.set_featured("no-such-course", true).await,
            Err(lyceum_store::StoreError::NotFound(_))
        ));
    })
    .await;
}

async fn unit_generation(
    store: &Store,
    course_id: i64,
    position: usize,
) -> lyceum_store::Generation {
    let unit = &store.units(course_id).await.unwrap()[position];
    store
        .generation_of(ItemKind::Unit, unit.id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_saved_unit_queues_its_quiz_and_is_never_saved_twice() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Saving", 1, 2).await;
        let generation = unit_generation(&store, course.id, 0).await;
        let before = store.start_generation(generation.id).await.unwrap();
        assert_eq!(before.status, Status::Pending);
        assert_eq!(
            store.generation(generation.id).await.unwrap().status,
            Status::Generating
        );
        let jobs_before = store.job_count().await.unwrap();

        let saved = store
            .finish_generation(generation.id, Output::Unit("First text."), &stats(), None)
            .await
            .unwrap();
        assert!(saved);
        let saved_again = store
            .finish_generation(generation.id, Output::Unit("Second text."), &stats(), None)
            .await
            .unwrap();
        assert!(!saved_again);
        let unit = &store.units(course.id).await.unwrap()[0];
        assert_eq!(unit.body.as_deref(), Some("First text."));
        assert_eq!(unit.status, Status::Ready);
        let record = store.generation(generation.id).await.unwrap();
        assert_eq!((record.attempts, record.duration_ms), (1, Some(1234)));

        // Its quiz now has a pending record and exactly one job; its vector for search by meaning
        // is queued too.
        let quiz_generation = store
            .generation_of(ItemKind::Quiz, unit.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(quiz_generation.status, Status::Pending);
        assert_eq!(store.job_count().await.unwrap(), jobs_before + 2);
        // It is taken ahead of the course's items queued before it, while the unit is fresh.
        let next = store
            .claim("w", LEASE, lyceum_store::now_ms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.task, Task::Generate(quiz_generation.id));
        assert!(
            store
                .finish_generation(quiz_generation.id, Output::Quiz(&quiz()), &stats(), None)
                .await
                .unwrap()
        );
        assert_eq!(
            store.quizzes(course.id).await.unwrap(),
            vec![(unit.id, quiz())]
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_item_keeps_its_error_and_a_retry_queues_it_again() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Failing", 1, 2).await;
        let generation = unit_generation(&store, course.id, 1).await;
        let job = loop {
            let job = store
                .claim("w", LEASE, lyceum_store::now_ms())
                .await
                .unwrap()
                .unwrap();
            if job.task == Task::Generate(generation.id) {
                break job;
            }
            store.complete_job(job.id).await.unwrap();
        };
        store.start_generation(generation.id).await.unwrap();
        store
            .fail_generation(
                generation.id,
                "the model server answered 400: too long",
                Some(job.id),
            )
            .await
            .unwrap();
        let failed = store.generation(generation.id).await.unwrap();
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.error.as_deref(),
            Some("the model server answered 400: too long")
        );
        assert_eq!(
            store.job_count().await.unwrap(),
            1,
            "only the course's vector's, queued behind the rest"
        );
        assert_eq!(store.list_courses(1, 0).await.unwrap()[0].failed, 1);

        assert_eq!(store.retry_failed(course.id).await.unwrap(), 1);
        assert_eq!(
            store.generation(generation.id).await.unwrap().status,
            Status::Pending
        );
        let job = store
            .claim("w", LEASE, lyceum_store::now_ms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.task, Task::Generate(generation.id));
    })
    .await;
}

#[tokio::test]
async fn waiting_for_a_failed_unit_does_not_queue_it_again() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Failing", 1, 1).await;
        let unit = store.units(course.id).await.unwrap().pop().unwrap();
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await
            .unwrap()
            .unwrap();
        let jobs = store.job_count().await.unwrap();
        store
            .fail_generation(generation.id, "broken", None)
            .await
            .unwrap();
        let now = store
            .hurry_generation(ItemKind::Unit, unit.id)
            .await
            .unwrap();
        assert_eq!(now.status, Status::Failed);
        assert_eq!(store.job_count().await.unwrap(), jobs);
    })
    .await;
}

#[tokio::test]
async fn a_unit_someone_waits_for_jumps_the_queue() {
    on_each_backend(|store| async move {
        let course = create_course(&store, "Hurry", 2, 2).await;
        let last = store.units(course.id).await.unwrap().pop().unwrap();
        let generation = store
            .hurry_generation(ItemKind::Unit, last.id)
            .await
            .unwrap();
        let job = store
            .claim("w", LEASE, lyceum_store::now_ms())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.task, Task::Generate(generation.id));
    })
    .await;
}

#[tokio::test]
async fn a_deleted_course_takes_its_parts_and_queued_jobs_and_leaves_others_alone() {
    on_each_backend(|store| async move {
        let kept = create_course(&store, "Kept", 1, 2).await;
        let gone = create_course(&store, "Gone", 2, 2).await;
        // Each course's items, and its vector for search by meaning.
        assert_eq!(store.job_count().await.unwrap(), 3 + 1 + 6 + 1);
        assert!(store.delete_course(gone.id).await.unwrap());
        assert!(!store.delete_course(gone.id).await.unwrap(), "once");
        assert_eq!(
            store.job_count().await.unwrap(),
            3 + 1,
            "only the kept course's jobs"
        );
        assert!(store.generations(gone.id).await.unwrap().is_empty());
        assert_eq!(store.course_count().await.unwrap(), 1);
        assert_eq!(store.units(kept.id).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn only_public_courses_are_listed_and_a_change_of_visibility_is_announced() {
    on_each_backend(|store| async move {
        let shown = create_course(&store, "Astronomy", 1, 1).await;
        let unlisted = create_course(&store, "Botany", 1, 1).await;
        let private = create_course(&store, "Chemistry", 1, 1).await;
        assert_eq!(shown.visibility, lyceum_store::Visibility::Public);
        let mut changes = store.changes().await.unwrap();
        assert!(
            store
                .set_visibility(unlisted.id, lyceum_store::Visibility::Unlisted)
                .await
                .unwrap()
        );
        assert_eq!(
            next_change(&mut changes).await,
            lyceum_store::Change::Course(unlisted.id)
        );
        store
            .set_visibility(private.id, lyceum_store::Visibility::Private)
            .await
            .unwrap();
        store.set_featured(&private.slug, true).await.unwrap();
        assert!(
            !store
                .set_visibility(999_999, lyceum_store::Visibility::Private)
                .await
                .unwrap()
        );

        let slugs = |list: Vec<lyceum_store::CourseSummary>| -> Vec<String> {
            list.into_iter()
                .map(|summary| summary.course.slug)
                .collect()
        };
        let only_shown = [shown.slug.clone()];
        assert_eq!(slugs(store.list_courses(10, 0).await.unwrap()), only_shown);
        assert_eq!(slugs(store.newest_courses(10).await.unwrap()), only_shown);
        assert!(store.featured_courses(10).await.unwrap().is_empty());
        assert_eq!(store.course_count().await.unwrap(), 1);
        let sitemap: Vec<String> = store
            .sitemap(100, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|entry| entry.slug)
            .collect();
        assert!(
            sitemap.iter().all(|slug| *slug == shown.slug),
            "{sitemap:?}"
        );
        // Read by address, with who may see it.
        let found = store.course(&private.slug).await.unwrap();
        assert_eq!(found.visibility, lyceum_store::Visibility::Private);
        assert!(!found.shown_to_all() && !found.shown_to(None));
        assert_eq!(store.all_courses(10, 0).await.unwrap().len(), 3);
    })
    .await;
}
