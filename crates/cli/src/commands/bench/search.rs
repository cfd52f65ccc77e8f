//! `lyceum bench search`: full-text search latency over many generated courses, on a throwaway
//! SQLite database and, when given one, on a PostgreSQL database (the courses the run stores there
//! are deleted after it). The text is made of pseudo-words drawn with a Zipf-like frequency, so that queries meet
//! both common and rare words as real ones do; the same seed gives the same corpus and queries.
//! No chat model is loaded. With the sentence encoder installed it also measures how fast units are
//! embedded and the latency of hybrid search (words and meaning merged), the vectors made up around
//! a few encoded phrases so that every query by meaning has close items to fetch.

use std::time::Instant;

use anyhow::Context;
use lyceum_course::{
    CourseRequest, Description, Outline, OutlineModule, OutlineUnit, UnitsPerWeek, Weeks,
};
use lyceum_store::search::SearchQuery;
use lyceum_store::{ItemKind, NewCourse, Output, Store};

use crate::commands::outln;

/// What to measure.
pub struct Plan {
    pub courses: usize,
    pub weeks: usize,
    pub units_per_week: usize,
    /// Words in each unit's text.
    pub words: usize,
    pub queries: usize,
    /// A PostgreSQL database to measure too (what the run stores there is deleted after it).
    pub postgres: Option<String>,
    /// The sentence encoder, when installed: search by meaning is measured too.
    pub encoder: Option<std::sync::Arc<lyceum_llm::encoder::Encoder>>,
    /// Settings for the application that runs hybrid search.
    pub settings: lyceum_app::Settings,
}

/// A small deterministic generator (xorshift64*), so that runs compare.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pseudo-words, the first ones the most frequent (weight 1/rank).
struct Words {
    words: Vec<String>,
    /// Cumulative weights.
    cumulative: Vec<f64>,
}

impl Words {
    fn new(count: usize, dice: &mut Dice) -> Self {
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "mi", "ten", "ra", "su", "ve", "dor", "pa", "ni", "gel", "to", "bri", "sa",
            "mun", "de", "fi", "qua", "ro", "zen", "li", "mor", "ta", "ex",
        ];
        let mut words = Vec::with_capacity(count);
        while words.len() < count {
            let syllables = 2 + dice.below(3);
            let word: String = (0..syllables)
                .map(|_| SYLLABLES[dice.below(SYLLABLES.len())])
                .collect();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=count)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn draw(&self, dice: &mut Dice) -> &str {
        let total = self.cumulative[self.cumulative.len() - 1];
        let at = (dice.next() as f64 / u64::MAX as f64) * total;
        let index = self.cumulative.partition_point(|&weight| weight < at);
        &self.words[index.min(self.words.len() - 1)]
    }

    fn phrase(&self, dice: &mut Dice, words: usize) -> String {
        (0..words)
            .map(|_| self.draw(dice))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Sentences of 8 to 20 words, `words` in all.
    fn text(&self, dice: &mut Dice, words: usize) -> String {
        let mut text = String::new();
        let mut left = words;
        while left > 0 {
            let sentence = (8 + dice.below(13)).min(left);
            let mut line = self.phrase(dice, sentence);
            line[..1].make_ascii_uppercase();
            text.push_str(&line);
            text.push_str(". ");
            left -= sentence;
        }
        text
    }
}

/// Runs the plan on SQLite, then on PostgreSQL when it names a server.
pub async fn run(plan: Plan) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .context("Failed to open a throwaway SQLite database")?;
    measure("SQLite", &sqlite, &plan, &mut Vec::new()).await?;
    sqlite.close().await;
    if let Some(url) = &plan.postgres {
        let store = Store::open(url)
            .await
            .with_context(|| format!("Failed to open the PostgreSQL database {url}"))?;
        let mut stored = Vec::new();
        let measured = measure("PostgreSQL", &store, &plan, &mut stored).await;
        // Every course the run stored goes again, whatever happened.
        for id in stored {
            store.delete_course(id).await?;
        }
        store.close().await;
        measured?;
    }
    Ok(())
}

/// Stores the corpus (each course's id into `stored`), then times the searches.
async fn measure(
    backend: &str,
    store: &Store,
    plan: &Plan,
    stored: &mut Vec<i64>,
) -> anyhow::Result<()> {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let words = Words::new(5_000, &mut dice);
    let started = Instant::now();
    for course in 0..plan.courses {
        stored.push(fill_course(store, plan, &words, &mut dice, course).await?);
        if (course + 1) % 100 == 0 {
            eprintln!("{backend}: {} courses stored", course + 1);
        }
    }
    let filled = started.elapsed();
    // As a server's autovacuum would after such a load (this machine's PostgreSQL has it off).
    store.analyze().await?;
    let units = plan.courses * plan.weeks * plan.units_per_week;
    outln!(
        "{backend}: {} courses x {} units ({} units, {} words each) stored and indexed in {:.1} s ({:.0} units/s)",
        plan.courses,
        plan.weeks * plan.units_per_week,
        units,
        plan.words,
        filled.as_secs_f64(),
        units as f64 / filled.as_secs_f64()
    );
    // Queries of one to three words, the last one typed half way in a third of them.
    let mut timed = Vec::with_capacity(plan.queries);
    let mut hits = 0;
    for _ in 0..plan.queries {
        let count = 1 + dice.below(3);
        let mut query = words.phrase(&mut dice, count);
        if dice.below(3) == 0 && query.len() > 4 {
            query.truncate(query.len() - 2);
        }
        let started = Instant::now();
        let found = store.search(&SearchQuery::new(&query, None, 10)).await?;
        timed.push((started.elapsed(), query));
        hits += found.courses.len() + found.units.len();
    }
    timed.sort_unstable();
    let latencies: Vec<_> = timed.iter().map(|(latency, _)| *latency).collect();
    let at = |share: f64| percentile(&latencies, share);
    outln!(
        "{backend}: {} searches (1-3 words, courses and units, 10 of each): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.1} results a search",
        latencies.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        hits as f64 / latencies.len().max(1) as f64
    );
    let slowest: Vec<String> = (timed.iter().rev().take(3))
        .map(|(latency, query)| format!("\"{query}\" {:.1} ms", latency.as_secs_f64() * 1000.0))
        .collect();
    outln!("{backend}: slowest: {}", slowest.join(", "));
    if let Some(encoder) = &plan.encoder {
        hybrid(backend, store, plan, encoder, &words, &mut dice, stored).await?;
    }
    Ok(())
}

/// Latencies, sorted, as milliseconds at a share of them (0.5 for the median).
fn percentile(latencies: &[std::time::Duration], share: f64) -> f64 {
    let index = ((latencies.len() as f64 * share).ceil() as usize).clamp(1, latencies.len()) - 1;
    latencies[index].as_secs_f64() * 1000.0
}

/// Embedding speed, then hybrid search over every stored unit with a vector.
async fn hybrid(
    backend: &str,
    store: &Store,
    plan: &Plan,
    encoder: &std::sync::Arc<lyceum_llm::encoder::Encoder>,
    words: &Words,
    dice: &mut Dice,
    courses: &[i64],
) -> anyhow::Result<()> {
    use lyceum_store::vectors::VectorItem;

    // As the worker does it: one unit at a time, each read up to the encoder's limit.
    let texts: Vec<String> = (0..40).map(|_| words.text(dice, plan.words)).collect();
    let started = Instant::now();
    for text in &texts {
        encoder.embed(vec![text.clone()]).await?;
    }
    let each = started.elapsed() / texts.len() as u32;
    outln!(
        "{backend}: embedding: {:.0} ms a unit ({:.1} units/s, {} words each, read to {} tokens)",
        each.as_secs_f64() * 1000.0,
        1.0 / each.as_secs_f64(),
        plan.words,
        lyceum_llm::encoder::MAX_TOKENS
    );

    // What a hybrid search waits for besides the words: the encoder reading a short query.
    let mut reading = Vec::with_capacity(40);
    for _ in 0..40 {
        let count = 1 + dice.below(3);
        let query = words.phrase(dice, count);
        let started = Instant::now();
        encoder.embed(vec![query]).await?;
        reading.push(started.elapsed());
    }
    reading.sort_unstable();
    outln!(
        "{backend}: reading a query of 1-3 words: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&reading, 0.5),
        percentile(&reading, 0.99)
    );

    // Made-up vectors around the vectors of a few phrases, which half the queries then are.
    let phrases: Vec<String> = (0..64).map(|_| words.phrase(dice, 3)).collect();
    let centers = encoder.embed(phrases.clone()).await?;
    let started = Instant::now();
    let mut count = 0;
    for (c, course) in courses.iter().enumerate() {
        for unit in store.units(*course).await? {
            let item = VectorItem::Unit(unit.id);
            let Some(source) = store.vector_source(item).await? else {
                continue;
            };
            let center = &centers[(c + unit.position as usize) % centers.len()];
            let mut vector: Vec<f32> = center
                .iter()
                .map(|x| x + 0.04 * ((dice.below(2001) as f32 / 1000.0) - 1.0))
                .collect();
            let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            vector.iter_mut().for_each(|x| *x /= norm);
            store
                .put_vector(item, encoder.model(), &vector, &source.text)
                .await?;
            count += 1;
        }
    }
    outln!(
        "{backend}: {count} unit vectors stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let app = lyceum_app::Lyceum::with_encoder(
        plan.settings.clone(),
        store.clone(),
        super::unused_engine()?,
        Some(std::sync::Arc::clone(encoder)),
    )?;
    // The first search reads every vector into memory: timed apart.
    let started = Instant::now();
    app.search(&SearchQuery::new(&phrases[0], None, 10)).await?;
    let loading = started.elapsed();
    let mut latencies = Vec::with_capacity(plan.queries);
    let mut hits = 0;
    for q in 0..plan.queries {
        let query = if q % 2 == 0 {
            phrases[dice.below(phrases.len())].clone()
        } else {
            let count = 1 + dice.below(3);
            words.phrase(dice, count)
        };
        let started = Instant::now();
        let found = app.search(&SearchQuery::new(&query, None, 10)).await?;
        latencies.push(started.elapsed());
        hits += found.courses.len() + found.units.len();
    }
    latencies.sort_unstable();
    outln!(
        "{backend}: {} hybrid searches (words and meaning over {count} vectors): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.1} results a search; first search (reading the vectors) {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        hits as f64 / latencies.len().max(1) as f64,
        loading.as_secs_f64() * 1000.0
    );
    Ok(())
}

async fn fill_course(
    store: &Store,
    plan: &Plan,
    words: &Words,
    dice: &mut Dice,
    number: usize,
) -> anyhow::Result<i64> {
    let mut request = CourseRequest::new(Description::parse(&format!(
        "Benchmark course {number} for lyceum bench search"
    ))?);
    request.weeks = Weeks::new(u32::try_from(plan.weeks)?)?;
    request.units_per_week = UnitsPerWeek::new(u32::try_from(plan.units_per_week)?)?;
    let outline = Outline {
        category: None,
        title: words.phrase(dice, 3),
        summary: words.text(dice, 30),
        outcomes: vec![words.phrase(dice, 5)],
        modules: (0..plan.weeks)
            .map(|_| OutlineModule {
                title: words.phrase(dice, 3),
                units: (0..plan.units_per_week)
                    .map(|_| OutlineUnit {
                        title: words.phrase(dice, 4),
                        objectives: vec![words.phrase(dice, 6)],
                    })
                    .collect(),
            })
            .collect(),
    };
    let stats = super::no_stats();
    let course = store
        .create_course(NewCourse {
            request: &request,
            outline: &outline,
            outline_stats: &stats,
        })
        .await?;
    for unit in store.units(course.id).await? {
        let generation = store
            .generation_of(ItemKind::Unit, unit.id)
            .await?
            .context("a unit without its generation record")?;
        let text = words.text(dice, plan.words);
        store
            .finish_generation(generation.id, Output::Unit(&text), &stats, None)
            .await?;
    }
    Ok(course.id)
}
