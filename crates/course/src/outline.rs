//! The syllabus: a course's title, summary and outcomes, and its weeks with their units. The model drafts
//! it, the person may edit it, and both versions pass the same checks before a course is made from it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// A course outline. Week `n` is `modules[n - 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outline {
    /// The course title.
    pub title: String,
    /// Two or three sentences saying what the course covers.
    pub summary: String,
    /// What a learner can do after the course.
    pub outcomes: Vec<String>,
    /// One module per week.
    pub modules: Vec<OutlineModule>,
}

/// One week of the outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineModule {
    /// The week's title.
    pub title: String,
    /// Its units, in order.
    pub units: Vec<OutlineUnit>,
}

/// One unit of the outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineUnit {
    /// The unit's title.
    pub title: String,
    /// What the learner will be able to do after it.
    pub objectives: Vec<String>,
}

/// Why an outline cannot be used: every problem found, each with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.problems.iter().map(|(path, message)| format!("{path} {message}")).collect::<Vec<_>>().join("; "))]
pub struct OutlineError {
    /// `(path, message)` pairs, e.g. `("modules[1].units[0].title", "is empty")`.
    pub problems: Vec<(String, String)>,
}

/// Limits that keep titles readable and prompts short.
pub(crate) const MAX_TITLE_CHARS: usize = 120;
const MAX_SUMMARY_CHARS: usize = 2000;
const MAX_ITEM_CHARS: usize = 300;
const MAX_OUTCOMES: usize = 8;
const MAX_OBJECTIVES: usize = 6;
/// Limits an edited outline must keep; the same bounds as a new course's input.
const MAX_MODULES: usize = 26;
const MAX_UNITS: usize = 6;

impl Outline {
    /// The same outline with surrounding whitespace trimmed everywhere, as it is stored.
    pub fn normalized(mut self) -> Self {
        fn trim(text: &mut String) {
            let trimmed = text.trim();
            if trimmed.len() != text.len() {
                *text = trimmed.to_owned();
            }
        }
        trim(&mut self.title);
        trim(&mut self.summary);
        self.outcomes.iter_mut().for_each(trim);
        for module in &mut self.modules {
            trim(&mut module.title);
            for unit in &mut module.units {
                trim(&mut unit.title);
                unit.objectives.iter_mut().for_each(trim);
            }
        }
        self
    }

    /// Checks the rules every outline follows, generated or edited: non-empty and bounded texts, 1–26
    /// weeks of 1–6 units, week titles distinct, unit titles distinct across the course.
    pub fn validate(&self) -> Result<(), OutlineError> {
        let mut problems = Problems::default();
        problems.text("title", &self.title, MAX_TITLE_CHARS);
        problems.text("summary", &self.summary, MAX_SUMMARY_CHARS);
        problems.list("outcomes", &self.outcomes, MAX_OUTCOMES);
        problems.count("modules", self.modules.len(), MAX_MODULES, "weeks");
        let mut module_titles = HashSet::new();
        let mut unit_titles = HashSet::new();
        for (m, module) in self.modules.iter().enumerate() {
            let path = format!("modules[{m}]");
            problems.text(&format!("{path}.title"), &module.title, MAX_TITLE_CHARS);
            if !module_titles.insert(module.title.to_lowercase()) && !module.title.is_empty() {
                problems.push(
                    format!("{path}.title"),
                    format!("repeats the week title \"{}\"", module.title),
                );
            }
            problems.count(
                &format!("{path}.units"),
                module.units.len(),
                MAX_UNITS,
                "units",
            );
            for (u, unit) in module.units.iter().enumerate() {
                let path = format!("{path}.units[{u}]");
                problems.text(&format!("{path}.title"), &unit.title, MAX_TITLE_CHARS);
                if !unit_titles.insert(unit.title.to_lowercase()) && !unit.title.is_empty() {
                    problems.push(
                        format!("{path}.title"),
                        format!("repeats the unit title \"{}\"", unit.title),
                    );
                }
                problems.list(
                    &format!("{path}.objectives"),
                    &unit.objectives,
                    MAX_OBJECTIVES,
                );
            }
        }
        problems.finish()
    }

    /// Checks [`Outline::validate`] and that the outline has exactly the weeks and units asked for.
    pub fn validate_counts(&self, weeks: usize, units_per_week: usize) -> Result<(), OutlineError> {
        let mut problems = Problems::default();
        if self.modules.len() != weeks {
            problems.push(
                "modules".into(),
                format!(
                    "has {} weeks; it must have exactly {weeks}",
                    self.modules.len()
                ),
            );
        }
        for (m, module) in self.modules.iter().enumerate() {
            if module.units.len() != units_per_week {
                problems.push(
                    format!("modules[{m}].units"),
                    format!(
                        "has {} units; every week must have exactly {units_per_week}",
                        module.units.len()
                    ),
                );
            }
        }
        if let Err(error) = self.validate() {
            problems.0.extend(error.problems);
        }
        problems.finish()
    }

    /// All units with their week and unit numbers (both from 1), in syllabus order.
    pub fn units(&self) -> impl Iterator<Item = (usize, usize, &OutlineUnit)> {
        self.modules.iter().enumerate().flat_map(|(m, module)| {
            module
                .units
                .iter()
                .enumerate()
                .map(move |(u, unit)| (m + 1, u + 1, unit))
        })
    }
}

/// The first step of drafting an outline: the course and its weeks, before their units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlinePlan {
    /// The course title.
    pub title: String,
    /// Two or three sentences.
    pub summary: String,
    /// What a learner can do after the course.
    pub outcomes: Vec<String>,
    /// One per week.
    pub weeks: Vec<PlannedWeek>,
}

/// A week of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWeek {
    /// The week's title.
    pub title: String,
    /// One sentence on what it covers; guides the planning of its units.
    pub focus: String,
}

/// Further weeks of a plan, as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWeeks {
    /// In order, after the weeks planned before.
    pub weeks: Vec<PlannedWeek>,
}

/// The units of one week, as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekUnits {
    /// In order.
    pub units: Vec<OutlineUnit>,
}

impl OutlinePlan {
    /// Checks the texts, that there are exactly `weeks` weeks, and that their titles differ.
    pub fn validate(&self, weeks: usize) -> Result<(), OutlineError> {
        let mut problems = Problems::default();
        problems.text("title", &self.title, MAX_TITLE_CHARS);
        problems.text("summary", &self.summary, MAX_SUMMARY_CHARS);
        problems.list("outcomes", &self.outcomes, MAX_OUTCOMES);
        if self.weeks.len() != weeks {
            problems.push(
                "weeks".into(),
                format!(
                    "has {} weeks; it must have exactly {weeks}",
                    self.weeks.len()
                ),
            );
        }
        let mut titles = HashSet::new();
        for (w, week) in self.weeks.iter().enumerate() {
            problems.text(&format!("weeks[{w}].title"), &week.title, MAX_TITLE_CHARS);
            let title = without_week_number(&week.title, w + 1);
            if !title.is_empty() && !titles.insert(title.to_lowercase()) {
                problems.push(
                    format!("weeks[{w}].title"),
                    format!("repeats the week title \"{title}\""),
                );
            }
        }
        problems.finish()
    }

    /// The outline made of this plan and each week's units, trimmed, without the "Week 3:" some models
    /// put before week titles (pages number the weeks themselves).
    pub fn into_outline(self, units: Vec<Vec<OutlineUnit>>) -> Outline {
        Outline {
            title: self.title,
            summary: self.summary,
            outcomes: self.outcomes,
            modules: self
                .weeks
                .into_iter()
                .zip(units)
                .enumerate()
                .map(|(n, (week, units))| OutlineModule {
                    title: without_week_number(&week.title, n + 1),
                    units,
                })
                .collect(),
        }
        .normalized()
    }
}

impl WeekUnits {
    /// Checks the texts, that there are exactly `count` units, and that no title repeats another of
    /// this week or one of `earlier`.
    pub fn validate(&self, count: usize, earlier: &[String]) -> Result<(), OutlineError> {
        let mut problems = Problems::default();
        if self.units.len() != count {
            problems.push(
                "units".into(),
                format!(
                    "has {} units; it must have exactly {count}",
                    self.units.len()
                ),
            );
        }
        let mut titles: HashSet<String> = earlier
            .iter()
            .map(|title| title.trim().to_lowercase())
            .collect();
        for (u, unit) in self.units.iter().enumerate() {
            let path = format!("units[{u}]");
            problems.text(&format!("{path}.title"), &unit.title, MAX_TITLE_CHARS);
            if !unit.title.trim().is_empty() && !titles.insert(unit.title.trim().to_lowercase()) {
                problems.push(
                    format!("{path}.title"),
                    format!("repeats the unit title \"{}\"", unit.title.trim()),
                );
            }
            problems.list(
                &format!("{path}.objectives"),
                &unit.objectives,
                MAX_OBJECTIVES,
            );
        }
        problems.finish()
    }
}

/// `"Week 3: Bread"` → `"Bread"`; titles without that prefix, or with nothing after it, are kept.
fn without_week_number(title: &str, week: usize) -> String {
    let trimmed = title.trim();
    let prefix = format!("week {week}");
    let rest = trimmed
        .get(..prefix.len())
        .filter(|start| start.eq_ignore_ascii_case(&prefix))
        .map(|_| trimmed[prefix.len()..].trim_start_matches([':', '-', '–', '.', ' ']));
    match rest {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => trimmed.to_owned(),
    }
}

#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn push(&mut self, path: String, message: String) {
        self.0.push((path, message));
    }

    fn text(&mut self, path: &str, text: &str, max: usize) {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            self.push(path.into(), "is empty".into());
        } else if chars > max {
            self.push(
                path.into(),
                format!("is {chars} characters long; the limit is {max}"),
            );
        }
    }

    fn list(&mut self, path: &str, items: &[String], max: usize) {
        self.count(path, items.len(), max, "items");
        for (i, item) in items.iter().enumerate() {
            self.text(&format!("{path}[{i}]"), item, MAX_ITEM_CHARS);
        }
    }

    fn count(&mut self, path: &str, len: usize, max: usize, what: &str) {
        if len == 0 {
            self.push(
                path.into(),
                format!("is empty; add at least one of the {what}"),
            );
        } else if len > max {
            self.push(path.into(), format!("has {len} {what}; the limit is {max}"));
        }
    }

    fn finish(self) -> Result<(), OutlineError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(OutlineError { problems: self.0 })
        }
    }
}

/// A URL-safe name made from a title: lowercase ASCII letters and digits joined by single hyphens, at
/// most 60 characters; `course` when the title has no ASCII letters or digits.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if slug.len() >= 60 {
                break;
            }
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "course".into()
    } else {
        slug.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn outline(weeks: usize, units: usize) -> Outline {
        Outline {
            title: "Roman history".into(),
            summary: "From the founding to the fall.".into(),
            outcomes: vec!["Explain the Republic".into()],
            modules: (1..=weeks)
                .map(|m| OutlineModule {
                    title: format!("Week {m}"),
                    units: (1..=units)
                        .map(|u| OutlineUnit {
                            title: format!("Unit {m}.{u}"),
                            objectives: vec![format!("Understand {m}.{u}")],
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_well_formed_outline_passes() {
        outline(2, 3).validate_counts(2, 3).unwrap();
        assert_eq!(outline(2, 3).units().count(), 6);
        assert_eq!(
            outline(2, 3).units().last().map(|(m, u, _)| (m, u)),
            Some((2, 3))
        );
    }

    #[test]
    fn wrong_counts_and_repeated_titles_are_all_reported_with_their_place() {
        let mut bad = outline(2, 3);
        bad.modules[1].units[2].title = "Unit 1.1".into();
        bad.modules[0].units.pop();
        bad.modules[1].title = " ".into();
        let error = bad.validate_counts(3, 3).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("modules has 2 weeks; it must have exactly 3"),
            "{text}"
        );
        assert!(text.contains("modules[0].units has 2 units"), "{text}");
        assert!(
            text.contains("modules[1].units[2].title repeats the unit title"),
            "{text}"
        );
        assert!(text.contains("modules[1].title is empty"), "{text}");
    }

    #[test]
    fn an_edited_outline_may_change_its_shape_within_the_limits() {
        let mut edited = outline(2, 3);
        edited.modules[0].units.truncate(1);
        edited.validate().unwrap();
        edited.modules[1].units.clear();
        assert!(
            edited
                .validate()
                .unwrap_err()
                .to_string()
                .contains("modules[1].units is empty")
        );
    }

    #[test]
    fn normalizing_trims_every_text() {
        let mut padded = outline(1, 1);
        padded.modules[0].units[0].title = "  Unit  ".into();
        assert_eq!(padded.normalized().modules[0].units[0].title, "Unit");
    }

    fn plan_of(titles: &[&str]) -> OutlinePlan {
        OutlinePlan {
            title: "Rome".into(),
            summary: "All of it.".into(),
            outcomes: vec!["Know Rome".into()],
            weeks: titles
                .iter()
                .map(|title| PlannedWeek {
                    title: (*title).into(),
                    focus: "Something.".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_plan_and_its_weeks_are_checked_step_by_step() {
        let plan = OutlinePlan {
            title: "Rome".into(),
            summary: "All of it.".into(),
            outcomes: vec!["Know Rome".into()],
            weeks: vec![
                PlannedWeek {
                    title: "Kings".into(),
                    focus: "The first kings.".into(),
                },
                PlannedWeek {
                    title: "kings ".into(),
                    focus: "Again.".into(),
                },
            ],
        };
        let text = plan.validate(3).unwrap_err().to_string();
        assert!(
            text.contains("weeks has 2 weeks; it must have exactly 3"),
            "{text}"
        );
        assert!(
            text.contains("weeks[1].title repeats the week title \"kings\""),
            "{text}"
        );

        let week = WeekUnits {
            units: vec![
                OutlineUnit {
                    title: "Romulus".into(),
                    objectives: vec!["Tell the myth".into()],
                },
                OutlineUnit {
                    title: "Remus".into(),
                    objectives: vec!["Tell the myth".into()],
                },
            ],
        };
        week.validate(2, &["Numa".into()]).unwrap();
        let text = week.validate(2, &["remus".into()]).unwrap_err().to_string();
        assert!(
            text.contains("units[1].title repeats the unit title \"Remus\""),
            "{text}"
        );

        let outline = plan.into_outline(vec![week.units.clone(), week.units]);
        assert_eq!(outline.modules.len(), 2);
        assert_eq!(without_week_number("Week 3: Bread", 3), "Bread");
        assert_eq!(without_week_number("Week 3", 3), "Week 3");
        assert_eq!(without_week_number("Weekend baking", 1), "Weekend baking");
        let mut numbered = plan_of(&["Week 1: Bread", "Bread"]);
        assert!(
            numbered
                .validate(2)
                .unwrap_err()
                .to_string()
                .contains("weeks[1].title repeats the week title \"Bread\"")
        );
        numbered.weeks[1].title = "Week 2: Butter".into();
        numbered.validate(2).unwrap();
        assert_eq!(outline.modules[1].units[0].title, "Romulus");
    }

    #[test]
    fn slugs_are_ascii_and_bounded() {
        assert_eq!(
            slugify("  Intro to C++: Templates & <T>!"),
            "intro-to-c-templates-t"
        );
        assert_eq!(slugify("日本語"), "course");
        assert!(slugify(&"a".repeat(100)).len() <= 60);
    }
}
