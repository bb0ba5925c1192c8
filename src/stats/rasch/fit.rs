//! Infit and outfit, as eRm's `itemfit` computes them (Wright & Masters 1982): with the
//! maximum-likelihood measure θᵥ of every person with a score between 0 and their form's
//! maximum (persons with extreme scores are left out), Pᵥᵢ = P(x = 1 | θᵥ, bᵢ),
//! Vᵥᵢ = Pᵥᵢ(1 − Pᵥᵢ), Cᵥᵢ = Pᵥᵢ⁴(1 − Pᵥᵢ) + (1 − Pᵥᵢ)⁴Pᵥᵢ, over the n persons presented item i:
//!
//! ```text
//! outfit = Σ (x − P)²/V / n            q²_out = Σ C/V² / n² − 1/n
//! infit  = Σ (x − P)² / Σ V            q²_in  = Σ (C − V²) / (Σ V)²
//! z = (MSQ^⅓ − 1)·3/q + q/3            (Wilson-Hilferty)
//! ```

use serde::Serialize;

use super::esf::prob;
use super::wle::ml_measure;
use super::{Form, PersonMeasure, RaschResponses, NOT_PRESENTED};

/// An item's fit statistics. A z is `None` when its q is zero or not finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemFit {
    /// Persons whose responses entered (presented, with a non-extreme score).
    pub n: u64,
    pub outfit: f64,
    pub infit: f64,
    pub outfit_z: Option<f64>,
    pub infit_z: Option<f64>,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    n: f64,
    sq_over_v: f64,
    sq: f64,
    v: f64,
    c_over_v2: f64,
    c_minus_v2: f64,
}

pub(super) fn item_fit(
    data: &RaschResponses,
    difficulty: &[Option<f64>],
    forms: &[Form],
    persons: &[PersonMeasure],
) -> Vec<Option<ItemFit>> {
    let n = data.n_items;
    // ML measures by form and raw score, each computed once, when a person needs it.
    let mut ml: Vec<Vec<Option<Option<f64>>>> = forms
        .iter()
        .map(|f| vec![None; f.items.len() + 1])
        .collect();
    let mut sums = vec![Sums::default(); n];
    for (v, person) in persons.iter().enumerate() {
        let Some(slot) = ml[person.form].get_mut(person.raw as usize) else {
            continue;
        };
        let theta = *slot.get_or_insert_with(|| {
            let b: Vec<f64> = forms[person.form]
                .items
                .iter()
                .filter_map(|&i| difficulty[i])
                .collect();
            ml_measure(person.raw, &b).map(|m| m.theta)
        });
        let Some(theta) = theta else { continue };
        for (i, &x) in data.row(v).iter().enumerate() {
            let Some(b) = difficulty[i] else { continue };
            if x == NOT_PRESENTED {
                continue;
            }
            let p = prob(theta, b);
            let var = p * (1.0 - p);
            if var.is_nan() || var <= 0.0 {
                continue;
            }
            let resid = f64::from(x) - p;
            let kurt = p.powi(4) * (1.0 - p) + (1.0 - p).powi(4) * p;
            let s = &mut sums[i];
            s.n += 1.0;
            s.sq_over_v += resid * resid / var;
            s.sq += resid * resid;
            s.v += var;
            s.c_over_v2 += kurt / (var * var);
            s.c_minus_v2 += kurt - var * var;
        }
    }
    sums.iter()
        .zip(difficulty)
        .map(|(s, d)| {
            d.as_ref()?;
            if s.n == 0.0 || s.v.is_nan() || s.v <= 0.0 {
                return None;
            }
            let outfit = s.sq_over_v / s.n;
            let infit = s.sq / s.v;
            let q_out = (s.c_over_v2 / (s.n * s.n) - 1.0 / s.n).sqrt();
            let q_in = (s.c_minus_v2 / (s.v * s.v)).sqrt();
            if !(outfit.is_finite() && infit.is_finite()) {
                return None;
            }
            Some(ItemFit {
                n: s.n as u64,
                outfit,
                infit,
                outfit_z: standardise(outfit, q_out),
                infit_z: standardise(infit, q_in),
            })
        })
        .collect()
}

/// Wilson-Hilferty: (MSQ^⅓ − 1)·3/q + q/3.
fn standardise(msq: f64, q: f64) -> Option<f64> {
    if q.is_nan() || q <= 0.0 {
        return None;
    }
    super::super::finite((msq.cbrt() - 1.0) * 3.0 / q + q / 3.0)
}
