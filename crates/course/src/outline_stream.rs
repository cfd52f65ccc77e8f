//! Reading an outline while the model is still writing its JSON, so a person sees the course take shape
//! title by title instead of waiting for the whole answer.

use serde::{Deserialize, Serialize};

/// A piece of the outline that has just been completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutlinePiece {
    /// The course title.
    Title(String),
    /// The course summary.
    Summary(String),
    /// A week's title (week number from 1).
    Week(usize, String),
    /// A unit's title (week and unit numbers from 1).
    Unit(usize, usize, String),
}

/// An outline as far as it is drafted, built from its pieces in any order: what a person watching
/// the draft sees, and what a stored draft keeps until the whole outline is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineSoFar {
    /// The course title, once written.
    pub title: Option<String>,
    /// The summary, once written.
    pub summary: Option<String>,
    /// The weeks written so far, by number.
    pub weeks: Vec<WeekSoFar>,
}

/// A week of an outline being drafted, as far as it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekSoFar {
    /// From 1.
    pub number: usize,
    /// Its title (empty until written).
    pub title: String,
    /// Its units written so far, by number.
    pub units: Vec<UnitSoFar>,
}

/// A unit of an outline being drafted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitSoFar {
    /// Its number in its week, from 1.
    pub number: usize,
    /// Its title.
    pub title: String,
}

impl OutlineSoFar {
    /// Adds a piece, or replaces the piece written before in its place.
    pub fn apply(&mut self, piece: OutlinePiece) {
        match piece {
            OutlinePiece::Title(title) => self.title = Some(title),
            OutlinePiece::Summary(summary) => self.summary = Some(summary),
            OutlinePiece::Week(week, title) => self.week(week).title = title,
            OutlinePiece::Unit(week, unit, title) => {
                let units = &mut self.week(week).units;
                match units.binary_search_by_key(&unit, |unit| unit.number) {
                    Ok(found) => units[found].title = title,
                    Err(at) => units.insert(
                        at,
                        UnitSoFar {
                            number: unit,
                            title,
                        },
                    ),
                }
            }
        }
    }

    fn week(&mut self, number: usize) -> &mut WeekSoFar {
        let at = match self.weeks.binary_search_by_key(&number, |week| week.number) {
            Ok(found) => found,
            Err(at) => {
                self.weeks.insert(
                    at,
                    WeekSoFar {
                        number,
                        title: String::new(),
                        units: Vec::new(),
                    },
                );
                at
            }
        };
        &mut self.weeks[at]
    }
}

/// Feeds on the outline's JSON text as it streams and reports each title as soon as its string closes.
/// It tolerates any chunking; it does not validate (the finished text is parsed and checked properly).
/// It reads a whole outline, a plan (`weeks`), or one week's units ([`OutlineWatcher::for_week`]).
#[derive(Debug, Default)]
pub struct OutlineWatcher {
    stack: Vec<Container>,
    string: Option<StringState>,
    week: Option<usize>,
    weeks_before: usize,
}

#[derive(Debug)]
enum Container {
    Object {
        key: Option<String>,
        expecting_key: bool,
    },
    Array {
        index: usize,
    },
}

#[derive(Debug)]
struct StringState {
    is_key: bool,
    text: String,
    escape: Option<String>,
    /// The first half of a surrogate pair, waiting for its second.
    high: Option<u32>,
}

impl StringState {
    /// Adds decoded text; a surrogate half that does not pair up becomes U+FFFD.
    fn push(&mut self, escaped: Escaped) {
        let high = self.high.take();
        match (high, escaped) {
            (Some(high), Escaped::Surrogate(low)) if (0xDC00..0xE000).contains(&low) => {
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                self.text.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                return;
            }
            (Some(_), _) => self.text.push('\u{FFFD}'),
            (None, _) => {}
        }
        match escaped {
            Escaped::Text(c) => self.text.push(c),
            Escaped::Nothing => {}
            Escaped::Surrogate(code) if (0xD800..0xDC00).contains(&code) => self.high = Some(code),
            Escaped::Surrogate(_) => self.text.push('\u{FFFD}'),
        }
    }
}

impl OutlineWatcher {
    /// A watcher at the start of an outline or plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// A watcher at the start of further weeks of a plan that already has `weeks_before`.
    pub fn for_weeks_after(weeks_before: usize) -> Self {
        Self {
            weeks_before,
            ..Self::default()
        }
    }

    /// A watcher at the start of the units of week `week` (from 1).
    pub fn for_week(week: usize) -> Self {
        Self {
            week: Some(week),
            ..Self::default()
        }
    }

    /// Reads the next piece of text; returns the pieces it completed, in order.
    pub fn feed(&mut self, text: &str) -> Vec<OutlinePiece> {
        let mut done = Vec::new();
        for c in text.chars() {
            if let Some(string) = &mut self.string {
                if let Some(escape) = &mut string.escape {
                    escape.push(c);
                    if let Some(decoded) = decode_escape(escape) {
                        string.escape = None;
                        string.push(decoded);
                    }
                } else if c == '\\' {
                    string.escape = Some(String::new());
                } else if c == '"' {
                    let finished = self.string.take();
                    if let Some(mut finished) = finished {
                        finished.push(Escaped::Nothing);
                        self.close_string(finished, &mut done);
                    }
                } else {
                    string.push(Escaped::Text(c));
                }
                continue;
            }
            match c {
                '{' => self.stack.push(Container::Object {
                    key: None,
                    expecting_key: true,
                }),
                '[' => self.stack.push(Container::Array { index: 0 }),
                '}' | ']' => {
                    self.stack.pop();
                }
                ':' => {
                    if let Some(Container::Object { expecting_key, .. }) = self.stack.last_mut() {
                        *expecting_key = false;
                    }
                }
                ',' => match self.stack.last_mut() {
                    Some(Container::Object { expecting_key, .. }) => *expecting_key = true,
                    Some(Container::Array { index }) => *index += 1,
                    None => {}
                },
                '"' => {
                    let is_key = matches!(
                        self.stack.last(),
                        Some(Container::Object {
                            expecting_key: true,
                            ..
                        })
                    );
                    self.string = Some(StringState {
                        is_key,
                        text: String::new(),
                        escape: None,
                        high: None,
                    });
                }
                _ => {}
            }
        }
        done
    }

    fn close_string(&mut self, string: StringState, done: &mut Vec<OutlinePiece>) {
        if string.is_key {
            if let Some(Container::Object { key, .. }) = self.stack.last_mut() {
                *key = Some(string.text);
            }
            return;
        }
        let path: Vec<Segment<'_>> = self
            .stack
            .iter()
            .map(|container| match container {
                Container::Object { key, .. } => Segment::Key(key.as_deref().unwrap_or("")),
                Container::Array { index } => Segment::Index(*index),
            })
            .collect();
        use Segment::{Index, Key};
        let (week, before) = (self.week, self.weeks_before);
        let piece = match path.as_slice() {
            [Key("title")] => OutlinePiece::Title(string.text),
            [Key("summary")] => OutlinePiece::Summary(string.text),
            [Key("modules" | "weeks"), Index(m), Key("title")] => {
                OutlinePiece::Week(before + m + 1, string.text)
            }
            [Key("units"), Index(u), Key("title")] => match week {
                Some(week) => OutlinePiece::Unit(week, u + 1, string.text),
                None => return,
            },
            [
                Key("modules"),
                Index(m),
                Key("units"),
                Index(u),
                Key("title"),
            ] => OutlinePiece::Unit(m + 1, u + 1, string.text),
            _ => return,
        };
        done.push(piece);
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// What a JSON escape stands for.
#[derive(Debug, Clone, Copy)]
enum Escaped {
    /// Text (`\\n`, `\\"`, `\\u00e9`).
    Text(char),
    /// Nothing (`\\b`, `\\f`).
    Nothing,
    /// One half of a surrogate pair (`\\ud83d`).
    Surrogate(u32),
}

/// Decodes a JSON escape once it is complete; `None` while more characters are due. It counts
/// characters, never bytes: model output may put any character where hex digits belong.
fn decode_escape(escape: &str) -> Option<Escaped> {
    let mut chars = escape.chars();
    Some(match chars.next()? {
        'n' => Escaped::Text('\n'),
        't' => Escaped::Text('\t'),
        'r' => Escaped::Text('\r'),
        'b' | 'f' => Escaped::Nothing,
        'u' => {
            let digits: String = chars.take(4).collect();
            if digits.chars().count() < 4 {
                return None;
            }
            let code = u32::from_str_radix(&digits, 16).unwrap_or(0xFFFD);
            match char::from_u32(code) {
                Some(c) => Escaped::Text(c),
                None => Escaped::Surrogate(code),
            }
        }
        other => Escaped::Text(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outline_so_far_keeps_pieces_in_order_and_a_replaced_title_in_its_place() {
        let mut so_far = OutlineSoFar::default();
        for piece in [
            OutlinePiece::Title("Tides".into()),
            OutlinePiece::Week(2, "Neaps".into()),
            OutlinePiece::Week(1, "Springs".into()),
            OutlinePiece::Unit(1, 2, "Ranges".into()),
            OutlinePiece::Unit(1, 1, "The Moon".into()),
            OutlinePiece::Unit(1, 2, "Tidal ranges".into()),
        ] {
            so_far.apply(piece);
        }
        assert_eq!(so_far.title.as_deref(), Some("Tides"));
        let weeks: Vec<(usize, &str, Vec<&str>)> = so_far
            .weeks
            .iter()
            .map(|week| {
                let units = week.units.iter().map(|unit| unit.title.as_str()).collect();
                (week.number, week.title.as_str(), units)
            })
            .collect();
        assert_eq!(
            weeks,
            [
                (1, "Springs", vec!["The Moon", "Tidal ranges"]),
                (2, "Neaps", vec![])
            ]
        );
    }

    #[test]
    fn titles_arrive_as_their_strings_close_whatever_the_chunking() {
        let json = r#"{"title": "Rome \"Eternal\"", "summary": "All of it.", "outcomes": ["a, b"],
            "modules": [{"title": "Kings", "units": [{"title": "Romulus", "objectives": ["x"]},
            {"title": "Tarquin", "objectives": ["y", "z"]}]}, {"title": "Caf\u00e9s", "units": []}]}"#;
        let expected = vec![
            OutlinePiece::Title("Rome \"Eternal\"".into()),
            OutlinePiece::Summary("All of it.".into()),
            OutlinePiece::Week(1, "Kings".into()),
            OutlinePiece::Unit(1, 1, "Romulus".into()),
            OutlinePiece::Unit(1, 2, "Tarquin".into()),
            OutlinePiece::Week(2, "Cafés".into()),
        ];
        for chunk in [1, 3, 7, json.len()] {
            let mut watcher = OutlineWatcher::new();
            let chars: Vec<char> = json.chars().collect();
            let pieces: Vec<OutlinePiece> = chars
                .chunks(chunk)
                .flat_map(|part| watcher.feed(&part.iter().collect::<String>()))
                .collect();
            assert_eq!(pieces, expected, "chunks of {chunk}");
        }
    }

    #[test]
    fn plans_and_weeks_report_their_own_pieces() {
        let mut plan = OutlineWatcher::new();
        let pieces = plan.feed(r#"{"title": "Rome", "weeks": [{"title": "Kings", "focus": "x"}]}"#);
        assert_eq!(
            pieces,
            [
                OutlinePiece::Title("Rome".into()),
                OutlinePiece::Week(1, "Kings".into())
            ]
        );
        let mut week = OutlineWatcher::for_week(3);
        let pieces = week.feed(r#"{"units": [{"title": "Numa", "objectives": ["y"]}]}"#);
        assert_eq!(pieces, [OutlinePiece::Unit(3, 1, "Numa".into())]);
    }

    #[test]
    fn any_character_after_an_escape_is_safe() {
        // Multi-byte characters where hex digits belong once sliced a string mid-character.
        for json in [
            r#"{"title": "a\uab€d"}"#,
            r#"{"title": "\u€€€€"}"#,
            r#"{"title": "\uD83D\uDE00 ok"}"#,
            r#"{"title": "\uD83Dx"}"#,
            r#"{"title": "\uD83D\u0041"}"#,
            r#"{"title": "\uD83D", "summary": "\uDE00"}"#,
            r#"{"title": "\"#,
        ] {
            let mut watcher = OutlineWatcher::new();
            for c in json.chars() {
                watcher.feed(&c.to_string());
            }
        }
        let mut watcher = OutlineWatcher::new();
        assert_eq!(
            watcher.feed(r#"{"title": "\uD83D\uDE00 caf\u00e9"}"#),
            [OutlinePiece::Title("😀 café".into())]
        );
        let mut watcher = OutlineWatcher::new();
        assert_eq!(
            watcher.feed(r#"{"title": "\uD83D", "summary": "x\uD83D\u0041"}"#),
            [
                OutlinePiece::Title("\u{FFFD}".into()),
                OutlinePiece::Summary("x\u{FFFD}A".into())
            ]
        );
    }
}
