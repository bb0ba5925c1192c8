//! Rudner (2001), "Computing the expected proportions of misclassified examinees", Practical
//! Assessment, Research & Evaluation 7(14); Rudner (2005), "Expected classification
//! accuracy", PARE 10(13). The consistency on the same model is the one of Lathrop's R
//! package `cacIRT` (`class.Rud`, `Rud.P`).

use serde::Serialize;

use super::{kappa, normal_cdf, PassFail};
use crate::stats::{finite, ratio};

/// A person's measure on the θ scale and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    pub theta: f64,
    pub se: f64,
}

/// Rudner's expected classification accuracy and consistency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rudner {
    /// Persons used: a finite measure and a finite, positive standard error.
    pub persons: u64,
    /// Persons left out for want of one.
    pub left_out: u64,
    /// Mean over persons of the probability that an observed measure falls on the same side of
    /// the cut as the measure taken as true.
    pub accuracy: f64,
    /// Mean over persons of P² + (1 − P)², P their probability of passing.
    pub consistency: f64,
    pub kappa: Option<f64>,
    /// Rows the classification of the measure taken as true, columns the expected observed one.
    pub accuracy_table: PassFail,
}

/// Rudner's indices at `cut` on the θ scale: each person's observed measure is taken as normal
/// around their estimate θ̂ with their standard error, so P(pass) = Φ((θ̂ − cut)/SE); a person
/// with θ̂ ≥ cut is a true pass. `None` when no person has a usable measure or the cut is not
/// finite.
pub fn rudner(measures: &[Measure], cut: f64) -> Option<Rudner> {
    let cut = finite(cut)?;
    let (mut persons, mut left_out) = (0u64, 0u64);
    let mut table = [0.0f64; 4];
    let mut agree = 0.0;
    for m in measures {
        if !(m.theta.is_finite() && m.se.is_finite() && m.se > 0.0) {
            left_out += 1;
            continue;
        }
        persons += 1;
        let z = (m.theta - cut) / m.se;
        let (pass, fail) = (normal_cdf(z), normal_cdf(-z));
        let row = if m.theta >= cut { 0 } else { 2 };
        table[row] += pass;
        table[row + 1] += fail;
        agree += pass * pass + fail * fail;
    }
    let n = persons as f64;
    let accuracy_table = PassFail {
        pass_pass: ratio(table[0], n)?,
        pass_fail: ratio(table[1], n)?,
        fail_pass: ratio(table[2], n)?,
        fail_fail: ratio(table[3], n)?,
    };
    let consistency = ratio(agree, n)?.clamp(0.0, 1.0);
    let pass = accuracy_table.pass_pass + accuracy_table.fail_pass;
    let chance = pass * pass + (1.0 - pass) * (1.0 - pass);
    Some(Rudner {
        persons,
        left_out,
        accuracy: accuracy_table.agreement().clamp(0.0, 1.0),
        consistency,
        kappa: kappa(consistency, chance),
        accuracy_table,
    })
}
