//! What a learner notices in a written course, measured: titles that are placeholders, numbered or
//! repeated; article headings that belong to another unit; articles that loop, mix scripts, are in
//! another language or carry the prompt's own instructions; quiz options that repeat or carry numbers,
//! and explanations that point at a position instead of an answer.
//!
//! [`measure`] reads a course and returns a [`Report`]: every finding with its place and the text that
//! caused it, and per-article figures. The same detectors refuse such text while a course is written
//! ([`is_placeholder_title`], [`is_numbered`], [`refers_to_position`]), so what is measured here and what
//! is refused there cannot disagree.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::{Language, Question, Quiz, prompts};

/// An article whose share of repeated 4-word sequences is above this reads as a loop.
pub const MAX_REPEATED_4GRAMS: f64 = 0.15;
/// An article with a larger share of letters from a script foreign to its language mixes scripts.
pub const MAX_FOREIGN_SCRIPT: f64 = 0.005;
/// An article of fewer words (of prose) teaches too little to be a unit; the prompt asks for 400 to 700.
pub const MIN_ARTICLE_WORDS: usize = 150;
/// An article may say what it covers in its introduction and what it covered at its end; more
/// sentences about itself than this describe the unit instead of teaching it.
pub const MAX_SELF_REFERENCES: usize = 2;
/// Words in a row an article or overview may share with the course summary; a longer run is the
/// summary copied, an introduction that restates the course instead of teaching its part.
pub const MAX_COPIED_WORDS: usize = 10;

/// A written course, as [`measure`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct CourseText<'a> {
    /// The course's title.
    pub title: &'a str,
    /// The course's summary, which no article should copy.
    pub summary: &'a str,
    /// The language it was asked for in.
    pub language: Language,
    /// Its weeks in order.
    pub weeks: &'a [WeekText<'a>],
}

/// A week of a [`CourseText`].
#[derive(Debug, Clone)]
pub struct WeekText<'a> {
    /// The week's title.
    pub title: &'a str,
    /// Its overview, when written.
    pub overview: Option<&'a str>,
    /// Its units in order.
    pub units: Vec<UnitText<'a>>,
}

/// A unit of a [`WeekText`].
#[derive(Debug, Clone)]
pub struct UnitText<'a> {
    /// The unit's title.
    pub title: &'a str,
    /// Its article, when written.
    pub article: Option<&'a str>,
    /// Its quiz, when written.
    pub quiz: Option<&'a Quiz>,
}

/// One thing a learner would notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A title that is no title: "Week 3", "Übung 2", "…".
    PlaceholderTitle,
    /// A title that carries numbering: "Unit 2: Cells", "1. Cells", "Foundation Week 1: Cells".
    NumberedTitle,
    /// A title equal to an earlier one once case, digits and punctuation are set aside.
    DuplicateTitle,
    /// A title that says one word twice: "Types and Types", "Day 2: Day 2".
    RepeatedWordInTitle,
    /// An article heading that names another unit, or numbers units of its own.
    OffScopeHeading,
    /// An article whose share of repeated 4-word sequences is over [`MAX_REPEATED_4GRAMS`].
    RepetitiveArticle,
    /// An article with more than [`MAX_FOREIGN_SCRIPT`] of its letters in a foreign script.
    MixedScript,
    /// An article identified as another language than the course's.
    WrongLanguage,
    /// An article or overview carrying the prompt's own instructions.
    PromptText,
    /// An article of fewer than [`MIN_ARTICLE_WORDS`] words.
    ShortArticle,
    /// A quiz option equal to another of its question once numbering, case and punctuation are set aside.
    DuplicateOption,
    /// A quiz option that starts with numbering: "3. Key takeaways", "B) Cells".
    NumberedOption,
    /// An explanation that names the answer's position ("The correct answer is 1") instead of its text.
    PositionalExplanation,
    /// A quiz option carrying the syntax it was written in: `Savings']}`, `["Income`.
    SyntaxInOption,
    /// A quiz option, of three words or more, that another option of its question starts with.
    StutteredOption,
    /// A question whose options are, but for one at most, an earlier question's.
    RecycledOptions,
    /// A correct option so much longer than the others that it gives itself away.
    GiveawayAnswer,
    /// A title that breaks off on a word that needs another after it: "Budgets and", "Types of".
    FragmentTitle,
    /// An article heading a learner reads as broken: "## ## Costs", "### ## 1.1", an empty one, or
    /// the prompt's own words ("Introduction paragraph", "Article").
    BrokenHeading,
    /// An article heading with nothing under it before the next heading of its rank.
    EmptySection,
    /// An article heading said twice in one article ("Key takeaways" twice).
    RepeatedHeading,
    /// An article that talks about itself ("This section will explain…") more than
    /// [`MAX_SELF_REFERENCES`] times instead of teaching.
    AboutItself,
    /// A quiz question that asks nothing: a statement without a question mark or an instruction.
    StatementQuestion,
    /// A quiz question, option or explanation holding a template's slot: "[question]", "{topic}".
    PlaceholderText,
    /// A correct option made of the question's own words, when no other option is ([`echoes_question`]).
    EchoedAnswer,
    /// An article or overview repeating more than [`MAX_COPIED_WORDS`] words in a row of the course summary.
    CopiedSummary,
    /// A quiz option that is the article's closing heading ("Key takeaways"), not an answer.
    HeadingOption,
    /// A quiz option that is no answer: a question ([`is_question`]), no words ([`lacks_words`]),
    /// words in a loop ([`loops`]) or its own question again ([`repeats_question`]).
    NoAnswerOption,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 28] = [
        Check::PlaceholderTitle,
        Check::NumberedTitle,
        Check::DuplicateTitle,
        Check::RepeatedWordInTitle,
        Check::OffScopeHeading,
        Check::RepetitiveArticle,
        Check::MixedScript,
        Check::WrongLanguage,
        Check::PromptText,
        Check::ShortArticle,
        Check::DuplicateOption,
        Check::NumberedOption,
        Check::PositionalExplanation,
        Check::SyntaxInOption,
        Check::StutteredOption,
        Check::RecycledOptions,
        Check::GiveawayAnswer,
        Check::FragmentTitle,
        Check::BrokenHeading,
        Check::EmptySection,
        Check::RepeatedHeading,
        Check::AboutItself,
        Check::StatementQuestion,
        Check::PlaceholderText,
        Check::EchoedAnswer,
        Check::CopiedSummary,
        Check::HeadingOption,
        Check::NoAnswerOption,
    ];

    /// Its name in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::PlaceholderTitle => "placeholder_title",
            Check::NumberedTitle => "numbered_title",
            Check::DuplicateTitle => "duplicate_title",
            Check::RepeatedWordInTitle => "repeated_word_in_title",
            Check::OffScopeHeading => "off_scope_heading",
            Check::RepetitiveArticle => "repetitive_article",
            Check::MixedScript => "mixed_script",
            Check::WrongLanguage => "wrong_language",
            Check::PromptText => "prompt_text",
            Check::ShortArticle => "short_article",
            Check::DuplicateOption => "duplicate_option",
            Check::NumberedOption => "numbered_option",
            Check::PositionalExplanation => "positional_explanation",
            Check::SyntaxInOption => "syntax_in_option",
            Check::StutteredOption => "stuttered_option",
            Check::RecycledOptions => "recycled_options",
            Check::GiveawayAnswer => "giveaway_answer",
            Check::FragmentTitle => "fragment_title",
            Check::BrokenHeading => "broken_heading",
            Check::EmptySection => "empty_section",
            Check::RepeatedHeading => "repeated_heading",
            Check::AboutItself => "about_itself",
            Check::StatementQuestion => "statement_question",
            Check::PlaceholderText => "placeholder_text",
            Check::EchoedAnswer => "echoed_answer",
            Check::CopiedSummary => "copied_summary",
            Check::HeadingOption => "heading_option",
            Check::NoAnswerOption => "no_answer_option",
        }
    }
}

/// A finding: which check, where ("week 2", "unit 1.3", "unit 1.3 question 2"), and the text at fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What was found.
    pub check: Check,
    /// Where.
    pub place: String,
    /// The text at fault, cut to 120 characters.
    pub text: String,
}

/// The figures of one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleFigures {
    /// "unit 1.3".
    pub place: String,
    /// Words of prose, code and formulas aside (characters, in scripts written without spaces).
    pub words: usize,
    /// Share of its 4-word sequences that occur more than once in it; a closing list of takeaways
    /// is measured apart (the larger share counts).
    pub repeated_4grams: f64,
    /// Share of its letters in a script foreign to the course's language.
    pub foreign_script: f64,
    /// The language it reads as (ISO 639-3), when that is clear.
    pub language: Option<&'static str>,
}

impl ArticleFigures {
    /// The figures of the article at `place` of a course in `language`.
    pub fn of(place: &str, article: &str, language: Language) -> Self {
        let read = prose(article);
        let words = tokens(&read);
        // A closing list of takeaways restates the article, as the unit prompt asks: it is measured
        // apart, since a summary repeats what came before it while a loop repeats itself.
        let (body, summary) = closing_summary(article);
        let repeated = |text: &str| repeated_4grams(&tokens(&prose(text)));
        Self {
            place: place.to_owned(),
            words: words.len(),
            repeated_4grams: repeated(body).max(repeated(summary)),
            foreign_script: foreign_script(&read, language),
            language: identify(&read),
        }
    }

    /// What is wrong with the article for a course in `language`: a loop, mixed scripts, another
    /// language. Each with a sentence saying what was measured.
    pub fn problems(&self, language: Language) -> Vec<(Check, String)> {
        let mut problems = Vec::new();
        if self.repeated_4grams > MAX_REPEATED_4GRAMS {
            problems.push((
                Check::RepetitiveArticle,
                format!(
                    "{:.0}% of its 4-word sequences repeat",
                    self.repeated_4grams * 100.0
                ),
            ));
        }
        if self.foreign_script > MAX_FOREIGN_SCRIPT {
            problems.push((
                Check::MixedScript,
                format!(
                    "{:.1}% of its letters are in a script foreign to {}",
                    self.foreign_script * 100.0,
                    language.name
                ),
            ));
        }
        if let (Some(found), Some(expected)) = (self.language, iso639_3(language))
            && !same_language(found, expected)
        {
            problems.push((
                Check::WrongLanguage,
                format!("reads as {found}, not {expected} ({})", language.name),
            ));
        }
        problems
    }
}

/// What is wrong with an article's form, each with the text at fault: broken headings
/// ([`is_broken_heading`]), a heading said twice, a heading with nothing under it, and more than
/// [`MAX_SELF_REFERENCES`] sentences about the article itself.
pub fn structure_problems(article: &str) -> Vec<(Check, String)> {
    let mut problems = Vec::new();
    for heading in headings(article) {
        if is_broken_heading(heading) {
            problems.push((Check::BrokenHeading, heading.to_owned()));
        }
    }
    for heading in repeated_headings(article) {
        problems.push((Check::RepeatedHeading, heading.to_owned()));
    }
    for heading in empty_sections(article) {
        problems.push((Check::EmptySection, heading.to_owned()));
    }
    let about_itself = self_references(article);
    if about_itself.len() > MAX_SELF_REFERENCES {
        let text = format!(
            "{} sentences such as \"{}\"",
            about_itself.len(),
            about_itself[0]
        );
        problems.push((Check::AboutItself, text));
    }
    problems
}

/// `article` without the headings that are broken while the text under them is fine, so that the
/// text is kept rather than written again: a heading that names a part of Lyceum's prompt ("Short
/// introduction paragraph") or nothing at all, whose text then belongs to the section before it, and
/// a heading with nothing under it (where an article was cut before another unit's heading, say).
pub fn without_stray_headings(article: &str) -> String {
    let mut text = article.trim().to_owned();
    // Dropping an empty section's heading may empty its parent: a few passes reach what is left.
    for _ in 0..4 {
        let lines: Vec<&str> = text.lines().collect();
        let stray = empty_heading_lines(&lines, |heading| {
            heading.is_empty() || PROMPT_HEADINGS.contains(&key(heading).as_str())
        });
        if stray.is_empty() {
            break;
        }
        let mut kept = Vec::with_capacity(lines.len());
        for (at, line) in lines.iter().enumerate() {
            let after_dropped_heading = at > 0 && stray.contains(&(at - 1));
            let blank_before = kept.last().is_none_or(|line: &&str| line.trim().is_empty());
            if stray.contains(&at)
                || (after_dropped_heading && blank_before && line.trim().is_empty())
            {
                continue;
            }
            kept.push(*line);
        }
        text = kept.join("\n").trim().to_owned();
    }
    text
}

/// Each line with whether it is outside code: a fence (```` ``` ```` or `~~~`) and the lines between
/// two fences are code.
pub(crate) fn outside_code<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, bool)> {
    let mut in_code = false;
    lines.into_iter().map(move |line| {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            return (line, false);
        }
        (line, !in_code)
    })
}

/// The indices of the heading lines with nothing under them, in order, and of those `absent` picks
/// (by the heading's text), which are passed over as if they were not there.
fn empty_heading_lines(lines: &[&str], absent: impl Fn(&str) -> bool) -> Vec<usize> {
    let mut empty = Vec::new();
    // The open heading's rank and line, until a line of content closes it.
    let mut open: Option<(usize, usize)> = None;
    for (at, (line, prose)) in outside_code(lines.iter().copied()).enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        let rank = trimmed.len() - trimmed.trim_start_matches('#').len();
        let rest = &trimmed[rank..];
        let is_heading =
            prose && (1..=6).contains(&rank) && (rest.is_empty() || rest.starts_with(' '));
        if !is_heading {
            open = None;
            continue;
        }
        let heading = rest.trim().trim_end_matches('#').trim();
        if absent(heading) {
            empty.push(at);
            continue;
        }
        if let Some((open_rank, open_at)) = open
            && rank <= open_rank
        {
            empty.push(open_at);
        }
        open = Some((rank, at));
    }
    empty.extend(open.map(|(_, at)| at));
    empty.sort_unstable();
    empty
}

/// How much an article says, as the number of different words of its prose (numbers aside). Of
/// two texts that both fall short, the one to keep: a loop of 400 words that changes one number per
/// sentence says less than 90 plain words.
pub fn different_words(article: &str) -> usize {
    tokens(&prose(article))
        .into_iter()
        .filter(|token| token.chars().any(char::is_alphabetic))
        .collect::<HashSet<_>>()
        .len()
}

/// The first run of more than [`MAX_COPIED_WORDS`] words of `source` that `text` repeats, in
/// lowercase: what a model copied from its prompt instead of writing.
pub fn copied_from(text: &str, source: &str) -> Option<String> {
    let source = tokens(source);
    let runs: HashSet<&[String]> = source.windows(MAX_COPIED_WORDS + 1).collect();
    if runs.is_empty() {
        return None;
    }
    tokens(&prose(text))
        .windows(MAX_COPIED_WORDS + 1)
        .find(|run| runs.contains(run))
        .map(|run| run.join(" "))
}

/// Why a written text should be written again, each reason a sentence: it loops, mixes scripts, is
/// in another language than `language` (see [`ArticleFigures::problems`]), repeats Lyceum's own
/// instructions, copies the course's `summary`, or has fewer than `min_words` words. None when it
/// can stay.
pub fn rewrite_reasons(
    article: &str,
    language: Language,
    min_words: usize,
    summary: &str,
) -> Vec<String> {
    let figures = ArticleFigures::of("", article, language);
    let mut reasons: Vec<String> = figures
        .problems(language)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    if let Some(marker) = instruction_marker(article) {
        reasons.push(format!("it repeats the instructions (\"{marker}\")"));
    }
    if let Some(run) = copied_from(article, summary) {
        reasons.push(format!(
            "it copies the course summary (\"{run}\"); teach this part in its own words"
        ));
    }
    if figures.words < min_words {
        reasons.push(format!(
            "it has {} words; at least {min_words} were wanted",
            figures.words
        ));
    }
    reasons
}

/// Why a unit's article should be written again: the [`rewrite_reasons`] of any text, and what is
/// wrong with its form ([`structure_problems`]), each a sentence.
pub fn article_rewrite_reasons(article: &str, language: Language, summary: &str) -> Vec<String> {
    let mut reasons = rewrite_reasons(article, language, MIN_ARTICLE_WORDS, summary);
    reasons.extend(
        structure_problems(article)
            .into_iter()
            .map(|(check, text)| match check {
                Check::BrokenHeading => format!("the heading \"{text}\" is no section title"),
                Check::RepeatedHeading => format!("the heading \"{text}\" comes twice"),
                Check::EmptySection => format!("the section \"{text}\" has nothing under it"),
                Check::AboutItself => {
                    format!("it talks about itself instead of teaching ({text})")
                }
                other => format!("{}: {text}", other.name()),
            }),
    );
    reasons
}

/// An option's text without the label a model put before it (`"3. Antigens"`, `"B) Antigens"`,
/// `"(c) Antigens"` → `"Antigens"`); `None` when it has no label. Options are shuffled and shown
/// without labels, so a label would be wrong.
pub fn without_option_label(option: &str) -> Option<&str> {
    let option = option.trim_start();
    let label_end = option.find(char::is_whitespace)?;
    let (label, rest) = option.split_at(label_end);
    let rest = rest.trim_start();
    let inner = label
        .strip_prefix('(')
        .and_then(|label| label.strip_suffix(')'))
        .or_else(|| label.strip_suffix(['.', ')', ':']))?;
    let is_label =
        (!inner.is_empty() && inner.len() <= 2 && inner.bytes().all(|b| b.is_ascii_digit()))
            || (inner.len() == 1
                && inner
                    .bytes()
                    .all(|b| matches!(b.to_ascii_lowercase(), b'a'..=b'e')));
    (is_label && !rest.is_empty()).then_some(rest)
}

/// The words of Lyceum's own instructions that `text` repeats, if any ([`prompts::INSTRUCTION_MARKERS`],
/// in any case): a model that copies its request into what a learner reads.
pub fn instruction_marker(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    prompts::INSTRUCTION_MARKERS
        .iter()
        .find(|marker| lower.contains(&marker.to_lowercase()))
        .copied()
}

/// Everything [`measure`] found in one course.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Titles looked at (weeks and units).
    pub titles: usize,
    /// Units, written or not.
    pub units: usize,
    /// Quizzes written.
    pub quizzes: usize,
    /// Quiz questions looked at.
    pub questions: usize,
    /// Each article's figures.
    pub articles: Vec<ArticleFigures>,
    /// Each finding.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings of `check` there are.
    pub fn count(&self, check: Check) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.check == check)
            .count()
    }

    /// The highest share of repeated 4-word sequences of any article.
    pub fn worst_repetition(&self) -> f64 {
        self.articles
            .iter()
            .map(|article| article.repeated_4grams)
            .fold(0.0, f64::max)
    }

    /// The mean share of repeated 4-word sequences over the articles (0 with none): how much the
    /// writing loops as a whole, where [`Report::worst_repetition`] shows its worst article.
    pub fn mean_repetition(&self) -> f64 {
        // Folded from 0.0: an empty `sum` of floats is -0.0, which prints as "-0%".
        let total = self
            .articles
            .iter()
            .map(|article| article.repeated_4grams)
            .fold(0.0, |total, share| total + share);
        total / self.articles.len().max(1) as f64
    }

    /// The highest share of foreign-script letters of any article.
    pub fn worst_foreign_script(&self) -> f64 {
        self.articles
            .iter()
            .map(|article| article.foreign_script)
            .fold(0.0, f64::max)
    }

    /// Words of the shortest, the mean and the longest article (zeros without articles).
    pub fn words(&self) -> (usize, usize, usize) {
        let words: Vec<usize> = self.articles.iter().map(|article| article.words).collect();
        let min = words.iter().copied().min().unwrap_or(0);
        let max = words.iter().copied().max().unwrap_or(0);
        let mean = words.iter().sum::<usize>() / words.len().max(1);
        (min, mean, max)
    }

    /// This report and `other` as one (for a total over several courses).
    pub fn merge(&mut self, other: Report) {
        self.titles += other.titles;
        self.units += other.units;
        self.quizzes += other.quizzes;
        self.questions += other.questions;
        self.articles.extend(other.articles);
        self.findings.extend(other.findings);
    }
}

/// Measures a written course.
pub fn measure(course: &CourseText<'_>) -> Report {
    let mut report = Report::default();
    let mut seen = HashSet::new();
    let titles: Vec<(usize, usize, &str)> = units(course)
        .map(|(week, number, unit)| (week, number, unit.title))
        .collect();
    report.title("course", course.title, &mut seen);
    for (w, week) in course.weeks.iter().enumerate() {
        let place = format!("week {}", w + 1);
        report.title(&place, week.title, &mut seen);
        if let Some(overview) = week.overview {
            report.prompt_text(&place, overview);
            report.copied(&place, overview, course.summary);
        }
    }
    for (week, number, unit) in units(course) {
        let place = format!("unit {week}.{number}");
        report.title(&place, unit.title, &mut seen);
        report.units += 1;
        if let Some(article) = unit.article {
            let others = titles
                .iter()
                .filter(|(w, n, _)| (*w, *n) != (week, number))
                .map(|(_, _, title)| *title);
            let scope = Scope::new(week, number, unit.title, others);
            report.article(&place, article, course.language, &scope);
            report.copied(&place, article, course.summary);
        }
        if let Some(quiz) = unit.quiz {
            report.quiz(&place, quiz);
        }
    }
    report
}

fn units<'c>(course: &'c CourseText<'_>) -> impl Iterator<Item = (usize, usize, &'c UnitText<'c>)> {
    course.weeks.iter().enumerate().flat_map(|(w, week)| {
        week.units
            .iter()
            .enumerate()
            .map(move |(u, unit)| (w + 1, u + 1, unit))
    })
}

impl Report {
    fn find(&mut self, check: Check, place: &str, text: &str) {
        self.findings.push(Finding {
            check,
            place: place.to_owned(),
            text: excerpt(text, FINDING_CHARS),
        });
    }

    fn title(&mut self, place: &str, title: &str, seen: &mut HashSet<String>) {
        self.titles += 1;
        if is_placeholder_title(title) {
            self.find(Check::PlaceholderTitle, place, title);
        } else if is_numbered_title(title) {
            self.find(Check::NumberedTitle, place, title);
        }
        let key = key(title);
        if !key.is_empty() && !seen.insert(key) {
            self.find(Check::DuplicateTitle, place, title);
        }
        if repeats_a_word(title) {
            self.find(Check::RepeatedWordInTitle, place, title);
        }
        if dangling_word(title).is_some() {
            self.find(Check::FragmentTitle, place, title);
        }
    }

    fn copied(&mut self, place: &str, text: &str, summary: &str) {
        if let Some(run) = copied_from(text, summary) {
            self.find(Check::CopiedSummary, place, &run);
        }
    }

    fn prompt_text(&mut self, place: &str, text: &str) {
        if let Some(marker) = instruction_marker(text) {
            self.find(Check::PromptText, place, marker);
        }
    }

    fn article(&mut self, place: &str, article: &str, language: Language, scope: &Scope) {
        // Where the writer would have ended the text.
        let mut at = 0;
        for line in article.split_inclusive('\n') {
            if scope.ends_text(line.trim_end(), &article[..at]) {
                let heading = line.trim().trim_start_matches('#').trim();
                self.find(Check::OffScopeHeading, place, heading);
            }
            at += line.len();
        }
        for (check, text) in structure_problems(article) {
            self.find(check, place, &text);
        }
        self.prompt_text(place, article);
        let figures = ArticleFigures::of(place, article, language);
        for (check, text) in figures.problems(language) {
            self.find(check, place, &text);
        }
        if figures.words < MIN_ARTICLE_WORDS {
            let text = format!("{} words", figures.words);
            self.find(Check::ShortArticle, place, &text);
        }
        self.articles.push(figures);
    }

    fn quiz(&mut self, place: &str, quiz: &Quiz) {
        self.quizzes += 1;
        for (q, question) in quiz.questions.iter().enumerate() {
            self.questions += 1;
            let place = format!("{place} question {}", q + 1);
            let mut seen = HashSet::new();
            for option in &question.options {
                if is_numbered(option) {
                    self.find(Check::NumberedOption, &place, option);
                }
                if carries_syntax(option) {
                    self.find(Check::SyntaxInOption, &place, option);
                }
                if !seen.insert(option_key(option)) {
                    self.find(Check::DuplicateOption, &place, option);
                }
                if crate::prompts::is_takeaways_heading(option) {
                    self.find(Check::HeadingOption, &place, option);
                }
                if is_question(option)
                    || lacks_words(option)
                    || loops(option)
                    || repeats_question(option, &question.prompt)
                {
                    self.find(Check::NoAnswerOption, &place, option);
                }
            }
            if let Some(option) = stuttered_option(&question.options) {
                self.find(Check::StutteredOption, &place, option);
            }
            if recycled_from(quiz, q).is_some() {
                self.find(
                    Check::RecycledOptions,
                    &place,
                    &question.options.join(" | "),
                );
            }
            if gives_answer_away(question) {
                let answer = &question.options[question.answer];
                self.find(Check::GiveawayAnswer, &place, answer);
            }
            if refers_to_position(&question.explanation, &question.options) {
                self.find(Check::PositionalExplanation, &place, &question.explanation);
            }
            if asks_nothing(&question.prompt) {
                self.find(Check::StatementQuestion, &place, &question.prompt);
            }
            if let Some(slot) = question_texts(question).find_map(template_slot) {
                self.find(Check::PlaceholderText, &place, slot);
            }
            if echoes_question(question) {
                let answer = &question.options[question.answer];
                self.find(Check::EchoedAnswer, &place, answer);
            }
        }
    }
}

/// What a unit's article may have headings for: its own subject, not another unit of the course.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The unit's week and its number in the week, from 1.
    week: usize,
    number: usize,
    /// The other units' titles as [`key`]s, those long enough to tell apart from a common phrase.
    others: Vec<String>,
}

impl Scope {
    /// The scope of unit `week`.`number` titled `own` in a course whose other units have
    /// `other_titles`. A title that reads as its own once digits are set aside ("Cells 1" and
    /// "Cells 2") names no other unit.
    pub fn new<'t>(
        week: usize,
        number: usize,
        own: &str,
        other_titles: impl IntoIterator<Item = &'t str>,
    ) -> Self {
        let own = key(own);
        Self {
            week,
            number,
            others: other_titles
                .into_iter()
                .map(key)
                .filter(|key| key.len() >= 8 && !own.contains(key.as_str()))
                .collect(),
        }
    }

    /// Whether a heading (its text, or a whole `#` line) leaves the unit: it is another unit's title
    /// (after numbering: "1.2 Cells", "Unit 1.2: Cells"), or numbers another part of the course
    /// ("Unit 2.1" in unit 1.1, "Woche 2", "Leçon 3"). The unit's own heading ("Unit 1.1: Cells",
    /// "Week 1") and its sections ("Step 1: Install Python", "Exercise 2") stay.
    pub fn is_outside(&self, heading: &str) -> bool {
        let heading = heading.trim().trim_start_matches('#').trim();
        let heading_key = key(heading);
        let words = words(heading);
        let unit = format!("{}.{}", self.week, self.number);
        let own = [unit.clone(), self.week.to_string(), self.number.to_string()];
        let is_own = |number: &str| {
            let number = number.trim_end_matches('.');
            // "Unit 1.2.3" in unit 1.2 is one of its own sections.
            own.iter().any(|own| own == number) || number.starts_with(&format!("{unit}."))
        };
        // "Section 1.1.2: Movable type" in unit 1.1 numbers itself as one of the unit's own
        // sections, whatever its title says.
        let numbered_own = match words.as_slice() {
            [part, number, ..] if STRUCTURE_WORDS.contains(&part.as_str()) => Some(number),
            [number, ..] => Some(number),
            [] => None,
        }
        .map(|number| number.trim_end_matches('.'))
        .is_some_and(|number| number == unit || number.starts_with(&format!("{unit}.")));
        if numbered_own {
            return false;
        }
        let numbers_another_part = matches!(words.as_slice(), [part, number, ..]
            if COURSE_PARTS.contains(&part.as_str())
                && (is_number(number) || is_roman(number))
                && !is_own(number));
        // "Unit 1.2: Cells" is titled "Cells"; "Cells in plants" and "Why cells divide" are sections
        // on a subject near another unit's, which the unit may well need.
        let title_key = match words.as_slice() {
            [part, number, ..] if STRUCTURE_WORDS.contains(&part.as_str()) && is_number(number) => {
                heading_key
                    .strip_prefix(part.as_str())
                    .map_or(heading_key.clone(), |rest| rest.trim_start().to_owned())
            }
            _ => heading_key,
        };
        numbers_another_part || self.others.contains(&title_key)
    }

    /// Whether a line of Markdown is a heading outside the unit (see [`Scope::is_outside`]).
    pub fn is_outside_line(&self, line: &str) -> bool {
        let line = line.trim_start();
        line.starts_with('#')
            && line.trim_start_matches('#').starts_with(' ')
            && self.is_outside(line)
    }

    /// Whether the unit's text, `before` so far, ends before `line`: a heading outside the unit
    /// ([`Scope::is_outside_line`]) that is no deeper than every heading before it. A deeper one
    /// ("#### 3. Print in communication" under "### Effects of print") is a part of a section of
    /// the unit's own, whatever its title says; the model that goes on with the next unit starts it
    /// at the top. A text never ends before it has begun: a model that opens with its week's title
    /// goes on to write the unit under it.
    pub fn ends_text(&self, line: &str, before: &str) -> bool {
        if before.trim().is_empty() {
            return false;
        }
        let line = line.trim_start();
        let rank = line.len() - line.trim_start_matches('#').len();
        let top = ranked_headings(before)
            .into_iter()
            .map(|(rank, _)| rank)
            .min()
            .unwrap_or(usize::MAX);
        rank <= top && self.is_outside_line(line)
    }
}

/// The [`STRUCTURE_WORDS`] that name a part of a whole course (a week, a unit, a lesson), not a
/// section of one unit (a step, an exercise, a part).
const COURSE_PARTS: &[&str] = &[
    "week",
    "unit",
    "lesson",
    "module",
    "chapter",
    "session",
    "woche",
    "einheit",
    "lerneinheit",
    "lektion",
    "modul",
    "kapitel",
    "semaine",
    "unité",
    "leçon",
    "chapitre",
    "séance",
    "semana",
    "unidad",
    "lección",
    "módulo",
    "capítulo",
    "sesión",
    "unidade",
    "lição",
    "aula",
    "settimana",
    "unità",
    "lezione",
    "modulo",
    "capitolo",
    "неделя",
    "урок",
    "модуль",
    "глава",
    "занятие",
];

/// Words that name a part of a course rather than its subject, in the languages a placeholder was seen
/// in and their neighbours: "Week 3", "Übung 2", "Leçon 4" are no titles.
const STRUCTURE_WORDS: &[&str] = &[
    // English
    "week",
    "unit",
    "lesson",
    "module",
    "part",
    "chapter",
    "section",
    "topic",
    "day",
    "exercise",
    "session",
    "step",
    "title",
    "untitled",
    "placeholder",
    "tbd",
    "todo",
    // German
    "woche",
    "einheit",
    "lerneinheit",
    "lektion",
    "modul",
    "teil",
    "kapitel",
    "abschnitt",
    "thema",
    "tag",
    "übung",
    "titel",
    // French
    "semaine",
    "unité",
    "leçon",
    "partie",
    "chapitre",
    "séance",
    "jour",
    "exercice",
    "étape",
    "sujet",
    "titre",
    // Spanish, Portuguese, Italian
    "semana",
    "unidad",
    "lección",
    "módulo",
    "parte",
    "capítulo",
    "sección",
    "tema",
    "día",
    "ejercicio",
    "sesión",
    "título",
    "unidade",
    "lição",
    "aula",
    "dia",
    "exercício",
    "settimana",
    "unità",
    "lezione",
    "modulo",
    "capitolo",
    "giorno",
    "esercizio",
    "titolo",
    // Russian
    "неделя",
    "урок",
    "модуль",
    "часть",
    "глава",
    "раздел",
    "тема",
    "день",
    "упражнение",
    "занятие",
];

/// A title that is no title: only words such as "Week", "Unit", "Übung" and numbers ("Week 3",
/// "Übung 2", "Title"), an ellipsis standing for what was not written, or a template's slot
/// ([`template_slot`]: "[Unit title]", "Cells and [topic]").
pub fn is_placeholder_title(title: &str) -> bool {
    let words = words(title);
    title.contains("...")
        || title.contains('…')
        || template_slot(title).is_some()
        || words.iter().all(|word| {
            is_number(word) || is_roman(word) || STRUCTURE_WORDS.contains(&word.as_str())
        })
}

/// Words a template names its slots with, beside those of [`STRUCTURE_WORDS`]: "[Your answer]",
/// "{Insert example}".
const SLOT_WORDS: &[&str] = &[
    "question",
    "answer",
    "option",
    "choice",
    "explanation",
    "example",
    "name",
    "text",
    "insert",
    "your",
    "concept",
    "term",
    "definition",
    "fact",
    "correct",
    "wrong",
];

/// The first slot of a template left unfilled in `text`: a word or two in square or curly brackets
/// that stands for what should have been written ("[question]", "[answer1]", "{topic}", "[Your
/// answer]"). A model that copies the shape of an example instead of writing leaves these, and a
/// learner reads them as a broken page. Brackets that hold content are left alone: a citation
/// ("[1]"), an interval ("[0, 1]"), a set ("{x | x > 0}"), a concentration ("[H+]", "[A]"), a
/// Markdown link ("[cells](…)"), an index after a name ("scores[index]") and code between backticks.
pub fn template_slot(text: &str) -> Option<&str> {
    // Outside code: the even pieces between backticks.
    text.split('`').step_by(2).find_map(|mut rest| {
        while let Some(open) = rest.find(['[', '{']) {
            let close = if rest[open..].starts_with('[') {
                ']'
            } else {
                '}'
            };
            let after = &rest[open + 1..];
            let len = after.find(close)?;
            let inner = after[..len].trim();
            let link = after[len + 1..].starts_with('(');
            let indexes = rest[..open]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !link && !indexes && is_slot_name(inner) {
                return Some(&rest[open..open + len + 2]);
            }
            rest = after;
        }
        None
    })
}

/// The name of a template's slot: up to three words of letters, digits and underscores, starting with
/// a letter, either one lowercase word of three characters or more ("question", "answer1",
/// "key_term") or holding a word that names a slot ("Your answer", "Unit title"). Other words in
/// brackets are content a model bracketed ("[a spreadsheet]"): [`without_brackets`] frees them.
fn is_slot_name(inner: &str) -> bool {
    let shaped = inner.starts_with(char::is_alphabetic)
        && inner
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ' ')
        && inner.split_whitespace().count() <= 3;
    if !shaped {
        return false;
    }
    let named = inner.split([' ', '_']).any(|word| {
        let word = word
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_lowercase();
        SLOT_WORDS.contains(&word.as_str()) || STRUCTURE_WORDS.contains(&word.as_str())
    });
    named
        || (inner.chars().count() >= 3
            && !inner.contains(' ')
            && !inner.chars().any(char::is_uppercase))
}

/// An option a model wrapped whole in brackets, as its own text ("[a spreadsheet]" → "a
/// spreadsheet"); none for anything else, a template's slot included ("[answer1]" stays, to be
/// refused).
pub fn without_brackets(option: &str) -> Option<&str> {
    let option = option.trim();
    let inner = option
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))?
        .trim();
    let plain = !inner.is_empty() && !inner.contains(['[', ']']);
    (plain && template_slot(option).is_none()).then_some(inner)
}

/// A title or option that starts with numbering: "1. Cells", "2) Cells", "B) Cells", "1.2 Cells",
/// "Unit 2: Cells", "Teil 1.1 Cells", "Part IV – Cells". Pages number weeks, units and options
/// themselves.
pub fn is_numbered(text: &str) -> bool {
    let text = text.trim_start_matches(['#', '*', '(', '[', ' ']);
    let first: String = text.chars().take_while(|c| !c.is_whitespace()).collect();
    let rest = text[first.len()..].trim_start();
    let first_word = first.trim_end_matches(|c: char| !c.is_alphanumeric());
    // "1." "1)" "1:" "1.2" "3 - …": a number marked as a label. A bare count ("42") or a year ("1984 and
    // the surveillance state", "1914: the war begins") is a title's own.
    // "1.2 Cells" is numbered like a section; "2.5 kilograms" or a bare "1.2" is a value.
    if is_number(first_word) && (first_word.len() <= 2 || first_word.contains('.')) {
        let marked = first.len() > first_word.len()
            || (first_word.contains('.') && rest.starts_with(char::is_uppercase));
        return marked || rest.starts_with(['-', '–', '—', ':']);
    }
    // "B) Cells", "c. Cells": a single option letter marked as a label.
    let mut letter = first.chars();
    if let (Some(label), Some(mark), None) = (letter.next(), letter.next(), letter.next())
        && matches!(label.to_ascii_lowercase(), 'a'..='e')
        && matches!(mark, ')' | '.' | ':')
        && !rest.is_empty()
    {
        return true;
    }
    // "Unit 2: Cells", "Week 3 - Cells", "Part IV: Cells".
    let words = words(text);
    matches!(words.as_slice(), [structure, number, ..]
        if STRUCTURE_WORDS.contains(&structure.as_str()) && (is_number(number) || is_roman(number)))
}

/// A title that carries numbering: before it ([`is_numbered`]) or inside it, a week, unit or part
/// label followed by a colon or dash ("Foundation Week 1: Fermentation basics", "Bread – Unit 2 –
/// Yeast"). A number that belongs to the subject ("World War 2: the home front", "Apollo 11") is
/// the title's own.
pub fn is_numbered_title(title: &str) -> bool {
    if is_numbered(title) {
        return true;
    }
    let tokens: Vec<&str> = title.split_whitespace().collect();
    tokens.windows(2).enumerate().any(|(index, pair)| {
        let structure = pair[0].to_lowercase();
        let number = pair[1].trim_end_matches([':', '-', '–', '—']);
        let marked = pair[1].len() > number.len()
            || tokens
                .get(index + 2)
                .is_some_and(|next| matches!(*next, "-" | "–" | "—" | ":"));
        let number = number.to_lowercase();
        STRUCTURE_WORDS.contains(&structure.as_str())
            && (is_number(&number) || is_roman(&number))
            && marked
    })
}

/// A numbered title ([`is_numbered_title`]) without its numbering: the text after the label's
/// colon or dash ("Week 1: Fundamentals" → "Fundamentals", "Foundation Week 1 – Yeast" → "Yeast"),
/// else after the leading numbers and structure words ("1. Cells", "Week 3 Cells" → "Cells"). `None`
/// for a title without numbering, or when nothing else is left.
pub fn without_title_numbering(title: &str) -> Option<String> {
    if !is_numbered_title(title) {
        return None;
    }
    let after_label = [": ", " - ", " – ", " — "]
        .iter()
        .filter_map(|mark| title.split_once(mark))
        .filter(|(label, _)| is_numbered_title(&format!("{label}:")))
        .map(|(_, rest)| rest)
        .max_by_key(|rest| rest.len());
    let rest = match after_label {
        Some(rest) => rest.trim().to_owned(),
        None => {
            let label = |token: &&str| {
                let word = token
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                word.is_empty()
                    || is_number(&word)
                    || is_roman(&word)
                    || STRUCTURE_WORDS.contains(&word.as_str())
            };
            let tokens: Vec<&str> = title.split_whitespace().skip_while(label).collect();
            tokens.join(" ")
        }
    };
    (!rest.is_empty() && !is_numbered_title(&rest)).then_some(rest)
}

/// An explanation that names the correct option's position instead of its text: "The correct answer
/// is 1", "Option B is right", "(c) is correct", "the second option", "Antwort 3", "la respuesta 2".
/// Options are shuffled after they are written, so a position the model names is wrong as often as not.
/// A number or letter that is itself one of the `options` ("The answer is 4: the heart has four
/// chambers") is the answer's text, not its position.
pub fn refers_to_position(explanation: &str, options: &[String]) -> bool {
    let is_option = |label: &str| options.iter().any(|option| key_or_number(option) == label);
    const POSITION_NOUNS: &[&str] = &[
        "answer",
        "option",
        "choice",
        "antwort",
        "réponse",
        "respuesta",
        "opción",
        "resposta",
        "opção",
        "risposta",
        "opzione",
        "ответ",
        "вариант",
    ];
    const ORDINALS: &[&str] = &["first", "second", "third", "fourth", "last"];
    let raw: Vec<&str> = explanation.split_whitespace().collect();
    let clean: Vec<String> = raw
        .iter()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    for (i, word) in clean.iter().enumerate() {
        if ORDINALS.contains(&word.as_str())
            && clean
                .get(i + 1)
                .is_some_and(|next| POSITION_NOUNS.contains(&next.as_str()))
        {
            return true;
        }
        if !POSITION_NOUNS.contains(&word.as_str()) {
            continue;
        }
        // The next few words: "answer is 1", "option (b)", "respuesta correcta es la 2".
        for j in i + 1..(i + 5).min(clean.len()) {
            let label = &clean[j];
            if is_option(label) {
                continue;
            }
            if label.len() == 1 && label.chars().all(|c| matches!(c, '1'..='5')) {
                return true;
            }
            let marked = raw[j] != label.as_str() || j + 1 == raw.len();
            if label.len() == 1 && matches!(label.as_str(), "a" | "b" | "c" | "d") && marked {
                return true;
            }
        }
    }
    // "(c) is correct", "B) is the right answer".
    raw.iter().any(|word| {
        let inner = word.trim_start_matches('(');
        inner.len() == 2
            && inner.ends_with(')')
            && inner.starts_with(|c: char| matches!(c.to_ascii_lowercase(), 'a'..='d' | '1'..='5'))
            && !is_option(&inner[..1].to_lowercase())
    })
}

/// What two options of a question are compared by: without numbering before them, lowercase letters
/// and digits with single spaces, without a leading article and with plural endings set aside ("3. Key
/// takeaways" and "key takeaway!" are the same, as are "The thyroid glands" and "thyroid gland";
/// "1914" and "1918" differ). A learner reads options that differ only so as the same answer twice.
pub fn option_key(option: &str) -> String {
    let trimmed = option.trim_start_matches(['#', '*', '(', '[', ' ']);
    let text = if is_numbered(trimmed) {
        trimmed
            .split_once(char::is_whitespace)
            .map_or(trimmed, |(_, rest)| rest)
    } else {
        trimmed
    };
    let text = normalized(text, char::is_alphanumeric);
    let mut words: Vec<&str> = text.split(' ').collect();
    if words.len() > 1 && matches!(words[0], "the" | "a" | "an") {
        words.remove(0);
    }
    words
        .into_iter()
        .map(singular)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A lowercase word without its plural ending, for comparing ("glands" → "gland", "bodies" →
/// "body", "boxes" → "box"); words of three letters or fewer and those ending in "ss", "us" or "is"
/// ("glass", "virus", "analysis") are kept whole. Both words compared go through it, so a wrong stem
/// ("diabete") does no harm.
fn singular(word: &str) -> String {
    if word.chars().count() <= 3 || ["ss", "us", "is"].iter().any(|end| word.ends_with(end)) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    if ["sses", "xes", "ches", "shes", "zes"]
        .iter()
        .any(|end| word.ends_with(end))
    {
        return word[..word.len() - 2].to_owned();
    }
    word.strip_suffix('s').unwrap_or(word).to_owned()
}

/// An option that carries the syntax of the JSON it was written in: a brace, a bracket next to a
/// quote, a quote before a colon, quoted items of a list (`'Rent', 'Food'`), or a bracket left open
/// or closed alone (`Savings']}`, `["Income`, `answer": "Debt`, `[0`). A learner reads these as a
/// broken page. Brackets that pair up ("the interval [0, 1)", "f(x)") are an option's own.
pub fn carries_syntax(option: &str) -> bool {
    const DEBRIS: &[&str] = &[
        "[\"", "\"]", "['", "']", "\":", "':", "\\\"", "', '", "\", \"",
    ];
    let count = |brackets: [char; 2]| option.matches(brackets).count();
    option.contains(['{', '}'])
        || DEBRIS.iter().any(|debris| option.contains(debris))
        || count(['(', '[']) != count([')', ']'])
}

/// A question that carries the end of the JSON list it was written in (`…overspending.', 'Adjusting
/// your budget'], 4: wrong]}`): the model wrote its answer's structure into the question. Quoted
/// words ("'frío', 'caliente' or 'tibio'?") and brackets of the subject stay.
pub fn prompt_carries_syntax(prompt: &str) -> bool {
    ["]}", "'], ", "\"], "]
        .iter()
        .any(|debris| prompt.contains(debris))
}

/// An option a learner cannot read as an answer: no letter or digit at all ("—", "###") or a run
/// of twelve digits or more ("#147246125023837098"), which no answer in words carries; years,
/// prices and "1,000,000" stay.
pub fn lacks_words(option: &str) -> bool {
    let longest_digits = option
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    !option.chars().any(char::is_alphanumeric) || longest_digits >= 12
}

/// An option that is itself a question ("How does it form?"): a heading of the article or a
/// question to the learner copied where an answer belongs.
pub fn is_question(option: &str) -> bool {
    option.trim_end().ends_with(['?', '？', '؟'])
}

/// An option that holds its whole question ("'Why do bees swarm?', please explain"): the question
/// copied where an answer belongs, whatever else it adds. Questions of fewer than three words are
/// left alone: an answer may well say them.
pub fn repeats_question(option: &str, question: &str) -> bool {
    let asked = words(question);
    asked.len() >= 3
        && words(option)
            .windows(asked.len())
            .any(|run| run == asked.as_slice())
}

/// An option that says the same three words again and again ("set a budget, set a budget, set a
/// budget"): a model caught in a loop. Short options never count: "step by step" is one phrase.
pub fn loops(option: &str) -> bool {
    let words = words(option);
    let mut seen = HashSet::new();
    words.len() >= 9 && words.windows(3).any(|three| !seen.insert(three.to_vec()))
}

/// A quiz question that asks nothing: no question mark and no instruction ("Choose…", "Nenne…",
/// "Complete: …"), such as "Budgeting is a plan for your money." A learner cannot tell what to answer.
pub fn asks_nothing(prompt: &str) -> bool {
    const INSTRUCTIONS: &[&str] = &[
        "choose",
        "select",
        "pick",
        "identify",
        "name",
        "complete",
        "fill",
        "match",
        "give",
        "find",
        "state",
        "list",
        "order",
        "arrange",
        "calculate",
        "compute",
        "determine",
        "estimate",
        "wähle",
        "wählen",
        "wählt",
        "nenne",
        "nennen",
        "bestimme",
        "bestimmen",
        "berechne",
        "berechnen",
        "ergänze",
        "ergänzen",
        "ordne",
        "gib",
        "geben",
        "finde",
        "choisissez",
        "choisis",
        "sélectionnez",
        "indiquez",
        "indique",
        "identifiez",
        "complétez",
        "complète",
        "calculez",
        "nommez",
        "trouvez",
        "elige",
        "elija",
        "selecciona",
        "seleccione",
        "indica",
        "identifica",
        "completa",
        "calcula",
        "nombra",
        "encuentra",
        "выберите",
        "выбери",
        "укажите",
        "назовите",
        "определите",
        "вычислите",
        "найдите",
        "дополните",
    ];
    let prompt = prompt.trim();
    let first = words(prompt).into_iter().next().unwrap_or_default();
    !prompt.contains(['?', '？', '؟'])
        && !prompt.ends_with([':', '：'])
        && !prompt.contains("__")
        && !INSTRUCTIONS.contains(&first.as_str())
}

/// The option of three words or more that another option of the same question starts with ("Track
/// your spending" beside "Track your spending every week"): the model said one answer twice, the
/// second time longer. A one- or two-word option inside a longer one ("Income", "Income tax") is
/// a fair distractor.
pub fn stuttered_option(options: &[String]) -> Option<&str> {
    let keys: Vec<String> = options.iter().map(|option| option_key(option)).collect();
    options.iter().zip(&keys).find_map(|(option, short)| {
        let stutters = short.split(' ').count() >= 3
            && keys.iter().any(|long| {
                long.len() > short.len()
                    && long.starts_with(short.as_str())
                    && long[short.len()..].starts_with(' ')
            });
        stutters.then_some(option.as_str())
    })
}

/// The earlier question whose options question `q` repeats, all but one at most: a quiz that asks
/// new questions over the same four answers teaches the answers' names, not the unit.
pub fn recycled_from(quiz: &Quiz, q: usize) -> Option<usize> {
    let keys = |question: &Question| -> HashSet<String> {
        question
            .options
            .iter()
            .map(|option| option_key(option))
            .collect()
    };
    let own = keys(quiz.questions.get(q)?);
    let needed = own.len().saturating_sub(1).max(2);
    quiz.questions[..q]
        .iter()
        .position(|earlier| keys(earlier).intersection(&own).count() >= needed)
}

/// The texts of a question a learner reads: its prompt, its options and its explanation.
pub fn question_texts(question: &Question) -> impl Iterator<Item = &str> {
    std::iter::once(question.prompt.as_str())
        .chain(question.options.iter().map(String::as_str))
        .chain(std::iter::once(question.explanation.as_str()))
}

/// A correct option twice as long as the longest other option and 40 characters longer: a learner
/// picks it without reading the unit.
pub fn gives_answer_away(question: &Question) -> bool {
    let length = |option: &String| option.trim().chars().count();
    let Some(answer) = question.options.get(question.answer).map(length) else {
        return false;
    };
    let longest_other = question
        .options
        .iter()
        .enumerate()
        .filter(|(o, _)| *o != question.answer)
        .map(|(_, option)| length(option))
        .max()
        .unwrap_or(0);
    answer >= 2 * longest_other && answer >= longest_other + 40
}

/// A correct option a learner can pick from the question's own words: each of its words of three
/// letters or more is in the question, and no other option is so ("Which gas do plants take in to
/// make food by photosynthesis?" over "Photosynthesis", "Oxygen", "Water", "Sugar"). When two or more
/// options are in the question ("Is the heart a muscle or a bone?") the learner still has to know.
pub fn echoes_question(question: &Question) -> bool {
    let asked: HashSet<String> = words(&question.prompt)
        .iter()
        .map(|word| singular(word))
        .collect();
    let echoes = |option: &String| {
        let own: Vec<String> = words(option)
            .iter()
            .filter(|word| word.chars().count() >= 3)
            .map(|word| singular(word))
            .collect();
        !own.is_empty() && own.iter().all(|word| asked.contains(word))
    };
    let echoing: Vec<usize> = (0..question.options.len())
        .filter(|&o| echoes(&question.options[o]))
        .collect();
    echoing == [question.answer]
}

/// An option as a position label would be compared with it: its key, or its number.
fn key_or_number(option: &str) -> String {
    let option = option.trim().trim_end_matches('.');
    if is_number(option) {
        option.to_owned()
    } else {
        key(option)
    }
}

/// A title cut to what two titles are compared by: lowercase letters and single spaces, without
/// digits or punctuation ("Week 2: Cells!" and "cells" are the same).
fn key(text: &str) -> String {
    normalized(text, char::is_alphabetic)
}

/// `text` lowercase, with the characters `keep` refuses as spaces and runs of spaces as one.
fn normalized(text: &str, keep: impl Fn(char) -> bool) -> String {
    let kept: String = text
        .chars()
        .map(|c| {
            if keep(c) {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words of a short text, lowercase, without the punctuation around them.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit()) && word.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn is_roman(word: &str) -> bool {
    !word.is_empty() && word.len() <= 4 && word.chars().all(|c| matches!(c, 'i' | 'v' | 'x'))
}

/// The word a title says twice in a row ("Cold Cold War"): the model stuttered.
pub fn doubled_word(title: &str) -> Option<String> {
    let words = words(title);
    words
        .windows(2)
        .find(|pair| pair[0] == pair[1] && pair[0].chars().any(char::is_alphabetic))
        .map(|pair| pair[0].clone())
}

/// The text with each word said twice in a row said once ("Cold Cold War" → "Cold War",
/// "Formation, Formation" → "Formation"): the first keeps its place, the second its closing marks.
pub fn without_doubled_words(text: &str) -> String {
    let opening = |word: &str| word.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
    let core = |word: &str| {
        word.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let mut said: Vec<String> = Vec::new();
    let mut last = String::new();
    for word in text.split_whitespace() {
        let key = core(word);
        match said.last_mut() {
            Some(kept) if key == last && key.chars().any(char::is_alphabetic) => {
                let stem = &kept[..opening(kept)];
                *kept = format!("{stem}{}", &word[opening(word)..]);
            }
            _ => said.push(word.to_owned()),
        }
        last = key;
    }
    said.join(" ")
}

/// "Types and Types", "Day 2: Day 2", "Cold Cold War": a word of four letters or more, a pair of
/// words, or any word twice in a row.
fn repeats_a_word(title: &str) -> bool {
    if doubled_word(title).is_some() {
        return true;
    }
    let words = words(title);
    let mut long = HashSet::new();
    let mut pairs = HashSet::new();
    words
        .iter()
        .any(|word| word.chars().count() >= 4 && !long.insert(word))
        || words.windows(2).any(|pair| !pairs.insert(pair))
}

/// The word a title breaks off on, one that needs another after it ("Budgets and", "Types of",
/// "Kosten und"): the model stopped mid-title.
pub fn dangling_word(title: &str) -> Option<String> {
    /// Per language: English; German; French; Spanish, Portuguese, Italian; Russian.
    const NEEDS_MORE: &[&[&str]] = &[
        &[
            "and", "or", "of", "to", "the", "a", "an", "for", "with", "in", "on", "at", "by",
            "from", "vs", "versus", "into", "about", "its", "their", "your",
        ],
        &[
            "und", "oder", "der", "die", "das", "des", "dem", "den", "ein", "eine", "von", "mit",
            "für", "zu", "zur", "zum", "im", "über", "auf",
        ],
        &[
            "et", "ou", "de", "du", "des", "la", "le", "les", "un", "une", "à", "au", "aux",
            "pour", "avec", "en", "sur",
        ],
        &[
            "y", "o", "del", "el", "los", "las", "una", "para", "con", "e", "da", "do", "dos",
            "das", "com", "il", "lo", "gli", "di", "per",
        ],
        &[
            "и", "или", "в", "во", "на", "с", "со", "для", "о", "об", "по", "к",
        ],
    ];
    let title = title.trim();
    if title.ends_with(['.', '!', '?', '"', '\'', ')', '»']) {
        return None;
    }
    // "Vitamin A", "Vitamin E": a capital letter alone is a name, not an article or "and".
    let written = title.split_whitespace().last()?;
    if written.chars().count() == 1 && written.chars().all(char::is_uppercase) {
        return None;
    }
    let words = words(title);
    let last = words.last()?;
    let needs_more = NEEDS_MORE
        .iter()
        .any(|language| language.contains(&last.as_str()));
    (words.len() > 1 && needs_more).then(|| last.clone())
}

/// Whether a heading (its text, after the `#`s) is the title of the text it opens, numbered or not
/// ("Unit 1.2: Cells and tissues" over "Cells and tissues").
pub fn is_title_heading(heading: &str, title: &str) -> bool {
    let (heading, title) = (key(heading), key(title));
    !title.is_empty()
        && heading.strip_suffix(title.as_str()).is_some_and(|before| {
            before
                .split_whitespace()
                .all(|word| STRUCTURE_WORDS.contains(&word))
        })
}

/// Words of the prompt that a small model sometimes writes as headings: what it was asked to
/// write, not a section of the subject.
const PROMPT_HEADINGS: &[&str] = &[
    "introduction paragraph",
    "short introduction paragraph",
    "introductory paragraph",
    "article",
    "the article",
    "markdown",
    "heading",
    "headings",
    "section",
    "sections",
    "section heading",
    "title",
    "title heading",
    "no title heading",
    "untitled",
];

/// A heading (its text, after the `#`s) a learner reads as broken: empty, still carrying `#`s
/// ("## ## Costs" leaves "## Costs"), or the prompt's own words ("Introduction paragraph").
pub fn is_broken_heading(heading: &str) -> bool {
    let heading = heading.trim();
    heading.is_empty()
        || heading.starts_with('#')
        || PROMPT_HEADINGS.contains(&key(heading).as_str())
}

/// The headings of a Markdown text with nothing under them: the next line with text is a heading
/// of the same rank or higher, or there is none.
fn empty_sections(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    empty_heading_lines(&lines, |_| false)
        .into_iter()
        .map(|at| lines[at].trim().trim_start_matches('#').trim())
        .collect()
}

/// Phrases with which a text points at itself, in the languages a course is most often written in.
const SELF_REFERENCES: &[&str] = &[
    "this unit",
    "this section",
    "this article",
    "this lesson",
    "this chapter",
    "this module",
    "this text",
    "diese einheit",
    "dieser einheit",
    "diesen abschnitt",
    "dieser abschnitt",
    "diesem abschnitt",
    "dieser artikel",
    "diesem artikel",
    "diese lektion",
    "dieser lektion",
    "diesem kapitel",
    "cette unité",
    "cette section",
    "cet article",
    "cette leçon",
    "ce chapitre",
    "ce module",
    "esta unidad",
    "esta sección",
    "este artículo",
    "esta lección",
    "este capítulo",
    "este módulo",
    "этом разделе",
    "этот раздел",
    "этой статье",
    "эта статья",
    "этом уроке",
    "этот урок",
    "этой главе",
];

/// The sentences of an article's prose that talk about the article itself ("This section will
/// explain…", "In diesem Abschnitt…").
fn self_references(article: &str) -> Vec<String> {
    prose(article)
        .split(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|sentence| {
            let lower = sentence.to_lowercase();
            SELF_REFERENCES.iter().any(|phrase| lower.contains(phrase))
        })
        .map(|sentence| excerpt(sentence, FINDING_CHARS))
        .collect()
}

/// The `#` headings of a Markdown text, outside code blocks.
pub(crate) fn headings(text: &str) -> Vec<&str> {
    ranked_headings(text)
        .into_iter()
        .map(|(_, heading)| heading)
        .collect()
}

/// The `#` headings of a Markdown text, outside code blocks, with their rank (the number of `#`s).
fn ranked_headings(text: &str) -> Vec<(usize, &str)> {
    outside_code(text.lines())
        .filter_map(|(line, prose)| {
            let line = line.trim_start();
            let heading = line.trim_start_matches('#');
            (prose && line.starts_with('#') && heading.starts_with(' ')).then(|| {
                let rank = line.len() - heading.len();
                (rank, heading.trim().trim_end_matches('#').trim())
            })
        })
        .collect()
}

/// The headings that repeat an earlier one under the same parent heading ("Key takeaways" twice at
/// the end): an "Example" under each of several sections is how articles are made.
fn repeated_headings(text: &str) -> Vec<&str> {
    let mut seen = HashSet::new();
    // The headings above the current one: (rank, key).
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut repeated = Vec::new();
    for (rank, heading) in ranked_headings(text) {
        while parents.last().is_some_and(|(above, _)| *above >= rank) {
            parents.pop();
        }
        let key = key(heading);
        let parent = parents
            .last()
            .map(|(_, key)| key.clone())
            .unwrap_or_default();
        if !key.is_empty() && !seen.insert((parent, key.clone())) {
            repeated.push(heading);
        }
        parents.push((rank, key));
    }
    repeated
}

/// A Markdown text without its code blocks, inline code and formulas: the prose a learner reads.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (line, prose) in outside_code(text.lines()) {
        if !prose {
            continue;
        }
        let mut rest = line;
        // Inline code and formulas: `…`, $…$ and $$…$$.
        while let Some(start) = rest.find(['`', '$']) {
            out.push_str(&rest[..start]);
            let mark = &rest[start..start + 1];
            let after = &rest[start + 1..];
            let after = after.strip_prefix(mark).unwrap_or(after);
            match after.find(mark) {
                Some(end) => {
                    rest = after[end + 1..]
                        .strip_prefix(mark)
                        .unwrap_or(&after[end + 1..]);
                    out.push(' ');
                }
                None => {
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// An article cut before its last heading when the section under it holds a list (the "Key
/// takeaways" a unit ends with, in whatever language), and that section; the whole article and
/// nothing otherwise.
fn closing_summary(article: &str) -> (&str, &str) {
    let mut last_heading = None;
    let mut at = 0;
    for (line, prose) in outside_code(article.split_inclusive('\n')) {
        let trimmed = line.trim_start();
        if prose && trimmed.starts_with('#') && trimmed.trim_start_matches('#').starts_with(' ') {
            last_heading = Some(at);
        }
        at += line.len();
    }
    let Some(start) = last_heading else {
        return (article, "");
    };
    let is_item = |line: &str| {
        let line = line.trim_start();
        let numbered = line.trim_start_matches(|c: char| c.is_ascii_digit());
        ["- ", "* ", "+ "].iter().any(|mark| line.starts_with(mark))
            || (numbered.len() < line.len()
                && (numbered.starts_with(". ") || numbered.starts_with(") ")))
    };
    if article[start..].lines().skip(1).any(is_item) {
        article.split_at(start)
    } else {
        (article, "")
    }
}

/// Lowercase tokens of prose: words, or single characters in scripts written without spaces.
fn tokens(prose: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in prose.chars() {
        if c.is_alphanumeric() && !unspaced(c) {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if unspaced(c) {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// The share of 4-token sequences that occur more than once.
fn repeated_4grams(tokens: &[String]) -> f64 {
    let grams: Vec<&[String]> = tokens.windows(4).collect();
    if grams.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<&[String], usize> = HashMap::new();
    for gram in &grams {
        *counts.entry(gram).or_default() += 1;
    }
    let repeated = grams.iter().filter(|gram| counts[*gram] > 1).count();
    repeated as f64 / grams.len() as f64
}

/// Writing systems, as far as telling a course's language from stray letters needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
    Hebrew,
    Arabic,
    Devanagari,
    Bengali,
    Gurmukhi,
    Gujarati,
    Tamil,
    Telugu,
    Kannada,
    Malayalam,
    Sinhala,
    Thai,
    Lao,
    Myanmar,
    Georgian,
    Hangul,
    Ethiopic,
    Khmer,
    Kana,
    Han,
    Other,
}

fn script(c: char) -> Script {
    match c as u32 {
        0x41..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x400..=0x52F => Script::Cyrillic,
        0x530..=0x58F => Script::Armenian,
        0x590..=0x5FF => Script::Hebrew,
        0x600..=0x6FF | 0x750..=0x77F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
        0x900..=0x97F => Script::Devanagari,
        0x980..=0x9FF => Script::Bengali,
        0xA00..=0xA7F => Script::Gurmukhi,
        0xA80..=0xAFF => Script::Gujarati,
        0xB80..=0xBFF => Script::Tamil,
        0xC00..=0xC7F => Script::Telugu,
        0xC80..=0xCFF => Script::Kannada,
        0xD00..=0xD7F => Script::Malayalam,
        0xD80..=0xDFF => Script::Sinhala,
        0xE00..=0xE7F => Script::Thai,
        0xE80..=0xEFF => Script::Lao,
        0x1000..=0x109F => Script::Myanmar,
        0x10A0..=0x10FF => Script::Georgian,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Script::Hangul,
        0x1200..=0x139F => Script::Ethiopic,
        0x1780..=0x17FF => Script::Khmer,
        0x3040..=0x30FF => Script::Kana,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
        _ => Script::Other,
    }
}

/// Scripts written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(
        script(c),
        Script::Han | Script::Kana | Script::Thai | Script::Lao | Script::Khmer | Script::Myanmar
    )
}

/// The scripts a language is written in. Latin letters are at home in every language (names, terms,
/// units); letters of any other script are foreign unless listed.
fn scripts(language: Language) -> &'static [Script] {
    let primary = language.tag.split('-').next().unwrap_or(language.tag);
    match primary {
        "be" | "bg" | "kk" | "mk" | "mn" | "ru" | "sr" | "uk" => &[Script::Cyrillic],
        "el" => &[Script::Greek],
        "hy" => &[Script::Armenian],
        "he" => &[Script::Hebrew],
        "ar" | "fa" | "ur" => &[Script::Arabic],
        "hi" | "mr" | "ne" => &[Script::Devanagari],
        "bn" => &[Script::Bengali],
        "pa" => &[Script::Gurmukhi],
        "gu" => &[Script::Gujarati],
        "ta" => &[Script::Tamil],
        "te" => &[Script::Telugu],
        "kn" => &[Script::Kannada],
        "ml" => &[Script::Malayalam],
        "si" => &[Script::Sinhala],
        "th" => &[Script::Thai],
        "lo" => &[Script::Lao],
        "my" => &[Script::Myanmar],
        "ka" => &[Script::Georgian],
        "am" => &[Script::Ethiopic],
        "km" => &[Script::Khmer],
        "ko" => &[Script::Hangul, Script::Han],
        "ja" => &[Script::Kana, Script::Han],
        "zh" => &[Script::Han],
        _ => &[],
    }
}

/// The share of a prose text's letters in a script foreign to `language`. A word of one Greek letter
/// is a symbol (θ, π), not a foreign word.
fn foreign_script(prose: &str, language: Language) -> f64 {
    let allowed = scripts(language);
    let (mut letters, mut foreign) = (0usize, 0usize);
    for word in prose.split(|c: char| !c.is_alphabetic()) {
        let count = word.chars().count();
        letters += count;
        if count == 1 && word.chars().all(|c| script(c) == Script::Greek) {
            continue;
        }
        foreign += word
            .chars()
            .filter(|&c| {
                let script = script(c);
                script != Script::Latin && script != Script::Other && !allowed.contains(&script)
            })
            .count();
    }
    foreign as f64 / letters.max(1) as f64
}

/// The language prose reads as (ISO 639-3), when the identification is reliable.
fn identify(prose: &str) -> Option<&'static str> {
    let info = whatlang::detect(prose)?;
    info.is_reliable().then(|| info.lang().code())
}

/// The ISO 639-3 code language identification gives `language`, where it knows the language.
fn iso639_3(language: Language) -> Option<&'static str> {
    let primary = language.tag.split('-').next().unwrap_or(language.tag);
    let code = match primary {
        "af" => "afr",
        "am" => "amh",
        "ar" => "ara",
        "az" => "aze",
        "be" => "bel",
        "bg" => "bul",
        "bn" => "ben",
        "bs" | "hr" => "hrv",
        "ca" => "cat",
        "cs" => "ces",
        "cy" => "cym",
        "da" => "dan",
        "de" => "deu",
        "el" => "ell",
        "en" => "eng",
        "es" => "spa",
        "et" => "est",
        "fa" => "pes",
        "fi" => "fin",
        "fil" => "tgl",
        "fr" => "fra",
        "gu" => "guj",
        "he" => "heb",
        "hi" => "hin",
        "hu" => "hun",
        "hy" => "hye",
        "id" => "ind",
        "it" => "ita",
        "ja" => "jpn",
        "ka" => "kat",
        "km" => "khm",
        "kn" => "kan",
        "ko" => "kor",
        "lt" => "lit",
        "lv" => "lav",
        "mk" => "mkd",
        "ml" => "mal",
        "mr" => "mar",
        "my" => "mya",
        "nb" => "nob",
        "ne" => "nep",
        "nl" => "nld",
        "pa" => "pan",
        "pl" => "pol",
        "pt" => "por",
        "ro" => "ron",
        "ru" => "rus",
        "si" => "sin",
        "sk" => "slk",
        "sl" => "slv",
        "sr" => "srp",
        "sv" => "swe",
        "ta" => "tam",
        "te" => "tel",
        "th" => "tha",
        "tr" => "tur",
        "uk" => "ukr",
        "ur" => "urd",
        "uz" => "uzb",
        "vi" => "vie",
        "zh" => "cmn",
        "zu" => "zul",
        _ => return None,
    };
    Some(code)
}

/// Languages identification cannot reliably tell apart count as one.
fn same_language(found: &str, expected: &str) -> bool {
    const CLOSE: &[&[&str]] = &[
        &["hrv", "srp", "slv"],
        &["dan", "nob", "swe"],
        &["ind", "msa"],
    ];
    found == expected
        || CLOSE
            .iter()
            .any(|group| group.contains(&found) && group.contains(&expected))
}

/// The most characters of a text a finding quotes.
const FINDING_CHARS: usize = 120;

/// `text` on one line, cut after `chars` characters with "…": how a finding or a problem quotes it.
pub(crate) fn excerpt(text: &str, chars: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn language(tag: &str) -> Language {
        Language::parse(tag).expect("a listed language")
    }

    /// The summary of the courses measured here.
    const SUMMARY: &str = "This course follows a cold from the first sneeze to recovery and shows \
        how the innate and adaptive immune systems work together to clear the virus.";

    /// The report of an English course, and each finding's check and place.
    fn measured(title: &str, weeks: &[WeekText<'_>]) -> (Report, Vec<(Check, String)>) {
        let report = measure(&CourseText {
            title,
            summary: SUMMARY,
            language: language("en"),
            weeks,
        });
        let found = report
            .findings
            .iter()
            .map(|finding| (finding.check, finding.place.clone()))
            .collect();
        (report, found)
    }

    #[test]
    fn placeholder_titles_are_found_in_several_languages() {
        for title in [
            "Week 1",
            "Unit 2",
            "Woche 3",
            "Übung 2",
            "Leçon 4",
            "Semana 1",
            "Неделя 2",
            "Title",
            "Part IV",
            "…and more",
            "Basics...",
        ] {
            assert!(is_placeholder_title(title), "{title}");
        }
        for title in [
            "How antibodies recognise a virus",
            "Die Hauptsätze der Thermodynamik",
            "Week-long fermentation",
            "Day trading",
        ] {
            assert!(!is_placeholder_title(title), "{title}");
        }
    }

    #[test]
    fn a_numbered_title_is_said_without_its_numbering() {
        for (title, unnumbered) in [
            ("Week 1: Fundamentals", "Fundamentals"),
            ("Foundation Week 1 – Yeast and salt", "Yeast and salt"),
            ("1. Cells", "Cells"),
            ("Week 3 Cells", "Cells"),
        ] {
            assert_eq!(
                without_title_numbering(title).as_deref(),
                Some(unnumbered),
                "{title}"
            );
        }
        for kept in [
            "World War 2: the home front",
            "Apollo 11",
            "Week 2:",
            "Cells",
        ] {
            assert_eq!(without_title_numbering(kept), None, "{kept}");
        }
    }

    #[test]
    fn numbering_is_found_before_titles_and_options_but_not_inside_them() {
        for text in [
            "1. Cells",
            "2) Cells",
            "3: Cells",
            "1.2 Cells and tissues",
            "Unit 2: Introduction to cells",
            "Week 3 - Cells",
            "Teil 1.1 Grundlagen",
            "Part IV: Revolution",
            "B) Mitochondria",
            "c. Mitochondria",
            "## 3. Key Takeaways",
        ] {
            assert!(is_numbered(text), "{text}");
        }
        for text in [
            "Cells and tissues",
            "1984 and the surveillance state",
            "1914: the war begins",
            "3D printing for beginners",
            "A brief history of bread",
            "Vitamin C and colds",
            "42",
            "1.2",
            "2.5 kilograms of flour",
            "Weekly planning",
        ] {
            assert!(!is_numbered(text), "{text}");
        }
    }

    #[test]
    fn a_week_or_unit_label_inside_a_title_is_numbering() {
        for text in [
            "Foundation Week 1: Understanding fermentation basics",
            "Bread – Unit 2 – Yeast",
            "Sourdough Part II: Starters",
            "Unit 3: Cells",
        ] {
            assert!(is_numbered_title(text), "{text}");
        }
        for text in [
            "World War 2: the home front",
            "Apollo 11 and the race to the Moon",
            "Planning your week: 5 habits",
            "The unit circle",
            "Part of a cell",
            "Use topic 2.2.",
        ] {
            assert!(!is_numbered_title(text), "{text}");
        }
    }

    #[test]
    fn explanations_that_name_a_position_are_found() {
        let options: Vec<String> = ["Antigens", "4", "C", "Vitamins"].map(String::from).into();
        for text in [
            "The correct answer is 1.",
            "Option B is right because the text says so.",
            "(d) is correct: white cells fight infection.",
            "The answer is (d).",
            "The second option is the one the unit describes.",
            "Die richtige Antwort ist 3.",
            "La respuesta correcta es la 2.",
            "The correct answer is B",
        ] {
            assert!(refers_to_position(text, &options), "{text}");
        }
        for text in [
            "The correct answer is a protein that marks infected cells.",
            "Antibodies bind to antigens, which lets other cells find the virus.",
            "The answer is 37 degrees, the body's usual temperature.",
            "Option pricing depends on volatility.",
            "The answer is 4: the heart has four chambers.",
            "The answer is C, the vitamin the unit names.",
            "White blood cells fight infections; the first line of defence is the skin.",
        ] {
            assert!(!refers_to_position(text, &options), "{text}");
        }
    }

    #[test]
    fn option_labels_are_cut_and_the_rest_kept() {
        for (option, text) in [
            ("3. Antigens", "Antigens"),
            ("B) Antigens", "Antigens"),
            ("(c) Antigens", "Antigens"),
            ("12: Antigens", "Antigens"),
        ] {
            assert_eq!(without_option_label(option), Some(text), "{option}");
        }
        for option in [
            "1914 and after",
            "3 cells",
            "Antigens",
            "F) Antigens",
            "1.",
            "100. Rome",
        ] {
            assert_eq!(without_option_label(option), None, "{option}");
        }
    }

    #[test]
    fn a_short_or_echoing_text_is_written_again_and_a_good_one_is_not() {
        let good = GOOD_ARTICLE;
        assert!(
            rewrite_reasons(good, Language::ENGLISH, 10, SUMMARY).is_empty(),
            "{:?}",
            rewrite_reasons(good, Language::ENGLISH, 10, SUMMARY)
        );
        let reasons = rewrite_reasons(good, Language::ENGLISH, 10_000, SUMMARY);
        assert!(
            reasons[0].contains("at least 10000 were wanted"),
            "{reasons:?}"
        );
        let echo = format!("{good} Write the article in Markdown, 400 to 700 words.");
        let reasons = rewrite_reasons(&echo, Language::ENGLISH, 10, SUMMARY);
        assert_eq!(
            reasons,
            ["it repeats the instructions (\"400 to 700 words\")"]
        );
        // An introduction that restates the course instead of the unit; a few shared words are fair.
        let restated = format!("In this unit, {}\n\n{good}", SUMMARY.to_lowercase());
        let reasons = rewrite_reasons(&restated, Language::ENGLISH, 10, SUMMARY);
        assert_eq!(
            reasons,
            [
                "it copies the course summary (\"this course follows a cold from the first sneeze \
                 to recovery\"); teach this part in its own words"
            ]
        );
        let echoing = format!("{good} The innate and adaptive immune systems work together.");
        assert!(rewrite_reasons(&echoing, Language::ENGLISH, 10, SUMMARY).is_empty());
    }

    #[test]
    fn options_are_compared_without_numbering_case_or_punctuation() {
        assert_eq!(option_key("3. Key Takeaways"), option_key("key takeaways!"));
        assert_eq!(option_key("B) Antigens"), "antigen");
        assert_eq!(
            option_key("Thyroid glands."),
            option_key("the thyroid gland")
        );
        assert_eq!(option_key("Bodies"), option_key("body"));
        assert_eq!(option_key("Boxes"), option_key("box"));
        assert_ne!(option_key("Virus"), option_key("Viru"));
        assert_ne!(option_key("Glass"), option_key("Gla"));
        assert_eq!(option_key("A"), "a", "an option of one word keeps it");
        assert_ne!(option_key("1914"), option_key("1918"));
        assert_ne!(option_key("Vitamin C"), option_key("Vitamin D"));
    }

    #[test]
    fn a_unit_ends_at_another_units_heading_at_its_top_not_at_a_subsection_so_named() {
        let scope = Scope::new(1, 3, "The rise of newspapers", ["The role of print"]);
        let before = "Intro.\n\n## Early papers\n\n### Pamphlets\n\nText.\n";
        for line in ["#### 3. The role of print", "### The role of print"] {
            assert!(!scope.ends_text(line, before), "{line}");
        }
        for line in [
            "## The role of print",
            "# Unit 1.4: The role of print",
            "## Unit 2.1",
        ] {
            assert!(scope.ends_text(line, before), "{line}");
        }
        assert!(scope.ends_text("#### The role of print", "Intro only.\n"));
        assert!(!scope.ends_text("## Papers in the 1800s", before));
        // Nothing written yet: the model opened with another heading and writes the unit under it.
        for before in ["", "\n\n"] {
            assert!(!scope.ends_text("## The role of print", before));
        }
    }

    #[test]
    fn headings_of_other_units_are_outside_a_unit_and_its_own_sections_are_not() {
        let scope = Scope::new(
            1,
            1,
            "What a cold virus does",
            ["Antibodies and memory", "Fever"],
        );
        for heading in [
            "## Antibodies and memory",
            "## 1.2 Antibodies and memory",
            "### Unit 1.2: Antibodies and memory",
            "## Unit 2.1",
            "## Woche 2: Grundlagen",
            "# Leçon 3",
        ] {
            assert!(scope.is_outside_line(heading), "{heading}");
        }
        for line in [
            "## Unit 1.1: What a cold virus does",
            "## Week 1",
            "### How antibodies and memory work together against a cold",
            "### A step-by-step guide to antibodies and memory",
            "## Unit 1.1.2: Symptoms",
            "## 1.1.3 Symptoms",
            "#### Section 1.1.2: Antibodies and memory",
            "### 1.1.4 Fever",
            "## Step 1: Install Python",
            "## Exercise 2",
            "## Fever and chills",
            "## Key takeaways",
            "Antibodies and memory are covered later.",
            "#hashtag",
        ] {
            assert!(!scope.is_outside_line(line), "{line}");
        }
    }

    #[test]
    fn repeated_words_in_titles_are_found() {
        assert!(repeats_a_word("Types and Types"));
        assert!(repeats_a_word("Introduction to Cold Cold War Immunology"));
        assert_eq!(doubled_word("Cold cold War").as_deref(), Some("cold"));
        assert_eq!(doubled_word("Step 1 1"), None);
        assert_eq!(doubled_word("How a cold spreads"), None);
        assert_eq!(
            without_doubled_words("Cold Cold War Immunology: Understanding Cold cold War"),
            "Cold War Immunology: Understanding Cold War"
        );
        assert_eq!(
            without_doubled_words("Formation, Formation and growth Growth Growth:"),
            "Formation and growth:"
        );
        assert_eq!(
            without_doubled_words("Step 1 1 of a cold"),
            "Step 1 1 of a cold"
        );
        assert!(repeats_a_word("Day 2: Day 2: Basics"));
        assert!(!repeats_a_word("Supply and the demand curve"));
        assert!(!repeats_a_word("Cells and cell division"));
    }

    #[test]
    fn repetition_is_low_for_prose_and_high_for_a_loop() {
        let prose = "Your immune system has two parts. The innate part reacts within hours to anything \
                     foreign, with fever and inflammation. The adaptive part takes days: it learns the \
                     shape of one virus and makes antibodies that fit it. Memory cells keep that shape, \
                     so a second infection by the same virus is stopped before you notice it.";
        assert!(repeated_4grams(&tokens(prose)) < 0.05);
        let looped = (1..=12)
            .map(|n| format!("Exercise {n}: write the basic rules of the topic. "))
            .collect::<String>();
        assert!(repeated_4grams(&tokens(&looped)) > 0.5);
        assert_eq!(repeated_4grams(&tokens("too short")), 0.0);
        assert!(
            different_words(&looped) < 12,
            "{}",
            different_words(&looped)
        );
        assert!(different_words(prose) > 40, "{}", different_words(prose));
    }

    #[test]
    fn takeaways_that_restate_the_article_are_no_loop_but_a_looping_list_is() {
        let english = language("en");
        let sections = [
            "Printing broadened the spread of knowledge and ideas across Europe within decades",
            "Printing revolutionized education by giving access to books beyond the reach of the rich",
            "Printing changed communication by carrying news quickly across long distances",
        ];
        let body: String = sections
            .iter()
            .enumerate()
            .map(|(n, text)| format!("## Part {n}\n\n{text}. It was slow before.\n\n"))
            .collect();
        let restating = format!(
            "{body}### Key takeaways\n\n{}",
            sections.map(|text| format!("1. {text}.\n")).concat()
        );
        let figures = ArticleFigures::of("unit 1.1", &restating, english);
        assert!(
            figures.repeated_4grams < MAX_REPEATED_4GRAMS,
            "{}",
            figures.repeated_4grams
        );
        // Measured over the whole text, the summary alone would make it read as a loop.
        assert!(repeated_4grams(&tokens(&prose(&restating))) > MAX_REPEATED_4GRAMS);

        let looping = format!(
            "{body}## Key takeaways\n\n{}",
            "- Printing spread knowledge across Europe.\n".repeat(6)
        );
        let figures = ArticleFigures::of("unit 1.1", &looping, english);
        assert!(
            figures.repeated_4grams > MAX_REPEATED_4GRAMS,
            "{}",
            figures.repeated_4grams
        );
        let looping_body = format!("{}## Key takeaways\n\n- One.\n", body.repeat(3));
        let figures = ArticleFigures::of("unit 1.1", &looping_body, english);
        assert!(
            figures.repeated_4grams > MAX_REPEATED_4GRAMS,
            "{}",
            figures.repeated_4grams
        );
    }

    #[test]
    fn foreign_letters_are_measured_but_latin_terms_and_symbols_are_not() {
        let english = language("en");
        assert_eq!(
            foreign_script("The angle θ is small; π is about 3.14.", english),
            0.0
        );
        assert!(foreign_script("The immune system 免疫系统 fights a cold.", english) > 0.1);
        let russian = language("ru");
        assert_eq!(foreign_script("Функция print выводит текст.", russian), 0.0);
        assert!(foreign_script("Функция 打印 выводит текст.", russian) > 0.05);
        let japanese = language("ja");
        assert_eq!(
            foreign_script("免疫システムはウイルスと戦います。", japanese),
            0.0
        );
    }

    #[test]
    fn prose_leaves_out_code_and_formulas() {
        let text = "Intro with `inline code` and $x^2$.\n```python\nprint('免疫')\n```\nAfter $$a+b$$ end.";
        let prose = prose(text);
        assert!(prose.contains("Intro with"));
        assert!(prose.contains("After"));
        assert!(prose.contains("end."));
        assert!(!prose.contains("print"));
        assert!(!prose.contains("inline"));
        assert!(!prose.contains("x^2"));
        assert!(!prose.contains("a+b"));
    }

    #[test]
    fn languages_are_identified_where_the_text_is_clear() {
        assert_eq!(
            identify(
                "Das Immunsystem schützt den Körper vor Krankheitserregern. Wenn ein Virus in die \
                 Nase gelangt, reagieren zuerst die angeborenen Abwehrzellen."
            ),
            Some("deu")
        );
        assert_eq!(
            identify(
                "The immune system protects the body from germs. When a virus reaches the nose, \
                 the innate defences react first."
            ),
            Some("eng")
        );
        assert_eq!(iso639_3(language("de")), Some("deu"));
        assert_eq!(iso639_3(language("pt-BR")), Some("por"));
        assert_eq!(iso639_3(language("zh-Hans")), Some("cmn"));
    }

    fn options(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| text.to_string()).collect()
    }

    fn good_quiz() -> Quiz {
        Quiz {
            questions: vec![Question {
                prompt: "What do antibodies bind to?".into(),
                options: vec![
                    "Antigens".into(),
                    "Red blood cells".into(),
                    "Vitamins".into(),
                    "Hormones".into(),
                ],
                answer: 0,
                explanation: "Antibodies fit the shape of an antigen on the virus.".into(),
            }],
        }
    }

    const GOOD_ARTICLE: &str = "A cold starts when a rhinovirus reaches the lining of your nose. Within \
        hours the innate immune system answers with inflammation: the sore throat and the runny nose \
        are its work, not the virus's.\n\n## How the body recognises the virus\n\nCells that meet the \
        virus show pieces of it to helper T cells. These decide which B cells multiply, and those B \
        cells make antibodies shaped to fit the virus.\n\n## Why recovery takes a week\n\nThe adaptive \
        response needs time: a few B cells that happen to fit must first be found, then copied many \
        thousands of times. Until enough antibodies circulate, the virus keeps infecting new cells in \
        the nose and throat. Rest and fluids do not speed this up, but they spare the energy your body \
        spends on fever. Antibiotics do nothing against a virus; they only treat the bacterial \
        infections that sometimes follow a cold, such as sinusitis or an ear infection. Once the \
        antibodies win, memory cells remain, which is why the same strain rarely makes you ill twice, \
        while the two hundred other cold viruses still can.\n\n## Key takeaways\n\n- Symptoms come from the \
        response.\n- Antibodies fit one virus.\n";

    #[test]
    fn a_good_course_has_no_findings() {
        let quiz = good_quiz();
        let weeks = [WeekText {
            title: "How the body meets a virus",
            overview: Some("This week follows a cold from the first sneeze to recovery."),
            units: vec![
                UnitText {
                    title: "What a cold virus does",
                    article: Some(GOOD_ARTICLE),
                    quiz: Some(&quiz),
                },
                UnitText {
                    title: "Antibodies and memory",
                    article: None,
                    quiz: None,
                },
            ],
        }];
        let report = measure(&CourseText {
            title: "How the immune system fights a cold",
            summary: SUMMARY,
            language: language("en"),
            weeks: &weeks,
        });
        assert_eq!(report.findings, vec![]);
        assert_eq!(report.titles, 4);
        assert_eq!((report.quizzes, report.questions), (1, 1));
        assert_eq!(report.articles.len(), 1);
        assert_eq!(report.articles[0].language, Some("eng"));
        assert!(report.articles[0].words > 60);
    }

    #[test]
    fn a_bad_course_has_each_finding_in_its_place() {
        let mut quiz = good_quiz();
        quiz.questions[0].options = vec![
            "3. Key Takeaways".into(),
            "Antigens".into(),
            "antigens!".into(),
            "Hormones".into(),
        ];
        quiz.questions[0].explanation = "The correct answer is 1.".into();
        let mut broken = good_quiz().questions.remove(0);
        broken.options = vec![
            "Antibodies made by B cells fit the shape of one virus and mark it for removal".into(),
            "Vitamins']}".into(),
            "Red blood cells".into(),
            "Red blood cells carry oxygen".into(),
        ];
        let mut recycled = broken.clone();
        recycled.prompt = "What carries oxygen?".into();
        recycled.options[1] = "Platelets".into();
        let mut template = good_quiz().questions.remove(0);
        template.prompt = "[question]".into();
        template.options[2] = "[answer3]".into();
        let echo = Question {
            prompt: "Which white blood cells make antibodies, the B cells?".into(),
            options: options(&["B cells", "Red cells", "Platelets", "Neurons"]),
            answer: 0,
            explanation: "B cells make antibodies.".into(),
        };
        let heading = Question {
            prompt: "What do antibodies bind to?".into(),
            options: options(&["Antigens", "Key takeaways", "Platelets", "Neurons"]),
            answer: 0,
            explanation: "Antibodies bind antigens.".into(),
        };
        let no_answer = Question {
            prompt: "What do antibodies mark?".into(),
            options: options(&[
                "Antigens",
                "How do they bind?",
                "#147246125023837098",
                "'What do antibodies mark?', please provide a detailed explanation:'",
            ]),
            answer: 0,
            explanation: "Antibodies mark antigens.".into(),
        };
        quiz.questions
            .extend([broken, recycled, template, echo, heading, no_answer]);
        let looping = (1..=15)
            .map(|n| format!("Übung {n}: Schreiben Sie die Grundlagen des Themas auf. "))
            .collect::<String>();
        let drifting = format!(
            "{GOOD_ARTICLE}\n## Antibodies and memory\n\nMore.\n\n## Unit 2.1\n\nAnswer with JSON only.\n"
        );
        let overview = format!("This week: {SUMMARY}");
        let weeks = [
            WeekText {
                title: "Week 1",
                overview: Some(&overview),
                units: vec![
                    UnitText {
                        title: "Unit 1: What a cold virus does",
                        article: Some(&drifting),
                        quiz: Some(&quiz),
                    },
                    UnitText {
                        title: "Antibodies and memory",
                        article: Some(&looping),
                        quiz: None,
                    },
                ],
            },
            WeekText {
                title: "Types and Types",
                overview: None,
                units: vec![UnitText {
                    title: "Antibodies and Memory!",
                    article: None,
                    quiz: None,
                }],
            },
        ];
        let (report, found) = measured("Introduction to Cold Cold War Immunology", &weeks);
        for expected in [
            (Check::RepeatedWordInTitle, "course"),
            (Check::PlaceholderTitle, "week 1"),
            (Check::RepeatedWordInTitle, "week 2"),
            (Check::NumberedTitle, "unit 1.1"),
            (Check::DuplicateTitle, "unit 2.1"),
            (Check::OffScopeHeading, "unit 1.1"),
            (Check::PromptText, "unit 1.1"),
            (Check::RepetitiveArticle, "unit 1.2"),
            (Check::WrongLanguage, "unit 1.2"),
            (Check::NumberedOption, "unit 1.1 question 1"),
            (Check::DuplicateOption, "unit 1.1 question 1"),
            (Check::PositionalExplanation, "unit 1.1 question 1"),
            (Check::SyntaxInOption, "unit 1.1 question 2"),
            (Check::StutteredOption, "unit 1.1 question 2"),
            (Check::GiveawayAnswer, "unit 1.1 question 2"),
            (Check::RecycledOptions, "unit 1.1 question 3"),
            (Check::PlaceholderText, "unit 1.1 question 4"),
            (Check::EchoedAnswer, "unit 1.1 question 5"),
            (Check::HeadingOption, "unit 1.1 question 6"),
            (Check::NoAnswerOption, "unit 1.1 question 7"),
            (Check::CopiedSummary, "week 1"),
        ] {
            assert!(
                found.contains(&(expected.0, expected.1.to_owned())),
                "{expected:?} not in {found:?}"
            );
        }
        assert_eq!(report.count(Check::OffScopeHeading), 2, "{found:?}");
        assert_eq!(report.count(Check::MixedScript), 0);
        assert_eq!(report.count(Check::RecycledOptions), 1, "{found:?}");
        assert_eq!(report.count(Check::SyntaxInOption), 1, "{found:?}");
        assert_eq!(report.count(Check::PlaceholderText), 1, "{found:?}");
        assert_eq!(report.count(Check::EchoedAnswer), 1, "{found:?}");
        assert_eq!(report.count(Check::HeadingOption), 2, "{found:?}");
        assert_eq!(report.count(Check::NoAnswerOption), 3, "{found:?}");
        assert_eq!(report.count(Check::CopiedSummary), 1, "{found:?}");
    }

    #[test]
    fn template_slots_are_found_and_bracketed_content_is_not() {
        for (text, slot) in [
            ("[question]", "[question]"),
            ("Which of these is [answer1]?", "[answer1]"),
            ("It shows how [topic] works.", "[topic]"),
            ("For example, {example}.", "{example}"),
            ("[Your answer]", "[Your answer]"),
            ("Cells and [ Unit Title ]", "[ Unit Title ]"),
            ("See [key_term] above.", "[key_term]"),
            ("[Correct answer here]", "[Correct answer here]"),
        ] {
            assert_eq!(template_slot(text), Some(slot), "{text}");
        }
        for text in [
            "Cited twice [1] and [12].",
            "On the interval [0, 1] the sum converges.",
            "The set {x | x > 0}.",
            "The rate depends on [H+] and [A].",
            "Read [the cell](https://example.org/cell) first.",
            "What does scores[index] return?",
            "Run `print(f\"{name}\")` to see it.",
            "Plain text without brackets.",
            "An unclosed [bracket",
            "[a spreadsheet]",
        ] {
            assert_eq!(template_slot(text), None, "{text}");
        }
        assert_eq!(without_brackets(" [a spreadsheet] "), Some("a spreadsheet"));
        assert_eq!(without_brackets("[answer1]"), None);
        assert_eq!(without_brackets("[0, 1] and [2, 3]"), None);
        assert_eq!(without_brackets("A spreadsheet"), None);
        assert!(is_placeholder_title("[Unit title]"));
        assert!(is_placeholder_title("Cells and [topic]"));
    }

    #[test]
    fn an_answer_made_of_the_question_is_found() {
        let question = |prompt: &str, texts: &[&str], answer: usize| Question {
            prompt: prompt.into(),
            options: options(texts),
            answer,
            explanation: "Because the unit says so.".into(),
        };
        let prompt = "Which process lets plants make sugar from light, photosynthesis?";
        let texts = ["Photosynthesis", "Respiration", "Digestion", "Fermentation"];
        assert!(echoes_question(&question(prompt, &texts, 0)));
        // A wrong option in the question's words misleads; it gives nothing away.
        assert!(!echoes_question(&question(prompt, &texts, 1)));
        // Either of two named in the question: the learner still has to know which.
        let either = ["The heart", "A bone", "The lungs", "A nerve"];
        assert!(!echoes_question(&question(
            "Is the heart a muscle or a bone?",
            &either,
            0
        )));
        assert!(!echoes_question(&question(
            "What do plants make from light?",
            &["Sugars", "Salt", "Iron", "Fat"],
            0
        )));
        // Plural and case aside.
        assert!(echoes_question(&question(
            "Which cells make antibodies, the B cell or none?",
            &["B Cells", "Red cells", "Platelets", "Neurons"],
            0
        )));
    }

    #[test]
    fn titles_that_break_off_are_found() {
        for (title, word) in [
            ("Budgets and", "and"),
            ("Types of", "of"),
            ("Kosten und", "und"),
            ("Les bases de", "de"),
            ("Ahorro para", "para"),
            ("Бюджет и", "и"),
        ] {
            assert_eq!(dangling_word(title).as_deref(), Some(word), "{title}");
        }
        for title in [
            "Budgets and savings",
            "What to read next?",
            "Vitamin A",
            "Vitamin E",
            "\"Pay yourself first\"",
            "And",
            "Plan B",
        ] {
            assert_eq!(dangling_word(title), None, "{title}");
        }
    }

    #[test]
    fn stray_headings_go_and_the_text_under_them_stays() {
        // A heading that names the prompt, an empty one, an empty section in the middle, and a
        // section emptied where the article was cut.
        let article = "## Short introduction paragraph\n\nPrinting changed Europe.\n\n\
            ## Gutenberg\n\nHe built a press.\n\n##\n\nMore on him.\n\n## Paper\n\n\
            ## Ink\n\nOil-based ink.\n\n```\n## kept in code\n```\n\n\
            ## Evolution of printing\n\n#### The spread of presses\n";
        let repaired = without_stray_headings(article);
        assert_eq!(
            repaired,
            "Printing changed Europe.\n\n## Gutenberg\n\nHe built a press.\n\nMore on him.\n\n\
             ## Ink\n\nOil-based ink.\n\n```\n## kept in code\n```"
        );
        assert_eq!(structure_problems(&repaired), Vec::new());
        assert_eq!(without_stray_headings(GOOD_ARTICLE), GOOD_ARTICLE.trim());
    }

    #[test]
    fn broken_empty_and_repeated_headings_are_found() {
        for heading in [
            "## Costs",
            "## 1.1",
            "",
            "Introduction paragraph",
            "Article",
            "Title heading",
        ] {
            assert!(is_broken_heading(heading), "{heading:?}");
        }
        for heading in [
            "Costs",
            "Introduction",
            "Articles of Confederation",
            "1.1 Costs",
        ] {
            assert!(!is_broken_heading(heading), "{heading:?}");
        }

        let article = "Intro.\n\n## Fixed costs\n\n### Rent\n\nText.\n\n## Variable costs\n\n\
            ## Saving\n\n```\n## not a heading\n```\n\n## Key takeaways\n";
        assert_eq!(empty_sections(article), ["Variable costs", "Key takeaways"]);
        assert_eq!(empty_sections(GOOD_ARTICLE), Vec::<&str>::new());
        let examples = "## Income\n\n### Example\n\nA wage.\n\n## Costs\n\n### Example\n\nRent.\n\n\
            ## Key takeaways\n\n- One\n\n### Example\n\nOne.\n\n### Example\n\nTwo.\n";
        assert_eq!(repeated_headings(examples), ["Example"]);

        let mut quiz = good_quiz();
        quiz.questions[0].prompt = "Antibodies fit one virus.".into();
        let weeks = [WeekText {
            title: "Money in and out",
            overview: None,
            units: vec![UnitText {
                title: "Fixed and variable costs of",
                article: Some(
                    "Intro.\n\n## ## Rent\n\nThis section lists rent. This section lists food. \
                     This section ends.\n\n## Introduction paragraph\n\nText.\n\n\
                     ## Key takeaways\n\n- One\n\n## Key Takeaways\n\n- Two\n\n## Next steps\n",
                ),
                quiz: Some(&quiz),
            }],
        }];
        let (_, found) = measured("Budgeting for students", &weeks);
        for (check, place, count) in [
            (Check::FragmentTitle, "unit 1.1", 1),
            (Check::BrokenHeading, "unit 1.1", 2),
            (Check::RepeatedHeading, "unit 1.1", 1),
            (Check::EmptySection, "unit 1.1", 1),
            (Check::AboutItself, "unit 1.1", 1),
            (Check::StatementQuestion, "unit 1.1 question 1", 1),
        ] {
            let seen = found
                .iter()
                .filter(|found| found.0 == check && found.1 == place)
                .count();
            assert_eq!(seen, count, "{check:?} in {place}: {found:?}");
        }
    }

    #[test]
    fn articles_that_talk_about_themselves_are_told_from_ones_that_teach() {
        let describing = "This unit aims to introduce budgets. In this section, we will explore \
            fixed costs. This section will then explain variable costs! Finally, this article \
            summarises the key points.";
        assert_eq!(self_references(describing).len(), 4);
        assert_eq!(self_references(GOOD_ARTICLE).len(), 0);
        let german =
            "In diesem Abschnitt lernen Sie Kosten kennen. Dieser Abschnitt erklärt Miete.";
        assert_eq!(self_references(german).len(), 2);
        // One sentence to say what the unit covers, one to close it, is how good units read.
        let framed =
            format!("In this unit you will plan a month. {GOOD_ARTICLE} This unit showed how.");
        assert_eq!(self_references(&framed).len(), 2);
        assert!(self_references(&framed).len() <= MAX_SELF_REFERENCES);
    }

    #[test]
    fn questions_that_ask_nothing_are_found() {
        for prompt in [
            "Budgeting is a plan for your money.",
            "Fixed costs",
            "Die Miete ist ein Fixkosten.",
        ] {
            assert!(asks_nothing(prompt), "{prompt}");
        }
        for prompt in [
            "What is a fixed cost?",
            "¿Qué es un gasto fijo?",
            "Choose the fixed cost.",
            "Nenne die Fixkosten.",
            "Complete the sentence: a budget is a ___ for your money",
            "Which of these is a fixed cost:",
            "什么是固定成本？",
        ] {
            assert!(!asks_nothing(prompt), "{prompt}");
        }
    }

    #[test]
    fn broken_options_are_told_from_fair_ones() {
        for option in [
            "Savings']}",
            "[\"Income",
            "answer\": \"Debt",
            "{Debt}",
            "Rent\\\"",
            "[0",
            "Income (after tax",
            "Savings]",
            "'Set unrealistic limits', 'Adjusting your budget', 'Tracking",
        ] {
            assert!(carries_syntax(option), "{option}");
        }
        assert!(prompt_carries_syntax(
            "'Set limits' is important.', 'Adjusting your budget'], 4: wrong]}. This quiz tests"
        ));
        assert!(!prompt_carries_syntax(
            "Which word means cold: 'frío', 'caliente' or 'tibio'?"
        ));
        for option in [
            "The interval [0, 1]",
            "The interval [0, 1)",
            "Income (after tax)",
            "Ratio 3:1",
            "It's the budget's core",
            "\"Pay yourself first\"",
        ] {
            assert!(!carries_syntax(option), "{option}");
        }

        let stutter = options(&[
            "Track your spending",
            "Track your spending every week",
            "Rent",
            "Food",
        ]);
        assert_eq!(stuttered_option(&stutter), Some("Track your spending"));
        for fair in [
            options(&["Income", "Income tax", "Savings", "Debt"]),
            options(&["Fixed costs", "Fixed costs and savings", "Rent", "Food"]),
            options(&["Track your spend", "Track your spending", "Rent", "Food"]),
        ] {
            assert_eq!(stuttered_option(&fair), None, "{fair:?}");
        }

        let question = |prompt: &str, texts: &[&str], answer: usize| Question {
            prompt: prompt.into(),
            options: options(texts),
            answer,
            explanation: "Because the unit says so.".into(),
        };
        let quiz = Quiz {
            questions: vec![
                question(
                    "What is a need?",
                    &["Rent", "Cinema", "Holidays", "Games"],
                    0,
                ),
                question(
                    "What is a want?",
                    &["rent!", "Cinema", "Holidays", "Games"],
                    1,
                ),
                question("What is fixed?", &["Rent", "Cinema", "Food", "Fuel"], 0),
            ],
        };
        assert_eq!(recycled_from(&quiz, 0), None);
        assert_eq!(recycled_from(&quiz, 1), Some(0));
        assert_eq!(recycled_from(&quiz, 2), None, "two shared options are fair");

        let long = "Keep a record of every payment for a month and compare it with your plan";
        assert!(gives_answer_away(&question(
            "How?",
            &[long, "Guess", "Hope", "Borrow"],
            0
        )));
        assert!(!gives_answer_away(&question(
            "How?",
            &[long, "Guess", "Hope", "Borrow"],
            1
        )));
        let close = "Write down each payment and compare it with the plan";
        assert!(!gives_answer_away(&question(
            "How?",
            &[long, close, "Hope", "Borrow"],
            0
        )));
        assert!(!gives_answer_away(&question(
            "How?",
            &["Paying rent", "Rent", "Hope", "Food"],
            0
        )));
    }
}
