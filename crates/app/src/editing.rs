//! A course's maker edits a written unit: its title and its Markdown text, checked here and stored as
//! the unit's new text, with the text it replaces kept and restorable. The unit keeps its id, so every
//! learner's progress and quiz attempts stay.

use lyceum_course::Outline;
pub use lyceum_course::prompts::MAX_WISH_CHARS;
use lyceum_store::{Generation, Status, Store, StoreError, Unit, User, now_ms};

/// The longest text a unit may be given, in characters: several times what the model writes.
pub const MAX_BODY_CHARS: usize = 60_000;

/// Why an edit was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EditRefused {
    /// The title, and why.
    #[error("{0}")]
    Title(String),
    /// The text, and why.
    #[error("{0}")]
    Body(String),
    /// The wish for a rewritten unit, and why.
    #[error("{0}")]
    Wish(String),
    /// The unit has no text yet to replace.
    #[error("this unit is not written yet; edit it once it is")]
    NotWritten,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EditRefused {
    /// The form field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Title(_) => "title",
            Self::Wish(_) => "instruction",
            Self::Body(_) | Self::NotWritten | Self::Store(_) => "body",
        }
    }
}

/// `title` and `body` as they would be stored: trimmed, with Windows line ends made plain.
pub fn check_edit(title: &str, body: &str) -> Result<(String, String), EditRefused> {
    let title = title.trim();
    let title_chars = title.chars().count();
    if title_chars == 0 {
        return Err(EditRefused::Title("give the unit a title".into()));
    }
    if title_chars > Outline::MAX_TITLE_CHARS {
        return Err(EditRefused::Title(format!(
            "shorten the title to {} characters (it has {title_chars})",
            Outline::MAX_TITLE_CHARS
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(EditRefused::Title(
            "write the title on one line, without control characters".into(),
        ));
    }
    let body = body.replace("\r\n", "\n");
    let body = body.trim();
    if body.is_empty() {
        return Err(EditRefused::Body(
            "write the unit's text (to remove the unit, delete the course or make it private)"
                .into(),
        ));
    }
    let body_chars = body.chars().count();
    if body_chars > MAX_BODY_CHARS {
        return Err(EditRefused::Body(format!(
            "shorten the text to {MAX_BODY_CHARS} characters (it has {body_chars})"
        )));
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(EditRefused::Body(
            "remove the control characters from the text".into(),
        ));
    }
    Ok((title.to_owned(), body.to_owned()))
}

/// Stores `editor`'s title and text for written `unit`, keeping the ones they replace.
pub async fn edit_unit(
    store: &Store,
    unit: &Unit,
    editor: &User,
    title: &str,
    body: &str,
) -> Result<(), EditRefused> {
    let (title, body) = check_edit(title, body)?;
    if unit.status != Status::Ready || unit.body.is_none() {
        return Err(EditRefused::NotWritten);
    }
    if !store
        .edit_unit(unit.id, &title, &body, editor.id, now_ms())
        .await?
    {
        return Err(EditRefused::NotWritten);
    }
    tracing::info!(user = editor.id, unit = unit.id, "unit edited");
    Ok(())
}

/// Queues written `unit` to be written again by the model, with `editor`'s wish for the new text
/// ("simpler", "more examples in Python"; empty for none). Learners read the current text until the
/// new one is stored; it is then kept as a version, and the quiz is written again too.
pub async fn rewrite_unit(
    store: &Store,
    unit: &Unit,
    editor: &User,
    wish: &str,
) -> Result<Generation, EditRefused> {
    let wish = wish.trim();
    let chars = wish.chars().count();
    if chars > MAX_WISH_CHARS {
        return Err(EditRefused::Wish(format!(
            "shorten the wish to {MAX_WISH_CHARS} characters (it has {chars})"
        )));
    }
    if wish.chars().any(char::is_control) {
        return Err(EditRefused::Wish("write the wish on one line".into()));
    }
    let generation = store
        .request_rewrite(unit.id, (!wish.is_empty()).then_some(wish), now_ms())
        .await?;
    tracing::info!(user = editor.id, unit = unit.id, "unit to be written again");
    Ok(generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_trimmed_and_bad_fields_say_what_to_change() {
        let (title, body) = check_edit("  Tides  ", "First line.\r\nSecond.\n\n").unwrap();
        assert_eq!(
            (title.as_str(), body.as_str()),
            ("Tides", "First line.\nSecond.")
        );
        let refused = check_edit(" ", "Text.").unwrap_err();
        assert_eq!(refused.field(), "title");
        assert_eq!(refused.to_string(), "give the unit a title");
        let long = "t".repeat(Outline::MAX_TITLE_CHARS + 1);
        assert!(
            check_edit(&long, "Text.")
                .unwrap_err()
                .to_string()
                .contains("(it has 121)")
        );
        assert_eq!(check_edit("A\tB", "Text.").unwrap_err().field(), "title");
        let refused = check_edit("Tides", "  \n ").unwrap_err();
        assert_eq!(refused.field(), "body");
        let huge = "x".repeat(MAX_BODY_CHARS + 1);
        assert!(
            check_edit("Tides", &huge)
                .unwrap_err()
                .to_string()
                .contains("60000")
        );
        assert_eq!(
            check_edit("Tides", "bell\u{7}").unwrap_err().field(),
            "body"
        );
        assert!(check_edit("Tides", "Tabs\tand\nlines").is_ok());
    }
}
