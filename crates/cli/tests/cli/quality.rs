//! `lyceum bench quality` as a person runs it: courses written on the configured engine, and each
//! finding reported at its place.

use lyceum_testkit::{Action, ScriptedModel};
use serde_json::Value;

use crate::generate::scripted_env;
use crate::lyceum;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quality_bench_reports_a_looping_article_in_another_language_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let model = ScriptedModel::start().await;
    // One unit of the English courses loops in German, as the 0.5B model once did, and keeps
    // doing so when it is written again (twice), so it is kept as written and measured.
    let looping: String = (1..=15)
        .map(|n| format!("Übung {n}: Schreiben Sie die Grundlagen des Themas auf. "))
        .collect();
    for _ in 0..3 {
        model.script("unit 1.2", Action::Answer(looping.clone()));
    }
    let json = dir.path().join("quality.json");
    let kept = dir.path().join("kept");
    let env: Vec<(String, String)> = scripted_env(&model)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    let run = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let json = json.to_str().unwrap().to_owned();
        let kept = kept.to_str().unwrap().to_owned();
        move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let args = [
                "bench",
                "quality",
                "--languages",
                "en",
                "--weeks",
                "1",
                "--units-per-week",
                "2",
                "--json",
                &json,
                "--keep",
                &kept,
            ];
            lyceum(&dir, &args, &env)
        }
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);

    let figures: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let courses = figures["courses"].as_array().unwrap();
    assert_eq!(courses.len(), 2, "both English topics: {figures:#}");
    for course in courses {
        assert_eq!(course["language"], "en", "{course:#}");
        assert_eq!(course["units_written"], 2, "{course:#}");
    }
    // Exactly the scripted article loops and reads as German, and it is found where it is.
    let total = &figures["total"];
    assert_eq!(total["repetitive_article"], 1, "{total:#}");
    assert_eq!(total["wrong_language"], 1, "{total:#}");
    let places: Vec<(&str, &str)> = courses
        .iter()
        .flat_map(|course| course["report"]["findings"].as_array().unwrap())
        .map(|finding| {
            (
                finding["check"].as_str().unwrap(),
                finding["place"].as_str().unwrap(),
            )
        })
        .filter(|(check, _)| ["repetitive_article", "wrong_language"].contains(check))
        .collect();
    assert_eq!(
        places,
        [
            ("repetitive_article", "unit 1.2"),
            ("wrong_language", "unit 1.2")
        ]
    );
    assert!(
        run.stdout.contains("repetitive_article") && run.stdout.contains("unit 1.2"),
        "the finding is printed too:\n{}",
        run.stdout
    );

    // The kept courses can be read afterwards, and measured again from the store with the same figures.
    let listed = lyceum(&kept, &["courses", "list"], &[]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let slugs: Vec<&str> = courses
        .iter()
        .map(|course| course["slug"].as_str().unwrap())
        .collect();
    for slug in &slugs {
        assert!(
            listed.stdout.contains(slug),
            "{slug} not in {}",
            listed.stdout
        );
    }
    let again = dir.path().join("again.json");
    let remeasured = lyceum(
        &kept,
        &[
            "bench",
            "quality",
            "--course",
            &slugs.join(","),
            "--json",
            again.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(remeasured.code, 0, "{}", remeasured.stderr);
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(again["total"], figures["total"]);
}
