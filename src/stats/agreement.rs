//! Rater agreement on ordinal rubric scores. The first and second readings of each response, in
//! the order scored, form its pair: the pairs give exact and adjacent agreement, Cohen's kappas,
//! ICCs and the confusion matrix, overall, per item, per rater pair and by day. Krippendorff's
//! alpha uses every rating (adjudications included, single readings allowed); Fleiss' kappa
//! needs every response to have the same number of ratings; Gwet's AC1 and AC2 (quadratic) use
//! every rating too. Per rater: how many they scored,
//! their mean, severity, exact agreement and accuracy on validity responses.
//!
//! Ids are integers chosen by the caller (database ids, or indices into a table of names).

use std::collections::hash_map::Entry;

use serde::Serialize;

use super::gwet::{gwet, AcWeights};
use super::kappa::{Confusion, Fleiss, PairStats};
use super::krippendorff::{Coincidence, Metric};
use super::{ratio, IdMap, Scale};

/// One rating of one response by one rater, in the order scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    pub response: i64,
    pub rater: i64,
    pub score: i64,
    /// The item the response answers, for the per-item breakdown.
    pub item: Option<i64>,
    /// The day it was scored (any day number), for the drift breakdown.
    pub day: Option<i64>,
    /// The expert score when the response is a validity response.
    pub expert: Option<i64>,
}

impl Rating {
    pub fn new(response: i64, rater: i64, score: i64) -> Self {
        Self {
            response,
            rater,
            score,
            item: None,
            day: None,
            expert: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rating {index}: the score {score} is off the scale")]
pub struct OffScale {
    /// Its position in the ratings.
    pub index: usize,
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementReport {
    #[serde(flatten)]
    pub scale: Scale,
    pub ratings: u64,
    pub responses: u64,
    /// First against second reading, over every response read twice.
    #[serde(flatten)]
    pub overall: PairStats,
    pub alpha_ordinal: Option<f64>,
    pub alpha_interval: Option<f64>,
    pub fleiss_kappa: Option<f64>,
    /// Gwet's AC1 over every rating of each response (adjudications included), with its
    /// standard error; stable where scores crowd into one or two points, as Part Two's do.
    pub gwet_ac1: Option<f64>,
    pub gwet_ac1_se: Option<f64>,
    /// Gwet's AC2 with quadratic weights, with its standard error.
    pub gwet_ac2_quadratic: Option<f64>,
    pub gwet_ac2_quadratic_se: Option<f64>,
    /// In rater id order.
    pub raters: Vec<RaterStats>,
    /// In item id order; ratings without an item are in none.
    pub items: Vec<ItemAgreement>,
    /// In (rater_a, rater_b) order.
    pub rater_pairs: Vec<RaterPairAgreement>,
    /// In day order; ratings without a day are in none.
    pub days: Vec<DayAgreement>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RaterStats {
    pub rater: i64,
    /// Ratings given, adjudications included.
    pub scored: u64,
    pub mean: Option<f64>,
    /// Pairs in which the rater gave the first or the second reading.
    pub pairs: u64,
    /// Mean of own score minus the other reading's, over those pairs: above 0, more lenient.
    pub severity: Option<f64>,
    /// Share of those pairs with the same score.
    pub exact: Option<f64>,
    /// Ratings of validity responses, and the share equal to the expert score.
    pub validity: u64,
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemAgreement {
    pub item: i64,
    pub ratings: u64,
    pub responses: u64,
    #[serde(flatten)]
    pub pairs: PairStats,
    pub alpha_ordinal: Option<f64>,
    pub alpha_interval: Option<f64>,
}

/// The pairs read by two raters; `rater_a < rater_b`, and the confusion matrix's rows are
/// rater_a's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RaterPairAgreement {
    pub rater_a: i64,
    pub rater_b: i64,
    #[serde(flatten)]
    pub pairs: PairStats,
}

/// Ratings given on a day, and the pairs completed that day (by their second reading's day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayAgreement {
    pub day: i64,
    pub ratings: u64,
    pub mean: Option<f64>,
    #[serde(flatten)]
    pub pairs: PairStats,
}

#[derive(Default)]
struct RaterSums {
    scored: u64,
    sum: f64,
    pairs: u64,
    difference: f64,
    exact: u64,
    validity: u64,
    accurate: u64,
}

struct ItemSums {
    ratings: u64,
    responses: u64,
    pairs: Confusion,
    units: Coincidence,
}

struct DaySums {
    ratings: u64,
    sum: f64,
    pairs: Confusion,
}

const NONE: usize = usize::MAX;

/// The agreement report of a set of ratings, in the order scored. Fails only on a score off the
/// scale (or an expert score off it is simply never equal); never panics.
pub fn agreement(scale: Scale, ratings: &[Rating]) -> Result<AgreementReport, OffScale> {
    let n = ratings.len();
    // A category fits a byte: a scale has at most 101 points.
    let mut category: Vec<u8> = Vec::with_capacity(n);
    for (index, r) in ratings.iter().enumerate() {
        match scale.index(r.score) {
            Some(c) => category.push(c as u8),
            None => {
                return Err(OffScale {
                    index,
                    score: r.score,
                })
            }
        }
    }

    // Responses in order of first rating; each one's ratings as a linked list.
    let mut slot_of: IdMap<i64, usize> = IdMap::default();
    slot_of.reserve(n / 2 + 1);
    let mut first: Vec<usize> = Vec::new();
    let mut second: Vec<usize> = Vec::new();
    let mut last: Vec<usize> = Vec::new();
    let mut size: Vec<u32> = Vec::new();
    let mut next = vec![NONE; n];

    let mut raters: IdMap<i64, RaterSums> = IdMap::default();
    let mut items: IdMap<i64, ItemSums> = IdMap::default();
    let mut days: IdMap<i64, DaySums> = IdMap::default();
    let new_item = || ItemSums {
        ratings: 0,
        responses: 0,
        pairs: Confusion::new(scale),
        units: Coincidence::new(scale),
    };
    let new_day = || DaySums {
        ratings: 0,
        sum: 0.0,
        pairs: Confusion::new(scale),
    };

    for (i, r) in ratings.iter().enumerate() {
        let s = match slot_of.entry(r.response) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                first.push(i);
                second.push(NONE);
                last.push(i);
                size.push(0);
                *e.insert(first.len() - 1)
            }
        };
        match size[s] {
            0 => {}
            1 => {
                second[s] = i;
                next[last[s]] = i;
            }
            _ => next[last[s]] = i,
        }
        last[s] = i;
        size[s] = size[s].saturating_add(1);

        let score = r.score as f64;
        let rs = raters.entry(r.rater).or_default();
        rs.scored += 1;
        rs.sum += score;
        if let Some(expert) = r.expert {
            rs.validity += 1;
            rs.accurate += u64::from(expert == r.score);
        }
        if let Some(item) = r.item {
            items.entry(item).or_insert_with(new_item).ratings += 1;
        }
        if let Some(day) = r.day {
            let d = days.entry(day).or_insert_with(new_day);
            d.ratings += 1;
            d.sum += score;
        }
    }

    // The pairs: first and second reading of each response.
    let mut overall = Confusion::new(scale);
    let mut pairs: IdMap<(i64, i64), Confusion> = IdMap::default();
    for s in 0..first.len() {
        let a = &ratings[first[s]];
        if let Some(item) = a.item {
            items.entry(item).or_insert_with(new_item).responses += 1;
        }
        if second[s] == NONE {
            continue;
        }
        let b = &ratings[second[s]];
        let (ca, cb) = (
            usize::from(category[first[s]]),
            usize::from(category[second[s]]),
        );
        overall.add_index(ca, cb);
        if let Some(item) = a.item {
            items
                .entry(item)
                .or_insert_with(new_item)
                .pairs
                .add_index(ca, cb);
        }
        if let Some(day) = b.day {
            days.entry(day)
                .or_insert_with(new_day)
                .pairs
                .add_index(ca, cb);
        }
        let (key, rows, cols) = if a.rater <= b.rater {
            ((a.rater, b.rater), ca, cb)
        } else {
            ((b.rater, a.rater), cb, ca)
        };
        pairs
            .entry(key)
            .or_insert_with(|| Confusion::new(scale))
            .add_index(rows, cols);
        for (own, other) in [(a, b), (b, a)] {
            let rs = raters.entry(own.rater).or_default();
            rs.pairs += 1;
            rs.difference += (own.score - other.score) as f64;
            rs.exact += u64::from(own.score == other.score);
        }
    }

    // Every rating of each response: Krippendorff's coincidences and Fleiss' kappa.
    let mut units = Coincidence::new(scale);
    let mut fleiss = Fleiss::new(scale.points());
    // Each response's ratings as one row for Gwet's coefficients: flat, with row bounds.
    let mut gwet_scores: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut gwet_bounds: Vec<usize> = Vec::with_capacity(first.len() + 1);
    gwet_bounds.push(0);
    let mut tally = vec![0u64; scale.points()];
    let mut counts: Vec<(usize, u64)> = Vec::new();
    for s in 0..first.len() {
        counts.clear();
        let mut i = first[s];
        while i != NONE {
            let c = usize::from(category[i]);
            if tally[c] == 0 {
                counts.push((c, 0));
            }
            tally[c] += 1;
            gwet_scores.push(Some(ratings[i].score));
            i = next[i];
        }
        gwet_bounds.push(gwet_scores.len());
        for (c, count) in counts.iter_mut() {
            *count = std::mem::take(&mut tally[*c]);
        }
        units.add_counts(&counts);
        fleiss.add(&counts);
        if let Some(item) = ratings[first[s]].item {
            items
                .entry(item)
                .or_insert_with(new_item)
                .units
                .add_counts(&counts);
        }
    }

    let mut raters: Vec<RaterStats> = raters
        .into_iter()
        .map(|(rater, r)| RaterStats {
            rater,
            scored: r.scored,
            mean: ratio(r.sum, r.scored as f64),
            pairs: r.pairs,
            severity: ratio(r.difference, r.pairs as f64),
            exact: ratio(r.exact as f64, r.pairs as f64),
            validity: r.validity,
            accuracy: ratio(r.accurate as f64, r.validity as f64),
        })
        .collect();
    raters.sort_by_key(|r| r.rater);
    let mut items: Vec<ItemAgreement> = items
        .into_iter()
        .map(|(item, s)| ItemAgreement {
            item,
            ratings: s.ratings,
            responses: s.responses,
            pairs: s.pairs.stats(),
            alpha_ordinal: s.units.alpha(Metric::Ordinal),
            alpha_interval: s.units.alpha(Metric::Interval),
        })
        .collect();
    items.sort_by_key(|i| i.item);
    let mut rater_pairs: Vec<RaterPairAgreement> = pairs
        .into_iter()
        .map(|((rater_a, rater_b), m)| RaterPairAgreement {
            rater_a,
            rater_b,
            pairs: m.stats(),
        })
        .collect();
    rater_pairs.sort_by_key(|p| (p.rater_a, p.rater_b));
    let mut days: Vec<DayAgreement> = days
        .into_iter()
        .map(|(day, d)| DayAgreement {
            day,
            ratings: d.ratings,
            mean: ratio(d.sum, d.ratings as f64),
            pairs: d.pairs.stats(),
        })
        .collect();
    days.sort_by_key(|d| d.day);

    let gwet_rows: Vec<&[Option<i64>]> = gwet_bounds
        .windows(2)
        .map(|w| &gwet_scores[w[0]..w[1]])
        .collect();
    // Every score was checked against the scale above, so neither can fail.
    let ac1 = gwet(scale, AcWeights::Identity, &gwet_rows).ok();
    let ac2 = gwet(scale, AcWeights::Quadratic, &gwet_rows).ok();

    Ok(AgreementReport {
        scale,
        ratings: n as u64,
        responses: first.len() as u64,
        overall: overall.stats(),
        alpha_ordinal: units.alpha(Metric::Ordinal),
        alpha_interval: units.alpha(Metric::Interval),
        fleiss_kappa: fleiss.kappa(),
        gwet_ac1: ac1.as_ref().and_then(|g| g.coefficient),
        gwet_ac1_se: ac1.as_ref().and_then(|g| g.se),
        gwet_ac2_quadratic: ac2.as_ref().and_then(|g| g.coefficient),
        gwet_ac2_quadratic_se: ac2.as_ref().and_then(|g| g.se),
        raters,
        items,
        rater_pairs,
        days,
    })
}

#[cfg(test)]
mod tests;
