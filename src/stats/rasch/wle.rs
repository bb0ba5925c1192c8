//! Person measures on a form of known difficulties.
//!
//! Warm's (1989) weighted likelihood estimate solves
//!
//! ```text
//! r − Σᵢ Pᵢ(θ) + J(θ)/(2·I(θ)) = 0,   I = Σ Pᵢ(1 − Pᵢ),   J = Σ Pᵢ(1 − Pᵢ)(1 − 2Pᵢ)
//! ```
//!
//! whose left side falls from r + ½ (θ → −∞) to r − k − ½ (θ → +∞), so it has a finite root
//! for every r from 0 to k. Its standard error is 1/√I(θ̂). The maximum-likelihood measure
//! solves r − Σ Pᵢ(θ) = 0 and exists for 0 < r < k only.

use std::collections::HashMap;

use serde::Serialize;

use super::{Form, PersonMeasure, RaschResponses, NOT_PRESENTED};

/// A measure and its standard error, in logits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    pub raw: u32,
    pub theta: f64,
    pub se: f64,
}

/// A form's items, held as exp(bᵢ − m) around their mean m so that each P(θ) costs a division.
struct Items {
    mean: f64,
    scaled: Vec<f64>,
}

impl Items {
    fn new(b: &[f64]) -> Option<Self> {
        if b.is_empty() || b.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mean = b.iter().sum::<f64>() / b.len() as f64;
        let scaled: Vec<f64> = b.iter().map(|&x| (x - mean).exp()).collect();
        scaled
            .iter()
            .all(|&e| e > 0.0 && e.is_finite())
            .then_some(Self { mean, scaled })
    }

    /// (Σ P, I = Σ P(1−P), J = Σ P(1−P)(1−2P), J' = Σ P(1−P)(1 − 6P + 6P²)) at θ.
    fn moments(&self, theta: f64) -> (f64, f64, f64, f64) {
        let x = (theta - self.mean).clamp(-700.0, 700.0).exp();
        let (mut e, mut i, mut j, mut dj) = (0.0, 0.0, 0.0, 0.0);
        for &s in &self.scaled {
            let p = x / (x + s);
            let v = p * (1.0 - p);
            e += p;
            i += v;
            j += v * (1.0 - 2.0 * p);
            dj += v * (1.0 - 6.0 * p + 6.0 * p * p);
        }
        (e, i, j, dj)
    }

    fn len(&self) -> usize {
        self.scaled.len()
    }

    /// Warm's estimate of `raw`.
    fn wle(&self, raw: u32) -> Option<Measure> {
        let k = self.len();
        if raw as usize > k {
            return None;
        }
        let r = f64::from(raw);
        let f = |theta: f64| {
            let (e, i, j, di) = self.moments(theta);
            // d/dθ of J/(2I) = (J'·I − J·I')/(2I²), with I' = J.
            (r - e + j / (2.0 * i), -i + (di * i - j * j) / (2.0 * i * i))
        };
        // The WLE when every item has the mean difficulty: a close first guess.
        let guess = self.mean + ((r + 0.5) / (k as f64 - r + 0.5)).ln();
        self.finish(raw, root(f, guess)?)
    }

    /// The maximum-likelihood measure of 0 < raw < k.
    fn ml(&self, raw: u32) -> Option<Measure> {
        let k = self.len();
        if raw == 0 || raw as usize >= k {
            return None;
        }
        let r = f64::from(raw);
        let f = |theta: f64| {
            let (e, i, _, _) = self.moments(theta);
            (r - e, -i)
        };
        let guess = self.mean + (r / (k as f64 - r)).ln();
        self.finish(raw, root(f, guess)?)
    }

    fn finish(&self, raw: u32, theta: f64) -> Option<Measure> {
        let (_, info, _, _) = self.moments(theta);
        let se = 1.0 / info.sqrt();
        (theta.is_finite() && info > 0.0 && se.is_finite()).then_some(Measure { raw, theta, se })
    }
}

/// Warm's estimate of raw score `raw` on items of difficulties `b`, with its standard error
/// 1/√I(θ̂). `None` without items, with a raw score above k, a difficulty not finite, or
/// difficulties so far apart (hundreds of logits) that the arithmetic fails.
pub fn wle(raw: u32, b: &[f64]) -> Option<Measure> {
    Items::new(b)?.wle(raw)
}

/// The maximum-likelihood measure of a raw score 0 < raw < k, with 1/√I as its error.
pub fn ml_measure(raw: u32, b: &[f64]) -> Option<Measure> {
    Items::new(b)?.ml(raw)
}

/// The root of a function falling from positive to negative, from a first guess: Newton steps
/// of at most 2 logits, kept inside the bracket the signs seen so far give, bisecting when a
/// step would leave it. `f` gives (value, slope).
fn root(f: impl Fn(f64) -> (f64, f64), guess: f64) -> Option<f64> {
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut theta = guess;
    for _ in 0..300 {
        let (value, slope) = f(theta);
        if !value.is_finite() {
            return None;
        }
        if value == 0.0 {
            return Some(theta);
        }
        if value > 0.0 {
            lo = theta;
        } else {
            hi = theta;
        }
        let newton = theta - (value / slope).clamp(-2.0, 2.0);
        let next = if slope < 0.0 && newton > lo && newton < hi {
            newton
        } else if lo.is_finite() && hi.is_finite() {
            0.5 * (lo + hi)
        } else if lo.is_finite() {
            lo + 2.0
        } else {
            hi - 2.0
        };
        if (next - theta).abs() < 1e-12 * (1.0 + theta.abs()) {
            return Some(next);
        }
        theta = next;
    }
    None
}

/// Every distinct set of presented calibrated items with its score table, and every person's
/// form, raw score and WLE.
pub(super) fn forms_and_persons(
    data: &RaschResponses,
    difficulty: &[Option<f64>],
    included: &[bool],
) -> (Vec<Form>, Vec<PersonMeasure>) {
    let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut forms: Vec<Form> = Vec::new();
    let mut persons = Vec::with_capacity(data.persons());
    let mut items = Vec::new();
    for (v, &estimated) in included.iter().enumerate() {
        items.clear();
        let mut raw = 0u32;
        for (i, &x) in data.row(v).iter().enumerate() {
            if x != NOT_PRESENTED && difficulty[i].is_some() {
                items.push(i);
                raw += u32::from(x);
            }
        }
        let form = match index.get(&items) {
            Some(&f) => f,
            None => {
                let b: Vec<f64> = items.iter().filter_map(|&i| difficulty[i]).collect();
                let model = Items::new(&b);
                // A form whose table cannot be computed (difficulties hundreds of logits apart) gets
                // none, and its persons no measure.
                let scores = (0..=items.len() as u32)
                    .map(|r| model.as_ref().and_then(|m| m.wle(r)))
                    .collect::<Option<Vec<_>>>()
                    .unwrap_or_default();
                index.insert(items.clone(), forms.len());
                forms.push(Form {
                    items: items.clone(),
                    persons: 0,
                    scores,
                });
                forms.len() - 1
            }
        };
        forms[form].persons += 1;
        let measure = forms[form].scores.get(raw as usize);
        persons.push(PersonMeasure {
            form,
            raw,
            wle: measure.map(|m| m.theta),
            wle_se: measure.map(|m| m.se),
            estimated,
        });
    }
    (forms, persons)
}
