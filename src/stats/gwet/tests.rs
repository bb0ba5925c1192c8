use super::*;

const N: Option<i64> = None;

/// `cac.raw4raters`: 12 subjects, 4 raters, categories 1-5, no rater rated every subject
/// (Gwet 2014, *Handbook of Inter-Rater Reliability*, 4th ed., p. 120; the `irrCAC` R package).
fn raw4raters() -> Vec<[Option<i64>; 4]> {
    let s = Some;
    vec![
        [s(1), s(1), N, s(1)],
        [s(2), s(2), s(3), s(2)],
        [s(3), s(3), s(3), s(3)],
        [s(3), s(3), s(3), s(3)],
        [s(2), s(2), s(2), s(2)],
        [s(1), s(2), s(3), s(4)],
        [s(4), s(4), s(4), s(4)],
        [s(1), s(1), s(2), s(1)],
        [s(2), s(2), s(2), s(2)],
        [N, s(5), s(5), s(5)],
        [N, N, s(1), s(1)],
        [N, N, s(3), N],
    ]
}

fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= tol)
}

fn scale(min: i64, max: i64) -> Scale {
    Scale::new(min, max).unwrap()
}

#[test]
fn ac1_of_raw4raters_as_published() {
    // irrCAC README, `gwet.ac1.raw(cac.raw4raters)`: pa 0.8181818, pe 0.1903212, AC1 0.77544,
    // SE 0.14295, 95% interval (0.461, 1).
    let g = gwet(scale(1, 5), AcWeights::Identity, &raw4raters()).unwrap();
    assert_eq!((g.subjects, g.pairable), (12, 11));
    assert!(close(g.pa, 0.8181818, 5e-8), "{:?}", g.pa);
    assert!(close(g.pe, 0.1903212, 5e-8), "{:?}", g.pe);
    assert!(close(g.coefficient, 0.77544, 5e-6), "{:?}", g.coefficient);
    assert!(close(g.se, 0.14295, 5e-6), "{:?}", g.se);
    assert!(close(g.low, 0.461, 5e-4), "{:?}", g.low);
    assert_eq!(g.high, Some(1.0));
    // p_a by hand over the 11 subjects with two ratings or more (subject 12 has one): eight
    // in full agreement, subjects 2 and 8 with 3 of 4 alike (6/12 each), subject 6 none: 9/11.
    assert!(close(g.pa, 9.0 / 11.0, 1e-15));
}

#[test]
fn ac2_of_raw4raters_as_published() {
    // irrCAC with weights = "linear", "quadratic", "ordinal" (three decimals, as reproduced in
    // the tests of the Python port `irrCAC`, test/unit/irrCAC/raw/test_gwet.py):
    // (pa, pe, AC2, SE, lower bound).
    let cases = [
        (AcWeights::Linear, 0.939, 0.571, 0.859, 0.117, 0.600),
        (AcWeights::Quadratic, 0.975, 0.714, 0.914, 0.104, 0.685),
        (AcWeights::Ordinal, 0.968, 0.685, 0.899, 0.107, 0.664),
    ];
    for (w, pa, pe, ac2, se, low) in cases {
        let g = gwet(scale(1, 5), w, &raw4raters()).unwrap();
        assert!(close(g.pa, pa, 5e-4), "{w:?} pa {:?}", g.pa);
        assert!(close(g.pe, pe, 5e-4), "{w:?} pe {:?}", g.pe);
        assert!(close(g.coefficient, ac2, 5e-4), "{w:?} {:?}", g.coefficient);
        assert!(close(g.se, se, 5e-4), "{w:?} se {:?}", g.se);
        assert!(close(g.low, low, 5e-4), "{w:?} low {:?}", g.low);
        assert_eq!(g.high, Some(1.0));
    }
}

#[test]
fn ac1_of_ben_and_gerry_as_published() {
    // irrCAC `cac.ben.gerry`: 12 units, 2 raters, categories a-e (here 1-5), Gerry missing
    // unit 10: pa 0.727, pe 0.194, AC1 0.661, SE 0.184, interval (0.257, 1).
    let ben = [1, 1, 2, 2, 4, 3, 3, 3, 5, 4, 4, 1];
    let gerry = [2, 1, 2, 2, 2, 3, 3, 3, 5, 0, 4, 4];
    let rows: Vec<[Option<i64>; 2]> = ben
        .iter()
        .zip(&gerry)
        .map(|(&b, &g)| [Some(b), (g > 0).then_some(g)])
        .collect();
    let g = gwet(scale(1, 5), AcWeights::Identity, &rows).unwrap();
    assert_eq!((g.subjects, g.pairable), (12, 11));
    assert!(close(g.pa, 8.0 / 11.0, 1e-15), "{:?}", g.pa);
    assert!(close(g.pe, 0.194, 5e-4), "{:?}", g.pe);
    assert!(close(g.coefficient, 0.661, 5e-4), "{:?}", g.coefficient);
    assert!(close(g.se, 0.184, 5e-4), "{:?}", g.se);
    assert!(close(g.low, 0.257, 5e-4), "{:?}", g.low);
    assert_eq!(g.high, Some(1.0));
}

#[test]
fn ac1_of_five_observers_as_published() {
    // irrCAC `cac.raw5obser`: 15 units, 5 observers, scores 0-3 (Gwet 2014, p. 125):
    // pa 0.616, pe 0.236, AC1 0.497, SE 0.122, interval (0.235, 0.758).
    let o: [[i64; 15]; 5] = [
        [1, 1, 2, -1, 0, 0, 1, 1, 2, 2, -1, 0, 1, 3, 1],
        [1, 1, 3, 0, 0, 0, 0, -1, 2, 1, 1, 0, 2, 3, 1],
        [2, 0, 3, 0, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 1],
        [-1, 1, 3, -1, -1, -1, -1, 0, -1, 1, 0, 0, 2, 2, -1],
        [2, -1, -1, 0, 0, 0, 1, -1, 2, -1, -1, -1, -1, 3, 1],
    ];
    let rows: Vec<Vec<Option<i64>>> = (0..15)
        .map(|i| o.iter().map(|r| (r[i] >= 0).then_some(r[i])).collect())
        .collect();
    let g = gwet(scale(0, 3), AcWeights::Identity, &rows).unwrap();
    assert!(close(g.pa, 0.616, 5e-4), "{:?}", g.pa);
    assert!(close(g.pe, 0.236, 5e-4), "{:?}", g.pe);
    assert!(close(g.coefficient, 0.497, 5e-4), "{:?}", g.coefficient);
    assert!(close(g.se, 0.122, 5e-4), "{:?}", g.se);
    assert!(close(g.low, 0.235, 5e-4), "{:?}", g.low);
    assert!(close(g.high, 0.758, 5e-4), "{:?}", g.high);
}

#[test]
fn two_raters_two_categories_by_hand() {
    // 10 subjects: (1,1)×6, (2,2)×2, (1,2)×2. pa = 0.8; π = (14/20, 6/20);
    // pe = 2·0.7·0.3 / 1 = 0.42; AC1 = 0.38/0.58.
    let mut rows = vec![[Some(1), Some(1)]; 6];
    rows.extend([[Some(2), Some(2)]; 2]);
    rows.extend([[Some(1), Some(2)]; 2]);
    let g = gwet(scale(1, 2), AcWeights::Identity, &rows).unwrap();
    assert!(close(g.pa, 0.8, 1e-15));
    assert!(close(g.pe, 0.42, 1e-15));
    assert!(close(g.coefficient, 0.38 / 0.58, 1e-15));
    // With two categories every weighting is the identity.
    for w in [AcWeights::Linear, AcWeights::Quadratic, AcWeights::Ordinal] {
        assert_eq!(
            gwet(scale(1, 2), w, &rows).unwrap().coefficient,
            g.coefficient
        );
    }
}

#[test]
fn the_weights_match_irrcac_on_three_categories() {
    // irrCAC weighting vignette: linear 0.5, ordinal 2/3, quadratic 0.75 one step apart.
    assert_eq!(AcWeights::Linear.weight(0, 1, 3), 0.5);
    assert!((AcWeights::Ordinal.weight(0, 1, 3) - 2.0 / 3.0).abs() < 1e-15);
    assert_eq!(AcWeights::Quadratic.weight(1, 2, 3), 0.75);
    for w in [AcWeights::Linear, AcWeights::Quadratic, AcWeights::Ordinal] {
        assert_eq!(w.weight(0, 2, 3), 0.0);
        assert_eq!(w.weight(2, 2, 3), 1.0);
    }
    assert_eq!(AcWeights::Identity.weight(0, 1, 3), 0.0);
}

#[test]
fn undefined_cases_are_none_and_off_scale_is_an_error() {
    // No subject with two ratings: no observed agreement.
    let g = gwet(
        scale(1, 3),
        AcWeights::Identity,
        &[[Some(1), N], [N, Some(2)]],
    )
    .unwrap();
    assert_eq!((g.pa, g.coefficient, g.se), (None, None, None));
    // One category.
    let g = gwet(scale(1, 1), AcWeights::Identity, &[[Some(1), Some(1)]]).unwrap();
    assert_eq!((g.pa, g.pe, g.coefficient), (None, None, None));
    // Nothing rated.
    let g = gwet(scale(1, 3), AcWeights::Identity, &[[N, N]]).unwrap();
    assert_eq!((g.subjects, g.coefficient), (0, None));
    let empty: [[Option<i64>; 2]; 0] = [];
    assert_eq!(
        gwet(scale(1, 3), AcWeights::Linear, &empty)
            .unwrap()
            .subjects,
        0
    );
    // One subject: a coefficient but no standard error.
    let g = gwet(scale(1, 3), AcWeights::Identity, &[[Some(1), Some(1)]]).unwrap();
    assert!(g.coefficient.is_some());
    assert_eq!((g.se, g.low), (None, None));
    let err = gwet(scale(1, 3), AcWeights::Identity, &[[Some(1), Some(4)]]).unwrap_err();
    assert_eq!(
        err,
        GwetError::OffScale {
            subject: 0,
            rater: 1,
            score: 4,
            scale: scale(1, 3)
        }
    );
}

#[test]
fn every_figure_is_finite() {
    // Total agreement on one category: π = (0, 1, 0), pe = 0, AC2 = 1, SE 0.
    let rows = vec![[Some(2), Some(2), Some(2)]; 5];
    let g = gwet(scale(1, 3), AcWeights::Quadratic, &rows).unwrap();
    for x in [g.pa, g.pe, g.coefficient, g.se, g.low, g.high]
        .into_iter()
        .flatten()
    {
        assert!(x.is_finite());
    }
}

#[test]
fn ac1_of_two_complete_raters_matches_the_contingency_table_form() {
    // irrCAC README, `gwet.ac1.table(cont3x3abstractors)`: 100 pregnancies classified by two
    // abstractors into 3 categories (Gwet 2014), AC1 0.8493305. The raw form on the same
    // ratings must give the same coefficient, and the table form's SE 0.04321747 times
    // √(n/(n − 1)): that form divides the sum of squares by n², the raw one by n(n − 1).
    let table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]];
    let mut rows = vec![];
    for (a, row) in table.iter().enumerate() {
        for (b, &count) in row.iter().enumerate() {
            rows.extend(std::iter::repeat_n([Some(a as i64), Some(b as i64)], count));
        }
    }
    let g = gwet(scale(0, 2), AcWeights::Identity, &rows).unwrap();
    assert_eq!(g.subjects, 100);
    assert!(close(g.pa, 0.89, 1e-15), "{:?}", g.pa);
    assert!(close(g.coefficient, 0.8493305, 5e-8), "{:?}", g.coefficient);
    let se = 0.04321747 * (100.0f64 / 99.0).sqrt();
    assert!(close(g.se, se, 5e-9), "{:?} {se}", g.se);
}
