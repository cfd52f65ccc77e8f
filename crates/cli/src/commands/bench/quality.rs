//! `lyceum bench quality`: what a learner would notice in the courses the configured engine writes.
//!
//! Writes one course per topic of a fixed set (several subjects; English, German, French, Spanish and
//! Russian) into a throwaway database, then measures each with [`lyceum_course::quality`] and prints
//! the figures per course and in total; `--json` keeps them for comparing runs. `--course` measures
//! courses already stored instead.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use lyceum_app::export::{self, CourseExport};
use lyceum_app::metrics::Discarded;
use lyceum_app::worker::{Until, Worker};
use lyceum_app::{Lyceum, Settings};
use lyceum_course::quality::{Check, Report};
use lyceum_course::{CourseRequest, Description, Language, UnitsPerWeek, Weeks};
use serde_json::{Value, json};

use crate::commands::{find_course, open_store, outln};

/// The topics, by language: subjects nobody tuned the prompts for, in the languages a learner asked in.
pub const TOPICS: &[(&str, &str)] = &[
    ("en", "How the immune system fights a cold"),
    ("en", "Personal budgeting and saving for beginners"),
    (
        "de",
        "Thermodynamik für Ingenieure: Energie, Wärme und Arbeit",
    ),
    ("fr", "Les bases de la photographie numérique"),
    ("es", "Historia de la Revolución Industrial"),
    ("ru", "Основы программирования на Python для начинающих"),
];

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Weeks per course.
    pub weeks: u32,
    /// Units per week.
    pub units_per_week: u32,
    /// Only the topics in these languages (all when empty).
    pub languages: Vec<String>,
    /// Stored courses to measure instead of writing new ones.
    pub courses: Vec<String>,
    /// Where to write the figures as JSON too.
    pub json: Option<PathBuf>,
    /// The data directory to write the courses into and keep (a throwaway one when `None`).
    pub keep: Option<PathBuf>,
}

/// One measured course.
struct Measured {
    topic: String,
    course: Result<CourseExport, String>,
}

pub async fn run(settings: &Settings, plan: Plan) -> anyhow::Result<()> {
    let started = Instant::now();
    let (engine, measured, discarded) = if plan.courses.is_empty() {
        let (engine, measured, discarded) = write(settings, &plan).await?;
        (engine, measured, Some(discarded))
    } else {
        let measured = stored(settings, &plan.courses).await?;
        ("stored".to_owned(), measured, None)
    };
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let mut total = Report::default();
    let mut courses = Vec::new();
    for measured in measured {
        match measured.course {
            Ok(course) => {
                let report = course.quality();
                print(&format!("{} · {}", course.language, course.title), &report)?;
                let written = course
                    .weeks
                    .iter()
                    .flat_map(|week| &week.units)
                    .filter(|unit| unit.body.is_some())
                    .count();
                courses.push(json!({
                    "topic": measured.topic,
                    "language": course.language,
                    "slug": course.slug,
                    "title": course.title,
                    "units_written": written,
                    "figures": figures(&report),
                    "report": report,
                }));
                total.merge(report);
            }
            Err(error) => {
                outln!("{} · not written: {error}\n", measured.topic);
                courses.push(json!({"topic": measured.topic, "error": error}));
            }
        }
    }
    print(&format!("total over {} courses", courses.len()), &total)?;
    outln!("{engine}; {minutes:.1} minutes");
    if let Some(discarded) = &discarded {
        outln!(
            "thrown away: {} answers ({} generated tokens) rejected or written again",
            discarded.answers,
            discarded.tokens
        );
    }
    if let Some(path) = &plan.json {
        let document = json!({
            "engine": engine,
            "weeks": plan.weeks,
            "units_per_week": plan.units_per_week,
            "minutes": minutes,
            "courses": courses,
            "total": figures(&total),
            "thrown_away": discarded.map(|discarded| json!({
                "answers": discarded.answers,
                "tokens": discarded.tokens,
            })),
        });
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(())
}

/// Writes one course per chosen topic into a throwaway database on the configured engine.
/// Also says what the engine's answers thrown away (rejected, or written again) cost.
async fn write(
    settings: &Settings,
    plan: &Plan,
) -> anyhow::Result<(String, Vec<Measured>, Discarded)> {
    let mut topics = Vec::new();
    for (tag, topic) in TOPICS {
        let language = Language::parse(tag)?;
        let chosen = plan.languages.is_empty()
            || plan
                .languages
                .iter()
                .any(|wanted| Language::parse(wanted).is_ok_and(|wanted| wanted == language));
        if chosen {
            topics.push((language, *topic));
        }
    }
    anyhow::ensure!(
        !topics.is_empty(),
        "no topic is in {}; the topics are in {}",
        plan.languages.join(", "),
        TOPICS
            .iter()
            .map(|(tag, _)| *tag)
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Lives to the end of the run, then is deleted with what was written into it.
    let throwaway;
    let dir = match &plan.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            throwaway = tempfile::tempdir()?;
            throwaway.path().to_path_buf()
        }
    };
    let mut settings = settings.clone();
    settings.engine.local.model = settings.local_model_path();
    settings.data_dir = dir;
    settings.database.url = String::new();
    // A quiz the model got wrong twice is tried again at once: the figures, not the pacing, matter.
    settings.worker.retry_backoff_secs = 0;
    let app = Lyceum::open(settings)
        .await
        .context("Failed to start Lyceum")?;
    let info = app.engine.info();
    let engine = format!("engine {} · model {}", info.kind, info.model);
    outln!("{engine}: writing {} courses", topics.len());

    let mut drafted = Vec::new();
    for (language, topic) in topics {
        let mut request = CourseRequest::new(Description::parse(topic)?);
        request.weeks = Weeks::new(plan.weeks)?;
        request.units_per_week = UnitsPerWeek::new(plan.units_per_week)?;
        request.language = language;
        let course = match app.draft_outline(&request, |_| {}).await {
            Ok(draft) => app
                .confirm_course(&request, draft.outline, &draft.stats)
                .await
                .map_err(|error| error.to_string()),
            Err(error) => Err(format!("the outline failed: {error}")),
        };
        drafted.push((topic, course));
    }
    Worker::new(Arc::clone(&app))
        .run(Until::Idle, std::future::pending())
        .await?;
    let mut measured = Vec::new();
    for (topic, course) in drafted {
        let course = match course {
            Ok(course) => Ok(export::load(&app.store, &course).await?),
            Err(error) => Err(error),
        };
        measured.push(Measured {
            topic: topic.to_owned(),
            course,
        });
    }
    Ok((engine, measured, app.metrics.discarded_so_far()))
}

/// Reads stored courses by slug.
async fn stored(settings: &Settings, slugs: &[String]) -> anyhow::Result<Vec<Measured>> {
    let store = open_store(settings).await?;
    let mut measured = Vec::new();
    for slug in slugs {
        let course = find_course(&store, slug).await?;
        measured.push(Measured {
            topic: course.description.clone(),
            course: Ok(export::load(&store, &course).await?),
        });
    }
    Ok(measured)
}

/// The figures of a report: each check's count, and the article figures.
fn figures(report: &Report) -> Value {
    let (fewest, mean, most) = report.words();
    let mut figures = json!({
        "titles": report.titles,
        "units": report.units,
        "articles": report.articles.len(),
        "questions": report.questions,
        "quizzes": report.quizzes,
        "worst_repeated_4grams": report.worst_repetition(),
        "mean_repeated_4grams": report.mean_repetition(),
        "worst_foreign_script": report.worst_foreign_script(),
        "article_words": {"min": fewest, "mean": mean, "max": most},
    });
    for check in Check::ALL {
        figures[check.name()] = json!(report.count(check));
    }
    figures
}

fn print(heading: &str, report: &Report) -> anyhow::Result<()> {
    let count = |check| report.count(check);
    let (fewest, mean, most) = report.words();
    outln!("{heading}");
    outln!(
        "  titles {:3}: placeholder {}, numbered {}, duplicate {}, a word twice {}, cut off {}",
        report.titles,
        count(Check::PlaceholderTitle),
        count(Check::NumberedTitle),
        count(Check::DuplicateTitle),
        count(Check::RepeatedWordInTitle),
        count(Check::FragmentTitle),
    );
    outln!(
        "  articles {:3} of {} units: off-scope headings {}, repetitive {} (mean {:.0}%, worst {:.0}% \
         repeated 4-grams), mixed script {} (worst {:.1}%), wrong language {}, prompt text {}, short {}, broken \
         headings {}, empty sections {}, repeated headings {}, about itself {}, copied summary {}; \
         words {fewest}/{mean}/{most}",
        report.articles.len(),
        report.units,
        count(Check::OffScopeHeading),
        count(Check::RepetitiveArticle),
        report.mean_repetition() * 100.0,
        report.worst_repetition() * 100.0,
        count(Check::MixedScript),
        report.worst_foreign_script() * 100.0,
        count(Check::WrongLanguage),
        count(Check::PromptText),
        count(Check::ShortArticle),
        count(Check::BrokenHeading),
        count(Check::EmptySection),
        count(Check::RepeatedHeading),
        count(Check::AboutItself),
        count(Check::CopiedSummary),
    );
    outln!(
        "  questions {:3} in {} quizzes of {} units: duplicate options {}, numbered options {}, \
         positional explanations {}, syntax in options {}, stuttered options {}, recycled options {}, \
         give-away answers {}, statements {}, placeholders {}, answers echoing the question {}, \
         headings as options {}, options that are no answer {}",
        report.questions,
        report.quizzes,
        report.units,
        count(Check::DuplicateOption),
        count(Check::NumberedOption),
        count(Check::PositionalExplanation),
        count(Check::SyntaxInOption),
        count(Check::StutteredOption),
        count(Check::RecycledOptions),
        count(Check::GiveawayAnswer),
        count(Check::StatementQuestion),
        count(Check::PlaceholderText),
        count(Check::EchoedAnswer),
        count(Check::HeadingOption),
        count(Check::NoAnswerOption),
    );
    for finding in report.findings.iter().take(12) {
        outln!(
            "    {:24} {:20} {}",
            finding.check.name(),
            finding.place,
            finding.text
        );
    }
    if report.findings.len() > 12 {
        outln!("    … and {} more", report.findings.len() - 12);
    }
    outln!("");
    Ok(())
}
