//! Two readings of the same responses on one scale, as a confusion matrix, and what follows from
//! it: exact and adjacent agreement, Cohen's kappa (unweighted, linear and quadratic weights),
//! the unweighted kappa's asymptotic standard error and 95% interval, ICC(2,1) and ICC(3,1).
//! Also Fleiss' kappa for any number of ratings per response.

use serde::Serialize;

use super::icc::{Anova, Icc};
use super::{finite, ratio, Scale};

/// Counts of (first reading, second reading) pairs over the scale's categories, all kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    scale: Scale,
    /// Row-major: `counts[first * points + second]`.
    counts: Vec<u64>,
}

/// The weights of a weighted kappa: 1 − |i − j|/(K − 1) or 1 − (i − j)²/(K − 1)².
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    Linear,
    Quadratic,
}

/// Everything about two readings that the reports show. `None` where undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairStats {
    pub pairs: u64,
    pub exact: Option<f64>,
    pub adjacent: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_se: Option<f64>,
    /// κ − 1.96·SE and κ + 1.96·SE.
    pub kappa_low: Option<f64>,
    pub kappa_high: Option<f64>,
    pub kappa_linear: Option<f64>,
    pub kappa_quadratic: Option<f64>,
    pub icc_2_1: Option<f64>,
    pub icc_3_1: Option<f64>,
    /// Rows the first reading, columns the second, from the lowest score up.
    pub confusion: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(scale: Scale) -> Self {
        let k = scale.points();
        Self {
            scale,
            counts: vec![0; k * k],
        }
    }

    /// From a table whose rows are the first reading and columns the second, from `min` up.
    /// `None` unless the table is points × points.
    pub fn from_rows<R: AsRef<[u64]>>(scale: Scale, rows: &[R]) -> Option<Self> {
        let k = scale.points();
        if rows.len() != k || rows.iter().any(|r| r.as_ref().len() != k) {
            return None;
        }
        Some(Self {
            scale,
            counts: rows.iter().flat_map(|r| r.as_ref()).copied().collect(),
        })
    }

    /// Counts one pair of scores; false (and nothing counted) if either is off the scale.
    pub fn add(&mut self, first: i64, second: i64) -> bool {
        match (self.scale.index(first), self.scale.index(second)) {
            (Some(i), Some(j)) => {
                self.add_index(i, j);
                true
            }
            _ => false,
        }
    }

    /// Counts one pair of categories, both known to be on the scale.
    pub(crate) fn add_index(&mut self, first: usize, second: usize) {
        let k = self.scale.points();
        if let Some(c) = self.counts.get_mut(first * k + second) {
            *c = c.saturating_add(1);
        }
    }

    pub fn scale(&self) -> Scale {
        self.scale
    }

    pub fn pairs(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// The table, rows the first reading.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.scale.points())
            .map(<[u64]>::to_vec)
            .collect()
    }

    fn cell(&self, i: usize, j: usize) -> f64 {
        self.counts[i * self.scale.points() + j] as f64
    }

    /// (n, row totals, column totals) as f64.
    fn margins(&self) -> (f64, Vec<f64>, Vec<f64>) {
        let k = self.scale.points();
        let mut rows = vec![0.0; k];
        let mut cols = vec![0.0; k];
        for (row, counts) in rows.iter_mut().zip(self.counts.chunks(k)) {
            for (col, &c) in cols.iter_mut().zip(counts) {
                *row += c as f64;
                *col += c as f64;
            }
        }
        (rows.iter().sum(), rows, cols)
    }

    /// Share of pairs with |first − second| ≤ `within`.
    fn agreement_within(&self, within: usize) -> Option<f64> {
        let k = self.scale.points();
        let (mut agree, mut n) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let c = self.cell(i, j);
                n += c;
                if i.abs_diff(j) <= within {
                    agree += c;
                }
            }
        }
        ratio(agree, n)
    }

    /// Share of pairs with the same score.
    pub fn exact(&self) -> Option<f64> {
        self.agreement_within(0)
    }

    /// Share of pairs at most one point apart (exact agreement included).
    pub fn adjacent(&self) -> Option<f64> {
        self.agreement_within(1)
    }

    /// κ = (pₒ − pₑ)/(1 − pₑ) with agreement weights W/W_max; in counts,
    /// (n·ΣWᵢⱼcᵢⱼ − ΣWᵢⱼrᵢcⱼ) / (n²·W_max − ΣWᵢⱼrᵢcⱼ), exact for whole counts below 2⁵³.
    fn kappa_with(&self, weight: impl Fn(usize, usize) -> f64, w_max: f64) -> Option<f64> {
        let (n, rows, cols) = self.margins();
        let (mut observed, mut expected) = (0.0, 0.0);
        for (i, &row) in rows.iter().enumerate() {
            for (j, &col) in cols.iter().enumerate() {
                let w = weight(i, j);
                if w != 0.0 {
                    observed += w * self.cell(i, j);
                    expected += w * row * col;
                }
            }
        }
        ratio(n * observed - expected, n * n * w_max - expected)
    }

    /// Cohen's (1960) unweighted kappa.
    pub fn kappa(&self) -> Option<f64> {
        self.kappa_with(|i, j| if i == j { 1.0 } else { 0.0 }, 1.0)
    }

    /// Cohen's (1968) weighted kappa; `None` on a one-point scale.
    pub fn kappa_weighted(&self, weights: Weights) -> Option<f64> {
        let span = (self.scale.points() - 1) as f64;
        match weights {
            Weights::Linear => self.kappa_with(|i, j| span - i.abs_diff(j) as f64, span),
            Weights::Quadratic => {
                let sq = |d: usize| (d * d) as f64;
                self.kappa_with(|i, j| span * span - sq(i.abs_diff(j)), span * span)
            }
        }
    }

    /// The asymptotic standard error of the unweighted kappa (Fleiss, Cohen & Everitt 1969):
    /// √{[Σᵢ pᵢᵢ(1 − (pᵢ. + p.ᵢ)(1 − κ))² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ(p.ᵢ + pⱼ.)² − (κ − pₑ(1 − κ))²]
    /// / (n(1 − pₑ)²)}.
    pub fn kappa_se(&self) -> Option<f64> {
        let kappa = self.kappa()?;
        let k = self.scale.points();
        let (n, rows, cols) = self.margins();
        let row_p: Vec<f64> = rows.iter().map(|r| r / n).collect();
        let col_p: Vec<f64> = cols.iter().map(|c| c / n).collect();
        let pe: f64 = (0..k).map(|i| row_p[i] * col_p[i]).sum();
        let (mut diagonal, mut off) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let p = self.cell(i, j) / n;
                if i == j {
                    let t = 1.0 - (row_p[i] + col_p[i]) * (1.0 - kappa);
                    diagonal += p * t * t;
                } else {
                    let t = col_p[i] + row_p[j];
                    off += p * t * t;
                }
            }
        }
        let last = kappa - pe * (1.0 - kappa);
        let var = (diagonal + (1.0 - kappa) * (1.0 - kappa) * off - last * last)
            / (n * (1.0 - pe) * (1.0 - pe));
        // Perfect agreement has variance 0; rounding may leave −1e-17.
        finite(var.max(0.0).sqrt())
    }

    /// ICC(2,1) and ICC(3,1) with the two readings as the judges. Scores enter as their
    /// category index (the ICCs do not change under a shift), so every sum is a whole number.
    pub fn icc(&self) -> Icc {
        let k = self.scale.points();
        let (mut n, mut total, mut sq, mut row_sq, mut first, mut second) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let c = self.cell(i, j);
                if c == 0.0 {
                    continue;
                }
                let (a, b) = (i as f64, j as f64);
                n += c;
                total += c * (a + b);
                sq += c * (a * a + b * b);
                row_sq += c * (a + b) * (a + b);
                first += c * a;
                second += c * b;
            }
        }
        // Each sum of squares times N = 2n, whole numbers: N·Σx² − T², n·Σrow² − T²,
        // 2(C₁² + C₂²) − T².
        let t2 = total * total;
        let ss_total = 2.0 * n * sq - t2;
        let ss_rows = n * row_sq - t2;
        let ss_cols = 2.0 * (first * first + second * second) - t2;
        Anova {
            n,
            k: 2.0,
            ss_rows,
            ss_cols,
            ss_error: ss_total - ss_rows - ss_cols,
        }
        .icc()
    }

    pub fn stats(&self) -> PairStats {
        let kappa = self.kappa();
        let kappa_se = self.kappa_se();
        let interval = |sign: f64| match (kappa, kappa_se) {
            (Some(k), Some(se)) => finite(k + sign * 1.96 * se),
            _ => None,
        };
        let icc = self.icc();
        PairStats {
            pairs: self.pairs(),
            exact: self.exact(),
            adjacent: self.adjacent(),
            kappa,
            kappa_se,
            kappa_low: interval(-1.0),
            kappa_high: interval(1.0),
            kappa_linear: self.kappa_weighted(Weights::Linear),
            kappa_quadratic: self.kappa_weighted(Weights::Quadratic),
            icc_2_1: icc.icc_2_1,
            icc_3_1: icc.icc_3_1,
            confusion: self.rows(),
        }
    }
}

/// Fleiss' (1971) kappa, accumulated one response (subject) at a time from its category counts.
#[derive(Debug, Clone)]
pub(crate) struct Fleiss {
    subjects: f64,
    /// The number of ratings every subject so far has; `None` before the first.
    raters: Option<u64>,
    uneven: bool,
    /// Σᵢ Σⱼ nᵢⱼ².
    squares: f64,
    totals: Vec<f64>,
}

impl Fleiss {
    pub(crate) fn new(categories: usize) -> Self {
        Self {
            subjects: 0.0,
            raters: None,
            uneven: false,
            squares: 0.0,
            totals: vec![0.0; categories],
        }
    }

    /// One subject: its (category, count) pairs, categories below `categories`.
    pub(crate) fn add(&mut self, counts: &[(usize, u64)]) {
        let m = counts.iter().fold(0u64, |a, &(_, c)| a.saturating_add(c));
        match self.raters {
            None => self.raters = Some(m),
            Some(r) if r != m => self.uneven = true,
            Some(_) => {}
        }
        self.subjects += 1.0;
        for &(j, c) in counts {
            let c = c as f64;
            self.squares += c * c;
            if let Some(t) = self.totals.get_mut(j) {
                *t += c;
            }
        }
    }

    /// P̄ = (ΣΣnᵢⱼ² − Nm)/(Nm(m − 1)), P̄ₑ = Σⱼ(Cⱼ/(Nm))², κ = (P̄ − P̄ₑ)/(1 − P̄ₑ). `None`
    /// without subjects, with subjects of different sizes, fewer than 2 ratings, or P̄ₑ = 1.
    pub(crate) fn kappa(&self) -> Option<f64> {
        let m = self.raters? as f64;
        if self.uneven || m < 2.0 {
            return None;
        }
        let nm = self.subjects * m;
        let p_bar = (self.squares - nm) / (nm * (m - 1.0));
        let pe: f64 = self.totals.iter().map(|c| (c / nm) * (c / nm)).sum();
        ratio(p_bar - pe, 1.0 - pe)
    }
}

/// Fleiss' kappa of a table whose rows are subjects and columns the number of raters choosing
/// each category. `None` unless every row has the same length and the same total (≥ 2).
pub fn fleiss_kappa<R: AsRef<[u64]>>(rows: &[R]) -> Option<f64> {
    let categories = rows.first()?.as_ref().len();
    let mut f = Fleiss::new(categories);
    let mut sparse = Vec::with_capacity(categories);
    for row in rows {
        let row = row.as_ref();
        if row.len() != categories {
            return None;
        }
        sparse.clear();
        sparse.extend(row.iter().copied().enumerate().filter(|&(_, c)| c > 0));
        f.add(&sparse);
    }
    f.kappa()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: Option<f64>, expected: f64, tol: f64) {
        let a = actual.expect("defined");
        assert!((a - expected).abs() <= tol, "{a} vs {expected}");
    }

    /// The 50-response yes/no example of the worked examples (both yes 20, A yes B no 5, A no B
    /// yes 10, both no 15): pₒ = 0.70, pₑ = 0.50, κ = 0.4 exactly; asymptotic SE (Fleiss, Cohen &
    /// Everitt 1969, "Large sample standard errors of kappa and weighted kappa", Psychological
    /// Bulletin 72(5)) 0.12699606293110033, as scikit-learn and statsmodels compute it.
    #[test]
    fn cohens_kappa_two_categories() {
        let m = Confusion::from_rows(Scale::new(0, 1).unwrap(), &[[15, 10], [5, 20]]).unwrap();
        assert_eq!(m.kappa(), Some(0.4));
        close(m.exact(), 0.7, 1e-15);
        close(m.kappa_se(), 0.12699606293110033, 1e-12);
        let s = m.stats();
        close(s.kappa_low, 0.4 - 1.96 * 0.12699606293110033, 1e-12);
        close(s.kappa_high, 0.4 + 1.96 * 0.12699606293110033, 1e-12);
        assert_eq!(s.adjacent, Some(1.0));
        // On two points every weighting is the unweighted kappa.
        close(s.kappa_linear, 0.4, 1e-15);
        close(s.kappa_quadratic, 0.4, 1e-15);
    }

    /// The four-category table of the worked examples, with the weights of Cohen (1968),
    /// "Weighted kappa", Psychological Bulletin 70(4); the expected values are those of
    /// scikit-learn's cohen_kappa_score and statsmodels' cohens_kappa, which agree.
    #[test]
    fn weighted_kappa_four_categories() {
        let table = [[11, 3, 1, 0], [2, 14, 4, 1], [0, 3, 12, 2], [0, 1, 2, 9]];
        let m = Confusion::from_rows(Scale::new(0, 3).unwrap(), &table).unwrap();
        close(m.kappa(), 0.6044202434336964, 1e-12);
        close(m.kappa_se(), 0.07719679286266347, 1e-12);
        close(m.kappa_weighted(Weights::Linear), 0.70233139050791, 1e-12);
        close(
            m.kappa_weighted(Weights::Quadratic),
            0.7941176470588236,
            1e-12,
        );
        assert_eq!(m.pairs(), 65);
        close(m.exact(), 46.0 / 65.0, 1e-15);
        close(m.adjacent(), 62.0 / 65.0, 1e-15);
        assert_eq!(m.rows()[1], vec![2, 14, 4, 1]);
    }

    /// The same ICC as `icc::icc` on the pairs written out.
    #[test]
    fn icc_from_the_matrix_matches_the_table_form() {
        let scale = Scale::new(1, 4).unwrap();
        let pairs = [(1, 1), (2, 3), (3, 3), (4, 2), (2, 2), (4, 4), (1, 2)];
        let mut m = Confusion::new(scale);
        for (a, b) in pairs {
            assert!(m.add(a, b));
        }
        assert!(!m.add(0, 1));
        assert!(!m.add(1, 5));
        let table: Vec<[f64; 2]> = pairs.iter().map(|&(a, b)| [a as f64, b as f64]).collect();
        let want = super::super::icc::icc(&table);
        let got = m.icc();
        close(got.icc_2_1, want.icc_2_1.unwrap(), 1e-14);
        close(got.icc_3_1, want.icc_3_1.unwrap(), 1e-14);
    }

    #[test]
    fn empty_and_one_category_tables_are_undefined() {
        let m = Confusion::new(Scale::new(0, 3).unwrap());
        let s = m.stats();
        assert_eq!(s.pairs, 0);
        assert_eq!(
            (s.exact, s.kappa, s.kappa_se, s.kappa_linear, s.icc_2_1),
            (None, None, None, None, None)
        );
        // Everyone scored 2 by both readers: agreement is perfect, kappa undefined.
        let mut m = Confusion::new(Scale::new(0, 3).unwrap());
        for _ in 0..5 {
            m.add(2, 2);
        }
        let s = m.stats();
        assert_eq!(
            (s.exact, s.kappa, s.kappa_quadratic),
            (Some(1.0), None, None)
        );
        // A one-point scale.
        let mut m = Confusion::new(Scale::new(1, 1).unwrap());
        m.add(1, 1);
        assert_eq!(m.kappa_weighted(Weights::Linear), None);
        assert_eq!(
            Confusion::from_rows(Scale::new(0, 1).unwrap(), &[[1, 2]]),
            None
        );
        // Perfect agreement over two categories: κ = 1, SE 0.
        let m = Confusion::from_rows(Scale::new(0, 1).unwrap(), &[[3, 0], [0, 4]]).unwrap();
        assert_eq!((m.kappa(), m.kappa_se()), (Some(1.0), Some(0.0)));
        // Huge counts do not overflow.
        let m = Confusion::from_rows(Scale::new(0, 1).unwrap(), &[[u64::MAX, 1], [1, u64::MAX]]);
        let mut m = m.unwrap();
        m.add(0, 0);
        assert_eq!(m.pairs(), u64::MAX);
        let _ = m.stats();
    }

    /// Fleiss' kappa (Fleiss 1971, "Measuring nominal scale agreement among many raters",
    /// Psychological Bulletin 76(5)) on the ten-subject, fourteen-rater, five-category example
    /// that texts on it use: κ = 0.210, full digits 0.20993070442195522 (statsmodels).
    #[test]
    fn fleiss_kappa_ten_subjects() {
        let rows = [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ];
        let k = fleiss_kappa(&rows).unwrap();
        assert_eq!((k * 1000.0).round() / 1000.0, 0.210);
        assert!((k - 0.20993070442195522).abs() < 1e-12, "{k}");
    }

    #[test]
    fn fleiss_kappa_needs_even_subjects() {
        assert_eq!(fleiss_kappa::<[u64; 2]>(&[]), None);
        assert_eq!(fleiss_kappa(&[[1, 1], [2, 1]]), None);
        assert_eq!(fleiss_kappa(&[vec![1, 1], vec![2]]), None);
        assert_eq!(fleiss_kappa(&[[1, 0], [0, 1]]), None);
        assert_eq!(fleiss_kappa(&[[2, 0], [2, 0]]), None);
        assert_eq!(fleiss_kappa(&[[2, 0], [0, 2]]), Some(1.0));
    }
}
