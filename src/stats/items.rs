//! Classical item analysis of a multiple-choice form: per item difficulty, point-biserials
//! with the total and rest scores, upper-lower (27%) discrimination, alpha if deleted and a
//! distractor table, with flags; per form (and per domain) mean, sd, KR-20, KR-21, alpha with
//! Feldt's interval, SEM and the score distribution. Omitted answers score 0.
//!
//! Two passes over the candidates × items table; every per-item figure comes from running sums
//! (counts and Σ of totals per option), so nothing is recomputed per item.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{dist, finite, pearson, ratio};

/// The most options an item may have: A to Z.
pub const MAX_OPTIONS: u8 = 26;
/// An omitted answer in the table.
const OMIT: u8 = u8::MAX;

/// One item of a form and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub id: String,
    /// The competency domain, for the sub-scores; items without one are in no sub-score.
    pub domain: Option<String>,
    /// How many options the item has, A up to at most Z.
    pub options: u8,
    /// The options that score 1: bit i for option i (A is bit 0). Several may be accepted.
    pub accepted: u32,
}

impl ItemKey {
    fn accepts(&self, choice: u8) -> bool {
        u32::from(choice) < u32::from(MAX_OPTIONS) && self.accepted >> choice & 1 == 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponsesError {
    #[error("item {id} has {options} options; 1 to 26 are allowed")]
    Options { id: String, options: u8 },
    #[error("item {id}: the key must accept at least one of its options and no other")]
    Key { id: String },
    #[error("{found} answers for a form of {items} items")]
    Length { found: usize, items: usize },
    #[error("item {id}: option {option} chosen but the item has {options} options")]
    Choice { id: String, option: u8, options: u8 },
}

/// The answers of every candidate to every item of one form: a checked table, so the analysis
/// never meets an answer outside an item's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responses {
    items: Vec<ItemKey>,
    /// Candidate-major: `choices[candidate * items + item]`, `OMIT` for no answer.
    choices: Vec<u8>,
    candidates: usize,
}

impl Responses {
    pub fn new(items: Vec<ItemKey>) -> Result<Self, ResponsesError> {
        for item in &items {
            if item.options == 0 || item.options > MAX_OPTIONS {
                return Err(ResponsesError::Options {
                    id: item.id.clone(),
                    options: item.options,
                });
            }
            if item.accepted == 0 || item.accepted >> item.options != 0 {
                return Err(ResponsesError::Key {
                    id: item.id.clone(),
                });
            }
        }
        Ok(Self {
            items,
            choices: Vec::new(),
            candidates: 0,
        })
    }

    /// Adds a candidate: one answer per item in the form's order, `None` when omitted, `Some(0)`
    /// for A.
    pub fn push(&mut self, answers: &[Option<u8>]) -> Result<(), ResponsesError> {
        if answers.len() != self.items.len() {
            return Err(ResponsesError::Length {
                found: answers.len(),
                items: self.items.len(),
            });
        }
        for (item, answer) in self.items.iter().zip(answers) {
            if let Some(option) = *answer {
                if option >= item.options {
                    return Err(ResponsesError::Choice {
                        id: item.id.clone(),
                        option,
                        options: item.options,
                    });
                }
            }
        }
        self.choices
            .extend(answers.iter().map(|a| a.unwrap_or(OMIT)));
        self.candidates += 1;
        Ok(())
    }

    pub fn items(&self) -> &[ItemKey] {
        &self.items
    }

    pub fn candidates(&self) -> usize {
        self.candidates
    }

    /// One candidate's answers, `OMIT` for none.
    pub(crate) fn row(&self, candidate: usize) -> &[u8] {
        let k = self.items.len();
        self.choices
            .get(candidate * k..(candidate + 1) * k)
            .unwrap_or(&[])
    }

    /// Whether the candidate's answer to the item scores 1 (an omitted one scores 0).
    pub fn correct(&self, candidate: usize, item: usize) -> bool {
        match (self.row(candidate).get(item), self.items.get(item)) {
            (Some(&choice), Some(key)) => key.accepts(choice),
            _ => false,
        }
    }

    /// Every candidate's total score.
    pub fn totals(&self) -> Vec<u32> {
        (0..self.candidates)
            .map(|c| {
                self.row(c)
                    .iter()
                    .zip(&self.items)
                    .filter(|(&choice, key)| key.accepts(choice))
                    .count() as u32
            })
            .collect()
    }
}

/// The whole analysis of a form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemAnalysis {
    pub form: ScoreStats,
    /// The size of the upper and of the lower group: round(0.27·N).
    pub group_27: u64,
    /// Sub-scores, by domain name.
    pub domains: Vec<DomainStats>,
    pub items: Vec<ItemStats>,
}

/// Statistics of a total (or sub-) score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreStats {
    pub candidates: u64,
    pub items: u64,
    pub mean: Option<f64>,
    /// With n − 1.
    pub sd: Option<f64>,
    pub kr20: Option<f64>,
    pub kr21: Option<f64>,
    pub alpha: Option<f64>,
    /// Feldt's 95% interval for alpha.
    pub alpha_low: Option<f64>,
    pub alpha_high: Option<f64>,
    /// sd·√(1 − alpha).
    pub sem: Option<f64>,
    /// How many candidates had each score, from 0 to the number of items.
    pub distribution: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainStats {
    pub domain: String,
    #[serde(flatten)]
    pub stats: ScoreStats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    pub item: String,
    pub domain: Option<String>,
    /// Candidates who had the item (all of the form's).
    pub n: u64,
    pub omitted: u64,
    /// Difficulty: the share who scored 1.
    pub p: Option<f64>,
    pub pbis: Option<f64>,
    pub pbis_rest: Option<f64>,
    pub disc_27: Option<f64>,
    pub alpha_if_deleted: Option<f64>,
    /// Every option, keyed or not, from A.
    pub options: Vec<OptionStats>,
    pub flags: Vec<Flag>,
}

/// One row of an item's distractor table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionStats {
    pub option: char,
    pub key: bool,
    pub count: u64,
    pub proportion: Option<f64>,
    /// The share of the upper (lower) 27% group who chose it.
    pub upper: Option<f64>,
    pub lower: Option<f64>,
    /// Point-biserial of "chose this option" with the total score.
    pub pbis: Option<f64>,
}

/// Why an item deserves the committee's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// p < 0.30.
    Hard,
    /// p > 0.95.
    Easy,
    /// pbis_rest < 0.15.
    LowDiscrimination,
    /// A distractor whose point-biserial is above 0.
    DistractorPositive(char),
    /// A distractor chosen by fewer than 2%.
    DistractorRare(char),
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Hard => write!(f, "hard"),
            Flag::Easy => write!(f, "easy"),
            Flag::LowDiscrimination => write!(f, "low_discrimination"),
            Flag::DistractorPositive(o) => write!(f, "distractor_positive:{o}"),
            Flag::DistractorRare(o) => write!(f, "distractor_rare:{o}"),
        }
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Running sums of one option of one item.
#[derive(Debug, Clone, Copy, Default)]
struct OptionSums {
    count: u64,
    /// Σ of the totals of those who chose it.
    total: u64,
    upper: u64,
    lower: u64,
}

/// The sums a score's statistics need; `item_var` is N²·Σ pᵢqᵢ = Σ (N·Sᵢ − Sᵢ²).
struct ScoreSums {
    n: f64,
    k: f64,
    sum: f64,
    sum_sq: f64,
    item_var: f64,
}

fn score_stats(s: &ScoreSums, distribution: Vec<u64>) -> ScoreStats {
    let ScoreSums {
        n,
        k,
        sum,
        sum_sq,
        item_var,
    } = *s;
    // N²·σ² (population variance of the totals), a whole number.
    let var = n * sum_sq - sum * sum;
    let factor = ratio(k, k - 1.0);
    let has_var = var > 0.0;
    let kr20 = factor
        .filter(|_| has_var)
        .and_then(|f| finite(f * (1.0 - item_var / var)));
    let kr21 = factor
        .filter(|_| has_var)
        .and_then(|f| finite(f * (1.0 - sum * (k * n - sum) / (k * var))));
    // Cronbach's alpha from the (n − 1) variances: for 0/1 items the same number as KR-20.
    let alpha = factor.filter(|_| has_var && n >= 2.0).and_then(|f| {
        let unbiased = n * (n - 1.0);
        finite(f * (1.0 - (item_var / unbiased) / (var / unbiased)))
    });
    let sd = if n >= 2.0 {
        finite((var.max(0.0) / (n * (n - 1.0))).sqrt())
    } else {
        None
    };
    let (alpha_low, alpha_high) = match alpha {
        Some(a) => feldt(a, n, k),
        None => (None, None),
    };
    let sem = match (sd, alpha) {
        (Some(sd), Some(a)) => finite(sd * (1.0 - a).max(0.0).sqrt()),
        _ => None,
    };
    ScoreStats {
        candidates: n as u64,
        items: k as u64,
        mean: ratio(sum, n),
        sd,
        kr20,
        kr21,
        alpha,
        alpha_low,
        alpha_high,
        sem,
        distribution,
    }
}

/// Feldt's (1965) 95% interval: 1 − (1 − α)·F₀.₉₇₅ and 1 − (1 − α)·F₀.₀₂₅ with N − 1 and
/// (N − 1)(k − 1) degrees of freedom.
fn feldt(alpha: f64, n: f64, k: f64) -> (Option<f64>, Option<f64>) {
    let (d1, d2) = (n - 1.0, (n - 1.0) * (k - 1.0));
    let bound = |p| dist::f_quantile(p, d1, d2).and_then(|f| finite(1.0 - (1.0 - alpha) * f));
    (bound(0.975), bound(0.025))
}

/// The analysis of a form. Never panics; statistics without data (no candidates, no variance,
/// too few items) are `None`.
pub fn item_analysis(responses: &Responses) -> ItemAnalysis {
    let items = responses.items();
    let k = items.len();
    let n = responses.candidates();
    let stride = usize::from(MAX_OPTIONS);

    // Domains in name order; each item's domain as an index.
    let domain_names: Vec<&str> = items
        .iter()
        .filter_map(|i| i.domain.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let domain_of: Vec<Option<usize>> = items
        .iter()
        .map(|i| {
            i.domain
                .as_deref()
                .and_then(|d| domain_names.binary_search(&d).ok())
        })
        .collect();
    let nd = domain_names.len();

    // Pass 1: totals and sub-totals.
    let mut totals = vec![0u32; n];
    let mut subtotals = vec![0u32; n * nd];
    for (c, total) in totals.iter_mut().enumerate() {
        let row = responses.row(c);
        for (i, (&choice, key)) in row.iter().zip(items).enumerate() {
            if key.accepts(choice) {
                *total += 1;
                if let Some(d) = domain_of[i] {
                    subtotals[c * nd + d] += 1;
                }
            }
        }
    }

    // Upper and lower 27%: rank by total descending, ties in input order (a stable counting
    // sort), the first and the last round(0.27·N).
    let group = (0.27 * n as f64).round() as usize;
    let mut start = vec![0usize; k + 2];
    for &t in &totals {
        start[t as usize] += 1;
    }
    // start[t] becomes the number of candidates with a higher total.
    let mut above = 0;
    for t in (0..=k).rev() {
        let here = start[t];
        start[t] = above;
        above += here;
    }
    let mut band = vec![0u8; n]; // 1 upper, 2 lower
    for (c, &t) in totals.iter().enumerate() {
        let rank = start[t as usize];
        start[t as usize] += 1;
        if rank < group {
            band[c] = 1;
        } else if rank >= n - group {
            band[c] = 2;
        }
    }

    // Pass 2: per item and option, counts and Σ totals.
    let mut sums = vec![OptionSums::default(); k * stride];
    for c in 0..n {
        let (t, b) = (u64::from(totals[c]), band[c]);
        for (i, &choice) in responses.row(c).iter().enumerate() {
            if choice < MAX_OPTIONS {
                let s = &mut sums[i * stride + usize::from(choice)];
                s.count += 1;
                s.total += t;
                s.upper += u64::from(b == 1);
                s.lower += u64::from(b == 2);
            }
        }
    }

    let nf = n as f64;
    let sum_t: f64 = totals.iter().map(|&t| f64::from(t)).sum();
    let sum_tt: f64 = totals.iter().map(|&t| f64::from(t) * f64::from(t)).sum();
    // Per item: S = number right, Σ totals of those right, upper and lower right.
    let right: Vec<(f64, f64, f64, f64)> = items
        .iter()
        .enumerate()
        .map(|(i, key)| {
            sums[i * stride..(i + 1) * stride]
                .iter()
                .enumerate()
                .filter(|(o, _)| key.accepts(*o as u8))
                .fold((0.0, 0.0, 0.0, 0.0), |a, (_, s)| {
                    (
                        a.0 + s.count as f64,
                        a.1 + s.total as f64,
                        a.2 + s.upper as f64,
                        a.3 + s.lower as f64,
                    )
                })
        })
        .collect();
    let var_of = |s: f64| nf * s - s * s;
    let item_var: f64 = right.iter().map(|r| var_of(r.0)).sum();

    let mut distribution = vec![0u64; k + 1];
    for &t in &totals {
        distribution[t as usize] += 1;
    }
    let form = score_stats(
        &ScoreSums {
            n: nf,
            k: k as f64,
            sum: sum_t,
            sum_sq: sum_tt,
            item_var,
        },
        distribution,
    );

    let domains = domain_names
        .iter()
        .enumerate()
        .map(|(d, name)| {
            let members: Vec<usize> = (0..k).filter(|&i| domain_of[i] == Some(d)).collect();
            let mut distribution = vec![0u64; members.len() + 1];
            let (mut sum, mut sum_sq) = (0.0, 0.0);
            for c in 0..n {
                let t = subtotals[c * nd + d];
                distribution[t as usize] += 1;
                sum += f64::from(t);
                sum_sq += f64::from(t) * f64::from(t);
            }
            let stats = score_stats(
                &ScoreSums {
                    n: nf,
                    k: members.len() as f64,
                    sum,
                    sum_sq,
                    item_var: members.iter().map(|&i| var_of(right[i].0)).sum(),
                },
                distribution,
            );
            DomainStats {
                domain: name.to_string(),
                stats,
            }
        })
        .collect();

    let item_stats = items
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let (s, s_xt, upper, lower) = right[i];
            // The rest score y = T − x: Σy, Σy², Σxy from the same sums (x² = x).
            let s_y = sum_t - s;
            let s_yy = sum_tt - 2.0 * s_xt + s;
            let s_xy = s_xt - s;
            let kk = k as f64 - 1.0;
            let alpha_if_deleted = ratio(kk, kk - 1.0).filter(|_| kk >= 2.0).and_then(|f| {
                let var_rest = nf * s_yy - s_y * s_y;
                ratio(item_var - var_of(s), var_rest).and_then(|r| finite(f * (1.0 - r)))
            });
            let g = group as f64;
            let options: Vec<OptionStats> = (0..key.options)
                .map(|o| {
                    let os = sums[i * stride + usize::from(o)];
                    let count = os.count as f64;
                    OptionStats {
                        option: char::from(b'A' + o),
                        key: key.accepts(o),
                        count: os.count,
                        proportion: ratio(count, nf),
                        upper: ratio(os.upper as f64, g),
                        lower: ratio(os.lower as f64, g),
                        pbis: pearson(nf, count, sum_t, count, sum_tt, os.total as f64),
                    }
                })
                .collect();
            let answered: u64 = options.iter().map(|o| o.count).sum();
            let p = ratio(s, nf);
            let pbis_rest = pearson(nf, s, s_y, s, s_yy, s_xy);
            let mut flags = Vec::new();
            match p {
                Some(p) if p < 0.30 => flags.push(Flag::Hard),
                Some(p) if p > 0.95 => flags.push(Flag::Easy),
                _ => {}
            }
            if pbis_rest.is_some_and(|r| r < 0.15) {
                flags.push(Flag::LowDiscrimination);
            }
            for o in options.iter().filter(|o| !o.key) {
                if o.pbis.is_some_and(|r| r > 0.0) {
                    flags.push(Flag::DistractorPositive(o.option));
                }
            }
            for o in options.iter().filter(|o| !o.key) {
                if o.proportion.is_some_and(|p| p < 0.02) {
                    flags.push(Flag::DistractorRare(o.option));
                }
            }
            ItemStats {
                item: key.id.clone(),
                domain: key.domain.clone(),
                n: n as u64,
                omitted: n as u64 - answered,
                p,
                pbis: pearson(nf, s, sum_t, s, sum_tt, s_xt),
                pbis_rest,
                disc_27: ratio(upper - lower, g),
                alpha_if_deleted,
                options,
                flags,
            }
        })
        .collect();

    ItemAnalysis {
        form,
        group_27: group as u64,
        domains,
        items: item_stats,
    }
}

#[cfg(test)]
mod tests;
