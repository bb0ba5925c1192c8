//! Near-duplicate items: two items whose stem and key (a question's prompt) say nearly the same
//! thing test one point twice, and a form holding both gives a candidate that point twice (or
//! the answer to one in the other).
//!
//! Each item is a TF-IDF vector of its words (stem and key for a multiple-choice item, the
//! prompt for an open question; weights `tf × ln(N / df)` over the bank's items of the kind), and
//! two items are compared by the cosine of their vectors. A pair at `duplicate_percent` or more
//! is reported unless the bank declares the two enemies (never on one form) or `[lint]
//! acknowledged` lists the pair.

use std::collections::{BTreeSet, HashMap};

use super::text::words;
use super::{Rule, Thresholds, Warning};
use crate::bank::{Bank, Item, ItemBody, Status};

fn text_of(item: &Item) -> String {
    match &item.body {
        ItemBody::Mcq(m) => {
            let key = m
                .options
                .iter()
                .find(|o| o.letter == m.key)
                .map_or("", |o| o.text.as_str());
            format!("{} {key}", m.stem)
        }
        ItemBody::Open(o) => o.prompt.clone(),
    }
}

type Vector = HashMap<String, f64>;

fn vectors(items: &[&Item]) -> Vec<Vector> {
    let counts: Vec<HashMap<String, f64>> = items
        .iter()
        .map(|i| {
            let mut tf = HashMap::new();
            for w in words(&text_of(i)) {
                *tf.entry(w).or_insert(0.0) += 1.0;
            }
            tf
        })
        .collect();
    let mut df: HashMap<&str, f64> = HashMap::new();
    for c in &counts {
        for w in c.keys() {
            *df.entry(w.as_str()).or_insert(0.0) += 1.0;
        }
    }
    let n = items.len() as f64;
    counts
        .iter()
        .map(|c| {
            let mut v: Vector = c
                .iter()
                .map(|(w, tf)| (w.clone(), tf * (n / df[w.as_str()]).ln()))
                .filter(|(_, x)| *x > 0.0)
                .collect();
            let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                v.values_mut().for_each(|x| *x /= norm);
            }
            v
        })
        .collect()
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .map(|(w, x)| x * large.get(w).copied().unwrap_or(0.0))
        .sum()
}

pub fn near_duplicates(bank: &Bank, t: &Thresholds, out: &mut Vec<Warning>) {
    let enemies: BTreeSet<(String, String)> = bank.enemy_pairs().into_iter().collect();
    let known = |a: &str, b: &str| {
        let pair = if a < b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        };
        enemies.contains(&pair)
            || t.acknowledged
                .iter()
                .any(|[x, y]| (x == a && y == b) || (x == b && y == a))
    };
    for open in [false, true] {
        let items: Vec<&Item> = bank
            .items
            .iter()
            .filter(|i| i.status != Status::Retired)
            .filter(|i| matches!(i.body, ItemBody::Open(_)) == open)
            .collect();
        let vs = vectors(&items);
        for i in 0..items.len() {
            for j in i + 1..items.len() {
                let (a, b) = (items[i], items[j]);
                // A vignette's questions share its story by design.
                if a.vignette.is_some() && a.vignette == b.vignette {
                    continue;
                }
                let similarity = cosine(&vs[i], &vs[j]);
                if similarity * 100.0 < f64::from(t.duplicate_percent) || known(&a.id, &b.id) {
                    continue;
                }
                let (first, second) = if a.source <= b.source { (a, b) } else { (b, a) };
                out.push(Warning::at(
                    &second.source,
                    Rule::NearDuplicate,
                    format!(
                        "{} and {} ({}) are {:.0}% alike in stem and key: merge or separate them, or declare them enemies (`enemies: {}`) or acknowledge the pair in bank.toml's [lint]",
                        second.id,
                        first.id,
                        first.source,
                        similarity * 100.0,
                        first.id
                    ),
                ));
            }
        }
    }
}
