//! Cues in the options alone: a guesser that never reads the stem, the key's length, words that
//! mark keys or distractors, and the balance of key letters.
//!
//! The guesser is a naive Bayes classifier of options into "key" and "distractor", trained on
//! every other multiple-choice item of the bank (leave one out) with two kinds of feature: the
//! distinct words of the option, and its length in characters within the item (strictly
//! longest, strictly shortest, or neither). Each option's score is the sum of its features' log-odds (with add-one
//! smoothing); the guesser picks the option with the highest score, and its belief in each
//! option is the softmax of the scores. A bank whose keys and distractors read alike leaves it
//! near chance (25% with four options).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::text::{words, Lines};
use super::{Guesser, Rule, Thresholds, Warning};
use crate::bank::{Bank, Item, ItemBody, Mcq, Source, Status};

/// The multiple-choice items a candidate could meet (retired ones are left out).
fn mcqs(bank: &Bank) -> Vec<(&Item, &Mcq)> {
    bank.items
        .iter()
        .filter(|i| i.status != Status::Retired)
        .filter_map(|i| match &i.body {
            ItemBody::Mcq(m) => Some((i, m)),
            ItemBody::Open(_) => None,
        })
        .collect()
}

/// Where an option stands by length within its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Length {
    Longest,
    Shortest,
    Between,
}

fn lengths(m: &Mcq) -> Vec<Length> {
    let n: Vec<usize> = m
        .options
        .iter()
        .map(|o| o.text.trim().chars().count())
        .collect();
    n.iter()
        .enumerate()
        .map(|(i, &len)| {
            let others = n
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, l)| *l);
            if others.clone().all(|o| len > o) {
                Length::Longest
            } else if others.clone().all(|o| len < o) {
                Length::Shortest
            } else {
                Length::Between
            }
        })
        .collect()
}

/// One option's features.
struct Features {
    words: HashSet<String>,
    length: Length,
    key: bool,
}

fn features(m: &Mcq) -> Vec<Features> {
    let lens = lengths(m);
    m.options
        .iter()
        .zip(lens)
        .map(|(o, length)| Features {
            words: words(&o.text).into_iter().collect(),
            length,
            key: o.letter == m.key,
        })
        .collect()
}

/// How many keys and distractors have each feature.
#[derive(Default)]
struct Counts {
    keys: f64,
    distractors: f64,
    words: HashMap<String, (f64, f64)>,
    lengths: HashMap<Length, (f64, f64)>,
}

impl Counts {
    fn add(&mut self, f: &Features, sign: f64) {
        let (k, d) = if f.key { (sign, 0.0) } else { (0.0, sign) };
        self.keys += k;
        self.distractors += d;
        for w in &f.words {
            let e = self.words.entry(w.clone()).or_default();
            e.0 += k;
            e.1 += d;
        }
        let e = self.lengths.entry(f.length).or_default();
        e.0 += k;
        e.1 += d;
    }

    /// The log-odds an option with `f` is a key rather than a distractor (add-one smoothing;
    /// the prior is left out: every item has one key).
    fn score(&self, f: &Features) -> f64 {
        let odds = |(k, d): (f64, f64)| {
            ((k + 1.0) / (self.keys + 2.0)).ln() - ((d + 1.0) / (self.distractors + 2.0)).ln()
        };
        let words: f64 = f
            .words
            .iter()
            .map(|w| odds(self.words.get(w).copied().unwrap_or_default()))
            .sum();
        words + odds(self.lengths.get(&f.length).copied().unwrap_or_default())
    }
}

/// The option-only guesser over the bank, leaving each item out of its own training. Warns
/// when it finds more keys than `guesser_max_percent`, and at each item whose key it believes
/// in at `guesser_item_percent` or more.
pub fn option_cues(
    bank: &Bank,
    lines: &Lines,
    t: &Thresholds,
    whole: &Source,
    out: &mut Vec<Warning>,
) -> Guesser {
    let items = mcqs(bank);
    let all: Vec<Vec<Features>> = items.iter().map(|(_, m)| features(m)).collect();
    let mut counts = Counts::default();
    for f in all.iter().flatten() {
        counts.add(f, 1.0);
    }
    let mut found = 0;
    let mut chance = 0.0;
    for ((item, m), fs) in items.iter().zip(&all) {
        for f in fs {
            counts.add(f, -1.0);
        }
        let scores: Vec<f64> = fs.iter().map(|f| counts.score(f)).collect();
        for f in fs {
            counts.add(f, 1.0);
        }
        chance += 1.0 / fs.len() as f64;
        let best = scores
            .iter()
            .enumerate()
            .fold(0, |b, (i, s)| if *s > scores[b] { i } else { b });
        let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
        let Some(key) = fs.iter().position(|f| f.key) else {
            continue;
        };
        let belief = (scores[key] - top).exp() / total;
        if best == key {
            found += 1;
            if belief * 100.0 >= f64::from(t.guesser_item_percent) {
                out.push(Warning::at(
                    &lines.option(item, m.key),
                    Rule::OptionCue,
                    format!(
                        "{}: the options alone give the key {} away ({:.0}% belief, chance {:.0}%); make the distractors read like the key",
                        item.id,
                        m.key,
                        belief * 100.0,
                        100.0 / fs.len() as f64
                    ),
                ));
            }
        }
    }
    let guesser = Guesser {
        items: items.len(),
        found,
        chance_percent: if items.is_empty() {
            0.0
        } else {
            100.0 * chance / items.len() as f64
        },
    };
    if guesser.percent() > f64::from(t.guesser_max_percent) {
        out.push(Warning::at(
            whole,
            Rule::OptionCue,
            format!(
                "a guesser that reads only the options finds {} of {} keys ({:.1}%; chance {:.1}%, allowed {}%)",
                guesser.found,
                guesser.items,
                guesser.percent(),
                guesser.chance_percent,
                t.guesser_max_percent
            ),
        ));
    }
    guesser
}

/// How far `observed` is from `expected` in standard errors of a sum of Bernoulli trials whose
/// success probabilities are `ps`.
fn z(observed: f64, ps: &[f64]) -> f64 {
    let expected: f64 = ps.iter().sum();
    let variance: f64 = ps.iter().map(|p| p * (1.0 - p)).sum();
    if variance <= 0.0 {
        0.0
    } else {
        (observed - expected) / variance.sqrt()
    }
}

/// The key strictly longest (or strictly shortest) far more or less often than chance: among
/// items with a strictly longest option, chance is 1 in the number of options.
pub fn length_cues(bank: &Bank, t: &Thresholds, whole: &Source, out: &mut Vec<Warning>) {
    for (which, label) in [(Length::Longest, "longest"), (Length::Shortest, "shortest")] {
        let mut ps = Vec::new();
        let mut hits = 0.0;
        for (_, m) in mcqs(bank) {
            let lens = lengths(m);
            if !lens.contains(&which) {
                continue;
            }
            ps.push(1.0 / lens.len() as f64);
            let key = m.options.iter().position(|o| o.letter == m.key);
            if key.is_some_and(|k| lens[k] == which) {
                hits += 1.0;
            }
        }
        let score = z(hits, &ps);
        if score.abs() >= f64::from(t.chance_z) {
            let expected: f64 = ps.iter().sum();
            out.push(Warning::at(
                whole,
                Rule::LengthCue,
                format!(
                    "the key is the strictly {label} option in {hits:.0} of {} items where one option is {label}; chance gives {expected:.1} (z = {score:+.1}): vary which option is {label}",
                    ps.len()
                ),
            ));
        }
    }
}

/// Words that appear mostly in keys, or mostly in distractors: for a word in `n` options, the
/// count in keys against what the options' share of keys predicts.
pub fn cue_words(bank: &Bank, lines: &Lines, t: &Thresholds, out: &mut Vec<Warning>) {
    // word -> (P(key) of each option it is in, keys it is in, first key use, first distractor use)
    struct Seen<'a> {
        ps: Vec<f64>,
        keys: f64,
        first_key: Option<(&'a Item, char)>,
        first_distractor: Option<(&'a Item, char)>,
    }
    let mut by_word: BTreeMap<String, Seen> = BTreeMap::new();
    for (item, m) in mcqs(bank) {
        let p = 1.0 / m.options.len() as f64;
        for o in &m.options {
            let distinct: HashSet<String> = words(&o.text).into_iter().collect();
            for w in distinct {
                let s = by_word.entry(w).or_insert(Seen {
                    ps: Vec::new(),
                    keys: 0.0,
                    first_key: None,
                    first_distractor: None,
                });
                s.ps.push(p);
                if o.letter == m.key {
                    s.keys += 1.0;
                    s.first_key.get_or_insert((item, o.letter));
                } else {
                    s.first_distractor.get_or_insert((item, o.letter));
                }
            }
        }
    }
    for (word, s) in &by_word {
        if s.ps.len() < t.word_min_options as usize {
            continue;
        }
        let score = z(s.keys, &s.ps);
        if score.abs() < f64::from(t.chance_z) {
            continue;
        }
        let (place, side) = if score > 0.0 {
            (s.first_key, "keys")
        } else {
            (s.first_distractor, "distractors")
        };
        let Some((item, letter)) = place else {
            continue;
        };
        out.push(Warning::at(
            &lines.option(item, letter),
            Rule::CueWord,
            format!(
                "\"{word}\" is mostly in {side}: {:.0} of its {} options are keys, chance gives {:.1} (z = {score:+.1}); use it in both or neither",
                s.keys,
                s.ps.len(),
                s.ps.iter().sum::<f64>()
            ),
        ));
    }
}

/// Each key letter against chance: an item with `k` options makes each of its letters the key
/// with probability 1/k.
pub fn key_balance(bank: &Bank, t: &Thresholds, whole: &Source, out: &mut Vec<Warning>) {
    let mut by_letter: BTreeMap<char, (Vec<f64>, f64)> = BTreeMap::new();
    for (_, m) in mcqs(bank) {
        let p = 1.0 / m.options.len() as f64;
        for o in &m.options {
            let e = by_letter.entry(o.letter).or_default();
            e.0.push(p);
            if o.letter == m.key {
                e.1 += 1.0;
            }
        }
    }
    for (letter, (ps, keys)) in by_letter {
        let score = z(keys, &ps);
        if score.abs() >= f64::from(t.chance_z) {
            out.push(Warning::at(
                whole,
                Rule::KeyBalance,
                format!(
                    "{letter} is the key of {keys:.0} items; chance gives {:.1} (z = {score:+.1}): move some keys to other letters",
                    ps.iter().sum::<f64>()
                ),
            ));
        }
    }
}
