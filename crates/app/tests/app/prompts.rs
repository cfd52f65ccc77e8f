//! Every prompt Lyceum sends fits a local sequence (the default `engine.local.context_per_sequence`)
//! for the largest course and the longest texts a person may type, in several scripts, counted with the
//! tests' model's own tokenizer and chat template; and a course of a usual size keeps every detail.

use lyceum_app::Settings;
use lyceum_app::courses::{fit, retry};
use lyceum_course::prompts::{self, CourseBrief, Detail};
use lyceum_course::{
    Audience, CourseRequest, Description, Language, Level, Outline, OutlineModule, OutlinePlan,
    OutlineUnit, PlannedWeek, UnitsPerWeek, Weeks,
};
use lyceum_llm::local::{LocalConfig, LocalEngine};
use lyceum_llm::{Engine, Message, Request};

/// `count` characters of one script in words of a few letters, in an order no tokenizer has merges
/// for: as many tokens as such text can cost.
fn text(script: &str, count: usize) -> String {
    let alphabet: Vec<char> = script.chars().collect();
    (0..count)
        .map(|i| {
            if i % 7 == 6 {
                ' '
            } else {
                alphabet[(i * 31 + i / 7) % alphabet.len()]
            }
        })
        .collect()
}

/// Text of one script that is at most `tokens` tokens long: what a model's answer of that budget can
/// be at most.
async fn text_of_tokens(engine: &LocalEngine, script: &str, tokens: usize) -> String {
    let count =
        |text: String| engine.prompt_tokens(Request::new(vec![Message::user(text)], 1).unwrap());
    let empty = count(String::new()).await.unwrap();
    let mut chars = tokens * 4;
    loop {
        let candidate = text(script, chars);
        if count(candidate.clone()).await.unwrap() - empty <= tokens {
            return candidate;
        }
        chars = chars * 9 / 10;
    }
}

/// The largest course a person can confirm (26 weeks of 6 units), every text at its limit.
fn largest_outline(script: &str) -> Outline {
    Outline {
        category: None,
        title: text(script, 120),
        summary: text(script, 2000),
        outcomes: (0..8).map(|_| text(script, 300)).collect(),
        modules: (0..26)
            .map(|_| OutlineModule {
                title: text(script, 120),
                units: (0..6)
                    .map(|_| OutlineUnit {
                        title: text(script, 120),
                        objectives: (0..6).map(|_| text(script, 300)).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn largest_request(script: &str, language: &str) -> CourseRequest {
    let mut request = CourseRequest::new(Description::parse(&text(script, 5000)).unwrap());
    request.weeks = Weeks::new(26).unwrap();
    request.units_per_week = UnitsPerWeek::new(6).unwrap();
    request.language = Language::parse(language).unwrap();
    request.audience = Audience::parse(&text(script, 200)).unwrap();
    request.level = Level::Advanced;
    request
}

fn brief<'a>(request: &'a CourseRequest, outline: &'a Outline, detail: Detail) -> CourseBrief<'a> {
    CourseBrief {
        description: request.description.as_str(),
        audience: request.audience.as_str(),
        level: request.level,
        language: request.language,
        outline,
        detail,
    }
}

fn engine() -> LocalEngine {
    LocalEngine::load(LocalConfig {
        model_path: lyceum_testkit::test_model(),
        threads: 1,
        max_sequences: 1,
        interactive_sequences: 1,
        context_per_sequence: Settings::default().engine.local.context_per_sequence,
        cache_tokens: Settings::default().engine.local.cache_tokens,
        kv_cache: Default::default(),
        layout: Default::default(),
    })
    .unwrap()
}

#[tokio::test]
async fn every_prompt_of_the_largest_course_fits_a_local_sequence_in_every_script() {
    let engine = engine();
    let scripts = [
        ("en", "abcdefghijklmnopqrstuvwxyz"),
        ("ru", "абвгдежзийклмнопрстуфхцчшщыэюя"),
        (
            "zh",
            "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
        ),
        ("hi", "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसह"),
        ("ar", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"),
        ("am", "ሀለሐመሠረሰሸቀበተቸኀነኘአከኸወዐዘዠየደጀገጠጨጰጸፀፈፐ"),
    ];
    let mut table = String::new();
    let mut over = Vec::new();
    for (language, script) in scripts {
        let request = largest_request(script, language);
        let outline = largest_outline(script);
        // What the model wrote in earlier steps, each at most as long as its step lets it be.
        let weeks: Vec<PlannedWeek> = (0..26)
            .map(|_| PlannedWeek {
                title: text(script, 90),
                focus: text(script, 200),
            })
            .collect();
        let plan = OutlinePlan {
            category: None,
            title: text(script, 90),
            summary: text(script, 600),
            outcomes: vec![text(script, 200); 5],
            weeks: weeks.clone(),
        };
        let mut six_weeks = request.clone();
        six_weeks.weeks = Weeks::new(6).unwrap();
        let body = text_of_tokens(&engine, script, prompts::UNIT_MAX_TOKENS as usize).await;
        let takeaways = lyceum_course::takeaways(&format!("Intro.\n\n## Key takeaways\n- {body}"));

        let mut sent: Vec<(&str, Request)> = vec![
            ("outline plan", prompts::outline_plan(&six_weeks).unwrap()),
            ("outline parts", prompts::outline_parts(&request).unwrap()),
            (
                "part weeks",
                prompts::part_weeks(&request, &plan, &weeks[..6], 1, 1, 5).unwrap(),
            ),
            (
                "week units",
                prompts::week_units(&request, &plan, 26).unwrap(),
            ),
            (
                "retitle",
                prompts::retitle(&request, "week", &text(script, 200), 2).unwrap(),
            ),
        ];
        let fitted = [
            (
                "overview",
                fit(&engine, |detail| {
                    prompts::overview(&brief(&request, &outline, detail), 26)
                })
                .await,
            ),
            (
                "unit",
                fit(&engine, |detail| {
                    prompts::unit(&brief(&request, &outline, detail), 26, 6, Some(&takeaways))
                })
                .await,
            ),
            (
                "quiz",
                fit(&engine, |detail| {
                    prompts::quiz(
                        &brief(&request, &outline, detail),
                        26,
                        6,
                        Some(&takeaways),
                        &body,
                    )
                })
                .await,
            ),
        ];
        sent.extend(fitted.map(|(what, request)| (what, request.unwrap())));
        // The one retry of each structured step, with the longest answer its step allows.
        let mut retries = Vec::new();
        for (what, prompt) in sent.iter().filter(|(_, prompt)| prompt.schema().is_some()) {
            let answer = text_of_tokens(&engine, script, prompt.max_tokens().get() as usize).await;
            let problems = format!(
                "weeks[3].title repeats the week title \"{}\"",
                text(script, 90)
            );
            retries.push((
                *what,
                retry(&engine, prompt, &answer, &problems).await.unwrap(),
            ));
        }
        sent.extend(retries);

        for (what, prompt) in sent {
            let max_tokens = prompt.max_tokens().get() as usize;
            let fits = engine.fits(&prompt).await;
            let tokens = engine.prompt_tokens(prompt).await.unwrap();
            table.push_str(&format!("{language} {what}: {tokens} + {max_tokens}\n"));
            if fits != Some(true) {
                over.push(format!("{what} in {language}: {tokens} + {max_tokens}"));
            }
        }
    }
    println!("{table}");
    assert!(
        over.is_empty(),
        "too long for one sequence: {over:?}\n{table}"
    );
}

#[tokio::test]
async fn a_course_of_a_usual_size_keeps_its_whole_syllabus_in_every_prompt() {
    let engine = engine();
    let mut request = CourseRequest::new(
        Description::parse(
            "The history of jazz, from New Orleans brass bands to bebop, modal jazz and fusion, with \
             listening guides for each era.",
        )
        .unwrap(),
    );
    request.weeks = Weeks::new(12).unwrap();
    request.units_per_week = UnitsPerWeek::new(3).unwrap();
    let outline = Outline {
        category: None,
        title: "Jazz: A Listener's History".into(),
        summary: "Twelve weeks through the music, its players and its recordings.".into(),
        outcomes: vec!["Tell the eras of jazz apart by ear".into()],
        modules: (1..=12)
            .map(|w| OutlineModule {
                title: format!("The sound of era number {w} and its greatest records"),
                units: (1..=3)
                    .map(|u| OutlineUnit {
                        title: format!("Players, recordings and styles of part {w}.{u}"),
                        objectives: vec![
                            "Recognise the rhythm section's role in a recording".into(),
                            "Describe how soloists build on the melody".into(),
                        ],
                    })
                    .collect(),
            })
            .collect(),
    };
    let body = "A unit's text of some length. ".repeat(120);
    let full = prompts::quiz(&brief(&request, &outline, Detail::Full), 12, 3, None, &body).unwrap();
    let sent = fit(&engine, |detail| {
        prompts::quiz(&brief(&request, &outline, detail), 12, 3, None, &body)
    })
    .await
    .unwrap();
    assert_eq!(
        sent.messages(),
        full.messages(),
        "less detail than it needs"
    );
    assert!(
        full.messages()[0]
            .content
            .contains("12.3 Players, recordings")
    );
}

#[tokio::test]
async fn a_units_quiz_finds_the_unit_prompt_and_text_in_the_engine_cache() {
    let engine = engine();
    let mut request = CourseRequest::new(
        Description::parse("How bread rises: yeast, gluten and baking at home.").unwrap(),
    );
    request.weeks = Weeks::new(1).unwrap();
    request.units_per_week = UnitsPerWeek::new(2).unwrap();
    let outline = Outline {
        category: None,
        title: "Bread at Home".into(),
        summary: "Why dough rises and how to bake a loaf.".into(),
        outcomes: vec!["Bake a loaf that rises".into()],
        modules: vec![OutlineModule {
            title: "Dough".into(),
            units: ["Yeast and fermentation", "Gluten and kneading"]
                .map(|title| OutlineUnit {
                    title: title.into(),
                    objectives: vec![format!("Explain {}", title.to_lowercase())],
                })
                .to_vec(),
        }],
    };
    let brief = brief(&request, &outline, Detail::Full);
    // The unit's own request, shortened: only the cache matters here. Greedy, so the run is the same
    // every time: a sampled token that the text's own tokenization splits otherwise (which sampling
    // can pick) ends the reusable prefix there.
    let unit = prompts::unit(&brief, 1, 2, Some("- Yeast eats sugar")).unwrap();
    let written = lyceum_llm::complete(
        &engine,
        Request::new(unit.messages().to_vec(), 120)
            .unwrap()
            .with_temperature(0.0)
            .unwrap(),
    )
    .await
    .unwrap();
    let quiz = prompts::quiz(&brief, 1, 2, Some("- Yeast eats sugar"), &written.text).unwrap();
    let asked = lyceum_llm::complete(&engine, Request::new(quiz.messages().to_vec(), 4).unwrap())
        .await
        .unwrap();
    let unit_prompt = written.usage.prompt_tokens.unwrap();
    let unit_text = written.usage.completion_tokens.unwrap();
    let cached = asked.usage.cached_tokens.unwrap();
    println!("cached {cached} of the unit's {unit_prompt} prompt + {unit_text} text tokens");
    assert!(
        cached >= unit_prompt + unit_text * 9 / 10,
        "the quiz found {cached} tokens in the cache; the unit was {unit_prompt} prompt and \
         {unit_text} text tokens"
    );
    assert!(
        cached < asked.usage.prompt_tokens.unwrap(),
        "the instruction is computed"
    );
}
