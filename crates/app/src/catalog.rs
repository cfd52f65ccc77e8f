//! The public catalog, a page at a time: featured courses first, then the newest, the same order and
//! page size for the site and the API, of every subject or of one.

use lyceum_course::Category;
use lyceum_store::{CourseSummary, StoreError};

use crate::Lyceum;

/// Courses on one page of the catalog.
pub const PER_PAGE: i64 = 20;

/// Courses on one page of the admins' list of every course.
pub const ADMIN_PER_PAGE: i64 = 50;

impl Lyceum {
    /// Page `number` (from 1) of the catalog, and whether a next page follows. A page past the end,
    /// or a number too large to count to, is empty.
    pub async fn catalog_page(
        &self,
        number: i64,
    ) -> Result<(Vec<CourseSummary>, bool), StoreError> {
        page_of(number, PER_PAGE, |limit, offset| {
            self.store.list_courses(limit, offset)
        })
        .await
    }

    /// Page `number` (from 1) of the catalog of one subject, and whether a next page follows.
    pub async fn category_page(
        &self,
        category: Category,
        number: i64,
    ) -> Result<(Vec<CourseSummary>, bool), StoreError> {
        page_of(number, PER_PAGE, |limit, offset| {
            self.store.courses_in_category(category, limit, offset)
        })
        .await
    }

    /// Page `number` (from 1) of every course, hidden ones too, newest first (what admins look
    /// after), and whether a next page follows.
    pub async fn all_courses_page(
        &self,
        number: i64,
    ) -> Result<(Vec<CourseSummary>, bool), StoreError> {
        page_of(number, ADMIN_PER_PAGE, |limit, offset| {
            self.store.all_courses(limit, offset)
        })
        .await
    }
}

/// Page `number` of `per_page` courses as `fetch(limit, offset)` lists them, and whether a next page
/// follows.
async fn page_of<F, Fut>(
    number: i64,
    per_page: i64,
    fetch: F,
) -> Result<(Vec<CourseSummary>, bool), StoreError>
where
    F: FnOnce(i64, i64) -> Fut,
    Fut: Future<Output = Result<Vec<CourseSummary>, StoreError>>,
{
    let Some(offset) = number.checked_sub(1).and_then(|n| n.checked_mul(per_page)) else {
        return Ok((Vec::new(), false));
    };
    // One more than a page says whether there is a next one.
    let mut courses = fetch(per_page + 1, offset).await?;
    let has_next = courses.len() as i64 > per_page;
    courses.truncate(per_page as usize);
    Ok((courses, has_next))
}
