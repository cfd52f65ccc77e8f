//! A unit's quiz: three to five multiple-choice questions with four options, exactly one of them correct.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::prompts::is_takeaways_heading;
use crate::quality::{
    carries_syntax, echoes_question, excerpt, gives_answer_away, instruction_marker, is_numbered,
    is_question, lacks_words, loops, option_key, prompt_carries_syntax, question_texts,
    recycled_from, refers_to_position, repeats_question, stuttered_option, template_slot,
};

/// The questions of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiz {
    /// Three to five questions.
    pub questions: Vec<Question>,
}

/// One multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The question.
    pub prompt: String,
    /// Exactly four options.
    pub options: Vec<String>,
    /// Index of the one correct option.
    pub answer: usize,
    /// Why that option is right, shown after answering.
    pub explanation: String,
}

/// Why a quiz cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct QuizError(pub Vec<String>);

impl Quiz {
    /// Fewest questions.
    pub const MIN_QUESTIONS: usize = 3;
    /// Most questions.
    pub const MAX_QUESTIONS: usize = 5;
    /// Options per question.
    pub const OPTIONS: usize = 4;

    /// Checks the counts, that no text is empty, that questions and each question's options are
    /// distinct (numbering, case and punctuation aside), that no option is numbered, that no
    /// explanation names a position, that no text is a template's slot ("[question]") and no option
    /// the article's closing heading ("Key takeaways"), that the correct option is not the question's
    /// own words, and that the answer is one of the options. A give-away ([`Quiz::giveaways`]) is
    /// not refused here: it is the last choice, not a broken question.
    pub fn validate(&self) -> Result<(), QuizError> {
        let mut problems = Vec::new();
        let count = self.questions.len();
        if !(Self::MIN_QUESTIONS..=Self::MAX_QUESTIONS).contains(&count) {
            problems.push(format!(
                "questions has {count} items; it must have {} to {}",
                Self::MIN_QUESTIONS,
                Self::MAX_QUESTIONS
            ));
        }
        problems.extend(self.question_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(QuizError(problems))
        }
    }

    /// What [`Quiz::validate`] finds in the questions themselves, whatever their count: what to tell a
    /// model that was asked for only some questions.
    pub fn question_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut prompts = HashSet::new();
        for (q, question) in self.questions.iter().enumerate() {
            let path = format!("questions[{q}]");
            if question.prompt.trim().is_empty() {
                problems.push(format!("{path}.prompt is empty"));
            } else if !prompts.insert(option_key(&question.prompt)) {
                problems.push(format!("{path}.prompt repeats an earlier question"));
            } else if prompt_carries_syntax(&question.prompt) {
                problems.push(format!(
                    "{path}.prompt carries JSON syntax; write the question's text alone"
                ));
            }
            if question.explanation.trim().is_empty() {
                problems.push(format!("{path}.explanation is empty"));
            }
            if question.options.len() != Self::OPTIONS {
                problems.push(format!(
                    "{path}.options has {} items; it must have exactly {}",
                    question.options.len(),
                    Self::OPTIONS
                ));
            }
            let mut seen = HashSet::new();
            for (o, option) in question.options.iter().enumerate() {
                if option.trim().is_empty() {
                    problems.push(format!("{path}.options[{o}] is empty"));
                } else if is_numbered(option) {
                    problems.push(format!(
                        "{path}.options[{o}] starts with numbering; write the answer's text alone"
                    ));
                } else if carries_syntax(option) {
                    problems.push(format!(
                        "{path}.options[{o}] carries JSON syntax; write the answer's text alone"
                    ));
                } else if lacks_words(option) {
                    problems.push(format!(
                        "{path}.options[{o}] \"{}\" is not an answer in words; write an answer from \
                         the unit's text",
                        excerpt(option, 24)
                    ));
                } else if is_question(option) {
                    problems.push(format!(
                        "{path}.options[{o}] is a question; write an answer to the question instead"
                    ));
                } else if repeats_question(option, &question.prompt) {
                    problems.push(format!(
                        "{path}.options[{o}] repeats the question; write an answer to it instead"
                    ));
                } else if loops(option) {
                    problems.push(format!(
                        "{path}.options[{o}] says the same words over and over; write a short answer"
                    ));
                } else if is_takeaways_heading(option) {
                    problems.push(format!(
                        "{path}.options[{o}] \"{}\" is the article's closing heading, not an answer; \
                         write an answer from the unit's text",
                        option.trim()
                    ));
                } else if !seen.insert(option_key(option)) {
                    problems.push(format!(
                        "{path}.options[{o}] repeats another option; the four options must differ"
                    ));
                }
            }
            if let Some(option) = stuttered_option(&question.options) {
                problems.push(format!(
                    "{path}.options says \"{option}\" twice, once longer; the four options must differ"
                ));
            }
            if let Some(earlier) = recycled_from(self, q) {
                problems.push(format!(
                    "{path}.options are those of questions[{earlier}]; give each question its own options"
                ));
            }
            if refers_to_position(&question.explanation, &question.options) {
                problems.push(format!(
                    "{path}.explanation names the answer's position; options are shuffled, so say \
                     why the answer is right in its own words"
                ));
            }
            if question_texts(question).any(|text| text.trim().contains('\n')) {
                problems.push(format!(
                    "{path} spans several lines; write the question, each answer and the \
                     explanation as one line each"
                ));
            }
            if let Some(marker) = question_texts(question).find_map(instruction_marker) {
                problems.push(format!(
                    "{path} repeats the instructions (\"{marker}\"); ask about what the unit teaches"
                ));
            }
            if let Some(slot) = question_texts(question).find_map(template_slot) {
                problems.push(format!(
                    "{path} holds the placeholder \"{slot}\"; write the real question, answers and \
                     explanation from the unit's text"
                ));
            }
            if echoes_question(question) {
                problems.push(format!(
                    "{path}: the correct answer \"{}\" only repeats words of the question; ask so that \
                     the learner must know the unit to answer",
                    question.options[question.answer]
                ));
            }
            if question.answer >= question.options.len() {
                problems.push(format!(
                    "{path}.answer is {}; it must be the index (0 to 3) of the correct option",
                    question.answer
                ));
            }
        }
        problems
    }

    /// The quiz without its unusable questions (an empty text, repeated options, an answer out of
    /// range, a repeated question, an earlier question's options); [`Quiz::validate`] then says
    /// whether enough are left. Small models often get one question of five wrong, and the other four
    /// are still good.
    pub fn without_bad_questions(self) -> Self {
        let mut kept = Quiz {
            questions: Vec::with_capacity(self.questions.len()),
        };
        let mut prompts = HashSet::new();
        for question in self.questions {
            let single = Quiz {
                questions: vec![question.clone()],
            };
            let problems = single.validate().err().map_or(0, |error| error.0.len());
            // Alone, a question only breaks the count rule; anything more is a problem of its own.
            if problems > 1 || !prompts.insert(option_key(&question.prompt)) {
                continue;
            }
            kept.questions.push(question);
            if recycled_from(&kept, kept.questions.len() - 1).is_some() {
                kept.questions.pop();
            }
        }
        kept
    }

    /// What to tell a model of the questions whose correct option is far longer than the wrong ones
    /// ([`gives_answer_away`]): a learner picks it without knowing the unit.
    pub fn giveaways(&self) -> Vec<String> {
        self.questions
            .iter()
            .enumerate()
            .filter(|(_, question)| gives_answer_away(question))
            .map(|(q, _)| {
                format!(
                    "questions[{q}]: the correct answer is far longer than the wrong ones, so a \
                     learner picks it without knowing; write all four answers short and of about \
                     the same length"
                )
            })
            .collect()
    }

    /// The quiz without its give-away questions ([`Quiz::giveaways`]).
    pub fn without_giveaways(mut self) -> Self {
        self.questions
            .retain(|question| !gives_answer_away(question));
        self
    }

    /// The usable questions of this quiz, then those of `more` that ask something new, at most
    /// [`Quiz::MAX_QUESTIONS`]: what two answers of a small model make together when neither is
    /// good enough alone.
    pub fn joined(mut self, more: Quiz) -> Self {
        self.questions.extend(more.questions);
        let mut kept = self.without_bad_questions();
        // Give-aways last, so that they are the ones left out.
        kept.questions.sort_by_key(gives_answer_away);
        kept.questions.truncate(Self::MAX_QUESTIONS);
        kept
    }

    /// The same quiz with each question's options rotated so the correct one lands at a position chosen
    /// by `seed`: small models put the right answer first far too often.
    pub fn with_answers_spread(mut self, seed: u64) -> Self {
        for (q, question) in self.questions.iter_mut().enumerate() {
            let len = question.options.len();
            if len == 0 || question.answer >= len {
                continue;
            }
            let mixed = seed
                .wrapping_add(q as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17);
            let target = (mixed % len as u64) as usize;
            let shift = (target + len - question.answer) % len;
            question.options.rotate_right(shift);
            question.answer = target;
        }
        self
    }
}

impl Question {
    /// The question with [`Quiz::OPTIONS`] options chosen from the ones a model wrote, the correct one
    /// first: the request asks for one wrong answer more than a question shows, because a small model
    /// often repeats an answer, writes a placeholder or makes the correct one stand out. Options that
    /// repeat an earlier one are dropped; of the wrong answers left, each is tried as the one left out,
    /// the last first, and the first set with no problem ([`Quiz::question_problems`]) that does not
    /// give the answer away ([`gives_answer_away`]) is kept, else the last is left out. With fewer
    /// distinct options than a question needs, the options stay as written, so that what is wrong
    /// with them can be told.
    pub fn with_fairest_options(mut self) -> Self {
        let Some(correct) = self.options.get(self.answer).cloned() else {
            self.options.truncate(Quiz::OPTIONS);
            return self;
        };
        let mut seen = HashSet::from([option_key(&correct)]);
        let mut wrong: Vec<String> = self
            .options
            .iter()
            .enumerate()
            .filter(|&(o, option)| o != self.answer && seen.insert(option_key(option)))
            .map(|(_, option)| option.clone())
            .collect();
        if wrong.len() < Quiz::OPTIONS - 1 {
            self.options.truncate(Quiz::OPTIONS);
            return self;
        }
        wrong.truncate(Quiz::OPTIONS);
        let leaving_out = |spare: Option<usize>| Question {
            options: std::iter::once(&correct)
                .chain(
                    wrong
                        .iter()
                        .enumerate()
                        .filter(|&(w, _)| Some(w) != spare)
                        .map(|(_, option)| option),
                )
                .cloned()
                .collect(),
            answer: 0,
            ..self.clone()
        };
        if wrong.len() < Quiz::OPTIONS {
            return leaving_out(None);
        }
        (0..wrong.len())
            .rev()
            .map(|spare| leaving_out(Some(spare)))
            .find(|question| {
                !gives_answer_away(question)
                    && Quiz {
                        questions: vec![question.clone()],
                    }
                    .question_problems()
                    .is_empty()
            })
            .unwrap_or_else(|| leaving_out(Some(wrong.len() - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The question "{name}?" whose options are its own: "{name} apple", "{name} pear", and so on.
    fn question(name: &str) -> Question {
        Question {
            prompt: format!("{name}?"),
            options: ["apple", "pear", "plum", "fig"]
                .map(|fruit| format!("{name} {fruit}"))
                .into(),
            answer: 0,
            explanation: "because".into(),
        }
    }

    #[test]
    fn a_good_quiz_passes_and_bad_ones_say_what_is_wrong() {
        let quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.validate().unwrap();

        let mut bad = quiz.clone();
        bad.questions[1].options[2] = "TWO Apple ".into();
        bad.questions[2].answer = 4;
        bad.questions[0].prompt = "two?".into();
        let text = bad.validate().unwrap_err().to_string();
        assert!(text.contains("questions[1].prompt repeats"), "{text}");
        assert!(
            text.contains("questions[1].options[2] repeats another option"),
            "{text}"
        );
        assert!(text.contains("questions[2].answer is 4"), "{text}");

        let mut numbered = quiz.clone();
        numbered.questions[0].options[1] = "3. Key takeaways".into();
        numbered.questions[1].options[3] = "two pear!".into();
        numbered.questions[2].explanation = "The correct answer is 1.".into();
        let text = numbered.validate().unwrap_err().to_string();
        assert!(
            text.contains("questions[0].options[1] starts with numbering"),
            "{text}"
        );
        assert!(
            text.contains("questions[1].options[3] repeats another option"),
            "{text}"
        );
        assert!(
            text.contains("questions[2].explanation names the answer's position"),
            "{text}"
        );

        let mut broken = quiz.clone();
        broken.questions[0].options[3] = "Savings']}".into();
        broken.questions[1].options[0] = "two apple tart".into();
        broken.questions[1].options[1] = "Two apple tart with cream".into();
        broken.questions[2].options = broken.questions[0].options.clone();
        broken.questions[2].options[0] = "Rent".into();
        let text = broken.validate().unwrap_err().to_string();
        assert!(
            text.contains("questions[0].options[3] carries JSON syntax"),
            "{text}"
        );
        assert!(
            text.contains("questions[1].options says \"two apple tart\" twice"),
            "{text}"
        );
        assert!(
            text.contains("questions[2].options are those of questions[0]"),
            "{text}"
        );

        let short = Quiz {
            questions: vec![question("one")],
        };
        assert!(short.validate().unwrap_err().to_string().contains("3 to 5"));
    }

    #[test]
    fn placeholders_and_answers_echoing_the_question_are_refused() {
        // What a small model published once: the shape of a quiz without its content.
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.questions[0].prompt = "[question]".into();
        quiz.questions[1].options[3] = "An [example] of it".into();
        quiz.questions[2].prompt = "Which fruit grows on trees, the three apple?".into();
        let text = quiz.clone().validate().unwrap_err().to_string();
        assert!(
            text.contains("questions[0] holds the placeholder \"[question]\""),
            "{text}"
        );
        assert!(
            text.contains("questions[1] holds the placeholder \"[example]\""),
            "{text}"
        );
        assert!(
            text.contains("questions[2]: the correct answer \"three apple\" only repeats"),
            "{text}"
        );
        // Alone each breaks one rule besides the count, so each is dropped.
        assert_eq!(quiz.without_bad_questions().questions, vec![]);
    }

    #[test]
    fn the_articles_closing_heading_is_no_option() {
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.questions[1].options[2] = "Key Takeaways".into();
        quiz.questions[2].options[3] = "Points clés".into();
        let text = quiz.clone().validate().unwrap_err().to_string();
        assert!(
            text.contains(
                "questions[1].options[2] \"Key Takeaways\" is the article's closing heading"
            ),
            "{text}"
        );
        assert!(text.contains("questions[2].options[3]"), "{text}");
        let kept = quiz.without_bad_questions();
        let prompts: Vec<&str> = kept.questions.iter().map(|q| q.prompt.as_str()).collect();
        assert_eq!(prompts, ["one?"]);
        // Words of the heading inside a real answer are the answer's own.
        let mut fine = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        fine.questions[0].options[1] = "Key takeaways of a budget review".into();
        fine.validate().unwrap();
    }

    #[test]
    fn options_that_are_no_answers_in_words_are_refused() {
        // What the quality bench found: a run of digits as the correct answer, the article's own
        // headings as options, and an answer caught in a loop.
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.questions[0].options[0] = "#1472461250238370984135977".into();
        quiz.questions[1].options[1] = "How does it form? How does it erupt?".into();
        quiz.questions[1].options[3] = "— —".into();
        quiz.questions[2].options[2] = "set a budget, set a budget, set a budget and save".into();
        // The 0.5B's quiz on bees: the question copied as an option, with an instruction after it.
        quiz.questions[2].prompt = "Why do worker bees have different roles?".into();
        quiz.questions[2].options[3] =
            "'Why do worker bees have different roles?', please provide a detailed explanation:'"
                .into();
        let text = quiz.clone().validate().unwrap_err().to_string();
        assert!(
            text.contains(
                "questions[0].options[0] \"#14724612502383709841359…\" is not an answer in words"
            ),
            "{text}"
        );
        assert!(
            text.contains("questions[1].options[1] is a question"),
            "{text}"
        );
        assert!(
            text.contains("questions[1].options[3] \"— —\" is not an answer in words"),
            "{text}"
        );
        assert!(
            text.contains("questions[2].options[2] says the same words over and over"),
            "{text}"
        );
        assert!(
            text.contains("questions[2].options[3] repeats the question"),
            "{text}"
        );
        assert_eq!(quiz.without_bad_questions().questions, vec![]);

        // Numbers, short set phrases and a question mark inside an answer are answers.
        let mut fine = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        fine.questions[0].options = ["1945", "$500", "1,000,000 people", "3.14"]
            .map(Into::into)
            .into();
        fine.questions[1].options[2] = "Step by step, day by day".into();
        fine.questions[2].options[1] = "The \"why?\" of a budget, asked first".into();
        // An answer may name what a short question names, or part of a longer one.
        fine.questions[0].prompt = "Why budget?".into();
        fine.questions[0].options[1] = "Why budget: to plan".into();
        fine.questions[1].prompt = "Which gas do plants take in?".into();
        fine.questions[1].options[0] = "Plants take in carbon dioxide".into();
        fine.validate().unwrap();
    }

    #[test]
    fn a_correct_answer_far_longer_than_the_others_comes_last() {
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        let answer = quiz.questions[1].answer;
        quiz.questions[1].options[answer] =
            "It keeps the dough moist and lets the wild yeast grow slowly overnight".into();
        quiz.clone().validate().unwrap();
        let told = quiz.giveaways().join("; ");
        assert!(
            told.contains("questions[1]: the correct answer is far longer than the wrong ones"),
            "{told}"
        );
        let prompts = |quiz: &Quiz| -> Vec<String> {
            quiz.questions.iter().map(|q| q.prompt.clone()).collect()
        };
        assert_eq!(
            prompts(&quiz.clone().without_giveaways()),
            ["one?", "three?"]
        );
        let joined = quiz.joined(Quiz {
            questions: vec![question("four"), question("five"), question("six")],
        });
        assert_eq!(
            prompts(&joined),
            ["one?", "three?", "four?", "five?", "six?"],
            "the give-away is the one left out"
        );
    }

    #[test]
    fn a_spare_wrong_answer_stands_in_for_a_repeat_a_placeholder_or_a_giveaway() {
        let written = |options: &[&str]| Question {
            prompt: "What does a budget track?".into(),
            options: options.iter().map(|option| option.to_string()).collect(),
            answer: 0,
            explanation: "A budget compares money in with money out.".into(),
        };
        let options = |options: &[&str]| written(options).with_fairest_options().options;
        assert_eq!(
            options(&["Income and spending", "Rent", "The rent", "Taxes", "Loans"]),
            ["Income and spending", "Rent", "Taxes", "Loans"],
            "an option repeating another is dropped"
        );
        assert_eq!(
            options(&["Income and spending", "Rent", "[answer3]", "Taxes", "Loans"]),
            ["Income and spending", "Rent", "Taxes", "Loans"],
            "a placeholder is the one left out"
        );
        assert_eq!(
            options(&["Income and spending", "Rent", "Taxes", "Loans", "Gifts"]),
            ["Income and spending", "Rent", "Taxes", "Loans"],
            "with nothing wrong, the last is left out"
        );
        let long = "How much money comes in each month and where all of it goes";
        assert_eq!(
            options(&[
                long,
                "Rent",
                "Taxes",
                "Loans",
                "Every bill that is paid by card or cash"
            ]),
            [
                long,
                "Rent",
                "Taxes",
                "Every bill that is paid by card or cash"
            ],
            "a long wrong answer stays so that the correct one does not stand out"
        );
        assert!(!gives_answer_away(&written(&[
            long,
            "Rent",
            "Taxes",
            "Every bill that is paid by card or cash"
        ])));
        assert_eq!(
            options(&["Income and spending", "Rent", "Rent", "Income and spending"]),
            ["Income and spending", "Rent", "Rent", "Income and spending"],
            "too few distinct options stay as written, so the repeat can be told"
        );
        assert_eq!(
            options(&["Income and spending", "Rent", "Taxes", "Loans"]),
            ["Income and spending", "Rent", "Taxes", "Loans"],
            "four good options are kept as they are"
        );
        let mut later = written(&["Rent", "Income and spending", "Taxes", "Loans", "Gifts"]);
        later.answer = 1;
        let fair = later.with_fairest_options();
        assert_eq!(fair.options[fair.answer], "Income and spending");
        assert_eq!(fair.options.len(), Quiz::OPTIONS);
    }

    #[test]
    fn a_question_that_spans_lines_or_copies_the_instructions_is_refused() {
        // What the 0.5B model wrote once for a unit on tides.
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.questions[1].prompt =
            "'Key takeaways' of 3 to 5 bullet points on understanding tides".into();
        quiz.questions[2].options[1] =
            "#Understand the causes of tides\n- The Moon\n- The Sun".into();
        let text = quiz.clone().validate().unwrap_err().to_string();
        assert!(
            text.contains("questions[1] repeats the instructions (\"3 to 5 bullet points\")"),
            "{text}"
        );
        assert!(text.contains("questions[2] spans several lines"), "{text}");
        // An explanation that goes on into a list, and a question asked again with other punctuation.
        let mut quiz = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        quiz.questions[1].explanation = "Because.\n\nKey takeaways:\n1. **Understanding".into();
        quiz.questions[2].prompt = "One".into();
        let text = quiz.clone().validate().unwrap_err().to_string();
        assert!(text.contains("questions[1] spans several lines"), "{text}");
        let mut debris = quiz.clone();
        debris.questions[0].prompt = "Why one?', 'Two'], 4: wrong]}".into();
        let found = debris.validate().unwrap_err().to_string();
        assert!(
            found.contains("questions[0].prompt carries JSON syntax"),
            "{found}"
        );
        assert!(
            text.contains("questions[2].prompt repeats an earlier question"),
            "{text}"
        );
        let kept = quiz.without_bad_questions();
        assert_eq!(kept.questions.len(), 1);
    }

    #[test]
    fn bad_questions_are_dropped_and_the_rest_kept() {
        let mut quiz = Quiz {
            questions: (0..6).map(|i| question(&i.to_string())).collect(),
        };
        quiz.questions[1].options[3] = "1 apple".into();
        quiz.questions[3].prompt = "0?".into();
        quiz.questions[4].answer = 9;
        quiz.questions[5].options = quiz.questions[2].options.clone();
        let kept = quiz.without_bad_questions();
        let prompts: Vec<&str> = kept.questions.iter().map(|q| q.prompt.as_str()).collect();
        assert_eq!(prompts, ["0?", "2?"]);
        assert!(kept.validate().is_err(), "two questions are too few");
    }

    #[test]
    fn two_answers_too_poor_alone_make_one_quiz_without_repeats() {
        // Each answer has two usable questions: the others recycle options or are empty.
        let mut first = Quiz {
            questions: vec![question("one"), question("two"), question("three")],
        };
        first.questions[2].options = first.questions[0].options.clone();
        let mut second = Quiz {
            questions: vec![question("two"), question("four"), question("five")],
        };
        second.questions[2].prompt = " ".into();
        assert!(first.clone().without_bad_questions().validate().is_err());
        assert!(second.clone().without_bad_questions().validate().is_err());

        let joined = first.joined(second);
        joined.validate().unwrap();
        let prompts: Vec<&str> = joined.questions.iter().map(|q| q.prompt.as_str()).collect();
        assert_eq!(prompts, ["one?", "two?", "four?"]);

        let many = Quiz {
            questions: (0..4).map(|i| question(&i.to_string())).collect(),
        };
        let more = Quiz {
            questions: (4..8).map(|i| question(&i.to_string())).collect(),
        };
        assert_eq!(many.joined(more).questions.len(), Quiz::MAX_QUESTIONS);
    }

    #[test]
    fn spreading_answers_keeps_the_correct_option_correct() {
        let quiz = Quiz {
            questions: (0..5).map(|i| question(&i.to_string())).collect(),
        };
        let spread = quiz.clone().with_answers_spread(7);
        let positions: HashSet<usize> = spread.questions.iter().map(|q| q.answer).collect();
        assert!(positions.len() > 1, "answers all at {positions:?}");
        for question in &spread.questions {
            let right = format!("{} apple", question.prompt.trim_end_matches('?'));
            assert_eq!(question.options[question.answer], right);
        }
        assert_eq!(spread, quiz.with_answers_spread(7));
    }
}
