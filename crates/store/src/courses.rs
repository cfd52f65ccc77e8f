//! Courses and their parts: creating a course from its confirmed outline (with a pending generation and a
//! queued job for every overview and unit, in one transaction), and reading courses back.

use lyceum_course::{
    Category, CourseRequest, Language, Level, Outline, OutlineModule, OutlineUnit, Quiz,
};

use crate::generations::{GenerationStats, Status};
use crate::{Change, Store, StoreError, from_json, now_ms, with_pool};

/// What a course is made from: the request as typed, the confirmed (possibly edited) outline and how its
/// draft was generated.
#[derive(Debug, Clone, Copy)]
pub struct NewCourse<'a> {
    /// The validated request.
    pub request: &'a CourseRequest,
    /// The confirmed outline; its shape may differ from the request's after editing.
    pub outline: &'a Outline,
    /// How the outline draft was generated.
    pub outline_stats: &'a GenerationStats,
}

/// A stored course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    /// Its id.
    pub id: i64,
    /// Its URL name, unique.
    pub slug: String,
    /// The description as typed.
    pub description: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Learning outcomes.
    pub outcomes: Vec<String>,
    /// The language it is written in.
    pub language: Language,
    /// Who it is for.
    pub audience: String,
    /// The learner's level.
    pub level: Level,
    /// Weeks, as confirmed.
    pub weeks: i64,
    /// Units per week as asked (an edited outline may vary per week).
    pub units_per_week: i64,
    /// Created (Unix ms).
    pub created_at: i64,
    /// When an operator featured it (Unix ms), if featured.
    pub featured_at: Option<i64>,
    /// When an admin hid it (Unix ms): shown to nobody and listed nowhere until shown again.
    pub hidden_at: Option<i64>,
    /// Who may see it, as its maker chose.
    pub visibility: Visibility,
    /// Who made it: an account, a former one, or nobody signed in.
    pub maker: Maker,
    /// Its subject; `None` for a course made before categories and not categorized since.
    pub category: Option<Category>,
}

impl Course {
    /// Whether `viewer` (`None`: someone signed out) may see it: anyone, when it is neither hidden
    /// nor private; its maker, when it is private; admins, always.
    pub fn shown_to(&self, viewer: Option<&crate::User>) -> bool {
        if self.shown_to_all() {
            return true;
        }
        viewer.is_some_and(|user| {
            user.is_admin || (self.hidden_at.is_none() && self.maker.account() == Some(user.id))
        })
    }

    /// Whether everyone may see it, so that its pages may be shared between readers.
    pub fn shown_to_all(&self) -> bool {
        self.hidden_at.is_none() && self.visibility != Visibility::Private
    }
}

/// Who may see a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone; listed in the catalog and the sitemap.
    Public,
    /// Anyone with its address; listed nowhere, and search engines are asked not to index it.
    Unlisted,
    /// Its maker (and admins) only.
    Private,
}

impl Visibility {
    pub const ALL: [Self; 3] = [Self::Public, Self::Unlisted, Self::Private];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|visibility| visibility.as_str() == text)
    }
}

/// Who made a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Maker {
    /// Someone not signed in (or before there were accounts).
    Anonymous,
    /// An account: its id and display name.
    Account { id: i64, name: String },
    /// An account since deleted, whose owner left the course published.
    Former,
}

impl Maker {
    /// The account's id, when an account made it.
    pub fn account(&self) -> Option<i64> {
        match self {
            Self::Account { id, .. } => Some(*id),
            Self::Anonymous | Self::Former => None,
        }
    }
}

/// The courses everyone's lists show: public and not hidden.
const LISTED: &str = "c.hidden_at IS NULL AND c.visibility = 'public'";

/// Which courses a list holds, in which order.
#[derive(Debug, Clone, Copy)]
enum Listing {
    Catalog,
    Newest,
    Featured,
    MadeBy(i64),
    All,
    /// Listed courses of one subject, in the catalog's order.
    InCategory(Category),
}

/// Deletes, in the open transaction `$tx`, the courses `c` matching `$filter` (SQL written here, with
/// one parameter `$1` bound to `$param`) and the jobs still queued to write or embed them; how many
/// courses went.
macro_rules! delete_courses {
    ($tx:ident, $filter:expr, $param:expr) => {{
        sqlx::query(concat!(
            "DELETE FROM jobs WHERE kind = 'generate' AND payload IN (SELECT CAST(g.id AS TEXT) \
             FROM generations g JOIN courses c ON c.id = g.course_id WHERE ",
            $filter,
            ")"
        ))
        .bind($param)
        .execute(&mut *$tx)
        .await?;
        sqlx::query(concat!(
            "DELETE FROM jobs WHERE kind = 'embed' AND payload IN ( \
             SELECT 'course:' || c.id FROM courses c WHERE ",
            $filter,
            " UNION ALL SELECT 'unit:' || u.id FROM units u JOIN courses c ON c.id = u.course_id \
             WHERE ",
            $filter,
            ")"
        ))
        .bind($param)
        .execute(&mut *$tx)
        .await?;
        let deleted = sqlx::query(concat!(
            "DELETE FROM courses WHERE id IN (SELECT c.id FROM courses c WHERE ",
            $filter,
            ")"
        ))
        .bind($param)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        deleted
    }};
}
pub(crate) use delete_courses;

/// A week of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its id.
    pub id: i64,
    /// Week number, from 1.
    pub number: i64,
    /// Title.
    pub title: String,
    /// The overview, once written.
    pub overview: Option<String>,
    /// Where its overview's generation is.
    pub status: Status,
}

/// A unit of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its id.
    pub id: i64,
    /// Its week's number, from 1.
    pub week: i64,
    /// Its number within the week, from 1.
    pub number: i64,
    /// Its place in the whole syllabus, from 1.
    pub position: i64,
    /// Title.
    pub title: String,
    /// Learning objectives.
    pub objectives: Vec<String>,
    /// The article, once written.
    pub body: Option<String>,
    /// Where its article's generation is.
    pub status: Status,
    /// Who wrote its current text: the model, or a person who edited it.
    pub author: crate::Author,
}

/// A course in a list, with how far its writing has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseSummary {
    /// The course.
    pub course: Course,
    /// Generated items (outline, overviews, units, quizzes created so far).
    pub items: i64,
    /// Of those, ready.
    pub ready: i64,
    /// Of those, failed.
    pub failed: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CourseRow {
    id: i64,
    slug: String,
    description: String,
    title: String,
    summary: String,
    outcomes: String,
    language: String,
    audience: String,
    level: String,
    weeks: i64,
    units_per_week: i64,
    created_at: i64,
    featured_at: Option<i64>,
    hidden_at: Option<i64>,
    visibility: String,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    former_owner: i64,
    category: Option<String>,
}

impl TryFrom<CourseRow> for Course {
    type Error = StoreError;
    fn try_from(row: CourseRow) -> Result<Self, StoreError> {
        let corrupt = |error: lyceum_course::InputError| {
            StoreError::Corrupt(format!("course {}: {error}", row.slug))
        };
        let visibility = Visibility::parse(&row.visibility).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "course {}: visibility {:?}",
                row.slug, row.visibility
            ))
        })?;
        // A code no longer in the taxonomy reads as no category rather than losing the course.
        let category = row.category.as_deref().and_then(Category::from_code);
        Ok(Self {
            id: row.id,
            category,
            outcomes: from_json(&row.outcomes, "course outcomes")?,
            language: Language::parse(&row.language).map_err(corrupt)?,
            level: Level::parse(&row.level).map_err(corrupt)?,
            slug: row.slug,
            description: row.description,
            title: row.title,
            summary: row.summary,
            audience: row.audience,
            weeks: row.weeks,
            units_per_week: row.units_per_week,
            created_at: row.created_at,
            featured_at: row.featured_at,
            hidden_at: row.hidden_at,
            visibility,
            maker: match (row.owner_id, row.owner_name) {
                (Some(id), Some(name)) => Maker::Account { id, name },
                _ if row.former_owner != 0 => Maker::Former,
                _ => Maker::Anonymous,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct ModuleRow {
    id: i64,
    number: i64,
    title: String,
    overview: Option<String>,
    status: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: i64,
    week: i64,
    number: i64,
    position: i64,
    title: String,
    objectives: String,
    body: Option<String>,
    status: Option<String>,
    author: String,
    author_id: Option<i64>,
    author_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    course: CourseRow,
    items: i64,
    ready: Option<i64>,
    failed: Option<i64>,
}

pub(crate) const COURSE_COLUMNS: &str = "c.id, c.slug, c.description, c.title, c.summary, c.outcomes, c.language, \
                              c.audience, c.level, c.weeks, c.units_per_week, c.created_at, c.featured_at, \
                              c.hidden_at, c.visibility, c.owner_id, c.former_owner, c.category, \
                              (SELECT o.display_name FROM users o WHERE o.id = c.owner_id) AS owner_name";

fn status(text: Option<String>) -> Result<Status, StoreError> {
    Status::parse(text.as_deref().unwrap_or("pending"))
}

/// How many slugs a new course tries before giving up: numbered ones, then random ones.
pub(crate) const SLUG_TRIES: u32 = 40;
/// Numbered slugs (`-2` … `-20`) come first; titles that keep coming back (or have no letters to
/// transliterate, all of which are `course`) get a random suffix instead of an ever longer scan.
const NUMBERED_SLUGS: u32 = 20;

/// The `n`th slug to try for a course whose title gives `base`.
pub(crate) fn slug_candidate(base: &str, n: u32) -> Result<String, StoreError> {
    Ok(match n {
        1 => base.to_owned(),
        n if n <= NUMBERED_SLUGS => format!("{base}-{n}"),
        _ => {
            let mut bytes = [0u8; 4];
            getrandom::fill(&mut bytes).map_err(|error| {
                StoreError::Corrupt(format!("no randomness for a slug: {error}"))
            })?;
            let suffix: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("{base}-{suffix}")
        }
    })
}

/// One page of a course for the sitemap: the course (no week), a week (no unit), or a written unit.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SitemapEntry {
    /// The course's slug.
    pub slug: String,
    /// The week's number.
    pub week: Option<i64>,
    /// The unit's number in its week.
    pub unit: Option<i64>,
}

/// Inserts a confirmed course in the transaction `$tx`: its weeks and units, a ready record for the
/// outline, and a pending generation with a queued job for every overview and unit, queued in syllabus
/// order (each week's overview, then its units). Evaluates to the new course's id. The slug comes from
/// the title, with `-2`, `-3`… added when taken, and a random suffix once those run out.
macro_rules! insert_course {
    ($tx:ident, $new:expr) => {{
        let new: $crate::courses::NewCourse<'_> = $new;
        let request = new.request;
        let outline = new.outline;
        let now = $crate::now_ms();
        let base = lyceum_course::slugify(&outline.title);
        let units_per_week = outline
            .modules
            .iter()
            .map(|module| module.units.len())
            .max()
            .unwrap_or(0);
        let mut course_id = None;
        for n in 1..=$crate::courses::SLUG_TRIES {
            let slug = $crate::courses::slug_candidate(&base, n)?;
            course_id = sqlx::query_scalar(
                "INSERT INTO courses (slug, description, title, summary, outcomes, language, audience, \
                 level, weeks, units_per_week, created_at, updated_at, category) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) \
                 ON CONFLICT (slug) DO NOTHING RETURNING id",
            )
            .bind(&slug)
            .bind(request.description.as_str())
            .bind(&outline.title)
            .bind(&outline.summary)
            .bind($crate::to_json(&outline.outcomes))
            .bind(request.language.tag)
            .bind(request.audience.as_str())
            .bind(request.level.as_str())
            .bind(outline.modules.len() as i64)
            .bind(units_per_week as i64)
            .bind(now)
            .bind(outline.category.map(|category| category.code))
            .fetch_optional(&mut *$tx)
            .await?;
            if course_id.is_some() {
                break;
            }
        }
        let course_id: i64 = course_id.ok_or_else(|| $crate::StoreError::Corrupt(format!("no free slug for {base}")))?;
        let stats = new.outline_stats;
        sqlx::query(
            "INSERT INTO generations (course_id, kind, item_id, status, engine, model, tokens_in, \
             tokens_out, duration_ms, attempts, updated_at) \
             VALUES ($1, 'outline', $1, 'ready', $2, $3, $4, $5, $6, 1, $7)",
        )
        .bind(course_id)
        .bind(&stats.engine)
        .bind(&stats.model)
        .bind(stats.tokens_in.map(i64::from))
        .bind(stats.tokens_out.map(i64::from))
        .bind(i64::try_from(stats.duration.as_millis()).unwrap_or(i64::MAX))
        .bind(now)
        .execute(&mut *$tx)
        .await?;
        let mut position = 0_i64;
        for (m, module) in outline.modules.iter().enumerate() {
            let module_id: i64 = sqlx::query_scalar(
                "INSERT INTO modules (course_id, number, title) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(course_id)
            .bind(m as i64 + 1)
            .bind(&module.title)
            .fetch_one(&mut *$tx)
            .await?;
            let mut items = vec![("overview", module_id)];
            for (u, unit) in module.units.iter().enumerate() {
                position += 1;
                let unit_id: i64 = sqlx::query_scalar(
                    "INSERT INTO units (course_id, module_id, number, position, title, objectives) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(course_id)
                .bind(module_id)
                .bind(u as i64 + 1)
                .bind(position)
                .bind(&unit.title)
                .bind($crate::to_json(&unit.objectives))
                .fetch_one(&mut *$tx)
                .await?;
                items.push(("unit", unit_id));
            }
            for (kind, item_id) in items {
                let generation_id: i64 = sqlx::query_scalar(
                    "INSERT INTO generations (course_id, kind, item_id, status, updated_at) \
                     VALUES ($1, $2, $3, 'pending', $4) RETURNING id",
                )
                .bind(course_id)
                .bind(kind)
                .bind(item_id)
                .bind(now)
                .fetch_one(&mut *$tx)
                .await?;
                $crate::jobs::insert!(&mut *$tx, &$crate::generations::generate_job(generation_id, 0, now));
            }
        }
        course_id
    }};
}
pub(crate) use insert_course;

impl Store {
    /// Stores a confirmed course, all of it or nothing (see `insert_course!`).
    pub async fn create_course(&self, new: NewCourse<'_>) -> Result<Course, StoreError> {
        let course_id = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let course_id = insert_course!(tx, new);
            tx.commit().await?;
            course_id
        });
        self.publish(crate::Change::Queued).await;
        self.course_by_id(course_id).await
    }

    /// A course by id.
    pub async fn course_by_id(&self, id: i64) -> Result<Course, StoreError> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = $1");
        let row: Option<CourseRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("course {id}")))?
            .try_into()
    }

    /// A course by slug.
    pub async fn course(&self, slug: &str) -> Result<Course, StoreError> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses c WHERE c.slug = $1");
        let row: Option<CourseRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("course \"{slug}\"")))?
            .try_into()
    }

    /// How many courses are listed (public and not hidden).
    pub async fn course_count(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM courses WHERE hidden_at IS NULL AND visibility = 'public'"
        )
        .fetch_one(pool)
        .await?))
    }

    /// Every page of the courses `offset..offset + limit`, oldest first (so a page keeps its courses
    /// as new ones come): each course, each of its weeks, and each written unit, by slug and numbers,
    /// in one query.
    pub async fn sitemap(&self, limit: i64, offset: i64) -> Result<Vec<SitemapEntry>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(
            "WITH page AS (SELECT id, slug FROM courses WHERE hidden_at IS NULL AND visibility = 'public' ORDER BY id LIMIT $1 OFFSET $2) \
             SELECT slug, week, unit FROM ( \
               SELECT p.slug, CAST(NULL AS BIGINT) AS week, CAST(NULL AS BIGINT) AS unit FROM page p \
               UNION ALL \
               SELECT p.slug, m.number, CAST(NULL AS BIGINT) FROM page p \
                 JOIN modules m ON m.course_id = p.id \
               UNION ALL \
               SELECT p.slug, m.number, u.number FROM page p \
                 JOIN units u ON u.course_id = p.id JOIN modules m ON m.id = u.module_id \
                 JOIN generations g ON g.kind = 'unit' AND g.item_id = u.id AND g.status = 'ready' \
             ) AS entries ORDER BY slug, COALESCE(week, 0), COALESCE(unit, 0)",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?))
    }

    /// The catalog: featured courses first (the most recently featured first), then the newest, with
    /// their progress. Hidden courses are not listed.
    pub async fn list_courses(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::Catalog, limit, offset).await
    }

    /// The newest courses, featured or not, with their progress.
    pub async fn newest_courses(&self, limit: i64) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::Newest, limit, 0).await
    }

    /// Featured courses only, the most recently featured first, with their progress.
    pub async fn featured_courses(&self, limit: i64) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::Featured, limit, 0).await
    }

    /// The courses an account made, hidden ones too, newest first.
    pub async fn courses_made_by(&self, user_id: i64) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::MadeBy(user_id), i64::MAX, 0).await
    }

    /// The listed courses of `category`, in the catalog's order, with their progress.
    pub async fn courses_in_category(
        &self,
        category: Category,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::InCategory(category), limit, offset)
            .await
    }

    /// How many listed courses each category holds, for those that hold any, in CIP order.
    pub async fn category_counts(&self) -> Result<Vec<(Category, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => sqlx::query_as(&format!(
            "SELECT c.category, COUNT(*) FROM courses c \
             WHERE c.category IS NOT NULL AND {LISTED} \
             GROUP BY c.category ORDER BY c.category"
        ))
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(code, count)| Some((Category::from_code(&code)?, count)))
            .collect())
    }

    /// Sets (or clears) course `course_id`'s subject; whether there is such a course.
    pub async fn set_category(
        &self,
        course_id: i64,
        category: Option<Category>,
    ) -> Result<bool, StoreError> {
        self.set_course_text(
            course_id,
            "category",
            category.map(|category| category.code),
        )
        .await
    }

    /// Sets the text column `column` (a name written here, never taken from input) of course
    /// `course_id` and tells every node; whether there is such a course.
    async fn set_course_text(
        &self,
        course_id: i64,
        column: &str,
        value: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = format!("UPDATE courses SET {column} = $2, updated_at = $3 WHERE id = $1");
        let updated = with_pool!(self, pool => sqlx::query(&sql)
            .bind(course_id)
            .bind(value)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        self.publish(Change::Course(course_id)).await;
        Ok(updated > 0)
    }

    /// Every course, hidden ones too, newest first: what admins look after.
    pub async fn all_courses(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CourseSummary>, StoreError> {
        self.summaries(Listing::All, limit, offset).await
    }

    /// Courses with their progress.
    async fn summaries(
        &self,
        listing: Listing,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CourseSummary>, StoreError> {
        let newest = "c.created_at DESC, c.id DESC";
        let catalog = "(c.featured_at IS NULL), c.featured_at DESC, c.created_at DESC, c.id DESC";
        let (filter, order) = match listing {
            Listing::Catalog => (LISTED.to_owned(), catalog),
            Listing::InCategory(_) => (format!("{LISTED} AND c.category = $3"), catalog),
            Listing::Newest => (LISTED.to_owned(), newest),
            Listing::Featured => (
                format!("{LISTED} AND c.featured_at IS NOT NULL"),
                "c.featured_at DESC, c.id DESC",
            ),
            Listing::MadeBy(_) => ("c.owner_id = $3".to_owned(), newest),
            Listing::All => ("$3 = 0".to_owned(), newest),
        };
        let sql = format!(
            "SELECT {COURSE_COLUMNS}, COUNT(g.id) AS items, \
             SUM(CASE WHEN g.status = 'ready' THEN 1 ELSE 0 END) AS ready, \
             SUM(CASE WHEN g.status = 'failed' THEN 1 ELSE 0 END) AS failed \
             FROM courses c LEFT JOIN generations g ON g.course_id = c.id AND g.kind <> 'rewrite' WHERE {filter} \
             GROUP BY c.id ORDER BY {order} LIMIT $1 OFFSET $2"
        );
        // Only the listings that name `$3` bind it: PostgreSQL refuses a parameter the query lacks.
        let rows: Vec<SummaryRow> = with_pool!(self, pool => {
            let query = sqlx::query_as(&sql).bind(limit).bind(offset);
            let query = match listing {
                Listing::MadeBy(user_id) => query.bind(user_id),
                Listing::All => query.bind(0_i64),
                Listing::InCategory(category) => query.bind(category.code),
                Listing::Catalog | Listing::Newest | Listing::Featured => query,
            };
            query.fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(CourseSummary {
                    course: row.course.try_into()?,
                    items: row.items,
                    ready: row.ready.unwrap_or(0),
                    failed: row.failed.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Hides a course from everyone (or shows it again); the course as it is now.
    pub async fn set_hidden(&self, slug: &str, hidden: bool) -> Result<Course, StoreError> {
        let course = self.mark_course(slug, "hidden_at", hidden).await?;
        self.publish(Change::Course(course.id)).await;
        Ok(course)
    }

    /// Sets who may see course `course_id`; whether there is such a course.
    pub async fn set_visibility(
        &self,
        course_id: i64,
        visibility: Visibility,
    ) -> Result<bool, StoreError> {
        self.set_course_text(course_id, "visibility", Some(visibility.as_str()))
            .await
    }

    /// Sets the time column `mark` of course `slug` to now (`on`) or clears it; the course as it is now.
    async fn mark_course(&self, slug: &str, mark: &str, on: bool) -> Result<Course, StoreError> {
        let at = on.then(now_ms);
        let sql = format!("UPDATE courses SET {mark} = $2, updated_at = $3 WHERE slug = $1");
        let updated = with_pool!(self, pool => sqlx::query(&sql)
            .bind(slug)
            .bind(at)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected());
        if updated == 0 {
            return Err(StoreError::NotFound(format!("course \"{slug}\"")));
        }
        self.course(slug).await
    }

    /// Deletes a course with everything of it: weeks, units, quizzes, generation records and the
    /// jobs still queued to write them. Returns whether it existed. A worker writing one of its items
    /// finds it gone and drops the job.
    pub async fn delete_course(&self, course_id: i64) -> Result<bool, StoreError> {
        let deleted = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let deleted = delete_courses!(tx, "c.id = $1", course_id);
            tx.commit().await?;
            deleted
        });
        self.publish(Change::Course(course_id)).await;
        Ok(deleted > 0)
    }

    /// Features a course (or stops featuring it); the course as it is now.
    pub async fn set_featured(&self, slug: &str, featured: bool) -> Result<Course, StoreError> {
        self.mark_course(slug, "featured_at", featured).await
    }

    /// A course's weeks in order.
    pub async fn modules(&self, course_id: i64) -> Result<Vec<Module>, StoreError> {
        let rows: Vec<ModuleRow> = with_pool!(self, pool => sqlx::query_as(
            "SELECT m.id, m.number, m.title, m.overview, g.status FROM modules m \
             LEFT JOIN generations g ON g.kind = 'overview' AND g.item_id = m.id \
             WHERE m.course_id = $1 ORDER BY m.number",
        )
        .bind(course_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|row| {
                Ok(Module {
                    id: row.id,
                    number: row.number,
                    title: row.title,
                    overview: row.overview,
                    status: status(row.status)?,
                })
            })
            .collect()
    }

    /// A course's units in syllabus order.
    pub async fn units(&self, course_id: i64) -> Result<Vec<Unit>, StoreError> {
        let rows: Vec<UnitRow> = with_pool!(self, pool => sqlx::query_as(
            "SELECT u.id, m.number AS week, u.number, u.position, u.title, u.objectives, u.body, g.status, \
             u.author, u.author_id, (SELECT a.display_name FROM users a WHERE a.id = u.author_id) AS author_name \
             FROM units u JOIN modules m ON m.id = u.module_id \
             LEFT JOIN generations g ON g.kind = 'unit' AND g.item_id = u.id \
             WHERE u.course_id = $1 ORDER BY u.position",
        )
        .bind(course_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|row| {
                Ok(Unit {
                    id: row.id,
                    week: row.week,
                    number: row.number,
                    position: row.position,
                    title: row.title,
                    objectives: from_json(&row.objectives, "unit objectives")?,
                    body: row.body,
                    status: status(row.status)?,
                    author: crate::versions::author(&row.author, row.author_id, row.author_name)?,
                })
            })
            .collect()
    }

    /// Every stored quiz of a course, by unit id.
    pub async fn quizzes(&self, course_id: i64) -> Result<Vec<(i64, Quiz)>, StoreError> {
        let rows: Vec<(i64, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT q.unit_id, q.questions FROM quizzes q JOIN units u ON u.id = q.unit_id \
             WHERE u.course_id = $1 ORDER BY u.position",
        )
        .bind(course_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(unit_id, questions)| Ok((unit_id, from_json(&questions, "quiz")?)))
            .collect()
    }

    /// The course's outline as confirmed, rebuilt from its weeks and units.
    pub async fn outline(&self, course: &Course) -> Result<Outline, StoreError> {
        let modules = self.modules(course.id).await?;
        let units = self.units(course.id).await?;
        Ok(outline_of(course, &modules, &units))
    }
}

/// The outline of a course from its weeks and units already read.
pub fn outline_of(course: &Course, modules: &[Module], units: &[Unit]) -> Outline {
    Outline {
        title: course.title.clone(),
        summary: course.summary.clone(),
        outcomes: course.outcomes.clone(),
        category: course.category,
        modules: modules
            .iter()
            .map(|module| OutlineModule {
                title: module.title.clone(),
                units: units
                    .iter()
                    .filter(|unit| unit.week == module.number)
                    .map(|unit| OutlineUnit {
                        title: unit.title.clone(),
                        objectives: unit.objectives.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
