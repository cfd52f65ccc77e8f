//! The public catalog, a page at a time: featured courses first, then the newest, the same order and
//! page size for the site and the API.

use lyceum_store::{CourseSummary, StoreError};

use crate::Lyceum;

/// Courses on one page of the catalog.
pub const PER_PAGE: i64 = 20;

impl Lyceum {
    /// Page `number` (from 1) of the catalog, and whether a next page follows. A page past the end,
    /// or a number too large to count to, is empty.
    pub async fn catalog_page(
        &self,
        number: i64,
    ) -> Result<(Vec<CourseSummary>, bool), StoreError> {
        let Some(offset) = number.checked_sub(1).and_then(|n| n.checked_mul(PER_PAGE)) else {
            return Ok((Vec::new(), false));
        };
        // One more than a page says whether there is a next one.
        let mut courses = self.store.list_courses(PER_PAGE + 1, offset).await?;
        let has_next = courses.len() as i64 > PER_PAGE;
        courses.truncate(PER_PAGE as usize);
        Ok((courses, has_next))
    }
}
