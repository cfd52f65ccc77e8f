//! `lyceum generate`: a topic in, a whole stored course out, with the outline shown as it is written and
//! a progress bar over the rest.

use crate::commands::outln;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lyceum_app::{DraftEvent, Lyceum, Settings, export};
use lyceum_course::{
    Audience, CourseRequest, Description, InputError, Language, Level, OutlinePiece, UnitsPerWeek,
    Weeks,
};

use crate::commands::{ExportFormat, UsageError, run_worker};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the course is about, 10 to 5000 characters.
    description: String,
    /// Weeks (modules), 1 to 26.
    #[arg(long, default_value_t = 12)]
    weeks: u32,
    /// Units in each week, 1 to 6.
    #[arg(long, default_value_t = 3)]
    units_per_week: u32,
    /// The language to write the course in, as a tag (en, fr, pt-BR…) or an English name.
    #[arg(long, default_value = "en")]
    language: String,
    /// beginner, intermediate or advanced.
    #[arg(long, default_value = "beginner")]
    level: String,
    /// Who the course is for, up to 200 characters.
    #[arg(long, default_value = "")]
    audience: String,
    /// Also write the finished course into this folder as Markdown.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the finished course as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
}

impl Args {
    /// The validated request; the first bad value is reported with what to change.
    fn request(&self) -> Result<CourseRequest, InputError> {
        Ok(CourseRequest {
            description: Description::parse(&self.description)?,
            weeks: Weeks::new(self.weeks)?,
            units_per_week: UnitsPerWeek::new(self.units_per_week)?,
            language: Language::parse(&self.language)?,
            level: Level::parse(&self.level)?,
            audience: Audience::parse(&self.audience)?,
        })
    }
}

pub async fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    // Check everything the person typed before touching the database or loading a model.
    let request = args
        .request()
        .map_err(|error| UsageError(error.to_string()))?;
    let app = Lyceum::open(settings.clone())
        .await
        .context("Failed to start Lyceum")?;
    let mut out: Box<dyn Write + Send> = if args.json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    if let Some(caution) = settings.language_caution(request.language) {
        writeln!(out, "Caution: {caution}")?;
    }
    let info = app.engine.info().clone();
    writeln!(
        out,
        "Drafting a {}-week outline with {} ({})…",
        request.weeks.get(),
        info.model,
        info.kind
    )?;
    let draft = draft(&app, &request, &mut out).await?;
    let course = app
        .confirm_course(&request, draft.outline, &draft.stats)
        .await
        .context("Failed to store the course")?;
    let units = request.weeks.get() * request.units_per_week.get();
    writeln!(
        out,
        "\nStored as \"{}\". Writing {} week overviews, {units} units and {units} quizzes \
         (Ctrl-C stops; `lyceum worker --drain` finishes it later).",
        course.slug,
        request.weeks.get()
    )?;
    run_worker(&app, Some(&course)).await?;

    let exported = export::load(&app.store, &course).await?;
    if let Some(dir) = &args.out {
        let files = ExportFormat::Markdown.write(&exported, dir)?;
        writeln!(out, "Wrote {} files to {}", files.len(), dir.display())?;
    }
    if args.json {
        outln!("{}", export::to_json(&exported));
    }
    if !export::is_complete(&exported) {
        anyhow::bail!(
            "some items of \"{}\" failed (see `lyceum courses show {}`); run `lyceum courses retry {}` to write them again",
            course.slug,
            course.slug,
            course.slug
        );
    }
    writeln!(
        out,
        "Done: `lyceum export {} --out DIR` writes it as Markdown.",
        course.slug
    )?;
    Ok(())
}

/// Drafts the outline, printing each title as soon as the model has written it.
async fn draft(
    app: &Arc<Lyceum>,
    request: &CourseRequest,
    out: &mut Box<dyn Write + Send>,
) -> anyhow::Result<lyceum_app::Draft> {
    let draft = app
        .draft_outline(request, |event| {
            let line = match event {
                DraftEvent::Piece(OutlinePiece::Title(title)) => format!("\n{title}"),
                DraftEvent::Piece(OutlinePiece::Summary(summary)) => format!("{summary}\n"),
                DraftEvent::Piece(OutlinePiece::Week(week, title)) => {
                    format!("Week {week}: {title}")
                }
                DraftEvent::Piece(OutlinePiece::Unit(week, unit, title)) => {
                    format!("  {week}.{unit} {title}")
                }
                DraftEvent::Replaced(OutlinePiece::Week(week, title)) => {
                    format!("Week {week} (it repeated another title) is now: {title}")
                }
                DraftEvent::Replaced(OutlinePiece::Unit(week, unit, title)) => {
                    format!("  {week}.{unit} (it repeated another title) is now: {title}")
                }
                DraftEvent::Replaced(_) => return,
                DraftEvent::Retry(problems) => {
                    format!("That step had problems ({problems}); writing it again…")
                }
            };
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        })
        .await
        .context("Failed to draft the outline")?;
    Ok(draft)
}
