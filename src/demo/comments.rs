//! The demo's flawed item and what candidates wrote about it. TF-0004 asks for the therapist's
//! "most appropriate aim at this point" as a mother turns pale at her son's play; option A
//! (redirect him to calmer play) reads as right to many an able candidate who puts the mother's
//! regulation first. So in the simulation the abler candidates who would choose the key D often
//! choose A: the key's discrimination falls below zero and A attracts the able, as the
//! committee's item statistics show, and some of them say why in a comment, which the key review
//! lists beside those figures.
//!
//! Every draw here is a hash of the candidate and a purpose, so the candidate's own random
//! stream (and with it the rest of the demo sitting) is the same as without the flaw.

/// The item the demo makes look flawed.
pub const FLAWED_ITEM: &str = "TF-0004";

/// The option that draws the able away from the key.
const ATTRACTIVE: char = 'A';

/// A number in [0, 1) from a candidate and a purpose.
fn uniform(email: &str, what: &str) -> f64 {
    let h = crate::auth::sha256_hex(&format!("{email}/{what}"));
    u32::from_str_radix(&h[..8], 16).unwrap_or(0) as f64 / (f64::from(u32::MAX) + 1.0)
}

/// A candidate's answer to the flawed item: one who would choose the key `key` chooses A
/// instead with a chance that grows with their ability.
pub fn flawed_answer(email: &str, ability: f64, simulated: char, key: char) -> char {
    let pull = 0.8 / (1.0 + (-2.0 * (ability - 0.4)).exp());
    if simulated == key && uniform(email, "flaw") < pull {
        ATTRACTIVE
    } else {
        simulated
    }
}

/// What candidates who chose A wrote.
const FOR_A: &[&str] = &[
    "I think A is also defensible. Esperanza has just turned pale: in CPP the therapist attends to the parent's regulation first, and asking her to talk with him about the assault right then could flood her. \"At this point\" makes A the first step, with D after.",
    "The stem asks for the aim \"at this point\", but D is the aim of the treatment as a whole. In that minute, with the mother visibly distressed, I would slow the play down first (A). Please review the key.",
    "Two options seem right to me: D is the overall aim of Child-Parent Psychotherapy, A is what I would do in the moment. The question does not make clear which one it wants.",
    "Our CPP training taught us that re-enactment in play can retraumatize a child when the parent cannot tolerate it, which is what happens here when Esperanza turns pale. That makes A correct, not only D.",
    "\"Most appropriate aim\" does not separate A from D. If the therapist helps Esperanza talk about it now, before she is regulated, the child sees his mother fall apart again.",
    "I chose A because of the word \"now\" implied by \"at this point\". I agree D is where the work should go, but not in the same minute the mother goes pale.",
    "Esperanza is showing a trauma reminder response. Would a CPP therapist really push the narrative right then? I read the question as asking about the next few minutes, so A.",
    "A possible second key: A. Nothing in the stem says Esperanza is ready to hear that he remembers; the rationale for D assumes she can tolerate it.",
    "Is the question about the session's aim or about the treatment's aim? If the first, A; if the second, D. A clearer stem would help.",
    "The key is probably D, but A is not wrong for a 30-month-old who is re-enacting violence in front of a mother who has just turned pale. I would accept both.",
];

/// What a candidate who chose the key wrote.
const FOR_D: &[&str] = &[
    "I chose D, but A is worded the way our CPP training describes this very moment (\"redirect to calmer play\"). I expect many will read A as right; the item may need a clearer stem.",
];

/// The comment a candidate leaves on the flawed item, given their answer: about one in six of
/// those who chose A, and a few who chose the key.
pub fn comment_on_flaw(email: &str, answer: char, key: char) -> Option<&'static str> {
    let u = uniform(email, "comment");
    let pick = |texts: &'static [&'static str]| {
        texts[(uniform(email, "text") * texts.len() as f64) as usize % texts.len()]
    };
    if answer == ATTRACTIVE && u < 0.18 {
        Some(pick(FOR_A))
    } else if answer == key && u < 0.04 {
        Some(pick(FOR_D))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_able_are_drawn_to_a_and_some_say_why() {
        let emails: Vec<String> = (0..2_000).map(|i| format!("c{i}@demo.example")).collect();
        let share_a = |ability: f64| {
            emails
                .iter()
                .filter(|e| flawed_answer(e, ability, 'D', 'D') == 'A')
                .count() as f64
                / emails.len() as f64
        };
        assert!(share_a(2.0) > 0.6, "{}", share_a(2.0));
        assert!(share_a(-1.0) < 0.1, "{}", share_a(-1.0));
        // A wrong answer stays wrong: the flaw only moves those who would choose the key.
        assert!(emails
            .iter()
            .all(|e| flawed_answer(e, 2.0, 'B', 'D') == 'B'));
        let commented = emails
            .iter()
            .filter(|e| comment_on_flaw(e, 'A', 'D').is_some())
            .count();
        assert!((250..480).contains(&commented), "{commented}");
        assert!(emails
            .iter()
            .all(|e| comment_on_flaw(e, 'B', 'D').is_none()));
        // Every text is used, and every one is a comment the exam would take.
        let used: std::collections::BTreeSet<&str> = emails
            .iter()
            .filter_map(|e| comment_on_flaw(e, 'A', 'D'))
            .collect();
        assert_eq!(used.len(), FOR_A.len());
        for t in FOR_A.iter().chain(FOR_D) {
            assert!(crate::exam::comment::check_text(t).is_ok(), "{t}");
        }
    }
}
