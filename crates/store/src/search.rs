//! Full-text search over courses and units, on both backends: FTS5 tables on SQLite and `tsvector`
//! columns with GIN indexes on PostgreSQL (in the course's language where PostgreSQL knows it), both
//! kept current by triggers (see the `search` migrations). A query is reduced to its words before it
//! reaches either engine, so no query syntax of theirs (quotes, `NEAR(`, `*`, `:`, `&`) ever reaches
//! them from a person: whatever is typed answers normally. Courses that are private, unlisted or
//! hidden appear only in their maker's results (hidden ones in nobody's).

use lyceum_course::Category;

use crate::{Backend, Store, StoreError, with_pool};

/// At most this many words of a query count; the rest are ignored.
pub const MAX_TERMS: usize = 12;

/// A word longer than this is cut to it (no real word is; it keeps a pasted blob cheap).
const MAX_TERM_CHARS: usize = 40;

/// A query that matches more items than this ranks only the newest this many of them: both engines
/// score every match they are asked to rank, and a common word matches nearly every unit of a large
/// site. On SQLite, with the prefix indexes (see the `search_prefixes` migration), `lyceum bench
/// search` over 36,000 units went from p99 255 ms to 52 ms; on PostgreSQL a word in every unit took
/// 790 ms to rank. Search by meaning, merged in, still reaches all of them.
const RANKED_MATCHES: usize = 2000;

/// Words in the opening shown for an item found by its meaning.
const OPENING_WORDS: usize = 30;

/// The marks the engines put around a matched word in a snippet. A stray one in stored text can at
/// worst mark the wrong words: every mark becomes a whole `<mark>` element of escaped text.
const START: char = '\u{2}';
const END: char = '\u{3}';

/// A search.
#[derive(Debug, Clone, Copy)]
pub struct SearchQuery<'a> {
    /// What was typed.
    pub text: &'a str,
    /// The account searching, whose own private and unlisted courses it may find.
    pub viewer: Option<i64>,
    /// Most hits of each kind.
    pub limit: i64,
    /// Only courses of this subject, and their units.
    pub category: Option<Category>,
}

impl<'a> SearchQuery<'a> {
    /// A search for `text` as `viewer`, of every subject.
    pub fn new(text: &'a str, viewer: Option<i64>, limit: i64) -> Self {
        Self {
            text,
            viewer,
            limit,
            category: None,
        }
    }
}

/// What a search found, each kind best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub courses: Vec<CourseHit>,
    pub units: Vec<UnitHit>,
}

/// A course that matched, by its title, summary or weeks' titles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseHit {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// From its summary and weeks' titles.
    pub snippet: Snippet,
}

impl CourseHit {
    /// A course as a hit with no words to mark: the opening of its summary as the snippet.
    pub fn of(id: i64, slug: &str, title: &str, summary: &str) -> Self {
        Self {
            id,
            slug: slug.to_owned(),
            title: title.to_owned(),
            snippet: Snippet::opening(summary),
        }
    }
}

/// A unit that matched, by its title or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitHit {
    pub id: i64,
    pub course_slug: String,
    pub course_title: String,
    /// Its week's number, from 1.
    pub week: i64,
    /// Its number within the week, from 1.
    pub number: i64,
    pub title: String,
    /// From its text.
    pub snippet: Snippet,
}

/// A passage of stored text with the words that matched marked: plain text in parts, never HTML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// Each part and whether it is a match.
    pub parts: Vec<(String, bool)>,
}

impl Snippet {
    /// The opening of a text, its headings left out, about as long as the engines' snippets: for
    /// an item found by its meaning, which has no matched words to mark.
    fn opening(text: &str) -> Self {
        let prose = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ");
        let words: Vec<&str> = prose.split_whitespace().collect();
        let mut opening = words[..words.len().min(OPENING_WORDS)].join(" ");
        if words.len() > OPENING_WORDS {
            opening.push('…');
        }
        // Unmarked: any stray mark in the text is dropped as in a marked snippet.
        Self::parse(&opening.replace([START, END], ""))
    }

    /// Reads the engines' marked text: marks become parts, stray marks are dropped, and Markdown's
    /// emphasis and heading signs go (the passage is read as a sentence, not rendered).
    fn parse(marked: &str) -> Self {
        let mut parts: Vec<(String, bool)> = Vec::new();
        let mut current = String::new();
        let mut inside = false;
        for c in marked.chars() {
            match c {
                START | END => {
                    if !current.is_empty() {
                        parts.push((std::mem::take(&mut current), inside));
                    }
                    inside = c == START;
                }
                '*' | '_' | '#' | '`' => {}
                c if c.is_control() => current.push(' '),
                c => current.push(c),
            }
        }
        if !current.is_empty() {
            parts.push((current, inside));
        }
        Self { parts }
    }

    /// The passage as escaped HTML, each match in `<mark>`: safe to put in a page as it is.
    pub fn html(&self) -> String {
        let mut html = String::new();
        for (text, matched) in &self.parts {
            if *matched {
                html.push_str("<mark>");
            }
            for c in text.chars() {
                match c {
                    '&' => html.push_str("&amp;"),
                    '<' => html.push_str("&lt;"),
                    '>' => html.push_str("&gt;"),
                    '"' => html.push_str("&quot;"),
                    '\'' => html.push_str("&#39;"),
                    c => html.push(c),
                }
            }
            if *matched {
                html.push_str("</mark>");
            }
        }
        html
    }

    /// The passage as plain text.
    pub fn text(&self) -> String {
        self.parts.iter().map(|(text, _)| text.as_str()).collect()
    }
}

/// The words of a query, lowercased: letters and digits of any script; everything else separates.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            word.chars()
                .take(MAX_TERM_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .take(MAX_TERMS)
        .collect()
}

/// The words as one engine's query: each written by `word` (told whether it is the last, which also
/// matches as the start of a longer word, since people search as they type), joined by `and`.
fn joined(terms: &[String], word: fn(&str, bool) -> String, and: &str) -> String {
    let last = terms.len().saturating_sub(1);
    terms
        .iter()
        .enumerate()
        .map(|(i, term)| word(term, i == last))
        .collect::<Vec<_>>()
        .join(and)
}

/// FTS5's query: every word quoted, so it is only ever a word.
fn fts5_query(terms: &[String]) -> String {
    joined(
        terms,
        |term, last| format!("\"{term}\"{}", if last { "*" } else { "" }),
        " ",
    )
}

/// PostgreSQL's `to_tsquery` text: every word quoted as a lexeme.
fn tsquery(terms: &[String]) -> String {
    joined(
        terms,
        |term, last| format!("'{term}'{}", if last { ":*" } else { "" }),
        " & ",
    )
}

/// SQLite: the least rowid of the newest [`RANKED_MATCHES`] matches of `$1` in FTS5 table `table`
/// (0 when there are fewer), found without scoring any.
fn newest_matches(table: &str) -> String {
    format!(
        "coalesce((SELECT rowid FROM {table} WHERE {table} MATCH $1 \
                   ORDER BY rowid DESC LIMIT 1 OFFSET {}), 0)",
        RANKED_MATCHES - 1
    )
}

/// PostgreSQL: a search statement over the items `from` selects (their id and their course's
/// language), for the `languages` present: the newest [`RANKED_MATCHES`] items whose `vector`
/// matches `$1`, one branch per language with that language's query as a value (parameters `$5`,
/// `$6` for the first language, `$7`, `$8` for the next…); then the best `$3` of them by rank, read
/// from `table` alone; then, for those few only, `shown` (selecting from `best b`, with the `config`
/// and `query` of each, in order of rank).
fn postgres_search(
    languages: &[(String, String)],
    from: &str,
    table: &str,
    vector: &str,
    id: &str,
    shown: &str,
) -> String {
    let (mut queries, mut branches) = (Vec::new(), Vec::new());
    for i in 0..languages.len() {
        let (language, config) = (5 + 2 * i, 6 + 2 * i);
        queries.push(format!(
            "SELECT ${language}::text AS language, ${config}::regconfig AS config, \
                    to_tsquery(${config}::regconfig, $1) AS query"
        ));
        branches.push(format!(
            "({from} WHERE c.language = ${language} \
                AND {vector} @@ to_tsquery(${config}::regconfig, $1) AND {FINDABLE} \
              ORDER BY {id} DESC LIMIT {RANKED_MATCHES})"
        ));
    }
    format!(
        "WITH q AS MATERIALIZED ({}), \
         matched AS (SELECT * FROM ({}) b ORDER BY id DESC LIMIT {RANKED_MATCHES}), \
         best AS (SELECT m.id, q.config, q.query, ts_rank({vector}, q.query) AS rank \
                  FROM matched m JOIN {table} ON {id} = m.id JOIN q ON q.language = m.language \
                  ORDER BY rank DESC, m.id LIMIT $3) \
         {shown} ORDER BY b.rank DESC, b.id",
        queries.join(" UNION ALL "),
        branches.join(" UNION ALL ")
    )
}

/// PostgreSQL's snippet of `text` for a hit of `best b`: its query's words marked in about 30 words.
fn headline(text: &str) -> String {
    format!(
        "ts_headline(b.config, {text}, b.query, \
                     'StartSel={START}, StopSel={END}, MaxWords=30, MinWords=12')"
    )
}

/// The rows of PostgreSQL search statement `sql` (see [`postgres_search`]): `matching` as $1, then
/// the viewer, limit and subject of `query`, then each of the `languages` and its configuration.
///
/// The statement is planned each time, with the query's words as values: the planner then knows how
/// many items a word matches. It is told to find them through the text-search index only. Its
/// costs do not count reading an item's `tsvector` (kept compressed, out of line: ~10 µs each), so
/// for a word in a tenth of the units it chose to read the units newest first, testing each, until
/// 2,000 matched (18,000 read: 190 ms); through the index the same query takes a fifth of that, and
/// a word in every unit about as long as reading the newest 2,000 did.
async fn postgres_rows(
    pool: &sqlx::PgPool,
    sql: &str,
    matching: &str,
    query: &SearchQuery<'_>,
    languages: &[(String, String)],
) -> Result<Vec<sqlx::postgres::PgRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT set_config('enable_seqscan', 'off', true), \
                set_config('enable_indexscan', 'off', true)",
    )
    .execute(&mut *tx)
    .await?;
    let mut statement = sqlx::query(sql)
        .persistent(false)
        .bind(matching)
        .bind(query.viewer)
        .bind(query.limit)
        .bind(query.category.map(|category| category.code));
    for (language, config) in languages {
        statement = statement.bind(language).bind(config);
    }
    let rows = statement.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Who may find a course: anyone when it is public, its maker otherwise, nobody while it is hidden;
/// and of which subject, when the search names one. Parameters `$2` (the viewer) and `$4` (the
/// category's code, or NULL).
const FINDABLE: &str = "c.hidden_at IS NULL AND (c.visibility = 'public' OR c.owner_id = $2) \
                        AND ($4 IS NULL OR c.category = $4)";

type CourseRow = (i64, String, String, String);

/// The rows SQLite search statement `sql` finds (a future): the query text `matching` as $1, then
/// the viewer, limit and subject of `query`.
macro_rules! matches {
    ($pool:expr, $sql:expr, $matching:expr, $query:expr) => {
        sqlx::query_as($sql)
            .bind($matching)
            .bind($query.viewer)
            .bind($query.limit)
            .bind($query.category.map(|category| category.code))
            .fetch_all($pool)
    };
}
type UnitRow = (i64, String, String, i64, i64, String, String);

impl Store {
    /// Courses and units that hold every word of the query (the last also as the start of a word),
    /// best first. A query without words finds nothing.
    pub async fn search(&self, query: &SearchQuery<'_>) -> Result<Found, StoreError> {
        let terms = terms(query.text);
        if terms.is_empty() || query.limit <= 0 {
            return Ok(Found::default());
        }
        let (courses, units): (Vec<CourseRow>, Vec<UnitRow>) = match &self.backend {
            Backend::Sqlite(pool) => {
                let matching = fts5_query(&terms);
                let (courses_sql, units_sql) = (
                    format!(
                        "SELECT c.id, c.slug, c.title, \
                            snippet(course_search, 1, char(2), char(3), '…', 24) \
                     FROM course_search JOIN courses c ON c.id = course_search.rowid \
                     WHERE course_search MATCH $1 AND {FINDABLE} \
                       AND course_search.rowid >= {} \
                     ORDER BY bm25(course_search, 4.0, 1.0), c.id LIMIT $3",
                        newest_matches("course_search")
                    ),
                    format!(
                        "SELECT u.id, c.slug, c.title, m.number, u.number, u.title, \
                            snippet(unit_search, 1, char(2), char(3), '…', 24) \
                     FROM unit_search JOIN units u ON u.id = unit_search.rowid \
                     JOIN modules m ON m.id = u.module_id JOIN courses c ON c.id = u.course_id \
                     WHERE unit_search MATCH $1 AND {FINDABLE} \
                       AND unit_search.rowid >= {} \
                     ORDER BY bm25(unit_search, 4.0, 1.0), u.id LIMIT $3",
                        newest_matches("unit_search")
                    ),
                );
                // Courses and units at once, each on a connection (and a core) of its own.
                tokio::try_join!(
                    matches!(pool, &courses_sql, &matching, query),
                    matches!(pool, &units_sql, &matching, query)
                )?
            }
            Backend::Postgres(pool) => {
                let matching = tsquery(&terms);
                // Each language present is searched with its own configuration (the query's words
                // stemmed as that language's texts were).
                let languages: Vec<(String, String)> = sqlx::query_as(
                    "SELECT language, lyceum_search_config(language)::text \
                     FROM (SELECT DISTINCT language FROM courses) l ORDER BY language",
                )
                .fetch_all(pool)
                .await?;
                if languages.is_empty() {
                    return Ok(Found::default());
                }
                let courses_sql = postgres_search(
                    &languages,
                    "SELECT c.id, c.language FROM courses c",
                    "courses c",
                    "c.search",
                    "c.id",
                    &format!(
                        "SELECT c.id, c.slug, c.title, {} FROM best b JOIN courses c ON c.id = b.id",
                        headline("c.summary")
                    ),
                );
                let units_sql = postgres_search(
                    &languages,
                    "SELECT u.id, c.language FROM units u JOIN courses c ON c.id = u.course_id",
                    "units u",
                    "u.search",
                    "u.id",
                    &format!(
                        "SELECT u.id, c.slug, c.title, w.number, u.number, u.title, {} \
                         FROM best b JOIN units u ON u.id = b.id \
                         JOIN courses c ON c.id = u.course_id JOIN modules w ON w.id = u.module_id",
                        headline("COALESCE(u.body, '')")
                    ),
                );
                let (courses, units) = tokio::try_join!(
                    postgres_rows(pool, &courses_sql, &matching, query, &languages),
                    postgres_rows(pool, &units_sql, &matching, query, &languages)
                )?;
                use sqlx::FromRow;
                (
                    courses
                        .iter()
                        .map(CourseRow::from_row)
                        .collect::<Result<_, _>>()?,
                    units
                        .iter()
                        .map(UnitRow::from_row)
                        .collect::<Result<_, _>>()?,
                )
            }
        };
        Ok(found(courses, units, Snippet::parse))
    }

    /// The units and courses of these ids that `viewer` may find (of `category`, when given), in the
    /// order given, each with the start of its text as its snippet: what search by meaning found.
    pub async fn search_hits(
        &self,
        unit_ids: &[i64],
        course_ids: &[i64],
        viewer: Option<i64>,
        category: Option<Category>,
    ) -> Result<Found, StoreError> {
        let findable = FINDABLE.replace("$2", "$1").replace("$4", "$2");
        let category = category.map(|category| category.code);
        // The ids are numbers from the store itself, written into the statement as such.
        let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let courses_sql = format!(
            "SELECT c.id, c.slug, c.title, substr(c.summary, 1, 600) FROM courses c \
             WHERE c.id IN ({}) AND {findable}",
            list(course_ids)
        );
        let units_sql = format!(
            "SELECT u.id, c.slug, c.title, m.number, u.number, u.title, \
                    substr(COALESCE(u.body, ''), 1, 1200) \
             FROM units u JOIN modules m ON m.id = u.module_id JOIN courses c ON c.id = u.course_id \
             WHERE u.id IN ({}) AND {findable}",
            list(unit_ids)
        );
        // Courses and units at once, each on a connection of its own; none asked, none read.
        macro_rules! listed {
            ($pool:expr, $ids:expr, $sql:expr) => {
                async {
                    if $ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let statement = sqlx::query_as($sql).bind(viewer).bind(category);
                    statement.fetch_all($pool).await
                }
            };
        }
        let (mut courses, mut units): (Vec<CourseRow>, Vec<UnitRow>) = with_pool!(self, pool => {
            tokio::try_join!(
                listed!(pool, course_ids, &courses_sql),
                listed!(pool, unit_ids, &units_sql)
            )?
        });
        let order = |ids: &[i64], id: i64| ids.iter().position(|wanted| *wanted == id);
        courses.sort_by_key(|row| order(course_ids, row.0));
        units.sort_by_key(|row| order(unit_ids, row.0));
        Ok(found(courses, units, Snippet::opening))
    }
}

/// Rows as hits, their snippets read by `snippet`.
fn found(courses: Vec<CourseRow>, units: Vec<UnitRow>, snippet: fn(&str) -> Snippet) -> Found {
    Found {
        courses: courses
            .into_iter()
            .map(|(id, slug, title, text)| CourseHit {
                id,
                slug,
                title,
                snippet: snippet(&text),
            })
            .collect(),
        units: units
            .into_iter()
            .map(
                |(id, course_slug, course_title, week, number, title, text)| UnitHit {
                    id,
                    course_slug,
                    course_title,
                    week,
                    number,
                    title,
                    snippet: snippet(&text),
                },
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_only_its_words_whatever_is_typed() {
        assert_eq!(terms("Neural NETS!"), ["neural", "nets"]);
        assert_eq!(terms("\"NEAR(a b)\" * : & | !'"), ["near", "a", "b"]);
        assert!(terms("?!. -- ** :: \"\"").is_empty());
        assert_eq!(
            terms("Photosynthèse, 光合作用"),
            ["photosynthèse", "光合作用"]
        );
        assert_eq!(terms(&"word ".repeat(2_000)).len(), MAX_TERMS);
        assert_eq!(
            terms(&"x".repeat(10_000))[0].chars().count(),
            MAX_TERM_CHARS
        );
        assert_eq!(fts5_query(&terms("neural nets")), "\"neural\" \"nets\"*");
        assert_eq!(tsquery(&terms("neural nets")), "'neural' & 'nets':*");
    }

    #[test]
    fn a_snippet_is_escaped_text_with_only_lyceum_s_marks() {
        let snippet = Snippet::parse("a <script>x</script> \u{2}**net**\u{3} & \u{3}more\u{2}");
        assert_eq!(
            snippet.html(),
            "a &lt;script&gt;x&lt;/script&gt; <mark>net</mark> &amp; more"
        );
        assert_eq!(snippet.text(), "a <script>x</script> net & more");
        assert_eq!(Snippet::parse("\u{2}open").html(), "<mark>open</mark>");
    }
}
