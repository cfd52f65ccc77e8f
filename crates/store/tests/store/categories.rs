//! Subjects on both backends: a course keeps the subject its outline had and its maker may change
//! it, a subject's catalog and the count of each hold only listed courses, and a search can keep to
//! one subject.

use lyceum_course::Category;
use lyceum_store::search::SearchQuery;
use lyceum_store::{CourseSummary, Store, Visibility};

use crate::helpers::on_each_backend;
use crate::search::{outline, written};

fn subject(slug: &str) -> Category {
    Category::from_slug(slug).unwrap()
}

/// Photosynthesis (biology), neural networks (computer science) and tides (no subject); their ids.
async fn courses(store: &Store) -> [i64; 3] {
    let mut plants = outline(
        "Photosynthesis",
        "How plants make food.",
        "Light and leaves",
        &["Chlorophyll"],
    );
    plants.category = Some(subject("biology"));
    let mut nets = outline(
        "Neural Networks",
        "How machines learn.",
        "Layers",
        &["Weights"],
    );
    nets.category = Some(subject("computer-science"));
    [
        written(
            store,
            &plants,
            &["Chlorophyll turns the energy of light into sugar."],
        )
        .await,
        written(store, &nets, &["Training spends energy adjusting weights."]).await,
        written(
            store,
            &outline("Tides", "Why the sea rises.", "The moon", &["Pull"]),
            &["The moon pulls the sea."],
        )
        .await,
    ]
}

async fn listed(store: &Store, category: Category) -> Vec<String> {
    let list: Vec<CourseSummary> = store.courses_in_category(category, 10, 0).await.unwrap();
    list.into_iter()
        .map(|summary| summary.course.title)
        .collect()
}

#[tokio::test]
async fn a_course_keeps_its_subject_and_each_subject_lists_its_public_courses() {
    on_each_backend(|store| async move {
        let [plants, nets, tides] = courses(&store).await;
        let (biology, computing) = (subject("biology"), subject("computer-science"));
        let course = store.course_by_id(plants).await.unwrap();
        assert_eq!(course.category, Some(biology));
        assert_eq!(
            store.outline(&course).await.unwrap().category,
            Some(biology),
            "the outline read back has it too"
        );
        assert_eq!(store.course_by_id(tides).await.unwrap().category, None);
        assert_eq!(
            store.category_counts().await.unwrap(),
            [(computing, 1), (biology, 1)],
            "in CIP order, subjects without courses left out"
        );
        assert_eq!(listed(&store, biology).await, ["Photosynthesis"]);
        assert_eq!(listed(&store, computing).await, ["Neural Networks"]);

        assert!(store.set_category(tides, Some(biology)).await.unwrap());
        assert_eq!(listed(&store, biology).await, ["Tides", "Photosynthesis"]);
        assert_eq!(
            store.category_counts().await.unwrap(),
            [(computing, 1), (biology, 2)]
        );

        store
            .set_visibility(tides, Visibility::Private)
            .await
            .unwrap();
        let hidden = store.course_by_id(nets).await.unwrap();
        store.set_hidden(&hidden.slug, true).await.unwrap();
        assert_eq!(listed(&store, biology).await, ["Photosynthesis"]);
        assert!(listed(&store, computing).await.is_empty());
        assert_eq!(store.category_counts().await.unwrap(), [(biology, 1)]);

        assert!(store.set_category(plants, None).await.unwrap());
        assert!(listed(&store, biology).await.is_empty());
        assert_eq!(store.course_by_id(plants).await.unwrap().category, None);
        assert!(!store.set_category(i64::MAX, Some(biology)).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_search_can_keep_to_one_subject() {
    on_each_backend(|store| async move {
        let [plants, nets, _] = courses(&store).await;
        let search = |category: Option<Category>| {
            let store = store.clone();
            async move {
                let found = store
                    .search(&SearchQuery {
                        text: "energy",
                        viewer: None,
                        limit: 10,
                        category,
                    })
                    .await
                    .unwrap();
                found
                    .units
                    .into_iter()
                    .map(|unit| unit.course_title)
                    .collect::<Vec<_>>()
            }
        };
        let mut everywhere = search(None).await;
        everywhere.sort();
        assert_eq!(everywhere, ["Neural Networks", "Photosynthesis"]);
        assert_eq!(search(Some(subject("biology"))).await, ["Photosynthesis"]);
        assert!(search(Some(subject("history"))).await.is_empty());

        let mut units = Vec::new();
        for course in [plants, nets] {
            units.push(store.units(course).await.unwrap()[0].id);
        }
        let close = store
            .search_hits(
                &units,
                &[plants, nets],
                None,
                Some(subject("computer-science")),
            )
            .await
            .unwrap();
        assert_eq!(close.courses.len(), 1);
        assert_eq!(close.courses[0].title, "Neural Networks");
        assert_eq!(close.units.len(), 1);
        assert_eq!(close.units[0].course_title, "Neural Networks");
    })
    .await;
}
