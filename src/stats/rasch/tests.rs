//! Reference values from eRm and psychotools (`benches/reference/rasch_reference.R`, fixtures
//! in `tests/fixtures/rasch/`), worked values by hand, degenerate inputs, and recovery on
//! simulated data.
//!
//! Tolerances: psychotools maximises by BFGS with reltol 1e-12 on the log-likelihood, which
//! leaves its difficulties up to about 2e-6 from the maximum (the log-likelihood is flat there:
//! ours is higher, by less than 1e-8), so they are held to 1e-5 and its SEs (analytic Hessian)
//! to 1e-6; eRm's `RM` stops earlier (nlm) and takes a numerical Hessian, and differs from
//! psychotools by up to 6e-5, so it is held to 1e-4. WLEs are roots of
//! Warm's equation found by R's uniroot at psychotools' difficulties, held to 1e-6 (the
//! difficulties' own error, carried through); fit to the same formulas in R, 1e-5, and to eRm's
//! `itemfit` (at eRm's less exact difficulties) 5e-4.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::*;

fn fixture(name: &str) -> (RaschResponses, Value) {
    let (csv, json) = match name {
        "raschdat1" => (
            include_str!("../../../tests/fixtures/rasch/raschdat1.csv"),
            include_str!("../../../tests/fixtures/rasch/raschdat1.json"),
        ),
        "raschdat1_na" => (
            include_str!("../../../tests/fixtures/rasch/raschdat1_na.csv"),
            include_str!("../../../tests/fixtures/rasch/raschdat1_na.json"),
        ),
        _ => unreachable!("no fixture {name}"),
    };
    let mut lines = csv.lines();
    let n = lines.next().unwrap().split(',').count();
    let mut data = RaschResponses::new(n).unwrap();
    for line in lines {
        let row: Vec<Option<bool>> = line
            .split(',')
            .map(|c| match c {
                "0" => Some(false),
                "1" => Some(true),
                "NA" => None,
                _ => panic!("cell {c}"),
            })
            .collect();
        data.push(&row).unwrap();
    }
    (data, serde_json::from_str(json).unwrap())
}

fn nums(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(|x| x.as_f64()).collect()
}

fn all(v: &Value) -> Vec<f64> {
    nums(v).into_iter().map(|x| x.unwrap()).collect()
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: {actual} vs {expected} (difference {:e})",
        actual - expected
    );
}

fn check_reference(name: &str) {
    let (data, r) = fixture(name);
    let a = analyse(&data, &Options::default()).unwrap();
    let c = &a.calibration;
    assert_eq!(c.persons_estimated + c.persons_extreme, 100);
    for (i, item) in c.items.iter().enumerate() {
        let d = item.difficulty.unwrap();
        let se = item.se.unwrap();
        close(
            d,
            all(&r["psychotools"]["difficulty"])[i],
            1e-5,
            "difficulty vs psychotools",
        );
        close(
            se,
            all(&r["psychotools"]["se"])[i],
            1e-6,
            "se vs psychotools",
        );
        close(
            d,
            all(&r["erm"]["difficulty"])[i],
            1e-4,
            "difficulty vs eRm",
        );
        close(se, all(&r["erm"]["se"])[i], 1e-4, "se vs eRm");
    }
    let sum: f64 = c.items.iter().map(|i| i.difficulty.unwrap()).sum();
    close(sum, 0.0, 1e-10, "sum-zero");
    // Ours is the maximum: at least psychotools' value, and within its stopping rule of it.
    let psychotools = r["psychotools"]["loglik"].as_f64().unwrap();
    assert!(c.log_likelihood >= psychotools - 1e-9);
    close(c.log_likelihood, psychotools, 1e-8, "loglik");
    close(
        c.log_likelihood,
        r["erm"]["loglik"].as_f64().unwrap(),
        1e-5,
        "loglik vs eRm",
    );

    // Score tables: every form of the fixture, every raw score 0..=k.
    let forms = r["forms"].as_array().unwrap();
    assert_eq!(a.forms.len(), forms.len());
    for expected in forms {
        let items: Vec<usize> = all(&expected["items"])
            .iter()
            .map(|&x| x as usize)
            .collect();
        let form = a.forms.iter().find(|f| f.items == items).unwrap();
        let (wle, se) = (all(&expected["wle"]), all(&expected["se"]));
        assert_eq!(form.scores.len(), items.len() + 1);
        for (m, (w, s)) in form.scores.iter().zip(wle.iter().zip(&se)) {
            close(m.theta, *w, 1e-6, "wle");
            close(m.se, *s, 1e-6, "wle se");
        }
    }

    // Fit: the same formulas in R with ML measures (held tightly), and eRm's itemfit.
    let fits: Vec<&ItemFit> = a.fit.iter().map(|f| f.as_ref().unwrap()).collect();
    for (key, get) in [
        ("outfit", (|f: &ItemFit| f.outfit) as fn(&ItemFit) -> f64),
        ("infit", |f| f.infit),
        ("outfit_z", |f| f.outfit_z.unwrap()),
        ("infit_z", |f| f.infit_z.unwrap()),
    ] {
        for (i, f) in fits.iter().enumerate() {
            close(get(f), all(&r["fit"][key])[i], 1e-5, key);
            if let Some(e) = nums(&r["fit_erm"][key])[i] {
                close(get(f), e, 5e-4, key);
            }
        }
    }
}

#[test]
fn raschdat1_matches_erm_and_psychotools() {
    check_reference("raschdat1");
}

#[test]
fn missing_by_design_matches_erm_and_psychotools() {
    check_reference("raschdat1_na");
}

#[test]
fn wle_of_equal_difficulties_is_the_logit_of_r_plus_a_half() {
    // With every bᵢ = b, Warm's equation r − kP + (1 − 2P)/2 = 0 gives P = (r + ½)/(k + 1),
    // θ = b + ln((r + ½)/(k − r + ½)), and I = kP(1 − P).
    for k in [1usize, 2, 5, 30] {
        let b = vec![0.7; k];
        for r in 0..=k as u32 {
            let m = wle(r, &b).unwrap();
            let rr = f64::from(r);
            let kk = k as f64;
            close(
                m.theta,
                0.7 + ((rr + 0.5) / (kk - rr + 0.5)).ln(),
                1e-10,
                "theta",
            );
            let p = (rr + 0.5) / (kk + 1.0);
            close(m.se, 1.0 / (kk * p * (1.0 - p)).sqrt(), 1e-10, "se");
        }
    }
    // One item: −ln 3 for a wrong answer, ln 3 for a right one.
    close(
        wle(0, &[0.0]).unwrap().theta,
        -(3f64.ln()),
        1e-12,
        "one item",
    );
}

#[test]
fn wle_solves_warms_equation_and_ml_the_likelihood_equation() {
    let b = [-2.1, -0.4, 0.0, 0.3, 1.2, 2.5, 3.0];
    for r in 0..=b.len() as u32 {
        let m = wle(r, &b).unwrap();
        let p: Vec<f64> = b
            .iter()
            .map(|&bi| 1.0 / (1.0 + (bi - m.theta).exp()))
            .collect();
        let i: f64 = p.iter().map(|p| p * (1.0 - p)).sum();
        let j: f64 = p.iter().map(|p| p * (1.0 - p) * (1.0 - 2.0 * p)).sum();
        let warm = f64::from(r) - p.iter().sum::<f64>() + j / (2.0 * i);
        close(warm, 0.0, 1e-10, "Warm's equation");
        if r > 0 && (r as usize) < b.len() {
            let ml = ml_measure(r, &b).unwrap();
            let e: f64 = b
                .iter()
                .map(|&bi| 1.0 / (1.0 + (bi - ml.theta).exp()))
                .sum();
            close(e, f64::from(r), 1e-10, "ML equation");
            // The WLE is pulled toward the middle of the test.
            assert!((m.theta - 0.5).abs() < (ml.theta - 0.5).abs() + 1.0);
        }
    }
    assert!(ml_measure(0, &b).is_none());
    assert!(ml_measure(7, &b).is_none());
    assert!(wle(8, &b).is_none());
    assert!(wle(0, &[]).is_none());
    assert!(wle(0, &[f64::NAN]).is_none());
}

#[test]
fn anchoring_one_item_shifts_the_scale_and_keeps_the_differences() {
    let (data, _) = fixture("raschdat1");
    let free = calibrate(&data, &Options::default()).unwrap();
    let anchored = calibrate(
        &data,
        &Options {
            anchors: vec![(0, 1.0)],
            pretest: vec![29],
        },
    )
    .unwrap();
    let b0 = free.items[0].difficulty.unwrap();
    for (f, a) in free.items.iter().zip(&anchored.items) {
        close(
            a.difficulty.unwrap(),
            f.difficulty.unwrap() - b0 + 1.0,
            1e-7,
            "anchored difficulty",
        );
    }
    assert!(anchored.items[0].anchored);
    assert_eq!(anchored.items[0].se, None);
    assert!(anchored.items[29].pretest);
    assert!(!anchored.items[28].pretest);
    // With an anchor the SEs are those of the differences from the anchored item: larger.
    assert!(anchored.items[5].se.unwrap() > free.items[5].se.unwrap());
    close(anchored.log_likelihood, free.log_likelihood, 1e-8, "loglik");
}

#[test]
fn anchoring_every_item_estimates_nothing() {
    let (data, _) = fixture("raschdat1");
    let anchors: Vec<(usize, f64)> = (0..30).map(|i| (i, i as f64 / 10.0 - 1.5)).collect();
    let c = calibrate(
        &data,
        &Options {
            anchors: anchors.clone(),
            pretest: vec![],
        },
    )
    .unwrap();
    for (item, (_, b)) in c.items.iter().zip(&anchors) {
        assert_eq!(item.difficulty, Some(*b));
        assert_eq!(item.se, None);
    }
    assert_eq!(c.iterations, 0);
}

fn rows(rows: &[&[Option<bool>]]) -> RaschResponses {
    let mut data = RaschResponses::new(rows[0].len()).unwrap();
    for r in rows {
        data.push(r).unwrap();
    }
    data
}

const R: Option<bool> = Some(true);
const W: Option<bool> = Some(false);
const N: Option<bool> = None;

#[test]
fn uninformative_items_and_persons_are_left_out_and_reported() {
    let data = rows(&[
        &[R, W, R, R, N],
        &[W, R, R, R, N],
        &[R, R, W, R, N],
        &[W, W, W, R, N],
        &[R, R, R, R, N],
        &[W, W, W, W, N],
    ]);
    let a = analyse(&data, &Options::default()).unwrap();
    let c = &a.calibration;
    assert_eq!(c.items[3].excluded, Some(Exclusion::AllCorrect));
    assert_eq!(c.items[4].excluded, Some(Exclusion::NotPresented));
    assert_eq!(c.items[3].difficulty, None);
    // Without item 3, person 3 has a zero score, persons 4 and 5 are extreme too.
    assert_eq!(c.persons_estimated, 3);
    assert_eq!(c.persons_extreme, 3);
    // Three items answered alike (each right by 2 of the 3): equal difficulties, summing to 0.
    for i in 0..3 {
        close(c.items[i].difficulty.unwrap(), 0.0, 1e-9, "symmetric");
    }
    // Every person still gets a WLE on the calibrated items, 0 and perfect scores included.
    assert_eq!(a.persons[4].raw, 3);
    assert!(a.persons.iter().all(|p| p.wle.unwrap().is_finite()));
    close(
        a.persons[3].wle.unwrap(),
        (0.5f64 / 3.5).ln(),
        1e-9,
        "zero score",
    );
    assert!(a.fit[3].is_none());
}

#[test]
fn degenerate_input_gives_errors_not_panics() {
    assert_eq!(RaschResponses::new(0).unwrap_err(), RaschError::NoItems);
    let mut d = RaschResponses::new(2).unwrap();
    assert!(matches!(d.push(&[R]), Err(RaschError::RowLength { .. })));
    assert_eq!(
        calibrate(&d, &Options::default()).unwrap_err(),
        RaschError::NoInformation
    );
    let all_right = rows(&[&[R, R], &[R, R]]);
    assert_eq!(
        calibrate(&all_right, &Options::default()).unwrap_err(),
        RaschError::NoInformation
    );
    // Two forms with no item in common: their scales are not tied.
    let apart = rows(&[&[R, W, N, N], &[W, R, N, N], &[N, N, R, W], &[N, N, W, R]]);
    assert_eq!(
        calibrate(&apart, &Options::default()).unwrap_err(),
        RaschError::NotConnected {
            components: 2,
            anchored: false
        }
    );
    // An anchor in each part ties them.
    let tied = calibrate(
        &apart,
        &Options {
            anchors: vec![(0, 0.0), (2, 1.0)],
            pretest: vec![],
        },
    )
    .unwrap();
    close(tied.items[3].difficulty.unwrap(), 1.0, 1e-9, "tied");
    for bad in [
        vec![(9, 0.0)],
        vec![(0, f64::NAN)],
        vec![(0, 0.0), (0, 1.0)],
    ] {
        assert!(calibrate(
            &apart,
            &Options {
                anchors: bad,
                pretest: vec![]
            }
        )
        .is_err());
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// 10,000 persons of abilities N(0, 1), each presented 60 items drawn from a pool of 150 of
/// difficulties N(0, 1).
pub(crate) fn simulate(seed: u64) -> (RaschResponses, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pool: Vec<f64> = (0..150).map(|_| normal(&mut rng)).collect();
    let mut data = RaschResponses::new(150).unwrap();
    let mut row = vec![None; 150];
    for _ in 0..10_000 {
        let theta = normal(&mut rng);
        row.iter_mut().for_each(|c| *c = None);
        for i in rand::seq::index::sample(&mut rng, 150, 60) {
            let p = 1.0 / (1.0 + (pool[i] - theta).exp());
            row[i] = Some(rng.gen_bool(p));
        }
        data.push(&row).unwrap();
    }
    (data, pool)
}

#[test]
fn recovers_known_difficulties_from_drawn_forms() {
    let (data, truth) = simulate(11);
    let c = calibrate(&data, &Options::default()).unwrap();
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let est: Vec<f64> = c.items.iter().map(|i| i.difficulty.unwrap()).collect();
    let t: Vec<f64> = truth.iter().map(|b| b - mean).collect();
    let rmse = (est
        .iter()
        .zip(&t)
        .map(|(e, t)| (e - t).powi(2))
        .sum::<f64>()
        / 150.0)
        .sqrt();
    let (sx, sy) = (est.iter().sum::<f64>(), t.iter().sum::<f64>());
    let sxx: f64 = est.iter().map(|x| x * x).sum();
    let syy: f64 = t.iter().map(|x| x * x).sum();
    let sxy: f64 = est.iter().zip(&t).map(|(x, y)| x * y).sum();
    let r = crate::stats::pearson(150.0, sx, sy, sxx, syy, sxy).unwrap();
    assert!(r > 0.99, "correlation {r}");
    assert!(rmse < 0.05, "RMSE {rmse}");
    // The SEs describe the errors: their mean square is near the mean squared error.
    let mse_se = c.items.iter().map(|i| i.se.unwrap().powi(2)).sum::<f64>() / 150.0;
    assert!(
        (rmse * rmse / mse_se - 1.0).abs() < 0.35,
        "{rmse} vs √{mse_se}"
    );
}
