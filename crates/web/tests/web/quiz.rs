//! A unit's quiz on its page: answered in a form, graded on the server, the right answers and why
//! shown only with the result; a signed-in learner's attempts kept.

use axum::http::StatusCode;

use lyceum_course::Quiz;
use lyceum_store::{Course, Unit};

use crate::accounts::PASSWORD;
use crate::helpers::{Browser, TestWeb, location, spawn_web};

/// The form fields that answer every question of `quiz` right.
fn right_answers(quiz: &Quiz) -> Vec<(String, String)> {
    quiz.questions
        .iter()
        .enumerate()
        .map(|(index, question)| (format!("q{}", index + 1), question.answer.to_string()))
        .collect()
}

fn as_fields(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// A 1 × 2 course on `topic`, written: the course, its first unit and that unit's quiz.
async fn written(web: &TestWeb, topic: &str) -> (Course, Unit, Quiz) {
    let course = web.course(topic, 1, 2).await;
    web.drain_jobs().await;
    let unit = web.app.store.units(course.id).await.unwrap()[0].clone();
    let quiz = web
        .app
        .store
        .quiz(unit.id)
        .await
        .unwrap()
        .expect("a written quiz");
    (course, unit, quiz)
}

#[tokio::test]
async fn a_quiz_is_answered_on_the_unit_page_and_graded_on_the_server() {
    let web = spawn_web().await;
    let (course, unit, quiz) = written(&web, "How tides rise and fall").await;
    let total = quiz.questions.len();
    let path = format!("/courses/{}/weeks/1/units/1", course.slug);

    let page = web.get(&path).await;
    assert!(page.html.contains("Check yourself"), "{}", page.html);
    for number in 1..=total {
        assert_eq!(
            page.html.matches(&format!("name=\"q{number}\"")).count(),
            4,
            "question {number} offers its four options"
        );
    }
    // Nothing in the page tells the answer before it is sent.
    assert!(!page.html.contains("Not quite") && !page.html.contains("Right."));
    for question in &quiz.questions {
        assert!(
            !page.html.contains(&question.explanation),
            "{}",
            question.explanation
        );
    }

    // An unanswered question sends the page back with what was chosen.
    let partial = web.post_form(&format!("{path}/quiz"), &[("q1", "0")]).await;
    assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        partial
            .html
            .contains("Not checked yet: choose an answer to question"),
        "{}",
        partial.html
    );
    assert!(
        partial
            .html
            .contains("name=\"q1\" value=\"0\" required checked")
    );
    let impossible = web.post_form(&format!("{path}/quiz"), &[("q1", "7")]).await;
    assert_eq!(impossible.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The first answer wrong, the rest right.
    let choices: Vec<(String, String)> = quiz
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| {
            let choice = if index == 0 {
                (question.answer + 1) % 4
            } else {
                question.answer
            };
            (format!("q{}", index + 1), choice.to_string())
        })
        .collect();
    let graded = web.post_fields(&format!("{path}/quiz"), &choices).await;
    assert_eq!(graded.status, StatusCode::OK);
    assert_eq!(graded.headers["cache-control"], "no-store");
    assert!(
        graded
            .html
            .contains(&format!("You got {} of {total} right.", total - 1)),
        "{}",
        graded.html
    );
    assert_eq!(
        graded.html.matches("<strong>Not quite:</strong>").count(),
        1
    );
    assert_eq!(
        graded.html.matches("<strong>Right.</strong>").count(),
        total - 1
    );
    assert!(
        graded.html.contains("to keep your results"),
        "nothing kept for a reader signed out"
    );

    // Signed in: the attempt is kept, with the best score so far.
    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let fields = as_fields(&choices);
    ada.post(&format!("{path}/quiz"), &fields).await;
    let right = right_answers(&quiz);
    let fields = as_fields(&right);
    let kept = ada.post(&format!("{path}/quiz"), &fields).await;
    assert!(
        kept.html.contains(&format!(
            "Kept in your account; your best here is {total} of {total}"
        )),
        "{}",
        kept.html
    );
    let (user, _) = web
        .app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    let attempts = web
        .app
        .store
        .attempts(user.id, Some(unit.id))
        .await
        .unwrap();
    let scores: Vec<i64> = attempts.iter().map(|attempt| attempt.score).collect();
    assert_eq!(scores, [total as i64, total as i64 - 1]);

    // No such unit.
    let missing = web
        .post_form(
            &format!("/courses/{}/weeks/1/units/9/quiz", course.slug),
            &[("q1", "0")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_program_checks_quiz_answers_through_the_api_and_a_token_keeps_them() {
    let web = spawn_web().await;
    let (course, _, quiz) = written(&web, "How bridges carry their loads").await;
    let path = format!("/api/courses/{}/weeks/1/units/1/quiz", course.slug);
    let send = |body: serde_json::Value, bearer: Option<String>| {
        let web = &web;
        let path = path.clone();
        async move {
            let mut headers = vec![("content-type", "application/json".to_owned())];
            if let Some(bearer) = bearer {
                headers.push(("authorization", bearer));
            }
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            let page = web.post(&path, &headers, body.to_string()).await;
            let json: serde_json::Value = serde_json::from_str(&page.html).unwrap();
            (page.status, json)
        }
    };
    let right: Vec<usize> = quiz
        .questions
        .iter()
        .map(|question| question.answer)
        .collect();

    let (status, refused) = send(serde_json::json!({"answers": [0, null]}), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["problems"][0]["field"], "answers[1]");
    let (status, refused) = send(serde_json::json!({"answers": [0, 0, 0, 0, 0, 0]}), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, checked) = send(serde_json::json!({"answers": right}), None).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["score"], quiz.questions.len());
    assert_eq!(
        (checked["saved"].as_bool(), checked["best"].as_u64()),
        (Some(false), None)
    );
    assert_eq!(
        checked["questions"][0]["explanation"],
        quiz.questions[0].explanation
    );

    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let (user, _) = web
        .app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    let (token, _) = lyceum_app::accounts::create_api_token(&web.app.store, &user, "app")
        .await
        .unwrap();
    let (_, kept) = send(
        serde_json::json!({"answers": right}),
        Some(format!("Bearer {token}")),
    )
    .await;
    assert_eq!(kept["saved"], true);
    assert_eq!(kept["best"], quiz.questions.len());
    assert_eq!(
        web.app.store.attempts(user.id, None).await.unwrap().len(),
        1
    );
    let (status, _) = send(
        serde_json::json!({"answers": right}),
        Some("Bearer nope".into()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_learner_starts_a_course_finishes_units_and_sees_only_their_own_progress() {
    let web = spawn_web().await;
    let (course, first, _) = written(&web, "How tides rise and fall").await;
    let units = web.app.store.units(course.id).await.unwrap();
    let second_quiz = web.app.store.quiz(units[1].id).await.unwrap().unwrap();
    let course_path = format!("/courses/{}", course.slug);
    let first_path = format!("{course_path}/weeks/1/units/1");
    let second_path = format!("{course_path}/weeks/1/units/2");

    let signed_out = web.get(&course_path).await;
    assert!(signed_out.html.contains("to start this course"));
    assert!(!signed_out.html.contains("Your progress"));

    let mut ada = Browser::new(&web);
    ada.sign_up("Ada", "ada@example.org", PASSWORD).await;
    let page = ada.get(&course_path).await;
    assert!(page.html.contains("Start this course"), "{}", page.html);
    let csrf = Browser::hidden(&page, "csrf");
    let forged = ada
        .post(
            &format!("{course_path}/enrol"),
            &[("csrf", "not the token")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let started = ada
        .post(&format!("{course_path}/enrol"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&started), course_path);
    let page = ada.get(&course_path).await;
    assert!(page.html.contains("0 of 2 units done"), "{}", page.html);
    assert!(
        page.html
            .contains(&format!("Continue: 1.1 {}", first.title))
    );

    // Unit 1.1 marked done; unit 1.2 done by passing its quiz.
    assert!(ada.get(&first_path).await.html.contains("Mark as done"));
    let marked = ada
        .post(
            &format!("{first_path}/done"),
            &[("csrf", &csrf), ("action", "done")],
        )
        .await;
    assert_eq!(location(&marked), first_path);
    let page = ada.get(&first_path).await;
    assert!(page.html.contains("✓ Done.") && page.html.contains("Mark as not done"));
    let page = ada.get(&course_path).await;
    assert!(page.html.contains("1 of 2 units done"), "{}", page.html);
    assert!(
        page.html
            .contains(&format!("Continue: 1.2 {}", units[1].title))
    );
    assert_eq!(page.html.matches("✓ done").count(), 1);
    let right = right_answers(&second_quiz);
    let fields = as_fields(&right);
    let passed = ada.post(&format!("{second_path}/quiz"), &fields).await;
    assert!(
        passed.html.contains("✓ Done: you passed its quiz."),
        "{}",
        passed.html
    );
    let page = ada.get(&course_path).await;
    assert!(page.html.contains("2 of 2 units done") && page.html.contains("Every unit is done"));
    let total = second_quiz.questions.len();
    assert!(
        page.html
            .contains(&format!("quiz: best {total} of {total}")),
        "the best score shows in the syllabus: {}",
        page.html
    );
    // The unit page, shared with everyone from the page cache, carries Ada's own part only for her.
    let anonymous = web.get(&second_path).await;
    assert!(
        anonymous
            .html
            .contains("to mark units done and keep your quiz results")
    );
    let page = ada.get(&second_path).await;
    assert!(
        page.html
            .contains(&format!("Your best on its quiz: {total} of {total}."))
            && page.html.contains("✓ Done: you passed its quiz."),
        "{}",
        page.html
    );
    assert!(!page.html.contains("to mark units done"));
    assert_eq!(page.html.matches(r#"id="learner""#).count(), 1);
    assert!(!web.get(&second_path).await.html.contains(&csrf));

    let home = ada.get("/").await;
    assert!(home.html.contains("Continue where you left off"));
    assert!(
        home.html.contains("Completed") && home.html.contains(&course.title),
        "{}",
        home.html
    );

    let undone = ada
        .post(
            &format!("{first_path}/done"),
            &[("csrf", &csrf), ("action", "undo")],
        )
        .await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER);
    assert!(
        ada.get(&course_path)
            .await
            .html
            .contains("1 of 2 units done")
    );
    let home = ada.get("/").await;
    assert!(
        home.html
            .contains(&format!("continue with 1.1 {}", first.title)),
        "{}",
        home.html
    );
    assert!(!home.html.contains("Completed"));
    let bad = ada
        .post(
            &format!("{first_path}/done"),
            &[("csrf", &csrf), ("action", "finish")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Someone else sees none of it and cannot change it with Ada's token.
    let mut bob = Browser::new(&web);
    bob.sign_up("Bob", "bob@example.org", "violet harbour tangent quiet")
        .await;
    let page = bob.get(&course_path).await;
    assert!(page.html.contains("Start this course") && !page.html.contains("units done"));
    assert!(!page.html.contains("✓ done") && !page.html.contains("quiz: best"));
    let page = bob.get(&second_path).await;
    assert!(page.html.contains("Mark as done") && !page.html.contains("Your best"));
    let theirs = bob
        .post(
            &format!("{first_path}/done"),
            &[("csrf", &csrf), ("action", "done")],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let signed_out = web.get(&course_path).await;
    assert!(
        !signed_out.html.contains("units done"),
        "the shared page stays everyone's"
    );
    let bobs_home = bob.get("/").await;
    assert!(bobs_home.html.contains("Courses you start show here"));
    assert!(!bobs_home.html.contains("continue with"));
    assert!(
        !web.get("/")
            .await
            .html
            .contains("Continue where you left off")
    );
}
