//! A calibrated sitting on the Rasch scale: each blueprint's cut as a measure (θ_cut), each
//! Part One form's difficulty at the cut and its spread (`exam::fair`), and each candidate's
//! measure with its standard error (Warm's WLE on their form's calibrated items), for the
//! sitting's report, Rudner's accuracy and the Rasch CSEM at the cut.
//!
//! Read in a fixed number of queries: the sitting's calibration and the newest earlier one of
//! each item version, the submitted Part One table (cached, `analysis::part_one_forms`), the
//! keys, the blueprints, the pool and the registrations' blueprints.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bank::{Blueprint, PassOn};
use crate::exam::fair::{self, Difficulties, Spread, Target};
use crate::exam::form::Pool;
use crate::stats::decision::rasch_se;
use crate::stats::rasch::{wle, Measure as RaschMeasure};
use crate::stats::tcc;
use crate::store::analysis::{item_keys, part_one_forms, PartOneForms};
use crate::store::{bank, Db, Result, StoreError};

use super::{earlier, of_sitting};

/// Where a blueprint's θ_cut comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CutReference {
    /// Every operational item of the blueprint's pool has a difficulty: θ_cut is the ability
    /// whose expected percent on the whole pool is the pass percent (`fair::target`).
    Pool { items: usize },
    /// Only `calibrated` of the pool's `operational` items have one: θ_cut is taken on those.
    PartialPool {
        calibrated: usize,
        operational: usize,
    },
}

impl CutReference {
    pub fn pool_calibrated(self) -> bool {
        matches!(self, CutReference::Pool { .. })
    }

    /// In words, for the pages.
    pub fn describe(self) -> String {
        match self {
            CutReference::Pool { items } => {
                format!("the whole operational pool ({items} items, all calibrated)")
            }
            CutReference::PartialPool {
                calibrated,
                operational,
            } => format!(
                "the {calibrated} of the pool's {operational} operational items calibrated so far"
            ),
        }
    }
}

/// One blueprint's forms in the sitting, on the Rasch scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlueprintSpread {
    pub blueprint: String,
    pub name: String,
    pub pass_percent: crate::bank::PassMark,
    pub pass_on: PassOn,
    pub reference: CutReference,
    /// θ_cut, the target percent at it and the blueprint's tolerance.
    pub target: Target,
    /// The forms' expected percents at θ_cut (over each form's calibrated scored items).
    pub spread: Option<Spread>,
    /// Forms within the tolerance of the target, of those in the spread.
    pub within: usize,
    /// Forms with a scored item that has no difficulty (left out of the calibration, as an item
    /// everyone answered right is): their percent is over their calibrated items only.
    pub partial_forms: usize,
    /// Forms without any calibrated item: not in the spread.
    pub left_out: usize,
}

/// One candidate's Part One on the Rasch scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonOnScale {
    pub registration_id: i64,
    /// Index into [`SittingScale::blueprints`].
    pub blueprint: usize,
    /// Right answers on the form's calibrated scored items, and how many those are.
    pub raw: u32,
    pub items: u32,
    /// Warm's estimate and its standard error; None without a calibrated item.
    pub measure: Option<RaschMeasure>,
    /// The form's expected percent at its blueprint's θ_cut.
    pub expected_percent: Option<f64>,
    /// The Rasch standard error at θ_cut on the form: 1/√I(θ_cut).
    pub se_at_cut: Option<f64>,
}

/// A calibrated sitting on the Rasch scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SittingScale {
    pub blueprints: Vec<BlueprintSpread>,
    pub persons: Vec<PersonOnScale>,
    /// Candidates whose blueprint has no θ_cut (no calibrated item of its pool): left out.
    pub unplaced: usize,
}

impl SittingScale {
    /// The θ_cut of a person's blueprint.
    pub fn theta_cut(&self, p: &PersonOnScale) -> f64 {
        self.blueprints[p.blueprint].target.theta_cut
    }
}

/// The forms' difficulty spread of a sitting, per blueprint; empty when the sitting is not
/// calibrated.
pub async fn form_spread(db: &Db, sitting_id: i64) -> Result<Vec<BlueprintSpread>> {
    Ok(sitting_scale(db, sitting_id)
        .await?
        .map(|s| s.blueprints)
        .unwrap_or_default())
}

/// The sitting on the Rasch scale; None when it has no stored calibration.
pub async fn sitting_scale(db: &Db, sitting_id: i64) -> Result<Option<SittingScale>> {
    let here = of_sitting(db, sitting_id).await?;
    if here.is_empty() {
        return Ok(None);
    }
    // This sitting's difficulty of each item version, else the newest earlier one.
    let mut difficulty: BTreeMap<(String, u32), f64> = earlier(db, sitting_id)
        .await?
        .into_iter()
        .filter_map(|((id, v), (b, _))| Some(((id, u32::try_from(v).ok()?), b)))
        .collect();
    for r in here {
        if let (Some(b), Ok(v)) = (r.difficulty, u32::try_from(r.item_version)) {
            difficulty.insert((r.item_id, v), b);
        }
    }
    let table = part_one_forms(db, sitting_id).await?;
    let keys = item_keys(db).await?;
    let blueprints = bank::blueprints(db).await?;
    let pool = bank::pool(db).await?;
    let registered: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, blueprint_id FROM registrations WHERE sitting_id = $1")
            .bind(sitting_id)
            .fetch_all(&db.pool)
            .await?;
    let accepted: BTreeMap<(String, u32), u32> = keys
        .into_iter()
        .map(|(k, (_, _, bits))| (k, bits))
        .collect();
    let registered: BTreeMap<i64, String> = registered.into_iter().collect();
    let scale = tokio::task::spawn_blocking(move || {
        place(
            &table,
            &accepted,
            &difficulty,
            &blueprints,
            &pool,
            &registered,
        )
    })
    .await
    .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(format!("placing the sitting: {e}"))))?;
    Ok(Some(scale))
}

/// θ_cut of `bp` on the calibrated items of its operational pool; None when none has a
/// difficulty.
fn cut_of(
    bp: &Blueprint,
    pool: &Pool,
    difficulty: &BTreeMap<(String, u32), f64>,
) -> Option<(CutReference, Target)> {
    let operational = pool.operational(bp);
    let by_id: Difficulties = operational
        .iter()
        .filter_map(|i| Some((i.id.clone(), *difficulty.get(&(i.id.clone(), i.version))?)))
        .collect();
    if let Ok(target) = fair::target(bp, pool, &by_id) {
        return Some((
            CutReference::Pool {
                items: operational.len(),
            },
            target,
        ));
    }
    let bs: Vec<f64> = by_id
        .0
        .values()
        .copied()
        .filter(|b| b.is_finite())
        .collect();
    let cut_score = f64::from(bp.part_one.pass_percent) / 100.0 * bs.len() as f64;
    let theta_cut = tcc::theta_for_score(cut_score, &bs)?;
    Some((
        CutReference::PartialPool {
            calibrated: bs.len(),
            operational: operational.len(),
        },
        Target {
            theta_cut,
            percent: tcc::expected_percent(theta_cut, &bs)?,
            tolerance: bp.part_one.form_tolerance.points(),
        },
    ))
}

/// The pure part of [`sitting_scale`].
fn place(
    table: &PartOneForms,
    accepted: &BTreeMap<(String, u32), u32>,
    difficulty: &BTreeMap<(String, u32), f64>,
    blueprints: &[Blueprint],
    pool: &Pool,
    registered: &BTreeMap<i64, String>,
) -> SittingScale {
    // Each table item's difficulty and accepted options (None: no key now, a dropped item).
    let items: Vec<Option<(f64, u32)>> = table
        .items
        .iter()
        .map(|k| Some((*difficulty.get(k)?, *accepted.get(k)?)))
        .collect();
    let mut spreads: Vec<BlueprintSpread> = Vec::new();
    let mut index: BTreeMap<String, Option<usize>> = BTreeMap::new();
    let mut percents: Vec<Vec<f64>> = Vec::new();
    let mut persons = Vec::with_capacity(table.forms.len());
    let mut unplaced = 0;
    let mut bs = Vec::new();
    for f in &table.forms {
        let Some(bp_id) = registered.get(&f.registration_id) else {
            unplaced += 1;
            continue;
        };
        let slot = *index.entry(bp_id.clone()).or_insert_with(|| {
            let bp = blueprints.iter().find(|b| &b.id == bp_id)?;
            let (reference, target) = cut_of(bp, pool, difficulty)?;
            spreads.push(BlueprintSpread {
                blueprint: bp.id.clone(),
                name: bp.name.clone(),
                pass_percent: bp.part_one.pass_percent,
                pass_on: bp.part_one.pass_on,
                reference,
                target,
                spread: None,
                within: 0,
                partial_forms: 0,
                left_out: 0,
            });
            percents.push(Vec::new());
            Some(spreads.len() - 1)
        });
        let Some(slot) = slot else {
            unplaced += 1;
            continue;
        };
        bs.clear();
        let mut raw = 0u32;
        let mut partial = false;
        for &(i, chosen) in &f.cells {
            match items[i as usize] {
                Some((b, bits)) => {
                    bs.push(b);
                    raw += u32::from(chosen.is_some_and(|o| bits & (1 << o) != 0));
                }
                None => partial = true,
            }
        }
        let s = &mut spreads[slot];
        let theta_cut = s.target.theta_cut;
        let expected = tcc::expected_percent(theta_cut, &bs);
        match expected {
            Some(p) => {
                percents[slot].push(p);
                s.within += usize::from(s.target.within(p));
                s.partial_forms += usize::from(partial);
            }
            None => s.left_out += 1,
        }
        persons.push(PersonOnScale {
            registration_id: f.registration_id,
            blueprint: slot,
            raw,
            items: u32::try_from(bs.len()).unwrap_or(u32::MAX),
            measure: wle(raw, &bs),
            expected_percent: expected,
            se_at_cut: rasch_se(theta_cut, &bs),
        });
    }
    for (s, values) in spreads.iter_mut().zip(&percents) {
        s.spread = Spread::of(values);
    }
    SittingScale {
        blueprints: spreads,
        persons,
        unplaced,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::exam::form::{assemble, History, Parts};
    use crate::scoring::simulate::normal_difficulties;
    use crate::store::analysis::AnsweredForm;

    /// Three level III forms from the sample pool with N(0, 1) difficulties on every item: the
    /// spread is `fair::spread` of the forms at `fair::target`'s θ_cut, and each candidate's
    /// measure is Warm's estimate of their raw score on their form.
    #[test]
    fn forms_and_persons_on_a_calibrated_pool() {
        let bank = crate::bank::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank"))
            .expect("the sample bank is valid");
        let pool = Pool::from_bank(&bank);
        let d = normal_difficulties(&pool, 11);
        let bp = bank
            .blueprints
            .iter()
            .find(|b| b.id == "level-iii")
            .unwrap();
        let parts = Parts {
            one: true,
            two: false,
        };
        let forms: Vec<_> = (0..3)
            .map(|seed| assemble(bp, &pool, &History::default(), parts, seed).unwrap())
            .collect();
        // The table as `part_one_forms` reads it: scored items only, each once. Option A is
        // every item's key here; candidate k answers the first 20 + 10k items right.
        let mut table = PartOneForms::default();
        let mut difficulty = BTreeMap::new();
        let mut accepted = BTreeMap::new();
        for i in &pool.items {
            if let Some(b) = d.get(&i.id) {
                difficulty.insert((i.id.clone(), i.version), b);
                accepted.insert((i.id.clone(), i.version), 1u32);
            }
        }
        for (k, f) in forms.iter().enumerate() {
            let mut cells = Vec::new();
            for (n, e) in f.part_one.iter().filter(|e| e.scored).enumerate() {
                let key = (e.item_id.clone(), e.version);
                let at = table
                    .items
                    .iter()
                    .position(|x| *x == key)
                    .unwrap_or_else(|| {
                        table.items.push(key);
                        table.items.len() - 1
                    });
                let right = n < 20 + 10 * k;
                cells.push((at as u32, Some(if right { 0 } else { 1 })));
            }
            table.forms.push(AnsweredForm {
                registration_id: k as i64,
                cells,
            });
        }
        let registered = (0..3).map(|k| (k, "level-iii".to_string())).collect();
        let s = place(
            &table,
            &accepted,
            &difficulty,
            &bank.blueprints,
            &pool,
            &registered,
        );
        assert_eq!((s.persons.len(), s.unplaced, s.blueprints.len()), (3, 0, 1));
        let b = &s.blueprints[0];
        let target = fair::target(bp, &pool, &d).unwrap();
        assert_eq!(b.target, target);
        assert!(b.reference.pool_calibrated(), "{:?}", b.reference);
        assert!((target.percent - 80.0).abs() < 1e-6, "{target:?}");
        assert_eq!(b.spread, fair::spread(&forms, &d, &target));
        assert_eq!(b.spread.unwrap().forms, 3);
        assert_eq!(
            b.within,
            forms
                .iter()
                .filter(|f| target.within(fair::expected_percent(f, &d, target.theta_cut).unwrap()))
                .count()
        );
        for (k, p) in s.persons.iter().enumerate() {
            let bs = fair::form_difficulties(&forms[k], &d).unwrap();
            assert_eq!((p.raw, p.items), (20 + 10 * k as u32, 60));
            assert_eq!(p.measure, wle(p.raw, &bs));
            assert_eq!(p.se_at_cut, rasch_se(target.theta_cut, &bs));
            assert_eq!(s.theta_cut(p), target.theta_cut);
        }
        // Abler candidates measure higher.
        let theta = |k: usize| s.persons[k].measure.unwrap().theta;
        assert!(theta(0) < theta(1) && theta(1) < theta(2));

        // With one pool item uncalibrated, θ_cut is taken on the rest and says so; a form
        // carrying that item counts as partial.
        let gone = forms[0].part_one.iter().find(|e| e.scored).unwrap();
        difficulty.remove(&(gone.item_id.clone(), gone.version));
        let s = place(
            &table,
            &accepted,
            &difficulty,
            &bank.blueprints,
            &pool,
            &registered,
        );
        let b = &s.blueprints[0];
        assert!(
            matches!(b.reference, CutReference::PartialPool { calibrated, operational } if calibrated + 1 == operational),
            "{:?}",
            b.reference
        );
        assert!(b.partial_forms >= 1);
        assert_eq!(s.persons[0].items, 59);
    }

    #[test]
    fn forms_of_an_unknown_blueprint_are_unplaced() {
        let table = PartOneForms {
            items: vec![("A".into(), 1), ("B".into(), 1)],
            forms: vec![AnsweredForm {
                registration_id: 7,
                cells: vec![(0, Some(0)), (1, None)],
            }],
        };
        let s = place(
            &table,
            &BTreeMap::new(),
            &BTreeMap::new(),
            &[],
            &Pool::new(vec![], vec![]),
            &BTreeMap::from([(7, "nowhere".to_string())]),
        );
        assert_eq!((s.persons.len(), s.unplaced), (0, 1));
    }
}
