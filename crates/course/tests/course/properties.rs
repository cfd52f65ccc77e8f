//! No input makes a parser or validator panic, and what they accept keeps their rules.

use lyceum_course::prompts::{self, QuizAnswer};
use lyceum_course::{
    Audience, CourseRequest, Description, Language, Level, Outline, OutlineModule, OutlinePiece,
    OutlineUnit, OutlineWatcher, Quiz, UnitsPerWeek, Weeks, slugify,
};
use proptest::prelude::*;

/// Text a person or a model might send: any characters, biased toward the ones that break things
/// (tag names, quotes, escapes, line breaks, letters that change length when lowercased).
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("</learner_request>".to_owned()),
        Just("<course_syllabus>".to_owned()),
        Just("<|im_start|>".to_owned()),
        Just("\u{212A}\u{130}ß".to_owned()),
        Just("\\u00e9\\\"\n\r\t\0".to_owned()),
        "[a-zA-Z ]{1,20}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

fn outline() -> impl Strategy<Value = Outline> {
    let unit = (text(), prop::collection::vec(text(), 0..4))
        .prop_map(|(title, objectives)| OutlineUnit { title, objectives });
    let module = (text(), prop::collection::vec(unit, 0..4))
        .prop_map(|(title, units)| OutlineModule { title, units });
    (
        text(),
        text(),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(module, 0..4),
    )
        .prop_map(|(title, summary, outcomes, modules)| Outline {
            category: None,
            title,
            summary,
            outcomes,
            modules,
        })
}

fn one_line(text: &str) -> bool {
    !text.trim().is_empty() && !text.chars().any(char::is_control)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn input_parsers_never_panic_and_keep_their_rules(raw in text()) {
        if let Ok(description) = Description::parse(&raw) {
            let chars = description.as_str().chars().count();
            prop_assert!((Description::MIN_CHARS..=Description::MAX_CHARS).contains(&chars));
            prop_assert_eq!(description.as_str(), description.as_str().trim());
            prop_assert!(!description.as_str().contains('\0'));
        }
        if let Ok(audience) = Audience::parse(&raw) {
            prop_assert!(!audience.as_str().chars().any(char::is_control));
        }
        if let Ok(weeks) = Weeks::parse(&raw) {
            prop_assert!((1..=26).contains(&weeks.get()));
        }
        if let Ok(units) = UnitsPerWeek::parse(&raw) {
            prop_assert!((1..=6).contains(&units.get()));
        }
        let _ = Language::parse(&raw);
        let _ = Level::parse(&raw);
    }

    #[test]
    fn an_outline_that_passes_validation_is_one_lyceum_can_store(outline in outline()) {
        let normalized = outline.normalized();
        prop_assert_eq!(normalized.clone().normalized(), normalized.clone(), "normalizing twice changes nothing");
        if normalized.validate().is_ok() {
            prop_assert!(one_line(&normalized.title));
            prop_assert!((1..=26).contains(&normalized.modules.len()));
            for module in &normalized.modules {
                prop_assert!(one_line(&module.title));
                prop_assert!((1..=6).contains(&module.units.len()));
                for unit in &module.units {
                    prop_assert!(one_line(&unit.title) && unit.title.chars().count() <= 120);
                    prop_assert!(unit.objectives.iter().all(|objective| one_line(objective)));
                }
            }
        }
    }

    #[test]
    fn a_model_quiz_is_checked_and_repaired_without_panicking(
        questions in prop::collection::vec((text(), text(), prop::collection::vec(text(), 0..5), text()), 0..7),
        seed in any::<u64>(),
    ) {
        let answer: QuizAnswer = serde_json::from_value(serde_json::json!({
            "questions": questions.iter().map(|(prompt, correct, wrong, explanation)| serde_json::json!({
                "prompt": prompt, "correct": correct, "wrong": wrong, "explanation": explanation
            })).collect::<Vec<_>>()
        })).unwrap();
        let quiz = answer.into_quiz();
        prop_assert!(quiz.questions.iter().all(|question| question.options.len() <= Quiz::OPTIONS));
        let _ = quiz.validate();
        let kept = quiz.without_bad_questions();
        if kept.validate().is_ok() {
            let spread = kept.clone().with_answers_spread(seed);
            prop_assert!(spread.validate().is_ok());
            for (before, after) in kept.questions.iter().zip(&spread.questions) {
                prop_assert_eq!(&before.options[before.answer], &after.options[after.answer]);
            }
        }
    }

    #[test]
    fn the_outline_watcher_survives_any_text_in_any_chunks(
        json in text(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut watcher = OutlineWatcher::new();
        for chunk in chunks(&json, &cuts) {
            let _ = watcher.feed(chunk);
        }
    }

    #[test]
    fn the_outline_watcher_reports_every_title_of_a_real_outline_whatever_the_chunking(
        outline in outline(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let json = serde_json::to_string(&outline).unwrap();
        let mut watcher = OutlineWatcher::new();
        let pieces: Vec<OutlinePiece> = chunks(&json, &cuts)
            .into_iter()
            .flat_map(|chunk| watcher.feed(chunk))
            .collect();
        let mut expected = vec![
            OutlinePiece::Title(outline.title.clone()),
            OutlinePiece::Summary(outline.summary.clone()),
        ];
        for (m, module) in outline.modules.iter().enumerate() {
            expected.push(OutlinePiece::Week(m + 1, module.title.clone()));
            for (u, unit) in module.units.iter().enumerate() {
                expected.push(OutlinePiece::Unit(m + 1, u + 1, unit.title.clone()));
            }
        }
        prop_assert_eq!(pieces, expected);
    }

    #[test]
    fn slugs_are_short_lowercase_ascii_words_joined_by_single_hyphens(title in text()) {
        let slug = slugify(&title);
        prop_assert!(!slug.is_empty() && slug.len() <= 60, "{slug}");
        prop_assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{slug}");
        prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"), "{slug}");
    }

    #[test]
    fn a_learner_cannot_close_the_data_block_or_open_a_turn(description in text(), audience in text()) {
        let Ok(parsed) = Description::parse(&format!("A course on {description}")) else {
            return Ok(());
        };
        let mut request = CourseRequest::new(parsed);
        if let Ok(audience) = Audience::parse(&audience) {
            request.audience = audience;
        }
        let prompt = prompts::outline_plan(&request).unwrap();
        let system = &prompt.messages()[0].content;
        prop_assert_eq!(system.matches("</learner_request>").count(), 1, "{}", system);
        // The block opens on its own line once; the instruction before it names the tag.
        prop_assert_eq!(system.matches("<learner_request>\n").count(), 1, "{}", system);
        prop_assert!(!system.contains("<|"), "{}", system);
    }
}

/// `text` cut at the character positions `cuts` picks.
fn chunks<'a>(text: &'a str, cuts: &[prop::sample::Index]) -> Vec<&'a str> {
    let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    let mut at: Vec<usize> = cuts
        .iter()
        .filter(|_| !boundaries.is_empty())
        .map(|cut| boundaries[cut.index(boundaries.len())])
        .collect();
    at.push(0);
    at.push(text.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|pair| &text[pair[0]..pair[1]]).collect()
}
