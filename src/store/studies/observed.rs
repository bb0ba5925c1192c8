//! What the study's sitting observed: each item's p-value (Part One) or mean score (Part Two),
//! and each candidate's score on the study's part, for feedback, consistency and impact.

use std::collections::{BTreeMap, BTreeSet};

use super::Study;
use crate::stats::standard_setting::pass_rate;
use crate::store::{Db, Result};

/// One study item's observed difficulty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemObserved {
    pub position: u32,
    /// Part One: the share of candidates whose form carried it who answered it correctly
    /// (unanswered counts as wrong). Part Two: the mean resolved score in points. `None` when
    /// no candidate of the sitting met it (or its key is dropped).
    pub value: Option<f64>,
    /// How many candidates it rests on.
    pub n: usize,
}

/// One candidate's score on the study's part of the sitting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CandidateScore {
    pub registration_id: i64,
    /// Points scored: correct scored items (Part One) or resolved question scores (Part Two).
    pub raw: f64,
    /// The most points their own form allowed.
    pub max: f64,
}

impl CandidateScore {
    pub fn percent(&self) -> f64 {
        if self.max > 0.0 {
            100.0 * self.raw / self.max
        } else {
            0.0
        }
    }
}

/// The sitting's data for a study; empty when the study has no sitting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// One per study item, in position order.
    pub items: Vec<ItemObserved>,
    /// The study blueprint's candidates with a submitted (Part One) or scored (Part Two) part.
    pub candidates: Vec<CandidateScore>,
}

impl Observed {
    /// Each candidate's score in percent of their form's maximum: what a cut in percent of the
    /// study's maximum is compared with (candidates' forms differ from the study's item set
    /// when it rates the whole pool, so raw points would not be comparable).
    pub fn percents(&self) -> Vec<f64> {
        self.candidates
            .iter()
            .map(CandidateScore::percent)
            .collect()
    }

    /// The share of candidates who would pass at `cut_percent` (at or above it); `None`
    /// without candidates.
    pub fn pass_rate(&self, cut_percent: f64) -> Option<f64> {
        pass_rate(&self.percents(), cut_percent)
    }

    /// Each item's observed value as a share of its maximum (p-values as they are, Part Two
    /// mean scores over the question's top score), for consistency with the ratings.
    pub fn shares(&self, max: &[f64]) -> Vec<Option<f64>> {
        self.items
            .iter()
            .zip(max)
            .map(|(o, m)| o.value.map(|v| if *m > 0.0 { v / m } else { 0.0 }))
            .collect()
    }
}

/// The observed data of the study's sitting (empty without one).
pub async fn observed(db: &Db, study: &Study) -> Result<Observed> {
    let Some(sitting) = study.sitting_id else {
        return Ok(Observed::default());
    };
    let items: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT position, item_id, item_version FROM study_items WHERE study_id = $1
         ORDER BY position",
    )
    .bind(study.id)
    .fetch_all(&db.pool)
    .await?;
    let of_blueprint: BTreeSet<i64> = sqlx::query_scalar(
        "SELECT id FROM registrations WHERE sitting_id = $1 AND blueprint_id = $2",
    )
    .bind(sitting)
    .bind(&study.blueprint_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .collect();
    if study.part == 1 {
        part_one(db, sitting, &items, &of_blueprint).await
    } else {
        part_two(db, sitting, &items, &of_blueprint).await
    }
}

async fn part_one(
    db: &Db,
    sitting: i64,
    items: &[(i64, String, i64)],
    of_blueprint: &BTreeSet<i64>,
) -> Result<Observed> {
    let forms = crate::store::analysis::part_one_forms(db, sitting).await?;
    let keys = crate::store::analysis::item_keys(db).await?;
    // The accepted options of each item of the table, `None` when its key is dropped.
    let accepted: Vec<Option<u32>> = forms
        .items
        .iter()
        .map(|k| keys.get(k).map(|(_, _, bits)| *bits))
        .collect();
    let mut right = vec![0usize; forms.items.len()];
    let mut met = vec![0usize; forms.items.len()];
    let mut candidates = Vec::new();
    for f in forms
        .forms
        .iter()
        .filter(|f| of_blueprint.contains(&f.registration_id))
    {
        let (mut raw, mut max) = (0.0, 0.0);
        for &(i, chosen) in &f.cells {
            let i = i as usize;
            let Some(bits) = accepted.get(i).copied().flatten() else {
                continue;
            };
            let ok = chosen.is_some_and(|c| c < 32 && bits & (1 << c) != 0);
            met[i] += 1;
            max += 1.0;
            if ok {
                right[i] += 1;
                raw += 1.0;
            }
        }
        candidates.push(CandidateScore {
            registration_id: f.registration_id,
            raw,
            max,
        });
    }
    let index: BTreeMap<(&str, u32), usize> = forms
        .items
        .iter()
        .enumerate()
        .map(|(i, (id, v))| ((id.as_str(), *v), i))
        .collect();
    let items = items
        .iter()
        .map(|(pos, id, version)| {
            let i = index.get(&(id.as_str(), u32::try_from(*version).unwrap_or(0)));
            let n = i.map_or(0, |&i| met[i]);
            ItemObserved {
                position: u32::try_from(*pos).unwrap_or(0),
                value: i
                    .filter(|_| n > 0)
                    .map(|&i| right[i] as f64 / met[i] as f64),
                n,
            }
        })
        .collect();
    Ok(Observed { items, candidates })
}

async fn part_two(
    db: &Db,
    sitting: i64,
    items: &[(i64, String, i64)],
    of_blueprint: &BTreeSet<i64>,
) -> Result<Observed> {
    let scores = crate::store::analysis::part_two_scores(db, sitting).await?;
    let mut by_item: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut by_candidate: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for (reg, item, score, max) in scores.iter().filter(|s| of_blueprint.contains(&s.0)) {
        let e = by_item.entry(item.as_str()).or_default();
        e.0 += score;
        e.1 += 1;
        let c = by_candidate.entry(*reg).or_default();
        c.0 += score;
        c.1 += f64::from(*max);
    }
    let items = items
        .iter()
        .map(|(pos, id, _)| {
            let (sum, n) = by_item.get(id.as_str()).copied().unwrap_or_default();
            ItemObserved {
                position: u32::try_from(*pos).unwrap_or(0),
                value: (n > 0).then(|| sum / n as f64),
                n,
            }
        })
        .collect();
    let candidates = by_candidate
        .into_iter()
        .map(|(registration_id, (raw, max))| CandidateScore {
            registration_id,
            raw,
            max,
        })
        .collect();
    Ok(Observed { items, candidates })
}
