//! Learning: a unit's quiz answered on its page and graded here, never in the browser, so the right
//! answers reach a learner only with their result. A signed-in learner's attempts are kept, and
//! passing a quiz (two thirds right or better) makes its unit done; anyone else sees their score and
//! nothing is stored.

use lyceum_course::Quiz;
use lyceum_store::{DoneHow, NewAttempt, Store, StoreError, User, now_ms};
use sha2::{Digest, Sha256};

/// Why answers were not graded.
#[derive(Debug, thiserror::Error)]
pub enum QuizRefused {
    /// The unit's quiz is not written (yet).
    #[error("this unit has no quiz yet")]
    NoQuiz,
    /// Questions (numbered from 1) with no option chosen, or one that is not among its options.
    #[error("{}", unanswered_text(.0))]
    Unanswered(Vec<usize>),
    /// Answers past the last question.
    #[error("this quiz has only {0} questions")]
    TooMany(usize),
    /// The answers are to a version of the quiz written before the stored one (the page was opened
    /// before the unit was written again): they would be checked against other questions.
    #[error("this quiz was written again since the page was opened: answer its new questions")]
    Outdated,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn unanswered_text(questions: &[usize]) -> String {
    let numbers: Vec<String> = questions.iter().map(usize::to_string).collect();
    match numbers.as_slice() {
        [one] => format!("choose an answer to question {one}"),
        [rest @ .., last] => format!(
            "choose an answer to questions {} and {last}",
            rest.join(", ")
        ),
        [] => "choose an answer to every question".into(),
    }
}

/// Answers graded against the quiz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    /// The option chosen for each question.
    pub answers: Vec<usize>,
    /// Whether each was right.
    pub right: Vec<bool>,
    pub score: usize,
    pub total: usize,
    /// Whether the score passes: two thirds right or better.
    pub passed: bool,
    /// Whether the attempt was kept (the learner is signed in).
    pub saved: bool,
    /// The learner's best score at this version of the quiz, this attempt included.
    pub best: Option<usize>,
}

/// A digest of the quiz's questions: attempts name the version they answered, so a quiz written
/// again leaves earlier attempts recognisable as such.
pub fn quiz_version(quiz: &Quiz) -> String {
    let text = serde_json::to_string(quiz).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Grades `choices` (one per question, `None` where nothing valid was chosen).
pub fn grade(quiz: &Quiz, choices: &[Option<usize>]) -> Result<Graded, QuizRefused> {
    let count = quiz.questions.len();
    if choices.iter().skip(count).any(Option::is_some) {
        return Err(QuizRefused::TooMany(count));
    }
    let mut answers = Vec::with_capacity(quiz.questions.len());
    let mut unanswered = Vec::new();
    for (index, question) in quiz.questions.iter().enumerate() {
        match choices.get(index).copied().flatten() {
            Some(choice) if choice < question.options.len() => answers.push(choice),
            _ => unanswered.push(index + 1),
        }
    }
    if !unanswered.is_empty() {
        return Err(QuizRefused::Unanswered(unanswered));
    }
    let right: Vec<bool> = quiz
        .questions
        .iter()
        .zip(&answers)
        .map(|(question, &answer)| question.answer == answer)
        .collect();
    let (score, total) = (right.iter().filter(|&&right| right).count(), right.len());
    Ok(Graded {
        score,
        total,
        passed: 3 * score >= 2 * total,
        answers,
        right,
        saved: false,
        best: None,
    })
}

/// Grades answers to unit `unit_id`'s quiz and keeps the attempt of a signed-in `learner`. Answers
/// that name the `version` of the quiz they were given are refused when it is not the stored one.
pub async fn answer_quiz(
    store: &Store,
    learner: Option<&User>,
    unit_id: i64,
    choices: &[Option<usize>],
    version: Option<&str>,
) -> Result<(Quiz, Graded), QuizRefused> {
    let quiz = store.quiz(unit_id).await?.ok_or(QuizRefused::NoQuiz)?;
    if version.is_some_and(|given| given != quiz_version(&quiz)) {
        return Err(QuizRefused::Outdated);
    }
    let mut graded = grade(&quiz, choices)?;
    if let Some(learner) = learner {
        let version = quiz_version(&quiz);
        store
            .record_attempt(&NewAttempt {
                user_id: learner.id,
                unit_id,
                quiz_version: &version,
                answers: &graded.answers,
                score: graded.score as i64,
                total: graded.total as i64,
                now: now_ms(),
            })
            .await?;
        graded.saved = true;
        if graded.passed {
            store
                .mark_done(learner.id, unit_id, DoneHow::Quiz, now_ms())
                .await?;
        }
        graded.best = store
            .attempts(learner.id, Some(unit_id))
            .await?
            .iter()
            .filter(|attempt| attempt.quiz_version == version)
            .map(|attempt| attempt.score as usize)
            .max();
    }
    Ok((quiz, graded))
}

#[cfg(test)]
mod tests {
    use lyceum_course::Question;

    use super::*;

    fn quiz() -> Quiz {
        let question = |prompt: &str, answer| Question {
            prompt: prompt.into(),
            options: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            answer,
            explanation: "because".into(),
        };
        Quiz {
            questions: vec![
                question("one?", 0),
                question("two?", 3),
                question("three?", 1),
            ],
        }
    }

    #[test]
    fn answers_are_graded_against_the_stored_answers() {
        let graded = grade(&quiz(), &[Some(0), Some(2), Some(1)]).unwrap();
        assert_eq!(graded.right, [true, false, true]);
        assert_eq!((graded.score, graded.total, graded.passed), (2, 3, true));
        let failed = grade(&quiz(), &[Some(1), Some(2), Some(1)]).unwrap();
        assert_eq!((failed.score, failed.passed), (1, false));
    }

    #[test]
    fn a_missing_or_impossible_choice_names_its_question() {
        let refused = grade(&quiz(), &[Some(0), None, Some(4)]).unwrap_err();
        assert_eq!(refused.to_string(), "choose an answer to questions 2 and 3");
        let refused = grade(&quiz(), &[Some(0), Some(1)]).unwrap_err();
        assert_eq!(refused.to_string(), "choose an answer to question 3");
        let refused = grade(&quiz(), &[Some(0), Some(1), Some(2), Some(3)]).unwrap_err();
        assert_eq!(refused.to_string(), "this quiz has only 3 questions");
        assert!(grade(&quiz(), &[Some(0), Some(1), Some(2), None]).is_ok());
    }

    #[test]
    fn a_quiz_written_again_is_another_version() {
        let mut changed = quiz();
        assert_eq!(quiz_version(&quiz()), quiz_version(&changed));
        changed.questions[0].answer = 1;
        assert_ne!(quiz_version(&quiz()), quiz_version(&changed));
    }
}
