//! Classical item analysis of a multiple-choice sitting: per item difficulty, point-biserials
//! with the total and rest scores, upper-lower (27%) discrimination, alpha if deleted and a
//! distractor table, with flags; per form (and per domain) mean, sd, KR-20, KR-21, alpha with
//! Feldt's interval, SEM and the score distribution. Omitted answers score 0.
//!
//! Each candidate may have been presented only some of the items (a form drawn from a pool):
//! every item statistic is then over the candidates presented the item, with each candidate's
//! total on their own form; the reliability coefficients become approximations, defined only
//! when every form has the same length (`docs/statistics.md`). A fixed form, every candidate
//! presented every item, gives the exact classical values.
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
/// An item the candidate was not presented, in the table.
const NOT_PRESENTED: u8 = u8::MAX - 1;

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

/// One cell of the table: what a candidate did with an item of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cell {
    /// The item was not on the candidate's form: the cell is left out of every statistic of
    /// the item, and the candidate's total is over the items they were presented.
    NotPresented,
    /// Presented but not answered: scores 0, counted in the item's `omitted`.
    Omitted,
    /// Presented and answered with this option, 0 for A.
    Chose(u8),
}

impl From<Option<u8>> for Cell {
    /// A presented item's answer: `None` is [`Cell::Omitted`].
    fn from(answer: Option<u8>) -> Self {
        answer.map_or(Cell::Omitted, Cell::Chose)
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

/// The answers of the candidates of a sitting to the items of a pool: a checked table, so the
/// analysis never meets an answer outside an item's options. Each cell is an option, omitted,
/// or not presented (the item was not on that candidate's form); one byte per cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responses {
    items: Vec<ItemKey>,
    /// Candidate-major: `choices[candidate * items + item]`, `OMIT` for no answer,
    /// `NOT_PRESENTED` for an item not on the candidate's form.
    choices: Vec<u8>,
    candidates: usize,
    /// How many cells are `NOT_PRESENTED`.
    not_presented: u64,
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
            not_presented: 0,
        })
    }

    /// Adds a candidate who was presented every item: one answer per item in the form's order,
    /// `None` when omitted, `Some(0)` for A.
    pub fn push(&mut self, answers: &[Option<u8>]) -> Result<(), ResponsesError> {
        self.check(answers.len(), answers.iter().map(|a| a.unwrap_or(0)))?;
        self.choices
            .extend(answers.iter().map(|a| a.unwrap_or(OMIT)));
        self.candidates += 1;
        Ok(())
    }

    /// Adds a candidate who may have been presented only some of the items: one cell per item
    /// of the pool, in its order. With every cell presented this is the same as [`push`].
    ///
    /// [`push`]: Responses::push
    pub fn push_presented(&mut self, cells: &[Cell]) -> Result<(), ResponsesError> {
        self.check(
            cells.len(),
            cells.iter().map(|cell| match *cell {
                Cell::Chose(option) => option,
                _ => 0,
            }),
        )?;
        let mut absent = 0u64;
        self.choices.extend(cells.iter().map(|cell| match *cell {
            Cell::NotPresented => {
                absent += 1;
                NOT_PRESENTED
            }
            Cell::Omitted => OMIT,
            Cell::Chose(option) => option,
        }));
        self.not_presented += absent;
        self.candidates += 1;
        Ok(())
    }

    /// A row's length, and each chosen option (one per item, 0 for a cell without one) within
    /// its item's options.
    fn check(&self, len: usize, options: impl Iterator<Item = u8>) -> Result<(), ResponsesError> {
        if len != self.items.len() {
            return Err(ResponsesError::Length {
                found: len,
                items: self.items.len(),
            });
        }
        for (item, option) in self.items.iter().zip(options) {
            if option >= item.options {
                return Err(ResponsesError::Choice {
                    id: item.id.clone(),
                    option,
                    options: item.options,
                });
            }
        }
        Ok(())
    }

    pub fn items(&self) -> &[ItemKey] {
        &self.items
    }

    pub fn candidates(&self) -> usize {
        self.candidates
    }

    /// Whether every candidate was presented every item (always so for a table built with
    /// [`push`](Responses::push) alone).
    pub fn all_presented(&self) -> bool {
        self.not_presented == 0
    }

    /// The fewest and the most items any candidate was presented; `None` without candidates.
    /// Totals, and so DIF's matching, compare like with like only when the two are equal.
    pub fn form_lengths(&self) -> Option<(usize, usize)> {
        if self.not_presented == 0 {
            let k = self.items.len();
            return (self.candidates > 0).then_some((k, k));
        }
        (0..self.candidates)
            .map(|c| self.row(c).iter().filter(|&&x| x != NOT_PRESENTED).count())
            .fold(None, |range, len| match range {
                None => Some((len, len)),
                Some((lo, hi)) => Some((lo.min(len), hi.max(len))),
            })
    }

    /// One candidate's answers, `OMIT` for none, `NOT_PRESENTED` for an item not on their form.
    pub(crate) fn row(&self, candidate: usize) -> &[u8] {
        let k = self.items.len();
        self.choices
            .get(candidate * k..(candidate + 1) * k)
            .unwrap_or(&[])
    }

    /// A cell of the table; `None` outside it.
    pub fn cell(&self, candidate: usize, item: usize) -> Option<Cell> {
        self.row(candidate).get(item).map(|&choice| match choice {
            NOT_PRESENTED => Cell::NotPresented,
            OMIT => Cell::Omitted,
            option => Cell::Chose(option),
        })
    }

    /// Whether the candidate was presented the item (false outside the table).
    pub fn presented(&self, candidate: usize, item: usize) -> bool {
        matches!(self.row(candidate).get(item), Some(&c) if c != NOT_PRESENTED)
    }

    /// One candidate's scores on the items: `None` for an item not presented, else whether the
    /// answer scores 1.
    pub(crate) fn scores(&self, candidate: usize) -> impl Iterator<Item = Option<bool>> + '_ {
        self.row(candidate)
            .iter()
            .zip(&self.items)
            .map(|(&choice, key)| (choice != NOT_PRESENTED).then(|| key.accepts(choice)))
    }

    /// Whether the candidate's answer to the item scores 1 (an omitted or not presented one
    /// scores 0).
    pub fn correct(&self, candidate: usize, item: usize) -> bool {
        match (self.row(candidate).get(item), self.items.get(item)) {
            (Some(&choice), Some(key)) => key.accepts(choice),
            _ => false,
        }
    }

    /// Every candidate's total score, on their own form.
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

/// The whole analysis of a sitting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemAnalysis {
    pub form: ScoreStats,
    /// The size of the upper and of the lower group of an item presented to every candidate:
    /// round(0.27·N). An item presented to n candidates has groups of round(0.27·n).
    pub group_27: u64,
    /// Sub-scores, by domain name.
    pub domains: Vec<DomainStats>,
    pub items: Vec<ItemStats>,
}

/// Statistics of a total (or sub-) score. When the candidates were presented different items,
/// each total is over the candidate's own form; KR-20, KR-21, alpha and what follows from them
/// are then approximations from the items' statistics, and `None` unless every form has the
/// same number of items (`docs/statistics.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreStats {
    pub candidates: u64,
    /// The number of items on a form: the most any candidate was presented.
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
    /// How many candidates had each score, from 0 to `items`.
    pub distribution: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainStats {
    pub domain: String,
    #[serde(flatten)]
    pub stats: ScoreStats,
}

/// An item's statistics, each over the candidates presented the item, with their totals on
/// their own forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStats {
    pub item: String,
    pub domain: Option<String>,
    /// Candidates presented the item (every candidate, on a fixed form).
    pub n: u64,
    /// Candidates presented the item who did not answer it.
    pub omitted: u64,
    /// Difficulty: the share who scored 1.
    pub p: Option<f64>,
    pub pbis: Option<f64>,
    pub pbis_rest: Option<f64>,
    pub disc_27: Option<f64>,
    /// `None` unless every candidate was presented the same items.
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

/// Running sums of one item over the candidates presented it, visited in rank order.
#[derive(Debug, Clone, Copy, Default)]
struct ItemSums {
    /// Candidates presented the item met so far: the next one's rank among them.
    seen: u64,
    /// The upper group is the ranks below `group`, the lower group the ranks from `lower_from`.
    group: u64,
    lower_from: u64,
    /// Σ of the totals, and of their squares, of those presented.
    total: u64,
    total_sq: f64,
}

/// The sums a score's statistics need.
struct ScoreSums {
    n: f64,
    /// Items on a form.
    k: f64,
    sum: f64,
    sum_sq: f64,
    /// N² times the mean over candidates of Σ pᵢqᵢ over the items of their form: on a fixed
    /// form N²·Σ pᵢqᵢ = Σ (N·Sᵢ − Sᵢ²). See [`item_variances`].
    item_var: f64,
    /// The same with each item's (nᵢ − 1) variance and the totals' (N − 1) one, on the scale of
    /// `item_var` (equal to it on a fixed form).
    item_var_alpha: f64,
    /// Whether every candidate had `k` items: KR-20, KR-21 and alpha need it.
    same_length: bool,
}

/// An item's shares of [`ScoreSums::item_var`] and [`ScoreSums::item_var_alpha`], for an item
/// presented to `ni` of the `n` candidates and answered right by `s`. With v = nᵢ·S − S², that
/// is nᵢ²·pᵢqᵢ: v and v when nᵢ = N (the classical N·S − S², bit for bit); else N·v/nᵢ (N² times
/// nᵢpᵢqᵢ/N, the item's share of the mean Σ pq) and (N − 1)·v/(nᵢ − 1) (the same with the
/// (n − 1) variances). An item presented to nobody adds 0, and one presented to a single
/// candidate adds 0 to alpha's (its variance is 0 anyway).
fn item_variances(n: f64, ni: f64, s: f64) -> (f64, f64) {
    let v = ni * s - s * s;
    if ni == n {
        return (v, v);
    }
    let kr = if ni > 0.0 { n * v / ni } else { 0.0 };
    let alpha = if ni > 1.0 {
        (n - 1.0) * v / (ni - 1.0)
    } else {
        0.0
    };
    (kr, alpha)
}

fn score_stats(s: &ScoreSums, distribution: Vec<u64>) -> ScoreStats {
    let ScoreSums {
        n,
        k,
        sum,
        sum_sq,
        item_var,
        item_var_alpha,
        same_length,
    } = *s;
    // N²·σ² (population variance of the totals), a whole number.
    let var = n * sum_sq - sum * sum;
    let factor = ratio(k, k - 1.0).filter(|_| same_length);
    let has_var = var > 0.0;
    let kr20 = factor
        .filter(|_| has_var)
        .and_then(|f| finite(f * (1.0 - item_var / var)));
    let kr21 = factor
        .filter(|_| has_var)
        .and_then(|f| finite(f * (1.0 - sum * (k * n - sum) / (k * var))));
    // Cronbach's alpha from the (n − 1) variances: for 0/1 items on a fixed form the same
    // number as KR-20.
    let alpha = factor.filter(|_| has_var && n >= 2.0).and_then(|f| {
        let unbiased = n * (n - 1.0);
        finite(f * (1.0 - (item_var_alpha / unbiased) / (var / unbiased)))
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

/// The size of the upper and of the lower group among `count` candidates: round(0.27·count).
fn group_27(count: u64) -> u64 {
    (0.27 * count as f64).round() as u64
}

/// The number of items on a form, and whether every candidate had that many, for the items
/// `members` (of the whole pool or of a domain) with `presented[i]` candidates presented item i,
/// out of `n`, and the shortest and longest forms. A fixed form (every item presented to all
/// or to none) has the items presented to all; other forms the longest.
fn form_size(
    members: impl Iterator<Item = u64>,
    n: u64,
    (shortest, longest): (usize, usize),
) -> (usize, bool) {
    let (mut all, mut fixed) = (0, true);
    for p in members {
        all += usize::from(p == n);
        fixed &= p == 0 || p == n;
    }
    if fixed {
        (all, true)
    } else {
        (longest, shortest == longest)
    }
}

/// The analysis of a sitting. Never panics; statistics without data (no candidates, no
/// variance, too few items) are `None`.
pub fn item_analysis(responses: &Responses) -> ItemAnalysis {
    let items = responses.items();
    let k = items.len();
    let n = responses.candidates();
    let nn = n as u64;
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

    // Pass 1: totals and sub-totals on each candidate's own form, how many candidates were
    // presented each item, and the shortest and longest forms (whole and per domain).
    let mut totals = vec![0u32; n];
    let mut subtotals = vec![0u32; n * nd];
    let mut presented = vec![0u64; k];
    let mut lengths = (usize::MAX, 0usize);
    let mut sub_len = vec![0usize; nd];
    let mut sub_lengths = vec![(usize::MAX, 0usize); nd];
    for (c, total) in totals.iter_mut().enumerate() {
        let mut len = 0;
        sub_len.fill(0);
        for (((&choice, key), &domain), count) in responses
            .row(c)
            .iter()
            .zip(items)
            .zip(&domain_of)
            .zip(presented.iter_mut())
        {
            if choice == NOT_PRESENTED {
                continue;
            }
            len += 1;
            *count += 1;
            let right = key.accepts(choice);
            *total += u32::from(right);
            if let Some(d) = domain {
                sub_len[d] += 1;
                subtotals[c * nd + d] += u32::from(right);
            }
        }
        lengths = (lengths.0.min(len), lengths.1.max(len));
        for (range, &l) in sub_lengths.iter_mut().zip(&sub_len) {
            *range = (range.0.min(l), range.1.max(l));
        }
    }
    let (form_items, same_length) = form_size(presented.iter().copied(), nn, lengths);

    // Rank by total descending, ties in input order (a stable counting sort).
    let mut start = vec![0usize; form_items + 2];
    for &t in &totals {
        start[t as usize] += 1;
    }
    // start[t] becomes the number of candidates with a higher total.
    let mut above = 0;
    for t in (0..=form_items).rev() {
        let here = start[t];
        start[t] = above;
        above += here;
    }
    let mut order = vec![0usize; n];
    for (c, &t) in totals.iter().enumerate() {
        order[start[t as usize]] = c;
        start[t as usize] += 1;
    }

    // Pass 2, in rank order, so that the candidates presented an item come in their order of
    // rank among themselves: the upper 27% of an item are the first round(0.27·nᵢ) of them, the
    // lower the last. Per item and option, counts and Σ totals.
    let mut item_sums: Vec<ItemSums> = presented
        .iter()
        .map(|&p| {
            let group = group_27(p);
            ItemSums {
                group,
                lower_from: p - group,
                ..ItemSums::default()
            }
        })
        .collect();
    let mut sums = vec![OptionSums::default(); k * stride];
    for &c in &order {
        let t = totals[c];
        let (t64, tt) = (u64::from(t), f64::from(t) * f64::from(t));
        for ((&choice, it), options) in responses
            .row(c)
            .iter()
            .zip(item_sums.iter_mut())
            .zip(sums.chunks_exact_mut(stride))
        {
            if choice == NOT_PRESENTED {
                continue;
            }
            let rank = it.seen;
            it.seen += 1;
            it.total += t64;
            it.total_sq += tt;
            if let Some(s) = options.get_mut(usize::from(choice)) {
                s.count += 1;
                s.total += t64;
                s.upper += u64::from(rank < it.group);
                s.lower += u64::from(rank >= it.lower_from);
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
    let variances: Vec<(f64, f64)> = right
        .iter()
        .zip(&presented)
        .map(|(r, &p)| item_variances(nf, p as f64, r.0))
        .collect();
    let item_var: f64 = variances.iter().map(|v| v.0).sum();

    let mut distribution = vec![0u64; form_items + 1];
    for &t in &totals {
        distribution[t as usize] += 1;
    }
    let form = score_stats(
        &ScoreSums {
            n: nf,
            k: form_items as f64,
            sum: sum_t,
            sum_sq: sum_tt,
            item_var,
            item_var_alpha: variances.iter().map(|v| v.1).sum(),
            same_length,
        },
        distribution,
    );

    let domains = domain_names
        .iter()
        .enumerate()
        .map(|(d, name)| {
            let members: Vec<usize> = (0..k).filter(|&i| domain_of[i] == Some(d)).collect();
            let (sub_items, same_length) =
                form_size(members.iter().map(|&i| presented[i]), nn, sub_lengths[d]);
            let mut distribution = vec![0u64; sub_items + 1];
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
                    k: sub_items as f64,
                    sum,
                    sum_sq,
                    item_var: members.iter().map(|&i| variances[i].0).sum(),
                    item_var_alpha: members.iter().map(|&i| variances[i].1).sum(),
                    same_length,
                },
                distribution,
            );
            DomainStats {
                domain: name.to_string(),
                stats,
            }
        })
        .collect();

    // Alpha if deleted only where every candidate had the same items, this one among them.
    let fixed = presented.iter().all(|&p| p == 0 || p == nn);
    let item_stats = items
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let (s, s_xt, upper, lower) = right[i];
            let it = item_sums[i];
            let ni = presented[i] as f64;
            let (s_t, s_tt) = (it.total as f64, it.total_sq);
            // The rest score y = T − x: Σy, Σy², Σxy from the same sums (x² = x).
            let s_y = s_t - s;
            let s_yy = s_tt - 2.0 * s_xt + s;
            let s_xy = s_xt - s;
            let kk = form_items as f64 - 1.0;
            let alpha_if_deleted = ratio(kk, kk - 1.0)
                .filter(|_| kk >= 2.0 && fixed && presented[i] == nn)
                .and_then(|f| {
                    let var_rest = nf * s_yy - s_y * s_y;
                    ratio(item_var - variances[i].0, var_rest).and_then(|r| finite(f * (1.0 - r)))
                });
            let g = it.group as f64;
            let options: Vec<OptionStats> = (0..key.options)
                .map(|o| {
                    let os = sums[i * stride + usize::from(o)];
                    let count = os.count as f64;
                    OptionStats {
                        option: char::from(b'A' + o),
                        key: key.accepts(o),
                        count: os.count,
                        proportion: ratio(count, ni),
                        upper: ratio(os.upper as f64, g),
                        lower: ratio(os.lower as f64, g),
                        pbis: pearson(ni, count, s_t, count, s_tt, os.total as f64),
                    }
                })
                .collect();
            let answered: u64 = options.iter().map(|o| o.count).sum();
            let p = ratio(s, ni);
            let pbis_rest = pearson(ni, s, s_y, s, s_yy, s_xy);
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
                n: presented[i],
                omitted: presented[i] - answered,
                p,
                pbis: pearson(ni, s, s_t, s, s_tt, s_xt),
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
        group_27: group_27(nn),
        domains,
        items: item_stats,
    }
}

#[cfg(test)]
mod tests;
