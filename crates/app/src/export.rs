//! Exporting a stored course: one JSON document, or a folder of Markdown files (`index.md`, one file per
//! unit under `units/`, one per quiz under `quizzes/`).

use std::path::{Path, PathBuf};

use lyceum_course::quality::{self, CourseText, UnitText, WeekText};
use lyceum_course::{Language, Quiz};
use lyceum_store::{Course, Status, Store, StoreError};
use serde::Serialize;

/// A whole course as exported.
#[derive(Debug, Clone, Serialize)]
pub struct CourseExport {
    /// URL name.
    pub slug: String,
    /// Title.
    pub title: String,
    /// The description as typed.
    pub description: String,
    /// Summary.
    pub summary: String,
    /// Learning outcomes.
    pub outcomes: Vec<String>,
    /// BCP-47 tag.
    pub language: String,
    /// Level.
    pub level: String,
    /// Audience.
    pub audience: String,
    /// Its subject's slug, when it has one.
    pub category: Option<&'static str>,
    /// Weeks in order.
    pub weeks: Vec<WeekExport>,
}

/// A week as exported.
#[derive(Debug, Clone, Serialize)]
pub struct WeekExport {
    /// From 1.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Overview, when written.
    pub overview: Option<String>,
    /// Units in order.
    pub units: Vec<UnitExport>,
}

/// A unit as exported.
#[derive(Debug, Clone, Serialize)]
pub struct UnitExport {
    /// From 1 within its week.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Learning objectives.
    pub objectives: Vec<String>,
    /// `pending`, `generating`, `ready` or `failed`.
    pub status: &'static str,
    /// The article, when written.
    pub body: Option<String>,
    /// The quiz, when written.
    pub quiz: Option<Quiz>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the course failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing a file failed.
    #[error("could not write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Reads a whole course for export.
pub async fn load(store: &Store, course: &Course) -> Result<CourseExport, StoreError> {
    let modules = store.modules(course.id).await?;
    let units = store.units(course.id).await?;
    let mut quizzes = store.quizzes(course.id).await?;
    let weeks = modules
        .into_iter()
        .map(|module| WeekExport {
            units: units
                .iter()
                .filter(|unit| unit.week == module.number)
                .map(|unit| UnitExport {
                    number: unit.number,
                    title: unit.title.clone(),
                    objectives: unit.objectives.clone(),
                    status: unit.status.as_str(),
                    body: unit.body.clone(),
                    quiz: quizzes
                        .iter()
                        .position(|(unit_id, _)| *unit_id == unit.id)
                        .map(|index| quizzes.swap_remove(index).1),
                })
                .collect(),
            number: module.number,
            title: module.title,
            overview: module.overview,
        })
        .collect();
    Ok(CourseExport {
        slug: course.slug.clone(),
        title: course.title.clone(),
        description: course.description.clone(),
        summary: course.summary.clone(),
        outcomes: course.outcomes.clone(),
        language: course.language.tag.to_owned(),
        level: course.level.as_str().to_owned(),
        audience: course.audience.clone(),
        category: course.category.map(|category| category.slug),
        weeks,
    })
}

impl CourseExport {
    /// What a learner would notice in the course, measured ([`quality::measure`]).
    pub fn quality(&self) -> quality::Report {
        let weeks: Vec<WeekText<'_>> = self
            .weeks
            .iter()
            .map(|week| WeekText {
                title: &week.title,
                overview: week.overview.as_deref(),
                units: week
                    .units
                    .iter()
                    .map(|unit| UnitText {
                        title: &unit.title,
                        article: unit.body.as_deref(),
                        quiz: unit.quiz.as_ref(),
                    })
                    .collect(),
            })
            .collect();
        quality::measure(&CourseText {
            title: &self.title,
            summary: &self.summary,
            // The tag was stored from a parsed language, so it parses again.
            language: Language::parse(&self.language).unwrap_or(Language::ENGLISH),
            weeks: &weeks,
        })
    }
}

/// The course as pretty JSON.
pub fn to_json(course: &CourseExport) -> String {
    serde_json::to_string_pretty(course).unwrap_or_default()
}

/// Writes `course.json` into `dir`; returns the file.
pub fn write_json(course: &CourseExport, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let path = dir.join("course.json");
    write(&path, &to_json(course))?;
    Ok(vec![path])
}

/// Writes the course as Markdown into `dir` (created if missing); returns the files written.
pub fn write_markdown(course: &CourseExport, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let mut written = Vec::new();
    let mut index = format!("# {}\n\n{}\n\n", course.title, course.summary);
    index.push_str("## What you will learn\n\n");
    for outcome in &course.outcomes {
        index.push_str(&format!("- {outcome}\n"));
    }
    index.push_str("\n## Syllabus\n");
    for week in &course.weeks {
        index.push_str(&format!("\n### Week {}: {}\n\n", week.number, week.title));
        if let Some(overview) = &week.overview {
            index.push_str(&format!("{overview}\n\n"));
        }
        for unit in &week.units {
            let name = unit_file_name(week.number, unit);
            let status = if unit.body.is_some() {
                String::new()
            } else {
                format!(" ({})", unit.status)
            };
            index.push_str(&format!(
                "- [{}.{} {}](units/{name}){status}",
                week.number, unit.number, unit.title
            ));
            if unit.quiz.is_some() {
                index.push_str(&format!(" · [quiz](quizzes/{name})"));
            }
            index.push('\n');
            if let Some(body) = &unit.body {
                let mut text = format!("# {}.{} {}\n\n", week.number, unit.number, unit.title);
                text.push_str(&format!("*Week {}: {}*\n\n", week.number, week.title));
                text.push_str(body);
                text.push('\n');
                written.push(write(&dir.join("units").join(&name), &text)?);
            }
            if let Some(quiz) = &unit.quiz {
                let text = quiz_markdown(
                    &format!("{}.{} {}", week.number, unit.number, unit.title),
                    quiz,
                );
                written.push(write(&dir.join("quizzes").join(&name), &text)?);
            }
        }
    }
    index.push_str(&format!(
        "\n---\n\nLanguage: {} · Level: {}\n\nCourse description: {}\n",
        course.language, course.level, course.description
    ));
    written.insert(0, write(&dir.join("index.md"), &index)?);
    Ok(written)
}

fn unit_file_name(week: i64, unit: &UnitExport) -> String {
    format!(
        "{week:02}-{:02}-{}.md",
        unit.number,
        lyceum_course::slugify(&unit.title)
    )
}

fn quiz_markdown(title: &str, quiz: &Quiz) -> String {
    let mut text = format!("# Quiz: {title}\n");
    for (n, question) in quiz.questions.iter().enumerate() {
        text.push_str(&format!("\n## {}. {}\n\n", n + 1, question.prompt));
        for (o, option) in question.options.iter().enumerate() {
            let letter = char::from(b'A' + o as u8);
            text.push_str(&format!("- {letter}. {option}\n"));
        }
        let answer = char::from(b'A' + question.answer as u8);
        text.push_str(&format!(
            "\n<details><summary>Answer</summary>\n\n{answer}. {}\n\n</details>\n",
            question.explanation
        ));
    }
    text
}

fn write(path: &Path, text: &str) -> Result<PathBuf, ExportError> {
    let fail = |source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)?;
    Ok(path.to_path_buf())
}

/// Whether every item of an exported course is written.
pub fn is_complete(course: &CourseExport) -> bool {
    course.weeks.iter().all(|week| {
        week.overview.is_some()
            && week
                .units
                .iter()
                .all(|unit| unit.status == Status::Ready.as_str() && unit.quiz.is_some())
    })
}
