//! Editing a drafted outline in the draft page's form: the form's fields from an outline, the outline
//! from the posted fields, its buttons that change the outline's shape, and its problems in words.

use std::collections::HashMap;

use lyceum_course::{Category, Outline, OutlineModule, OutlineUnit};

/// A week of a drafted outline in the form that edits it.
pub struct EditWeek {
    pub number: usize,
    pub title: String,
    pub units: Vec<EditUnit>,
}

/// A unit of a drafted outline in the form that edits it.
pub struct EditUnit {
    /// "1.2".
    pub label: String,
    /// The form field of its title; its objectives are in `{field}-objectives`.
    pub field: String,
    /// Its place, for the form's buttons: "1-2".
    pub place: String,
    pub title: String,
    pub objectives: Vec<String>,
}

pub fn edit_view(outline: &Outline) -> Vec<EditWeek> {
    outline
        .modules
        .iter()
        .enumerate()
        .map(|(w, module)| EditWeek {
            number: w + 1,
            title: module.title.clone(),
            units: module
                .units
                .iter()
                .enumerate()
                .map(|(u, unit)| EditUnit {
                    label: format!("{}.{}", w + 1, u + 1),
                    field: format!("unit-{}-{}", w + 1, u + 1),
                    place: format!("{}-{}", w + 1, u + 1),
                    title: unit.title.clone(),
                    objectives: unit.objectives.clone(),
                })
                .collect(),
        })
        .collect()
}

/// The outline as the person edited it. The form carries every title and each unit's objectives (one
/// a line) as `title`, `category` (a subject's slug, or empty), `week-N`, `unit-N-M` and
/// `unit-N-M-objectives`; a post without weeks (the drafted outline confirmed as it is) changes at most
/// the title and subject.
pub fn edited_outline(drafted: &Outline, fields: &HashMap<String, String>) -> Outline {
    let mut outline = drafted.clone();
    if let Some(title) = fields.get("title") {
        outline.title.clone_from(title);
    }
    // A subject the list does not hold (a stale or forged form) leaves the drafted one.
    match fields.get("category").map(String::as_str) {
        Some("") => outline.category = None,
        Some(slug) => {
            if let Some(category) = Category::from_slug(slug) {
                outline.category = Some(category);
            }
        }
        None => {}
    }
    if !fields.contains_key("week-1") {
        return outline;
    }
    outline.modules = (1..)
        .map_while(|w| {
            let title = fields.get(&format!("week-{w}"))?.clone();
            let units = (1..)
                .map_while(|u| {
                    let title = fields.get(&format!("unit-{w}-{u}"))?.clone();
                    let objectives = fields
                        .get(&format!("unit-{w}-{u}-objectives"))
                        .map(|text| {
                            text.lines()
                                .map(str::trim)
                                .filter(|line| !line.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(OutlineUnit { title, objectives })
                })
                .collect();
            Some(OutlineModule { title, units })
        })
        .collect();
    outline
}

/// A change to the outline's shape, asked for with one of the form's buttons: `add-week`,
/// `remove-week-N`, `up-week-N`, `add-unit-N`, `remove-unit-N-M`, `up-unit-N-M` (numbers from 1).
/// Returns false for anything else, such as `create`, or a change that does not apply (the last week
/// or unit is never removed).
pub fn reshape(outline: &mut Outline, action: &str) -> bool {
    let verb: Vec<&str> = action
        .split('-')
        .filter(|part| part.parse::<usize>().is_err())
        .collect();
    // From 1 in the form; 0 or garbage becomes an index that fits nothing.
    let numbers: Vec<usize> = action
        .split('-')
        .filter_map(|part| part.parse::<usize>().ok())
        .map(|n| n.checked_sub(1).unwrap_or(usize::MAX))
        .collect();
    let blank_unit = || OutlineUnit {
        title: String::new(),
        objectives: Vec::new(),
    };
    let weeks = &mut outline.modules;
    let units_of =
        |w: usize, weeks: &Vec<OutlineModule>| weeks.get(w).map_or(0, |week| week.units.len());
    match (verb.join("-").as_str(), numbers.as_slice()) {
        ("add-week", []) => weeks.push(OutlineModule {
            title: String::new(),
            units: vec![blank_unit()],
        }),
        ("remove-week", &[w]) if w < weeks.len() && weeks.len() > 1 => {
            weeks.remove(w);
        }
        ("up-week", &[w]) if (1..weeks.len()).contains(&w) => weeks.swap(w, w - 1),
        ("add-unit", &[w]) if w < weeks.len() => weeks[w].units.push(blank_unit()),
        ("remove-unit", &[w, u]) if u < units_of(w, weeks) && units_of(w, weeks) > 1 => {
            weeks[w].units.remove(u);
        }
        ("up-unit", &[w, u]) if (1..units_of(w, weeks)).contains(&u) => {
            weeks[w].units.swap(u, u - 1)
        }
        _ => return false,
    }
    true
}

/// A problem of an edited outline in the person's words: "Unit 1.2 title is empty".
pub fn problem_text(path: &str, message: &str) -> String {
    let numbers: Vec<usize> = path
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    let what = match (path, numbers.as_slice()) {
        ("title", _) => "Course title".to_owned(),
        (_, [w]) if path.ends_with(".title") => format!("Week {} title", w + 1),
        (_, [w, u]) if path.ends_with(".title") => format!("Unit {}.{} title", w + 1, u + 1),
        _ => path.to_owned(),
    };
    format!("{what} {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drafted() -> Outline {
        Outline {
            category: None,
            title: "Bridges".into(),
            summary: "How they stand.".into(),
            outcomes: vec!["Explain loads".into()],
            modules: (1..=2)
                .map(|w| OutlineModule {
                    title: format!("Week {w}"),
                    units: (1..=2)
                        .map(|u| OutlineUnit {
                            title: format!("Unit {w}.{u}"),
                            objectives: vec!["Do".into()],
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn any_posted_form_and_button_is_applied_or_ignored_never_a_panic(
            fields in proptest::collection::hash_map(
                proptest::prop_oneof![
                    proptest::prelude::Just("title".to_owned()),
                    "week-[0-9]{1,3}",
                    "unit-[0-9]{1,3}-[0-9]{1,3}",
                    "unit-[0-9]{1,3}-[0-9]{1,3}-objectives",
                    proptest::prelude::any::<String>(),
                ],
                proptest::prelude::any::<String>(),
                0..12,
            ),
            actions in proptest::collection::vec(
                proptest::prop_oneof![
                    "(add|remove|up)-(week|unit)(-[0-9]{1,20}){0,3}",
                    proptest::prelude::any::<String>(),
                ],
                0..8,
            ),
        ) {
            let mut outline = edited_outline(&drafted(), &fields);
            for action in &actions {
                let weeks = outline.modules.len();
                reshape(&mut outline, action);
                proptest::prop_assert!(outline.modules.len() >= weeks.min(1), "{action}");
            }
            let _ = outline.normalized().validate();
            let _ = problem_text(&actions.concat(), "is empty");
        }
    }
}
