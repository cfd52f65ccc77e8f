//! What the templates show of a course: its syllabus with links and each item's status in words.

use lyceum_store::{Course, CourseSummary, Maker, Module, Status, Unit, Visibility};

use crate::people::Standing;

/// What search engines and link previews get: the canonical address, a title and a description.
pub struct Meta {
    /// The page's canonical address.
    pub url: String,
    /// `website` or `article`.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// One or two sentences.
    pub description: String,
    /// Whether search engines are asked not to index it: a course not public.
    pub noindex: bool,
}

impl Meta {
    /// The meta of the page at `path` (from `/`) on the site at `public_url`.
    pub fn new(
        public_url: &str,
        path: &str,
        kind: &'static str,
        title: &str,
        description: &str,
    ) -> Self {
        Self {
            url: format!("{public_url}{path}"),
            kind,
            title: title.to_owned(),
            description: shorten(description, 200),
            noindex: false,
        }
    }

    /// The same, for a page of `course`: not indexed unless the course is public.
    pub fn of(mut self, course: &Course) -> Self {
        self.noindex = course.visibility != Visibility::Public || course.hidden_at.is_some();
        self
    }
}

/// At most `max` characters, cut at a word with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// A week in a syllabus.
pub struct WeekView {
    /// From 1.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Its page.
    pub href: String,
    /// Its units in order.
    pub units: Vec<UnitLink>,
}

/// A unit in a syllabus.
pub struct UnitLink {
    /// "1.2".
    pub label: String,
    /// Title.
    pub title: String,
    /// Its page.
    pub href: String,
    /// `waiting`, `writing`, `ready` or `failed`.
    pub status: &'static str,
    /// Whether this is the page being shown.
    pub current: bool,
    /// Whether the learner reading has done it.
    pub done: bool,
    /// The learner's best quiz score on it, "4 of 5", once they took its quiz.
    pub best: Option<String>,
}

/// Every subject as a choice in a form: slug, name, and whether it is `chosen`.
pub fn subject_choices(
    chosen: Option<lyceum_course::Category>,
) -> Vec<(&'static str, &'static str, bool)> {
    lyceum_course::CATEGORIES
        .iter()
        .map(|category| (category.slug, category.name, Some(*category) == chosen))
        .collect()
}

/// How a person reads an item's status.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pending => "waiting",
        Status::Generating => "writing",
        Status::Ready => "ready",
        Status::Failed => "failed",
    }
}

/// Who made a course, as its page says: a display name, "a former learner", or nothing when no one
/// signed in made it.
pub fn maker_name(maker: &Maker) -> Option<String> {
    match maker {
        Maker::Account { name, .. } => Some(name.clone()),
        Maker::Former => Some("a former learner".into()),
        Maker::Anonymous => None,
    }
}

/// How far a course's writing has got, in a few words: "14 of 40 parts written, 1 failed".
pub fn progress_text(summary: &CourseSummary) -> String {
    let failed = match summary.failed {
        0 => String::new(),
        n => format!(", {n} failed"),
    };
    if summary.ready == summary.items {
        format!("all {} parts written", summary.items)
    } else {
        format!(
            "{} of {} parts written{failed}",
            summary.ready, summary.items
        )
    }
}

/// The address of a course's page.
pub fn course_href(course: &Course) -> String {
    href(&course.slug, None, None)
}

/// The address of a week's page.
pub fn week_href(course: &Course, week: i64) -> String {
    href(&course.slug, Some(week), None)
}

/// The address of a unit's page.
pub fn unit_href(course: &Course, unit: &Unit) -> String {
    href(&course.slug, Some(unit.week), Some(unit.number))
}

/// The address of a course's page (no week), a week's (no unit) or a unit's.
pub fn href(slug: &str, week: Option<i64>, unit: Option<i64>) -> String {
    match (week, unit) {
        (None, _) => format!("/courses/{slug}"),
        (Some(week), None) => format!("/courses/{slug}/weeks/{week}"),
        (Some(week), Some(unit)) => format!("/courses/{slug}/weeks/{week}/units/{unit}"),
    }
}

/// The syllabus, with the unit `current` marked.
pub fn syllabus(
    course: &Course,
    modules: &[Module],
    units: &[Unit],
    current: Option<i64>,
) -> Vec<WeekView> {
    modules
        .iter()
        .map(|module| WeekView {
            number: module.number,
            title: module.title.clone(),
            href: week_href(course, module.number),
            units: units
                .iter()
                .filter(|unit| unit.week == module.number)
                .map(|unit| unit_link(course, unit, current))
                .collect(),
        })
        .collect()
}

/// A link to one unit.
pub fn unit_link(course: &Course, unit: &Unit, current: Option<i64>) -> UnitLink {
    UnitLink {
        label: format!("{}.{}", unit.week, unit.number),
        title: unit.title.clone(),
        href: unit_href(course, unit),
        status: status_label(unit.status),
        current: current == Some(unit.id),
        done: false,
        best: None,
    }
}

/// Marks in `weeks` the units the learner has done, and their best quiz scores (said to be on an
/// earlier version when the unit's quiz, whose version `quiz_version` gives, was written again since).
pub fn mark_standing(
    weeks: &mut [WeekView],
    units: &[Unit],
    standing: &Standing,
    quiz_version: impl Fn(i64) -> Option<String>,
) {
    for week in weeks {
        // The week's units in the order `syllabus` listed them.
        let ids = units.iter().filter(|unit| unit.week == week.number);
        for (link, unit) in week.units.iter_mut().zip(ids) {
            link.done = standing.done(unit.id).is_some();
            link.best = standing.best(unit.id).map(|best| {
                let earlier = quiz_version(unit.id).as_deref() != Some(best.quiz_version.as_str());
                let on = if earlier { " (earlier version)" } else { "" };
                format!("{} of {}{on}", best.score, best.total)
            });
        }
    }
}
