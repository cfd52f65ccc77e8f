//! Whose drafts and courses: a signed-in person's drafts count against their day and make courses
//! they own; deleting the account keeps or deletes those courses; admins hide and delete courses.

use lyceum_store::drafts::Drafted;
use lyceum_store::{Course, DraftRefused, Maker, NewDraft, Store};

use crate::helpers::{on_each_backend, outline, person, request, stats};

/// A draft of `user_id` (or of no one) drafted and confirmed by hand into a 1 × 2 course; its
/// drafting job is left queued.
async fn course_of(store: &Store, user_id: Option<i64>, title: &str) -> Course {
    let new = NewDraft {
        request: &request(1, 2),
        owner: "198.51.100.4",
        user_id,
        at_once: 0,
        per_day: None,
    };
    let id = store.create_draft(&new).await.unwrap().unwrap();
    let outline = outline(title, 1, 2);
    store
        .finish_draft(&id, Drafted::Ready(&outline, &stats()), None)
        .await
        .unwrap();
    store
        .confirm_draft(
            &id,
            lyceum_store::NewCourse {
                request: &request(1, 2),
                outline: &outline,
                outline_stats: &stats(),
            },
        )
        .await
        .unwrap()
}

fn titles(courses: &[lyceum_store::CourseSummary]) -> Vec<&str> {
    courses
        .iter()
        .map(|summary| summary.course.title.as_str())
        .collect()
}

#[tokio::test]
async fn a_signed_in_draft_counts_against_its_account_s_day_and_makes_a_course_it_owns() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org", "Ada").await;
        let grace = person(&store, "grace@example.org", "Grace").await;
        let one = request(1, 1);
        let drafting = |user_id, owner| NewDraft {
            request: &one,
            owner,
            user_id: Some(user_id),
            at_once: 0,
            per_day: Some(2),
        };
        for _ in 0..2 {
            let made = store.create_draft(&drafting(ada, "account:ada")).await;
            assert!(made.unwrap().is_ok());
        }
        let jobs = store.job_count().await.unwrap();
        assert_eq!(
            store
                .create_draft(&drafting(ada, "account:ada"))
                .await
                .unwrap(),
            Err(DraftRefused::Today),
            "a third draft in a day is one too many"
        );
        assert_eq!(
            store.job_count().await.unwrap(),
            jobs,
            "nothing queued for it"
        );
        assert!(
            store
                .create_draft(&drafting(grace, "account:grace"))
                .await
                .unwrap()
                .is_ok(),
            "another account has a day of its own"
        );
        assert_eq!(store.drafts_of(ada).await.unwrap().len(), 2);

        let course = course_of(&store, Some(ada), "Tides").await;
        assert_eq!(
            course.maker,
            Maker::Account {
                id: ada,
                name: "Ada".into()
            }
        );
        course_of(&store, None, "Anonymous tides").await;
        assert_eq!(
            titles(&store.courses_made_by(ada).await.unwrap()),
            ["Tides"]
        );
        assert!(store.courses_made_by(grace).await.unwrap().is_empty());
        store.set_display_name(ada, "Ada L.").await.unwrap();
        let renamed = store.course(&course.slug).await.unwrap();
        assert_eq!(renamed.maker.account(), Some(ada));
        assert!(matches!(renamed.maker, Maker::Account { name, .. } if name == "Ada L."));
        let anonymous = store.course("anonymous-tides").await.unwrap();
        assert_eq!(anonymous.maker, Maker::Anonymous);
    })
    .await;
}

#[tokio::test]
async fn a_deleted_account_leaves_its_courses_to_a_former_learner_or_takes_them_with_it() {
    on_each_backend(|store| async move {
        let ada = person(&store, "ada@example.org", "Ada").await;
        let grace = person(&store, "grace@example.org", "Grace").await;
        let kept = course_of(&store, Some(ada), "Kept tides").await;
        let gone = course_of(&store, Some(grace), "Gone tides").await;
        let other = course_of(&store, None, "Someone's tides").await;
        // A draft still drafting, with its job queued.
        let new = NewDraft {
            request: &request(1, 1),
            owner: "account:grace",
            user_id: Some(grace),
            at_once: 0,
            per_day: None,
        };
        store.create_draft(&new).await.unwrap().unwrap();
        let jobs = store.job_count().await.unwrap();

        assert!(store.delete_user(ada, true).await.unwrap());
        // Her draft's drafting job went with the draft; her kept course is still written.
        assert_eq!(store.job_count().await.unwrap(), jobs - 1);
        let kept = store.course(&kept.slug).await.unwrap();
        assert_eq!(kept.maker, Maker::Former);
        assert!(store.user(ada).await.is_err());
        assert!(
            store
                .user_by_email("ada@example.org")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.drafts_of(ada).await.unwrap().is_empty());

        assert!(store.delete_user(grace, false).await.unwrap());
        assert!(
            store.course(&gone.slug).await.is_err(),
            "deleted with its maker"
        );
        // Its three items' jobs and its vector's, its drafts' drafting jobs (the confirmed one's
        // and the drafting one's) went with it.
        assert_eq!(store.job_count().await.unwrap(), jobs - 1 - 5 - 1);
        assert!(store.drafts_of(grace).await.unwrap().is_empty());
        assert_eq!(
            store.course(&other.slug).await.unwrap().maker,
            Maker::Anonymous
        );
        assert!(!store.delete_user(grace, false).await.unwrap(), "only once");
    })
    .await;
}

#[tokio::test]
async fn a_hidden_course_is_listed_nowhere_until_shown_and_a_deleted_one_leaves_no_work() {
    on_each_backend(|store| async move {
        let shown = course_of(&store, None, "Shown tides").await;
        let hidden = course_of(&store, None, "Hidden tides").await;
        store.set_featured(&hidden.slug, true).await.unwrap();
        let hidden = store.set_hidden(&hidden.slug, true).await.unwrap();
        assert!(hidden.hidden_at.is_some());

        assert_eq!(
            titles(&store.list_courses(10, 0).await.unwrap()),
            ["Shown tides"]
        );
        assert_eq!(
            titles(&store.newest_courses(10).await.unwrap()),
            ["Shown tides"]
        );
        assert!(store.featured_courses(10).await.unwrap().is_empty());
        assert_eq!(store.course_count().await.unwrap(), 1);
        let sitemap = store.sitemap(100, 0).await.unwrap();
        assert!(
            sitemap.iter().all(|entry| entry.slug == shown.slug),
            "{sitemap:?}"
        );
        assert_eq!(
            titles(&store.all_courses(10, 0).await.unwrap()),
            ["Hidden tides", "Shown tides"],
            "admins see every course, newest first"
        );

        store.set_hidden(&hidden.slug, false).await.unwrap();
        assert_eq!(store.featured_courses(10).await.unwrap().len(), 1);
        assert_eq!(store.course_count().await.unwrap(), 2);

        let jobs = store.job_count().await.unwrap();
        assert!(store.delete_course(hidden.id).await.unwrap());
        assert!(store.course(&hidden.slug).await.is_err());
        assert_eq!(
            store.job_count().await.unwrap(),
            jobs - 3 - 1,
            "its three items' jobs and its vector's"
        );
        assert!(!store.delete_course(hidden.id).await.unwrap());
        assert!(store.set_hidden("no-such-course", true).await.is_err());
    })
    .await;
}
