//! Integrals of a beta density times a smooth function, for Livingston & Lewis: adaptive
//! Gauss-Kronrod (7 and 15 points, QUADPACK's QK15 rule) with the interval of largest error
//! bisected first, as QUADPACK's QAG does. Where the density is infinite at an end (a shape
//! parameter below 1), the singular part is integrated exactly by the incomplete beta function.

use crate::stats::dist::{self, ln_gamma};

// QUADPACK qk15: Kronrod nodes (the odd ones are the Gauss nodes) and weights.
#[allow(clippy::excessive_precision)]
const XGK: [f64; 8] = [
    0.991455371120812639206854697526329,
    0.949107912342758524526189684047851,
    0.864864423359769072789712788640926,
    0.741531185599394439863864773280788,
    0.586087235467691130294144845693013,
    0.405845151377397166906606412076961,
    0.207784955007898467600689403773245,
    0.0,
];
#[allow(clippy::excessive_precision)]
const WGK: [f64; 8] = [
    0.022935322010529224963732008058970,
    0.063092092629978553290700663189204,
    0.104790010322250183839876322541518,
    0.140653259715525918745189590510238,
    0.169004726639267902826583426598550,
    0.190350578064785409913256402421014,
    0.204432940075298892414161999234649,
    0.209482141084727828012999174891714,
];
#[allow(clippy::excessive_precision)]
const WG: [f64; 4] = [
    0.129484966168869693270611432679082,
    0.279705391489276667901467771423780,
    0.381830050505118944950369775488975,
    0.417959183673469387755102040816327,
];

/// The target absolute error of one integral (the integrals are probabilities).
const TOLERANCE: f64 = 1e-14;
/// The most subintervals one integral may use.
const MAX_INTERVALS: usize = 400;

/// (Kronrod estimate, |Kronrod − Gauss|) of ∫ f over [a, b].
fn kronrod(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let fc = f(centre);
    let mut k = fc * WGK[7];
    let mut g = fc * WG[3];
    for j in 0..7 {
        let dx = half * XGK[j];
        let pair = f(centre - dx) + f(centre + dx);
        k += WGK[j] * pair;
        if j % 2 == 1 {
            g += WG[j / 2] * pair;
        }
    }
    (k * half, ((k - g) * half).abs())
}

/// ∫ f over [a, b] to about `TOLERANCE`, or the best estimate after `MAX_INTERVALS`.
pub(super) fn integrate(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    if a >= b || a.is_nan() || b.is_nan() {
        return 0.0;
    }
    let (k, e) = kronrod(f, a, b);
    let mut parts = vec![(a, b, k, e)];
    while parts.len() < MAX_INTERVALS {
        let error: f64 = parts.iter().map(|p| p.3).sum();
        if error <= TOLERANCE || !error.is_finite() {
            break;
        }
        let worst = (0..parts.len())
            .max_by(|&i, &j| parts[i].3.total_cmp(&parts[j].3))
            .unwrap_or(0);
        let (a, b, _, _) = parts[worst];
        let mid = 0.5 * (a + b);
        if !(a < mid && mid < b) {
            break;
        }
        let (k1, e1) = kronrod(f, a, mid);
        let (k2, e2) = kronrod(f, mid, b);
        parts[worst] = (a, mid, k1, e1);
        parts.push((mid, b, k2, e2));
    }
    parts.iter().map(|p| p.2).sum()
}

/// x·ln y with 0·ln 0 = 0.
fn xlny(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x * y.ln()
    }
}

/// The beta(a, b) distribution on [0, 1].
#[derive(Debug, Clone, Copy)]
pub(super) struct Beta {
    a: f64,
    b: f64,
    ln_norm: f64,
}

impl Beta {
    pub(super) fn new(a: f64, b: f64) -> Self {
        Self {
            a,
            b,
            ln_norm: ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b),
        }
    }

    /// ∫ over [lo, hi] ⊂ [0, 1] of the density times h, the range cut at `splits` (where h
    /// changes fast) and at ½, so no piece touches both ends.
    pub(super) fn integrate(
        &self,
        h: &dyn Fn(f64) -> f64,
        lo: f64,
        hi: f64,
        splits: &[f64],
    ) -> f64 {
        let (lo, hi) = (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0));
        if lo >= hi || lo.is_nan() || hi.is_nan() {
            return 0.0;
        }
        let mut points = vec![lo, hi, 0.5];
        points.extend(splits.iter().filter(|s| s.is_finite()));
        points.retain(|&p| lo <= p && p <= hi);
        points.sort_by(f64::total_cmp);
        points.dedup();
        points.windows(2).map(|w| self.piece(h, w[0], w[1])).sum()
    }

    /// The density at y (with 0·ln 0 = 0 where a shape is 1).
    fn density(&self, y: f64) -> f64 {
        (self.ln_norm + xlny(self.a - 1.0, y) + xlny(self.b - 1.0, 1.0 - y)).exp()
    }

    fn piece(&self, h: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
        // Where the density is infinite at an end, h's value there times the mass of the piece
        // (an incomplete beta function) takes it whole, and the rest, density × (h − h(end)),
        // is bounded: h is smooth, so h − h(end) vanishes like the distance to the end.
        let end = if lo == 0.0 && self.a < 1.0 {
            Some((0.0, dist::beta_inc(self.a, self.b, hi)))
        } else if hi == 1.0 && self.b < 1.0 {
            Some((1.0, dist::beta_inc(self.b, self.a, 1.0 - lo)))
        } else {
            None
        };
        match end {
            Some((y_end, mass)) => {
                let at_end = h(y_end);
                let rest = |y: f64| self.density(y) * (h(y) - at_end);
                at_end * mass + integrate(&rest, lo, hi)
            }
            None => integrate(&|y: f64| self.density(y) * h(y), lo, hi),
        }
    }
}
