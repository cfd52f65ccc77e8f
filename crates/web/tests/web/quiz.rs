//! A unit's quiz on its page: answered in a form, graded on the server, the right answers and why
//! shown only with the result; a signed-in learner's attempts kept.

use axum::http::StatusCode;

use lyceum_course::Quiz;
use lyceum_store::{Course, Unit};

use crate::accounts::PASSWORD;
use crate::helpers::{Browser, TestWeb, spawn_web};

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
    let fields: Vec<(&str, &str)> = choices
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    ada.post(&format!("{path}/quiz"), &fields).await;
    let right: Vec<(String, String)> = quiz
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| (format!("q{}", index + 1), question.answer.to_string()))
        .collect();
    let fields: Vec<(&str, &str)> = right
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
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
