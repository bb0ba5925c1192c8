//! Differential item functioning of a polytomous item (an open response scored 0..max) between
//! a reference and a focal group, matched on a stratifying score: Mantel's (1963) chi-square
//! for ordered categories ("Chi-square tests with one degree of freedom; extensions of the
//! Mantel-Haenszel procedure", JASA 58), the standardized mean difference SMD of Dorans &
//! Schmitt (1993, "Constructed response and differential item functioning: a pragmatic
//! approach", in Bennett & Ward (eds.), Construction versus Choice in Cognitive Measurement),
//! and the ETS classes AA / BB / CC of Zwick, Thayer & Mazzeo (1997, "Descriptive and
//! inferential procedures for assessing differential item functioning in polytomous items",
//! Applied Measurement in Education 10(4)) as NAEP applies them (Allen, Carlson & Zelenak 1999,
//! The NAEP 1996 Technical Report).
//!
//! Each stratum (one value of the matching score: the candidate's total, or their rest score
//! without the studied item) is a 2 × (max + 1) table, rows (reference, focal), columns the item
//! scores. Mantel's statistic is the generalized Cochran-Mantel-Haenszel "row mean scores differ"
//! statistic with two rows (SAS PROC FREQ's `CMH`, 1 df), scored with the item scores
//! themselves, without a continuity correction.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use super::dif::Group;
use super::dist;

/// One candidate's score on the studied item, with their group and their matching score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolyResponse {
    pub group: Group,
    /// The stratifying score (a total or rest score): candidates with equal values are matched.
    pub stratum: u32,
    /// The item score, 0..=max.
    pub score: u32,
}

/// The ETS class of a polytomous item's DIF; `+` favours the focal group (SMD > 0), `-` the
/// reference group.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolyEtsClass {
    AA,
    BBPlus,
    BBMinus,
    CCPlus,
    CCMinus,
}

impl fmt::Display for PolyEtsClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolyEtsClass::AA => "AA",
            PolyEtsClass::BBPlus => "BB+",
            PolyEtsClass::BBMinus => "BB-",
            PolyEtsClass::CCPlus => "CC+",
            PolyEtsClass::CCMinus => "CC-",
        })
    }
}

impl Serialize for PolyEtsClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why an item's polytomous DIF cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolyDifError {
    #[error("there are no responses")]
    NoResponses,
    #[error("response {index} has the score {score}, above the highest score {max}")]
    ScoreAboveMax { index: usize, score: u32, max: u32 },
    #[error("no candidate of the reference group answered the item")]
    NoReference,
    #[error("no candidate of the focal group answered the item")]
    NoFocal,
    #[error(
        "every candidate has the score {score} on the item: a constant item has no DIF to measure"
    )]
    ConstantItem { score: u32 },
    #[error(
        "none of the {strata} strata holds candidates of both groups, so no one can be matched"
    )]
    NoCommonStratum { strata: u64 },
    #[error("only one stratum (matching score {stratum}) holds both groups: the groups are not matched on anything, and a difference there is impact, not DIF")]
    OneStratum { stratum: u32 },
    #[error("within every stratum holding both groups all candidates have the same item score, so Mantel's statistic has no variance")]
    NoVarianceWithinStrata,
}

/// Polytomous DIF of one item. Every figure is finite: what cannot be computed is an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolyDif {
    /// The strata used (holding both groups), and those dropped because they held one group.
    pub strata: u64,
    pub strata_dropped: u64,
    /// Candidates of each group in the strata used, and candidates in the dropped strata.
    pub reference: u64,
    pub focal: u64,
    pub candidates_dropped: u64,
    /// Mantel's chi-square (ΣF − ΣE(F))² / ΣVar(F), F the focal group's score sum in a stratum.
    pub mantel_chi2: f64,
    /// P(χ²₁ ≥ mantel_chi2).
    pub p_value: f64,
    /// (ΣF − ΣE(F)) / √ΣVar(F): the signed root of the chi-square, > 0 when the focal group
    /// scores above what the strata's pooled means predict.
    pub mantel_z: f64,
    /// Σₖ (n_Fk / n_F)(m_Fk − m_Rk): the focal-weighted mean difference in score points,
    /// focal minus reference (< 0: the item disadvantages the focal group).
    pub smd: f64,
    /// The item's standard deviation over every candidate of both groups (n − 1 divisor).
    pub item_sd: f64,
    /// smd / item_sd, the effect size the ETS classes use.
    pub smd_sd: f64,
    pub ets_class: PolyEtsClass,
}

/// Running sums of one group in one stratum.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: u64,
    sum: f64,
    sum_sq: f64,
}

impl Sums {
    fn add(&mut self, y: f64) {
        self.n += 1;
        self.sum += y;
        self.sum_sq += y * y;
    }
}

/// Mantel's chi-square, SMD and the ETS class of one item from its responses, scores
/// `0..=max_score`. Strata holding only one group are dropped (and counted).
pub fn dif_poly(responses: &[PolyResponse], max_score: u32) -> Result<PolyDif, PolyDifError> {
    if responses.is_empty() {
        return Err(PolyDifError::NoResponses);
    }
    // Per stratum, (reference, focal); and the whole group's sums for the item's SD.
    let mut strata: BTreeMap<u32, [Sums; 2]> = BTreeMap::new();
    let mut all = Sums::default();
    let (mut min, mut max) = (u32::MAX, 0u32);
    for (index, r) in responses.iter().enumerate() {
        if r.score > max_score {
            return Err(PolyDifError::ScoreAboveMax {
                index,
                score: r.score,
                max: max_score,
            });
        }
        let y = f64::from(r.score);
        let g = match r.group {
            Group::Reference => 0,
            Group::Focal => 1,
        };
        strata.entry(r.stratum).or_default()[g].add(y);
        all.add(y);
        min = min.min(r.score);
        max = max.max(r.score);
    }
    let (n_ref, n_foc) = strata
        .values()
        .fold((0u64, 0u64), |(r, f), s| (r + s[0].n, f + s[1].n));
    if n_ref == 0 {
        return Err(PolyDifError::NoReference);
    }
    if n_foc == 0 {
        return Err(PolyDifError::NoFocal);
    }
    if min == max {
        return Err(PolyDifError::ConstantItem { score: min });
    }
    let used: Vec<(u32, [Sums; 2])> = strata
        .iter()
        .filter(|(_, s)| s[0].n > 0 && s[1].n > 0)
        .map(|(&k, &s)| (k, s))
        .collect();
    match used.as_slice() {
        [] => {
            return Err(PolyDifError::NoCommonStratum {
                strata: strata.len() as u64,
            })
        }
        [(stratum, _)] => return Err(PolyDifError::OneStratum { stratum: *stratum }),
        _ => {}
    }

    let (mut f, mut e, mut v) = (0.0, 0.0, 0.0);
    let (mut reference, mut focal) = (0u64, 0u64);
    let mut weighted_difference = 0.0;
    for (_, [r, fo]) in &used {
        reference += r.n;
        focal += fo.n;
        let (nr, nf) = (r.n as f64, fo.n as f64);
        let n = nr + nf;
        let (sum, sum_sq) = (r.sum + fo.sum, r.sum_sq + fo.sum_sq);
        f += fo.sum;
        e += nf * sum / n;
        v += nr * nf * (n * sum_sq - sum * sum) / (n * n * (n - 1.0));
        weighted_difference += nf * (fo.sum / nf - r.sum / nr);
    }
    if v <= 0.0 || !v.is_finite() {
        return Err(PolyDifError::NoVarianceWithinStrata);
    }
    let mantel_z = (f - e) / v.sqrt();
    let mantel_chi2 = mantel_z * mantel_z;
    let p_value = dist::chi2_1_sf(mantel_chi2);
    let smd = weighted_difference / focal as f64;
    let n_all = all.n as f64;
    // n·Σy² − (Σy)²: whole numbers, exact below 2⁵³, and positive for a non-constant item
    // (n ≥ 2 here: both groups answered).
    let spread = n_all * all.sum_sq - all.sum * all.sum;
    let item_sd = (spread / (n_all * (n_all - 1.0))).sqrt();
    let smd_sd = smd / item_sd;
    Ok(PolyDif {
        strata: used.len() as u64,
        strata_dropped: (strata.len() - used.len()) as u64,
        reference,
        focal,
        candidates_dropped: all.n - reference - focal,
        mantel_chi2,
        p_value,
        mantel_z,
        smd,
        item_sd,
        smd_sd,
        ets_class: poly_ets_class(p_value, smd_sd),
    })
}

/// AA when p ≥ .05 or |SMD/SD| ≤ .17; CC when p < .05 and |SMD/SD| > .25; BB otherwise
/// (p < .05 and .17 < |SMD/SD| ≤ .25). The sign is SMD's.
pub fn poly_ets_class(p_value: f64, smd_sd: f64) -> PolyEtsClass {
    let size = smd_sd.abs();
    let favours_focal = smd_sd > 0.0;
    if p_value >= 0.05 || size <= 0.17 {
        PolyEtsClass::AA
    } else if size > 0.25 {
        if favours_focal {
            PolyEtsClass::CCPlus
        } else {
            PolyEtsClass::CCMinus
        }
    } else if favours_focal {
        PolyEtsClass::BBPlus
    } else {
        PolyEtsClass::BBMinus
    }
}

/// The matching score of [`dif_poly_items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    /// The candidate's total over the items they were scored on, the studied item included
    /// (as Zwick, Donoghue & Grima 1993 and the ETS procedures match).
    Total,
    /// The total without the studied item.
    Rest,
}

/// [`dif_poly`] for every item of a table: `scores[c][i]` is candidate c's score on item i
/// (`None` when they were not scored on it), `groups[c]` their group (`None`, or beyond the end
/// of `groups`: in neither group), `max_scores[i]` item i's highest score. Each item's strata
/// hold the candidates of both groups scored on it, matched on `matching`. When candidates
/// were scored on different items their totals are comparable only if the forms are alike;
/// the strata are built all the same.
pub fn dif_poly_items(
    scores: &[Vec<Option<u32>>],
    groups: &[Option<Group>],
    max_scores: &[u32],
    matching: Matching,
) -> Vec<Result<PolyDif, PolyDifError>> {
    let totals: Vec<u32> = scores
        .iter()
        .map(|row| row.iter().flatten().fold(0u32, |t, &s| t.saturating_add(s)))
        .collect();
    let mut responses = Vec::with_capacity(scores.len());
    max_scores
        .iter()
        .enumerate()
        .map(|(i, &max)| {
            responses.clear();
            for (c, row) in scores.iter().enumerate() {
                let (Some(group), Some(&Some(score))) =
                    (groups.get(c).copied().flatten(), row.get(i))
                else {
                    continue;
                };
                let stratum = match matching {
                    Matching::Total => totals[c],
                    Matching::Rest => totals[c].saturating_sub(score),
                };
                responses.push(PolyResponse {
                    group,
                    stratum,
                    score,
                });
            }
            dif_poly(&responses, max)
        })
        .collect()
}

#[cfg(test)]
mod tests;
