use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::stats::facets::{analyse, Options};
// Tight limits, so that the model is at its exact solution.
use crate::stats::facets::tests::{obs, tight};

fn close(actual: Option<f64>, expected: f64, tol: f64) {
    let a = actual.expect("defined");
    assert!((a - expected).abs() <= tol, "{a} vs {expected} (±{tol})");
}

fn cell(report: &BiasReport, rater: u32, group: u32) -> &BiasCell {
    report
        .cells
        .iter()
        .find(|c| c.rater == rater && c.group == group)
        .expect("cell")
}

/// Linacre (1996), "DIF in polytomous items", Rasch Measurement Transactions 10(3)
/// (rasch.org/rmt/rmt103j.htm): Facets' bias/interaction analysis of Zwick & Thayer's (1996,
/// JEBS 21(3)) Table 2. Every low performer has one measure and every high performer another
/// (two "candidates"), one item, one shared three-category scale (ratings 1..3, here 0..2), and
/// the reference/focal group interacting with the one rating "rater":
///
/// ```text
/// low:  reference 13  5  7   focal 5 14  4
/// high: reference 28 54 98   focal 1  2 10
///
/// Obsvd  Exp.   Obsvd  Obs-Exp| Bias   Model       |
/// Score  Score  Count  Average|Measure S.E. Z-Score|Group
///  474   480.0   205    -.03  |  -.05   .09    .57 |Reference
///   80    74.0    36     .17  |   .29   .22  -1.30 |Focal
/// Fixed (all = 0) chi-square: 2.0  d.f.: 2
/// ```
///
/// Scores there run 1..3, so observed and expected sums are ours plus the count. That Facets
/// printed its "Bias Measure" in the direction of the score (focal scored above expectation:
/// +.29) and its Z-score in the direction of severity (−1.30); our bias is in the direction
/// of severity, so it is the negative of the printed measure and has the printed Z's sign.
#[test]
fn reproduces_the_published_facets_bias_table() {
    let mut data = Vec::new();
    let mut groups = Vec::new();
    let tables: [(u32, [u32; 3], [u32; 3]); 2] =
        [(0, [13, 5, 7], [5, 14, 4]), (1, [28, 54, 98], [1, 2, 10])];
    for (level, reference, focal) in tables {
        for (group, counts) in [(0u32, reference), (1, focal)] {
            for (score, &n) in counts.iter().enumerate() {
                for _ in 0..n {
                    data.push(obs(level, 0, 0, score as u32));
                    groups.push(Some(group));
                }
            }
        }
    }
    let report = analyse(&data, &tight(Model::RatingScale, 2)).unwrap();
    assert!(report.converged);
    let bias = rater_group_bias(&report, &data, &groups, 2.0).unwrap();
    assert_eq!(bias.cells.len(), 2);
    let (reference, focal) = (cell(&bias, 0, 0), cell(&bias, 0, 1));
    assert_eq!((reference.count, reference.observed + 205), (205, 474));
    assert_eq!((focal.count, focal.observed + 36), (36, 80));
    close(Some(reference.expected + 205.0), 480.0, 0.05);
    close(Some(focal.expected + 36.0), 74.0, 0.05);
    close(Some(reference.mean_residual), -0.03, 0.005);
    close(Some(focal.mean_residual), 0.17, 0.005);
    close(reference.bias, 0.05, 0.005);
    close(reference.se, 0.09, 0.005);
    close(reference.t, 0.57, 0.005);
    close(focal.bias, -0.29, 0.005);
    close(focal.se, 0.22, 0.005);
    close(focal.t, -1.30, 0.005);
    close(bias.chi_square, 2.0, 0.05);
    assert_eq!(bias.df, 2);
    assert!(!reference.flagged && !focal.flagged);
    assert_eq!(focal.df, 35);
    // Student's t with 35 df, two-sided: a little above the normal's 0.19.
    let p = focal.p_value.unwrap();
    assert!(p > 0.19 && p < 0.22, "{p}");
}

/// At the exact solution every rater's observed score equals its expected score, so a cell
/// holding all of a rater's ratings has no bias: b = 0, observed = expected.
#[test]
fn a_cell_with_all_of_a_raters_ratings_has_no_bias() {
    let sim = simulate(7, 200, 0.3, &[-0.5, 0.0, 0.5], None);
    let report = analyse(&sim.data, &tight(Model::RatingScale, 3)).unwrap();
    let one_group = vec![Some(0); sim.data.len()];
    let bias = rater_group_bias(&report, &sim.data, &one_group, 2.0).unwrap();
    assert_eq!(bias.cells.len(), 3);
    for c in &bias.cells {
        close(c.bias, 0.0, 1e-6);
        close(Some(c.mean_residual), 0.0, 1e-8);
        assert!(!c.flagged);
    }
    assert_eq!(
        bias.observations_used + bias.observations_left_out,
        sim.data.len() as u64
    );
}

struct Simulated {
    data: Vec<Observation>,
    groups: Vec<Option<u32>>,
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A score from the rating scale model at η with thresholds −1.5, 0, 1.5.
fn draw(rng: &mut ChaCha8Rng, eta: f64) -> u32 {
    let mut numerators = vec![1.0f64];
    let mut s = 0.0;
    for f in [-1.5, 0.0, 1.5] {
        s += eta - f;
        numerators.push(s.exp());
    }
    let mut u = rng.gen::<f64>() * numerators.iter().sum::<f64>();
    for (k, x) in numerators.iter().enumerate() {
        if u < *x {
            return k as u32;
        }
        u -= x;
    }
    3
}

/// Candidates θ ~ N(0, 1), a share `focal` of them in group 1 (the rest in group 0), six
/// questions of difficulty −0.5..0.5, each response read by two raters of `severity` drawn
/// at random; `bias` = (rater, b): that rater is b logits harsher with group 1.
fn simulate(
    seed: u64,
    candidates: usize,
    focal: f64,
    severity: &[f64],
    bias: Option<(usize, f64)>,
) -> Simulated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let delta = [-0.5, -0.3, -0.1, 0.1, 0.3, 0.5];
    let (mut data, mut groups) = (Vec::new(), Vec::new());
    for c in 0..candidates {
        let theta = normal(&mut rng);
        let group = u32::from(rng.gen::<f64>() < focal);
        for (q, d) in delta.iter().enumerate() {
            for r in index::sample(&mut rng, severity.len(), 2) {
                let extra = match bias {
                    Some((biased, b)) if biased == r && group == 1 => b,
                    _ => 0.0,
                };
                let x = draw(&mut rng, theta - d - severity[r] - extra);
                data.push(obs(c as u32, q as u32, r as u32, x));
                groups.push(Some(group));
            }
        }
    }
    Simulated { data, groups }
}

/// Six raters (severity −1..1), two groups (20% of the candidates focal), 1,000 candidates ×
/// 6 questions × 2 readings, Facets' default convergence; rater 2 scores the focal group 0.8
/// logits more severely than the others do.
///
/// What a post-hoc bias analysis can recover: the main effects are estimated first, so the
/// rater's severity takes up the bias in proportion to the focal share w of the rater's
/// ratings, and the focal candidates' measures take it up in proportion to the rater's share s
/// of their ratings. To first order the cell shows 0.8·(1 − w)(1 − s) (here w ≈ 0.17, s ≈ 0.15:
/// about 0.56, not 0.8), the rater's reference cell about −0.8·w(1 − s), and each other
/// rater's focal cell about −0.8·s(1 − w): the interaction is double-centred. The built-in 0.8
/// itself is the difference in differences, (b₂F − b₂R) − mean over the other raters of
/// (bⱼF − bⱼR), which the centring leaves whole.
///
/// Seeded: the biased cell flagged (t ≥ 2) and within 0.1 of 0.8·(1 − w)(1 − s) from the
/// design's own counts; the difference in differences within 0.25 of 0.8; at most two of the
/// ten cells of the other five raters flagged; the biased rater's reference cell below 0.
#[test]
fn recovers_a_rater_who_is_harsher_with_one_group() {
    let severity = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0];
    let sim = simulate(2026, 1000, 0.2, &severity, Some((2, 0.8)));
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    assert!(report.converged);
    let bias = rater_group_bias(&report, &sim.data, &sim.groups, 2.0).unwrap();
    assert_eq!(bias.cells.len(), 12);
    let b = |r: u32, g: u32| cell(&bias, r, g).bias.unwrap();
    let harsh = cell(&bias, 2, 1);
    assert!(harsh.flagged && harsh.t.unwrap() >= 2.0);
    assert!(harsh.mean_residual < 0.0);
    let w = harsh.count as f64 / (harsh.count + cell(&bias, 2, 0).count) as f64;
    let focal_ratings: u64 = (0..6).map(|r| cell(&bias, r, 1).count).sum();
    let s = harsh.count as f64 / focal_ratings as f64;
    let centred = 0.8 * (1.0 - w) * (1.0 - s);
    assert!(
        (b(2, 1) - centred).abs() <= 0.1,
        "the biased cell {} against 0.8·(1 − {w})(1 − {s}) = {centred}",
        b(2, 1)
    );
    let others: f64 = [0, 1, 3, 4, 5]
        .iter()
        .map(|&r| b(r, 1) - b(r, 0))
        .sum::<f64>()
        / 5.0;
    let did = (b(2, 1) - b(2, 0)) - others;
    assert!(
        (did - 0.8).abs() <= 0.25,
        "difference in differences: {did}"
    );
    assert!(b(2, 0) < 0.0);
    let flagged: Vec<(u32, u32, f64)> = bias
        .cells
        .iter()
        .filter(|c| c.rater != 2 && c.flagged)
        .map(|c| (c.rater, c.group, c.t.unwrap_or(0.0)))
        .collect();
    assert!(flagged.len() <= 2, "other cells flagged: {flagged:?}");
    assert_eq!(
        bias.observations_used,
        sim.data.len() as u64 - bias.observations_left_out
    );
}

#[test]
fn edge_cases_are_clear_errors() {
    let sim = simulate(3, 60, 0.5, &[-0.3, 0.3], None);
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    assert_eq!(
        rater_group_bias(&report, &sim.data, &sim.groups[1..], 2.0),
        Err(BiasError::GroupsLength {
            observations: sim.data.len(),
            groups: sim.data.len() - 1
        })
    );
    for limit in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            rater_group_bias(&report, &sim.data, &sim.groups, limit),
            Err(BiasError::BadLimit)
        );
    }
    let none = vec![None; sim.data.len()];
    assert_eq!(
        rater_group_bias(&report, &sim.data, &none, 2.0),
        Err(BiasError::NoGroups)
    );
    let mut other = sim.data.clone();
    other[0].rater = 9;
    assert_eq!(
        rater_group_bias(&report, &other, &sim.groups, 2.0),
        Err(BiasError::UnknownElement {
            index: 0,
            facet: "rater",
            id: 9
        })
    );
    let fewer = &sim.data[1..];
    assert!(matches!(
        rater_group_bias(&report, fewer, &sim.groups[1..], 2.0),
        Err(BiasError::NotTheFittedData { .. })
    ));
    // Ratings without a group are counted and left out of the cells.
    let mut some = sim.groups.clone();
    some[0] = None;
    some[1] = None;
    let bias = rater_group_bias(&report, &sim.data, &some, 2.0).unwrap();
    assert_eq!(bias.observations_without_group, 2);
}

/// A rater who gives one group nothing but zeros: that cell has no finite bias, is reported
/// extreme and not flagged; every other figure stays finite.
#[test]
fn an_extreme_cell_is_reported_without_a_bias() {
    let mut sim = simulate(5, 120, 0.3, &[-0.4, 0.0, 0.4], None);
    for (o, g) in sim.data.iter_mut().zip(&sim.groups) {
        if o.rater == 1 && *g == Some(1) {
            o.score = 0;
        }
    }
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    let bias = rater_group_bias(&report, &sim.data, &sim.groups, 2.0).unwrap();
    let zero = cell(&bias, 1, 1);
    assert_eq!(zero.status, CellStatus::ExtremeLow);
    assert_eq!(
        (zero.bias, zero.se, zero.t, zero.p_value),
        (None, None, None, None)
    );
    assert!(!zero.flagged);
    assert_eq!(zero.observed, 0);
    assert!(zero.mean_residual < 0.0);
    assert_eq!(bias.df, bias.cells.len() as u64 - 1);
    let json = serde_json::to_string(&bias).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"));
}

#[test]
fn student_t_tail() {
    // One degree of freedom is Cauchy: P(|T| ≥ t) = 1 − (2/π)·atan(t), exactly ½ at t = 1.
    assert!((student_t_two_sided(1.0, 1.0) - 0.5).abs() < 1e-14);
    let cauchy = 1.0 - 2.0 / std::f64::consts::PI * 3.0f64.atan();
    assert!((student_t_two_sided(3.0, 1.0) - cauchy).abs() < 1e-14);
    // The tables' two-sided 5% point for 10 df, 2.228.
    assert!((student_t_two_sided(2.228, 10.0) - 0.05).abs() < 1e-4);
    assert!((student_t_two_sided(0.0, 5.0) - 1.0).abs() < 1e-15);
}
