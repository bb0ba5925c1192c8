//! Elementary symmetric functions of one presented-item pattern at one raw score, and the
//! conditional probabilities they give.
//!
//! γᵣ(ε) over the pattern's items, εᵢ = exp(−bᵢ), is never formed directly: with a shift t chosen
//! so that the expected score Σ pᵢ is near r, pᵢ = 1/(1 + exp(bᵢ − t)), the Poisson-binomial
//! probabilities qₛ = P(score s) are built by the summation algorithm, which only adds and
//! multiplies numbers in [0, 1], and
//!
//! ```text
//! γᵣ = qᵣ · exp(−r·t) · Πᵢ (1 + exp(t − bᵢ))
//! P(xᵢ = 1 | r) = pᵢ · q⁽ⁱ⁾ᵣ₋₁ / qᵣ,     q⁽ⁱ⁾ = (pmf of the items before i) ∗ (pmf of the items after i)
//! ```
//!
//! Prefix and suffix pmfs make every leave-one-out term a short convolution of non-negative
//! numbers (no subtraction, so no cancellation in the tails), O(k·r) for the whole pattern.

/// Scratch space for one pattern and score, reused across groups.
#[derive(Debug, Default)]
pub(super) struct Workspace {
    p: Vec<f64>,
    /// The odds oᵢ = exp(t − bᵢ) of the items at the shift t.
    pub odds: Vec<f64>,
    prefix: Vec<f64>,
    suffix: Vec<f64>,
    /// P(xᵢ = 1 | r) for the pattern's items, after [`Workspace::conditional`].
    pub pi: Vec<f64>,
    q_r: f64,
    r: usize,
}

/// P(right) of a Rasch item of difficulty b at θ, without overflow.
pub(super) fn prob(theta: f64, b: f64) -> f64 {
    let z = b - theta;
    if z > 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

impl Workspace {
    /// For the items of difficulties `b` and a score 0 < r < k: fills [`Workspace::pi`] and
    /// returns ln γᵣ. `None` when r is out of range or the arithmetic leaves the finite numbers.
    pub fn conditional(&mut self, b: &[f64], r: usize) -> Option<f64> {
        let k = b.len();
        if r == 0 || r >= k {
            return None;
        }
        // One exp per item: eᵢ = exp(m − bᵢ) around the mean m, then the odds at the shift t
        // are x·eᵢ with x = exp(t − m), and p = o/(1 + o). (Kept within the finite numbers; an
        // item hundreds of logits from the others has a P of 0 or 1 either way.)
        let mean = b.iter().sum::<f64>() / k as f64;
        self.odds.clear();
        self.odds
            .extend(b.iter().map(|&bi| (mean - bi).clamp(-300.0, 300.0).exp()));
        let t = shift(&self.odds, mean, r);
        let x = (t - mean).clamp(-300.0, 300.0).exp();
        for o in self.odds.iter_mut() {
            *o *= x;
        }
        self.p.clear();
        self.p.extend(self.odds.iter().map(|&o| o / (1.0 + o)));
        let w = r + 1;
        // prefix row j: pmf of items 0..j, entries 0..=r.
        self.prefix.clear();
        self.prefix.resize((k + 1) * w, 0.0);
        self.prefix[0] = 1.0;
        for j in 0..k {
            let (done, rest) = self.prefix.split_at_mut((j + 1) * w);
            let prev = &done[j * w..];
            let next = &mut rest[..w];
            let p = self.p[j];
            let q = 1.0 - p;
            let top = (j + 1).min(r);
            next[0] = prev[0] * q;
            for s in 1..=top {
                next[s] = prev[s] * q + prev[s - 1] * p;
            }
        }
        // suffix row j: pmf of items j..k, entries 0..=r.
        self.suffix.clear();
        self.suffix.resize((k + 1) * w, 0.0);
        self.suffix[k * w] = 1.0;
        for j in (0..k).rev() {
            let (head, tail) = self.suffix.split_at_mut((j + 1) * w);
            let next = &mut head[j * w..];
            let prev = &tail[..w];
            let p = self.p[j];
            let q = 1.0 - p;
            let top = (k - j).min(r);
            next[0] = prev[0] * q;
            for s in 1..=top {
                next[s] = prev[s] * q + prev[s - 1] * p;
            }
        }
        let q_r = self.prefix[k * w + r];
        if !(q_r > 0.0 && q_r.is_finite()) {
            return None;
        }
        self.pi.clear();
        for i in 0..k {
            // q⁽ⁱ⁾ᵣ₋₁ = Σₛ prefixᵢ[s]·suffixᵢ₊₁[r − 1 − s], over the s where both can be
            // non-zero: s ≤ i items before i, r − 1 − s ≤ k − 1 − i after it.
            let lo = (r + i).saturating_sub(k);
            let hi = i.min(r - 1);
            let left = &self.prefix[i * w..i * w + r];
            let right = &self.suffix[(i + 1) * w..(i + 1) * w + r];
            let q_without: f64 = if lo <= hi {
                left[lo..=hi]
                    .iter()
                    .zip(right[r - 1 - hi..=r - 1 - lo].iter().rev())
                    .map(|(a, c)| a * c)
                    .sum()
            } else {
                0.0
            };
            self.pi.push(self.p[i] * q_without / q_r);
        }
        self.q_r = q_r;
        self.r = r;
        let log_gamma = q_r.ln() - r as f64 * t + self.odds.iter().map(|o| o.ln_1p()).sum::<f64>();
        log_gamma.is_finite().then_some(log_gamma)
    }

    /// P(xᵢ = 1, xⱼ = 1 | r) for i ≠ j, after [`Workspace::conditional`] on the same items.
    /// With the odds oᵢ = exp(t − bᵢ), γ⁽ⁱ⁾ᵣ₋₁ − γ⁽ʲ⁾ᵣ₋₁ = (εⱼ − εᵢ)·γ⁽ⁱʲ⁾ᵣ₋₂ gives
    /// (oⱼπᵢ − oᵢπⱼ)/(oⱼ − oᵢ); items of nearly equal difficulty, where that cancels, get
    /// q⁽ⁱʲ⁾ᵣ₋₂ summed directly (in `scratch`).
    #[inline]
    pub fn joint(&self, i: usize, j: usize, scratch: &mut Vec<f64>) -> f64 {
        let (oi, oj) = (self.odds[i], self.odds[j]);
        let gap = oj - oi;
        if gap.abs() > 1e-4 * oi.max(oj) {
            ((oj * self.pi[i] - oi * self.pi[j]) / gap).max(0.0)
        } else {
            self.joint_direct(i, j, scratch)
        }
    }

    fn joint_direct(&self, i: usize, j: usize, pair: &mut Vec<f64>) -> f64 {
        let r = self.r;
        if r < 2 {
            return 0.0;
        }
        // pmf of every item but i and j, entries 0..=r − 2.
        let top = r - 2;
        pair.clear();
        pair.resize(top + 1, 0.0);
        pair[0] = 1.0;
        let mut len = 0usize;
        for (m, &p) in self.p.iter().enumerate() {
            if m == i || m == j {
                continue;
            }
            len += 1;
            let q = 1.0 - p;
            for s in (1..=len.min(top)).rev() {
                pair[s] = pair[s] * q + pair[s - 1] * p;
            }
            pair[0] *= q;
        }
        self.p[i] * self.p[j] * pair[top] / self.q_r
    }
}

/// The θ at which the expected score on the items is about r (0 < r < k), the items given as
/// eᵢ = exp(m − bᵢ): a few Newton steps from m + logit(r/k), enough to keep qᵣ near the mode
/// of the score distribution. One exp per step.
fn shift(e: &[f64], mean: f64, r: usize) -> f64 {
    let k = e.len() as f64;
    let r = r as f64;
    let mut t = mean + (r / (k - r)).ln();
    for _ in 0..4 {
        let x = (t - mean).clamp(-300.0, 300.0).exp();
        let (mut expected, mut v) = (0.0, 0.0);
        for &ei in e {
            let o = x * ei;
            let p = o / (1.0 + o);
            expected += p;
            v += p * (1.0 - p);
        }
        if v.is_nan() || v <= 1e-12 {
            break;
        }
        let step = ((r - expected) / v).clamp(-5.0, 5.0);
        t += step;
        if step.abs() < 1e-3 {
            break;
        }
    }
    if t.is_finite() {
        t
    } else {
        mean
    }
}
