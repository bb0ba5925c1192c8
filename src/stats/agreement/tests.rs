use super::*;
use crate::stats::kappa::fleiss_kappa;
use crate::stats::krippendorff::krippendorff_alpha;

fn close(actual: Option<f64>, expected: f64, tol: f64) {
    let a = actual.expect("defined");
    assert!((a - expected).abs() <= tol, "{a} vs {expected}");
}

/// The weighted-kappa table of the worked examples (rows rater A, columns rater B) as ratings:
/// rater 1 reads each response first, rater 2 second.
fn weighted_kappa_ratings() -> Vec<Rating> {
    let table = [[11, 3, 1, 0], [2, 14, 4, 1], [0, 3, 12, 2], [0, 1, 2, 9]];
    let mut out = Vec::new();
    let mut response = 0;
    for (a, row) in table.iter().enumerate() {
        for (b, &count) in row.iter().enumerate() {
            for _ in 0..count {
                response += 1;
                out.push(Rating::new(response, 1, a as i64));
                out.push(Rating::new(response, 2, b as i64));
            }
        }
    }
    out
}

/// Cohen's kappas of the four-category worked example (weights of Cohen 1968, Psychological
/// Bulletin 70(4); values from scikit-learn and statsmodels) come through the ratings
/// unchanged, and the alphas and Fleiss' kappa equal their own functions on the same units.
#[test]
fn the_weighted_kappa_example_as_ratings() {
    let scale = Scale::new(0, 3).unwrap();
    let ratings = weighted_kappa_ratings();
    let r = agreement(scale, &ratings).unwrap();
    assert_eq!((r.ratings, r.responses, r.overall.pairs), (130, 65, 65));
    close(r.overall.kappa, 0.6044202434336964, 1e-12);
    close(r.overall.kappa_se, 0.07719679286266347, 1e-12);
    close(r.overall.kappa_linear, 0.70233139050791, 1e-12);
    close(r.overall.kappa_quadratic, 0.7941176470588236, 1e-12);
    close(r.overall.exact, 46.0 / 65.0, 1e-15);
    assert_eq!(r.overall.confusion[0], vec![11, 3, 1, 0]);

    let units: Vec<[i64; 2]> = ratings
        .chunks(2)
        .map(|p| [p[0].score, p[1].score])
        .collect();
    assert_eq!(
        r.alpha_ordinal,
        krippendorff_alpha(scale, &units, Metric::Ordinal)
    );
    assert_eq!(
        r.alpha_interval,
        krippendorff_alpha(scale, &units, Metric::Interval)
    );
    let counts: Vec<[u64; 4]> = units
        .iter()
        .map(|u| {
            let mut c = [0; 4];
            u.iter().for_each(|&s| c[s as usize] += 1);
            c
        })
        .collect();
    assert_eq!(r.fleiss_kappa, fleiss_kappa(&counts));
    assert!(r.fleiss_kappa.is_some());

    // One rater pair, oriented (1, 2): the same table.
    assert_eq!(r.rater_pairs.len(), 1);
    assert_eq!((r.rater_pairs[0].rater_a, r.rater_pairs[0].rater_b), (1, 2));
    assert_eq!(r.rater_pairs[0].pairs, r.overall);
    assert!(r.items.is_empty() && r.days.is_empty());
}

/// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the four coders by twelve
/// units with missing ratings: ordinal 0.8153875037548814, interval 0.8491071428571428. The
/// ratings are given unit by unit; Fleiss' kappa is undefined (units of 1 to 4 ratings).
#[test]
fn krippendorff_example_as_ratings() {
    let units: [&[i64]; 12] = [
        &[1, 1, 1],
        &[2, 2, 3, 2],
        &[3, 3, 3, 3],
        &[3, 3, 3, 3],
        &[2, 2, 2, 2],
        &[1, 2, 3, 4],
        &[4, 4, 4, 4],
        &[1, 1, 2, 1],
        &[2, 2, 2, 2],
        &[5, 5, 5],
        &[1, 1],
        &[3],
    ];
    let mut ratings = Vec::new();
    for (u, scores) in units.iter().enumerate() {
        for (coder, &s) in scores.iter().enumerate() {
            ratings.push(Rating::new(u as i64, coder as i64, s));
        }
    }
    let r = agreement(Scale::new(1, 5).unwrap(), &ratings).unwrap();
    close(r.alpha_ordinal, 0.8153875037548814, 1e-12);
    close(r.alpha_interval, 0.8491071428571428, 1e-12);
    assert_eq!(r.fleiss_kappa, None);
    assert_eq!((r.responses, r.overall.pairs), (12, 11));
}

/// Fleiss' kappa (Fleiss 1971, Psychological Bulletin 76(5)) on the worked example of ten
/// subjects each rated by fourteen raters, κ = 0.20993070442195522, here as single ratings.
#[test]
fn fleiss_example_as_ratings() {
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
    let mut ratings = Vec::new();
    for (subject, row) in rows.iter().enumerate() {
        let mut rater = 0;
        for (category, &count) in row.iter().enumerate() {
            for _ in 0..count {
                rater += 1;
                ratings.push(Rating::new(subject as i64, rater, category as i64 + 1));
            }
        }
    }
    let r = agreement(Scale::new(1, 5).unwrap(), &ratings).unwrap();
    close(r.fleiss_kappa, 0.20993070442195522, 1e-12);
}

/// Raters, items, pairs and days on a hand-made example.
#[test]
fn breakdowns_by_rater_item_pair_and_day() {
    let rating = |response, rater, score, item, day, expert| Rating {
        response,
        rater,
        score,
        item: Some(item),
        day: Some(day),
        expert,
    };
    let ratings = [
        rating(1, 10, 2, 100, 1, None),
        rating(1, 20, 3, 100, 1, None),
        rating(2, 20, 1, 100, 1, Some(1)),
        rating(2, 10, 1, 100, 2, Some(1)),
        rating(3, 10, 0, 200, 2, Some(2)),
        rating(3, 30, 2, 200, 2, Some(2)),
        // The adjudication of response 3: in the alphas, not in the pairs.
        rating(3, 20, 1, 200, 3, Some(2)),
        // A response read once.
        rating(4, 30, 3, 200, 3, None),
    ];
    let r = agreement(Scale::new(0, 3).unwrap(), &ratings).unwrap();
    assert_eq!((r.ratings, r.responses, r.overall.pairs), (8, 4, 3));
    close(r.overall.exact, 1.0 / 3.0, 1e-15);
    close(r.overall.adjacent, 2.0 / 3.0, 1e-15);

    let by_rater: Vec<(i64, u64, u64)> = r
        .raters
        .iter()
        .map(|x| (x.rater, x.scored, x.pairs))
        .collect();
    assert_eq!(by_rater, vec![(10, 3, 3), (20, 3, 2), (30, 2, 1)]);
    let r10 = &r.raters[0];
    close(r10.mean, 1.0, 1e-15);
    // Own minus other: 2−3, 1−1, 0−2.
    close(r10.severity, -1.0, 1e-15);
    close(r10.exact, 1.0 / 3.0, 1e-15);
    assert_eq!(r10.validity, 2);
    close(r10.accuracy, 0.5, 1e-15);
    let r20 = &r.raters[1];
    close(r20.severity, 0.5, 1e-15);
    close(r20.accuracy, 0.5, 1e-15);
    assert_eq!(r.raters[2].accuracy, Some(1.0));

    assert_eq!(r.items.len(), 2);
    let (i100, i200) = (&r.items[0], &r.items[1]);
    assert_eq!(
        (i100.item, i100.ratings, i100.responses, i100.pairs.pairs),
        (100, 4, 2, 2)
    );
    assert_eq!(
        (i200.item, i200.ratings, i200.responses, i200.pairs.pairs),
        (200, 4, 2, 1)
    );

    // Pairs oriented by rater id: (10, 20) saw (2, 3) and (1, 1); (10, 30) saw (0, 2).
    let pairs: Vec<(i64, i64, u64)> = r
        .rater_pairs
        .iter()
        .map(|p| (p.rater_a, p.rater_b, p.pairs.pairs))
        .collect();
    assert_eq!(pairs, vec![(10, 20, 2), (10, 30, 1)]);
    assert_eq!(r.rater_pairs[0].pairs.confusion[2][3], 1);
    assert_eq!(r.rater_pairs[0].pairs.confusion[1][1], 1);
    assert_eq!(r.rater_pairs[1].pairs.confusion[0][2], 1);

    // Days: ratings by their own day, pairs by the second reading's day.
    let days: Vec<(i64, u64, u64)> = r
        .days
        .iter()
        .map(|d| (d.day, d.ratings, d.pairs.pairs))
        .collect();
    assert_eq!(days, vec![(1, 3, 1), (2, 3, 2), (3, 2, 0)]);
    close(r.days[0].mean, 2.0, 1e-15);
}

#[test]
fn a_score_off_the_scale_is_refused() {
    let ratings = [Rating::new(1, 1, 2), Rating::new(1, 2, 4)];
    assert_eq!(
        agreement(Scale::new(0, 3).unwrap(), &ratings),
        Err(OffScale { index: 1, score: 4 })
    );
}

#[test]
fn no_ratings_or_single_readings_give_none() {
    let scale = Scale::new(0, 3).unwrap();
    let r = agreement(scale, &[]).unwrap();
    assert_eq!((r.ratings, r.responses), (0, 0));
    assert_eq!(
        (r.overall.kappa, r.alpha_ordinal, r.fleiss_kappa),
        (None, None, None)
    );
    assert_eq!(r.overall.confusion.len(), 4);
    let r = agreement(scale, &[Rating::new(1, 1, 2), Rating::new(2, 1, 3)]).unwrap();
    assert_eq!(r.overall.pairs, 0);
    assert_eq!((r.alpha_ordinal, r.fleiss_kappa), (None, None));
    assert_eq!(r.raters[0].severity, None);
    close(r.raters[0].mean, 2.5, 1e-15);
    // The same rater twice on a response still makes a pair.
    let r = agreement(scale, &[Rating::new(1, 1, 2), Rating::new(1, 1, 2)]).unwrap();
    assert_eq!(r.overall.pairs, 1);
    assert_eq!(r.raters[0].pairs, 2);
}

/// Gwet's AC1 and AC2 come through the agreement report as `gwet` gives them on every rating of
/// each response: Gwet's `cac.raw4raters` (Gwet 2014, p. 120; irrCAC README: AC1 0.77544, SE
/// 0.14295; AC2 quadratic 0.914, SE 0.104) as responses read by up to four raters.
#[test]
fn gwet_coefficients_of_raw4raters_as_published() {
    let table: [[Option<i64>; 4]; 12] = [
        [Some(1), Some(1), None, Some(1)],
        [Some(2), Some(2), Some(3), Some(2)],
        [Some(3), Some(3), Some(3), Some(3)],
        [Some(3), Some(3), Some(3), Some(3)],
        [Some(2), Some(2), Some(2), Some(2)],
        [Some(1), Some(2), Some(3), Some(4)],
        [Some(4), Some(4), Some(4), Some(4)],
        [Some(1), Some(1), Some(2), Some(1)],
        [Some(2), Some(2), Some(2), Some(2)],
        [None, Some(5), Some(5), Some(5)],
        [None, None, Some(1), Some(1)],
        [None, None, Some(3), None],
    ];
    let mut ratings = Vec::new();
    for (response, row) in table.iter().enumerate() {
        for (rater, score) in row.iter().enumerate() {
            if let Some(score) = score {
                ratings.push(Rating::new(response as i64, rater as i64, *score));
            }
        }
    }
    let r = agreement(Scale::new(1, 5).unwrap(), &ratings).unwrap();
    close(r.gwet_ac1, 0.77544, 5e-6);
    close(r.gwet_ac1_se, 0.14295, 5e-6);
    close(r.gwet_ac2_quadratic, 0.914, 5e-4);
    close(r.gwet_ac2_quadratic_se, 0.104, 5e-4);
}
