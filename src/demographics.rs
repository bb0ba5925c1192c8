//! The optional, self-reported questions a candidate may answer, with consent, for the
//! committee's fairness (DIF) analyses. Not answering is always possible; the answers are kept
//! apart from the exam and never reach proctors or raters.

use std::collections::BTreeMap;

pub struct Question {
    pub key: &'static str,
    pub text: &'static str,
    /// (value stored, label shown)
    pub answers: &'static [(&'static str, &'static str)],
}

pub const QUESTIONS: &[Question] = &[
    Question {
        key: "language",
        text: "Is English your first language?",
        answers: &[
            ("english", "Yes, English is my first language"),
            ("other", "No, another language is my first language"),
        ],
    },
    Question {
        key: "setting",
        text: "Where do you mainly work?",
        answers: &[("urban", "In a city or town"), ("rural", "In a rural area")],
    },
];

pub fn question(key: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.key == key)
}

/// The answers given in a form (`key` → value); a blank answer is "prefer not to say" and is
/// left out. Any other value is an error naming the question.
pub fn parse(fields: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for q in QUESTIONS {
        match fields.get(q.key).map(|v| v.trim()) {
            None | Some("") => {}
            Some(v) if q.answers.iter().any(|(value, _)| *value == v) => {
                out.insert(q.key.to_string(), v.to_string());
            }
            Some(v) => return Err(format!("{}: \"{v}\" is not one of the answers", q.text)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_prefer_not_to_say_and_unknown_answers_are_named() {
        let form = BTreeMap::from([
            ("language".to_string(), "other".to_string()),
            ("setting".to_string(), "".to_string()),
        ]);
        assert_eq!(
            parse(&form).unwrap(),
            BTreeMap::from([("language".to_string(), "other".to_string())])
        );
        let bad = BTreeMap::from([("setting".to_string(), "moon".to_string())]);
        assert_eq!(
            parse(&bad).unwrap_err(),
            "Where do you mainly work?: \"moon\" is not one of the answers"
        );
    }
}
