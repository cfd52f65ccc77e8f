//! Tidying generated prose before it is stored, and pulling out what later prompts need from it.

use crate::quality;

/// The most characters of a previous unit passed on to the next unit's prompt.
const MAX_TAKEAWAY_CHARS: usize = 700;

/// A generated article or overview titled `title` as it is stored: trimmed, without a fence wrapped
/// around the whole text, and without the leading `#` heading and heading of any rank that repeats
/// the title ("## Unit 1.2: Cells" over "Cells"): pages show the title themselves;
/// without stray headings ([`quality::without_stray_headings`]); and without section numbers on its
/// headings ([`without_section_numbers`]).
pub fn clean_article(raw: &str, title: &str) -> String {
    let mut text = raw.trim();
    if let Some(inner) = text.strip_prefix("```") {
        // A model sometimes wraps its whole answer in ```markdown … ```.
        if let Some((first_line, rest)) = inner.split_once('\n') {
            let first_line = first_line.trim();
            if first_line.is_empty()
                || first_line.eq_ignore_ascii_case("markdown")
                || first_line.eq_ignore_ascii_case("md")
            {
                text = rest.trim_end().strip_suffix("```").unwrap_or(rest).trim();
            }
        }
    }
    // A `#` heading (the course's title, say), then a heading that repeats the unit's title: the
    // two lines at most that a model writes before its text.
    for pass in 0..2 {
        let first_line = text.lines().next().unwrap_or_default();
        let first_heading = first_line.trim_start_matches('#');
        let repeats_title = first_heading.len() < first_line.len()
            && first_heading.starts_with(' ')
            && quality::is_title_heading(first_heading, title);
        if !((pass == 0 && text.starts_with("# ")) || repeats_title) {
            break;
        }
        text = text
            .split_once('\n')
            .map_or("", |(_, rest)| rest)
            .trim_start();
    }
    without_section_numbers(&quality::without_stray_headings(
        &with_single_heading_marks(text),
    ))
}

/// `text` with a heading's marks said once: a model sometimes writes "### ## Key takeaways", which
/// pages show as a heading that starts with "##"; the inner marks, the ones it meant, are kept.
fn with_single_heading_marks(text: &str) -> String {
    fn after_marks(text: &str) -> Option<&str> {
        let rest = text.trim_start_matches('#');
        (rest.len() < text.len() && rest.starts_with(' ')).then(|| rest.trim_start())
    }
    fn doubled(line: &str) -> Option<&str> {
        let inner = after_marks(line.trim_start())?;
        after_marks(inner).map(|_| inner)
    }
    quality::outside_code(text.lines())
        .map(|(line, prose)| match doubled(line) {
            Some(inner) if prose => inner,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with the section numbers cut from its headings ("## 1.2 Key ideas" becomes "## Key
/// ideas") when two or more headings carry one: in unit 2.1 a heading "1.2" reads as another unit of
/// the course. A number with one part ("## 1. Setup") and headings in code stay.
fn without_section_numbers(text: &str) -> String {
    /// The heading line `line` without its section number, if it has one.
    fn unnumbered(line: &str) -> Option<String> {
        let rest = line.trim_start_matches('#');
        let hashes = &line[..line.len() - rest.len()];
        let title = rest
            .strip_prefix(' ')
            .filter(|_| !hashes.is_empty())?
            .trim_start();
        let (number, after) = title.split_once(' ')?;
        let number = number.trim_end_matches([':', '.']);
        let parts: Vec<&str> = number.split('.').collect();
        let numbered = parts.len() >= 2
            && parts
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        let after = after.trim_start();
        (numbered && !after.is_empty()).then(|| format!("{hashes} {after}"))
    }
    let lines: Vec<(&str, Option<String>)> = quality::outside_code(text.lines())
        .map(|(line, prose)| (line, prose.then(|| unnumbered(line)).flatten()))
        .collect();
    if lines.iter().filter(|(_, cut)| cut.is_some()).count() < 2 {
        return text.to_owned();
    }
    lines
        .into_iter()
        .map(|(line, cut)| cut.unwrap_or_else(|| line.to_owned()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A week overview as it is stored: [`clean_article`], then without headings ("## Topics Covered"),
/// since an overview is one or two paragraphs under the week's own title; the text under a heading
/// stays.
pub fn clean_overview(raw: &str, title: &str) -> String {
    let article = clean_article(raw, title);
    let mut text = String::with_capacity(article.len());
    for (line, prose) in quality::outside_code(article.lines()) {
        let start = line.trim_start();
        let rest = start.trim_start_matches('#');
        if prose && rest.len() < start.len() && (rest.starts_with(' ') || rest.is_empty()) {
            continue;
        }
        if line.trim().is_empty() && (text.is_empty() || text.ends_with("\n\n")) {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    text.trim_end().to_owned()
}

/// A short summary of a written unit for the prompt of the unit after it: its last `##` section when
/// that is a list (the "Key takeaways" the unit prompt asks for, in whatever language), otherwise its
/// first paragraph; at most 700 characters.
pub fn takeaways(body: &str) -> String {
    let last_section = body
        .rfind("\n## ")
        .map(|start| &body[start + 1..])
        .and_then(|section| section.split_once('\n').map(|(_, rest)| rest.trim()))
        .filter(|rest| rest.starts_with("- ") || rest.starts_with("* ") || rest.starts_with("1."));
    let summary = match last_section {
        Some(list) => list,
        None => body
            .split("\n\n")
            .map(str::trim)
            .find(|paragraph| !paragraph.is_empty() && !paragraph.starts_with('#'))
            .unwrap_or(""),
    };
    truncate_chars(summary, MAX_TAKEAWAY_CHARS)
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_and_title_headings_are_removed() {
        assert_eq!(
            clean_article("```markdown\n# Unit 1\n\nBody text.\n```\n", "Cells"),
            "Body text."
        );
        assert_eq!(
            clean_article("  Intro.\n\n## Part\nMore.  ", "Cells"),
            "Intro.\n\n## Part\nMore."
        );
        assert_eq!(
            clean_article("```rust\nfn main() {}\n```", "Cells"),
            "```rust\nfn main() {}\n```"
        );
        for heading in [
            "## Cells and tissues",
            "### Unit 1.2: Cells and Tissues",
            "## Cells and Tissues!",
        ] {
            let text = format!("{heading}\n\n### Introduction\n\nCells make tissues.");
            assert_eq!(
                clean_article(&text, "Cells and tissues"),
                "### Introduction\n\nCells make tissues.",
                "{heading}"
            );
        }
        // A chapter label before the title, and the course's title above the unit's.
        let title = "Understanding Volcanoes: Forming and Evolving";
        for opening in [
            "## Chapter 1.1 Understanding Volcanoes: Forming and Evolving",
            "# Understanding Volcanoes and Their Formation\n\n## Chapter 1.1: Understanding \
             Volcanoes – Forming and Evolving",
        ] {
            let text = format!("{opening}\n\nMagma rises.");
            assert_eq!(clean_article(&text, title), "Magma rises.", "{opening}");
        }
        assert_eq!(
            clean_article(
                "Text.\n\n### ## Key takeaways\n\n- One\n\n```\n# ## kept in code\n```",
                "Cells"
            ),
            "Text.\n\n## Key takeaways\n\n- One\n\n```\n# ## kept in code\n```"
        );
        assert_eq!(
            clean_article("## Why cells divide\n\nText.", "Cells and tissues"),
            "## Why cells divide\n\nText."
        );
    }

    #[test]
    fn section_numbers_that_read_as_other_units_are_cut_from_headings() {
        let raw = "Intro.\n\n## 1.1 Opening principles\nText.\n\n### 1.1.2. The centre\nMore.\n\n\
                   ```\n## 2.1 in code\n```\n\n## Key takeaways\n- One";
        assert_eq!(
            clean_article(raw, "Chess openings"),
            "Intro.\n\n## Opening principles\nText.\n\n### The centre\nMore.\n\n\
             ```\n## 2.1 in code\n```\n\n## Key takeaways\n- One"
        );
        for kept in [
            "## 1.1 Only one\nText.\n\n## Key takeaways\n- One",
            "## 1. Setup\nText.\n\n## 2. Play\nMore.",
            "## 3.14 is pi\nText.\n\n## Version 1.2 notes\nMore.",
        ] {
            assert_eq!(clean_article(kept, "Chess openings"), kept);
        }
    }

    #[test]
    fn an_overview_keeps_its_text_without_headings() {
        let raw = "## Week 1: Starters\n\nThis week you meet wild yeast.\n\n### Topics Covered\n\n\
                   - Feeding a starter\n- Reading its rise\n\n#hashtag stays, as does #1.\n";
        assert_eq!(
            clean_overview(raw, "Starters"),
            "This week you meet wild yeast.\n\n- Feeding a starter\n- Reading its rise\n\n\
             #hashtag stays, as does #1."
        );
    }

    #[test]
    fn takeaways_come_from_the_closing_list_or_the_first_paragraph() {
        let body = "Intro paragraph.\n\n## Details\nText.\n\n## Key takeaways\n- One\n- Two\n";
        assert_eq!(takeaways(body), "- One\n- Two");
        let body = "## Start\n\nFirst real paragraph.\n\n## End\nNo list here.";
        assert_eq!(takeaways(body), "First real paragraph.");
        let long = "é".repeat(2000);
        assert_eq!(takeaways(&long).chars().count(), 701);
    }
}
