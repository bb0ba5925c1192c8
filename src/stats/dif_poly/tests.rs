use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// `reference[k]` and `focal[k]` candidates with item score k, all in one stratum.
fn table(stratum: u32, reference: &[u64], focal: &[u64]) -> Vec<PolyResponse> {
    let mut out = Vec::new();
    for (group, counts) in [(Group::Reference, reference), (Group::Focal, focal)] {
        for (score, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                out.push(PolyResponse {
                    group,
                    stratum,
                    score: score as u32,
                });
            }
        }
    }
    out
}

fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{actual} vs {expected} (±{tol})"
    );
}

/// SAS PROC FREQ's CMH "Row Mean Scores Differ" (1 df with two rows), as published by the
/// CAMIS project (PSIAIMS, "CMH test", https://psiaims.github.io/CAMIS/, SAS 9.04.01M7) and
/// reproduced in vcdExtra's `tests/testthat/test-CMHtest.R` ("2x5x2 schema, ordinal
/// variable", scenario 4): the CDISC pilot `adcibc` data (week 8, efficacy population) without
/// the low dose and the over-80s, `tables sex * trtp * aval / cmh`. Rows Placebo (our
/// reference) and Xanomeline High Dose (focal), columns CIBIC+ scores 2..6 (here 0..4: the
/// statistic is unchanged by a shift of the scores), strata sex. Published: χ² = 1.7487,
/// 1 df, p = 0.1860.
#[test]
fn mantel_matches_sas_row_mean_scores_on_the_cdisc_pilot_data() {
    let mut data = table(0, &[0, 9, 17, 1, 1], &[1, 4, 17, 7, 0]); // F
    data.extend(table(1, &[1, 6, 13, 3, 1], &[0, 8, 14, 8, 0])); // M
    let d = dif_poly(&data, 4).unwrap();
    close(d.mantel_chi2, 1.7487, 5e-5);
    close(d.p_value, 0.1860, 5e-5);
    assert_eq!((d.strata, d.strata_dropped), (2, 0));
    assert_eq!((d.reference, d.focal, d.candidates_dropped), (52, 59, 0));
}

/// The same source's 2x2x2 scenario 1 (`tables agegr1 * trtp * sex / cmh`): rows Placebo and
/// Xanomeline High Dose, "scores" sex (F = 0, M = 1), strata the age groups <65 and 65-80.
/// Published: χ² = 0.2166, p = 0.6417 (with two columns every CMH statistic is this one).
#[test]
fn mantel_matches_sas_on_a_two_column_table() {
    let mut data = table(0, &[8, 4], &[4, 6]); // <65
    data.extend(table(1, &[20, 20], &[25, 24])); // 65-80
    let d = dif_poly(&data, 1).unwrap();
    close(d.mantel_chi2, 0.2166, 5e-5);
    close(d.p_value, 0.6417, 5e-5);
}

/// Strata of one item of `MCData.csv` (5000 candidates, 30 dichotomous items, group 0
/// reference, 1 focal) of the MeasInv package accompanying Wells (2021), *Assessing
/// Measurement Invariance for Applied Research* (Cambridge University Press),
/// github.com/cswells1/MeasInv: (matching score, reference [wrong, right], focal [wrong,
/// right]). The matching score is the purified one of the book's `difStd` run (difR, weights
/// of the focal group, two-step purification): the 28 items other than 17 and 20, plus the
/// studied item. Counted from the published file, not altered.
type Strata = &'static [(u32, [u64; 2], [u64; 2])];

const ITEM20: Strata = &[
    (1, [1, 0], [1, 0]),
    (2, [0, 0], [3, 0]),
    (3, [0, 0], [3, 1]),
    (4, [2, 0], [11, 0]),
    (5, [10, 3], [28, 4]),
    (6, [21, 0], [50, 7]),
    (7, [30, 6], [49, 19]),
    (8, [55, 16], [103, 23]),
    (9, [66, 19], [103, 32]),
    (10, [60, 31], [131, 34]),
    (11, [78, 33], [134, 42]),
    (12, [89, 38], [153, 50]),
    (13, [73, 33], [140, 37]),
    (14, [89, 59], [112, 45]),
    (15, [98, 69], [114, 47]),
    (16, [83, 66], [88, 36]),
    (17, [70, 78], [112, 48]),
    (18, [72, 71], [84, 38]),
    (19, [60, 87], [87, 44]),
    (20, [54, 82], [58, 39]),
    (21, [50, 81], [61, 29]),
    (22, [32, 97], [42, 22]),
    (23, [24, 91], [36, 39]),
    (24, [19, 91], [21, 30]),
    (25, [17, 88], [16, 27]),
    (26, [11, 83], [10, 27]),
    (27, [2, 68], [4, 14]),
    (28, [0, 35], [2, 6]),
    (29, [0, 9], [0, 4]),
];

const ITEM17: Strata = &[
    (1, [1, 0], [1, 0]),
    (2, [0, 0], [4, 0]),
    (3, [0, 0], [1, 0]),
    (4, [5, 0], [13, 2]),
    (5, [10, 0], [31, 2]),
    (6, [21, 0], [60, 4]),
    (7, [39, 6], [63, 9]),
    (8, [64, 7], [112, 9]),
    (9, [77, 10], [114, 23]),
    (10, [72, 20], [140, 23]),
    (11, [89, 21], [141, 33]),
    (12, [94, 27], [163, 43]),
    (13, [100, 28], [141, 27]),
    (14, [114, 32], [128, 44]),
    (15, [119, 44], [124, 31]),
    (16, [122, 45], [117, 26]),
    (17, [100, 39], [133, 19]),
    (18, [118, 41], [107, 17]),
    (19, [94, 41], [99, 21]),
    (20, [85, 48], [76, 27]),
    (21, [86, 50], [61, 11]),
    (22, [71, 61], [61, 22]),
    (23, [60, 52], [43, 20]),
    (24, [52, 55], [31, 23]),
    (25, [52, 55], [25, 17]),
    (26, [27, 48], [18, 18]),
    (27, [10, 52], [4, 6]),
    (28, [3, 27], [4, 6]),
    (29, [0, 6], [0, 2]),
];

const ITEM2: Strata = &[
    (1, [1, 0], [1, 0]),
    (2, [0, 0], [4, 0]),
    (3, [0, 0], [3, 0]),
    (4, [3, 2], [13, 2]),
    (5, [6, 4], [24, 11]),
    (6, [17, 10], [53, 16]),
    (7, [27, 19], [42, 30]),
    (8, [41, 33], [84, 51]),
    (9, [42, 55], [67, 70]),
    (10, [24, 69], [68, 105]),
    (11, [36, 80], [59, 125]),
    (12, [31, 91], [49, 141]),
    (13, [24, 108], [45, 140]),
    (14, [23, 135], [19, 140]),
    (15, [15, 149], [18, 132]),
    (16, [12, 149], [16, 120]),
    (17, [11, 130], [13, 137]),
    (18, [8, 151], [8, 120]),
    (19, [4, 138], [7, 119]),
    (20, [5, 130], [5, 82]),
    (21, [1, 146], [3, 80]),
    (22, [3, 120], [2, 79]),
    (23, [1, 114], [0, 66]),
    (24, [0, 107], [1, 47]),
    (25, [0, 100], [0, 43]),
    (26, [0, 79], [0, 24]),
    (27, [0, 37], [0, 10]),
    (28, [0, 9], [0, 6]),
];

fn strata(s: Strata) -> Vec<PolyResponse> {
    s.iter().flat_map(|&(k, r, f)| table(k, &r, &f)).collect()
}

/// For a 0/1 item the SMD is the standardization index STD P-DIF of Dorans & Kulick (1986),
/// focal-weighted, focal minus reference. MeasInv's published `difR::difStd` output
/// (`inst/extdata/STD Output.txt`, "Weights based on the focal group", with item
/// purification): St-P-DIF item 20 = −0.1312, item 17 = −0.0624, item 2 = −0.0351, printed to 4
/// decimals. Strata holding one group only (item 20's score 2, 3 of its 29) are left out of the
/// weights, as difR does.
#[test]
fn smd_matches_the_published_std_p_dif() {
    for (s, published, dropped) in [
        (ITEM20, -0.1312, 2),
        (ITEM17, -0.0624, 2),
        (ITEM2, -0.0351, 2),
    ] {
        let d = dif_poly(&strata(s), 1).unwrap();
        close(d.smd, published, 5e-5);
        assert_eq!(d.strata_dropped, dropped);
        assert_eq!(d.reference + d.focal + d.candidates_dropped, 5000);
        assert!(d.candidates_dropped > 0);
    }
}

/// Zwick & Thayer (1996), "Evaluating the magnitude of differential item functioning in
/// polytomous items", JEBS 21(3), Table 2, as reprinted by Linacre, "DIF in polytomous items",
/// Rasch Measurement Transactions 10(3), 1996 (rasch.org/rmt/rmt103j.htm): two matching levels
/// (low, high performers), ratings 1..3 (here 0..2), rows reference, focal:
///
/// ```text
/// low:  reference 13  5  7   focal 5 14  4
/// high: reference 28 54 98   focal 1  2 10
/// ```
///
/// The published paper's own figures could not be retrieved, so these are exact hand
/// computations in fractions:
/// - focal means 22/23 (low), 22/13 (high); reference 19/25, 250/180 = 25/18; focal weights
///   23/36, 13/36: SMD = (1/36)(22 − 23·19/25 + 22 − 13·25/18) = 3809/16200.
/// - F = ΣF = 22 + 22 = 44; E(F) = 23·(19 + 22)/48 + 13·(250 + 22)/193 = 351727/9264;
///   Var(F) = Σ n_R n_F (nΣy² − (Σy)²)/(n²(n − 1)) = 55423761025/4033619712 (low: 25·23·(48·69
///   − 41²)/(48²·47); high: 180·13·(193·464 − 272²)/(193²·192)); χ² = (F − E)²/Var =
///   146808275087/55423761025 = 2.6488327816796695.
/// - all 241 candidates: mean 313/241, Σ(y − ȳ)² = 34822/241, SD = √(34822/(241·240)).
/// - p = 0.1036 ≥ .05, so AA although |SMD/SD| = 0.303 > .25.
#[test]
fn zwick_thayer_table_by_hand() {
    let mut data = table(0, &[13, 5, 7], &[5, 14, 4]);
    data.extend(table(1, &[28, 54, 98], &[1, 2, 10]));
    let d = dif_poly(&data, 2).unwrap();
    close(d.smd, 3809.0 / 16200.0, 1e-15);
    close(d.mantel_chi2, 146808275087.0 / 55423761025.0, 1e-13);
    close(
        d.mantel_z,
        (146808275087.0f64 / 55423761025.0).sqrt(),
        1e-13,
    );
    let sd = (34822.0f64 / (241.0 * 240.0)).sqrt();
    close(d.item_sd, sd, 1e-14);
    close(d.smd_sd, 3809.0 / 16200.0 / sd, 1e-13);
    close(d.p_value, dist::chi2_1_sf(2.6488327816796695), 1e-15);
    assert!(d.p_value > 0.05 && d.smd_sd > 0.25);
    assert_eq!(d.ets_class, PolyEtsClass::AA);
    assert_eq!((d.reference, d.focal), (205, 36));
}

#[test]
fn ets_classes_for_polytomous_items() {
    assert_eq!(poly_ets_class(0.2, -0.9), PolyEtsClass::AA);
    assert_eq!(poly_ets_class(0.001, 0.17), PolyEtsClass::AA);
    assert_eq!(poly_ets_class(0.001, -0.17), PolyEtsClass::AA);
    assert_eq!(poly_ets_class(0.001, 0.2), PolyEtsClass::BBPlus);
    assert_eq!(poly_ets_class(0.001, -0.25), PolyEtsClass::BBMinus);
    assert_eq!(poly_ets_class(0.049, -0.26), PolyEtsClass::CCMinus);
    assert_eq!(poly_ets_class(0.001, 0.4), PolyEtsClass::CCPlus);
    assert_eq!(poly_ets_class(0.05, 0.4), PolyEtsClass::AA);
    assert_eq!(PolyEtsClass::CCMinus.to_string(), "CC-");
    assert_eq!(
        serde_json::to_string(&PolyEtsClass::BBPlus).unwrap(),
        "\"BB+\""
    );
}

#[test]
fn strata_with_one_group_are_dropped_and_counted() {
    let mut data = table(0, &[13, 5, 7], &[5, 14, 4]);
    data.extend(table(1, &[28, 54, 98], &[1, 2, 10]));
    let base = dif_poly(&data, 2).unwrap();
    data.extend(table(7, &[3, 0, 2], &[])); // reference only
    data.extend(table(9, &[], &[0, 4, 0])); // focal only
    let d = dif_poly(&data, 2).unwrap();
    assert_eq!(
        (d.strata, d.strata_dropped, d.candidates_dropped),
        (2, 2, 9)
    );
    assert_eq!(
        (d.mantel_chi2, d.smd, d.reference, d.focal),
        (base.mantel_chi2, base.smd, base.reference, base.focal)
    );
    // The item's SD is over everyone, the dropped strata included.
    assert_ne!(d.item_sd, base.item_sd);
}

#[test]
fn edge_cases_are_clear_errors() {
    assert_eq!(dif_poly(&[], 3), Err(PolyDifError::NoResponses));
    // Empty groups.
    let only_reference = table(0, &[3, 4, 5], &[]);
    assert_eq!(dif_poly(&only_reference, 2), Err(PolyDifError::NoFocal));
    let only_focal = table(0, &[], &[3, 4, 5]);
    assert_eq!(dif_poly(&only_focal, 2), Err(PolyDifError::NoReference));
    // A constant item.
    let mut constant = table(0, &[0, 6, 0], &[0, 3, 0]);
    constant.extend(table(1, &[0, 2, 0], &[0, 5, 0]));
    assert_eq!(
        dif_poly(&constant, 2),
        Err(PolyDifError::ConstantItem { score: 1 })
    );
    // A single stratum holding both groups: no matching.
    let one = table(4, &[3, 4, 5], &[1, 2, 6]);
    let err = dif_poly(&one, 2).unwrap_err();
    assert_eq!(err, PolyDifError::OneStratum { stratum: 4 });
    assert!(err.to_string().contains("matching score 4"));
    // Two groups that never share a stratum.
    let mut apart = table(0, &[3, 4, 5], &[]);
    apart.extend(table(1, &[], &[1, 2, 6]));
    assert_eq!(
        dif_poly(&apart, 2),
        Err(PolyDifError::NoCommonStratum { strata: 2 })
    );
    // Scores vary only between strata: nothing to compare within them.
    let mut flat = table(0, &[2, 0, 0], &[3, 0, 0]);
    flat.extend(table(1, &[0, 0, 4], &[0, 0, 1]));
    assert_eq!(
        dif_poly(&flat, 2),
        Err(PolyDifError::NoVarianceWithinStrata)
    );
    let mut high = table(0, &[1, 1], &[1, 1]);
    high.push(PolyResponse {
        group: Group::Focal,
        stratum: 1,
        score: 5,
    });
    assert_eq!(
        dif_poly(&high, 4),
        Err(PolyDifError::ScoreAboveMax {
            index: 4,
            score: 5,
            max: 4
        })
    );
}

/// A score drawn from the partial credit model at η with thresholds `tau`.
fn draw(rng: &mut ChaCha8Rng, eta: f64, tau: &[f64]) -> u32 {
    let mut numerators = vec![1.0f64];
    let mut s = 0.0;
    for t in tau {
        s += eta - t;
        numerators.push(s.exp());
    }
    let total: f64 = numerators.iter().sum();
    let mut u = rng.gen::<f64>() * total;
    for (k, x) in numerators.iter().enumerate() {
        if u < *x {
            return k as u32;
        }
        u -= x;
    }
    tau.len() as u32
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Ten questions scored 0..3 (partial credit, difficulties −1..1, thresholds −1, 0, 1); 600
/// reference candidates θ ~ N(0, 1) and 400 focal θ ~ N(−0.5, 1) (a real difference in
/// ability, which matching must not mistake for DIF); question 0 is 1 logit harder for the
/// focal group. Matched on the total, 40 seeded replications: question 0 is CC− every time;
/// the nine others are AA in at least 90% of the 360 (item, replication) cases.
#[test]
fn recovers_built_in_dif_on_simulated_data() {
    let items = 10;
    let delta: Vec<f64> = (0..items)
        .map(|i| -1.0 + 2.0 * i as f64 / (items - 1) as f64)
        .collect();
    let tau = [-1.0, 0.0, 1.0];
    let (mut flagged, mut clean, mut others) = (0, 0, 0);
    let replications = 40;
    let max_scores = vec![3; items];
    for seed in 0..replications {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
        let mut scores = Vec::new();
        let mut groups = Vec::new();
        for (group, n, mean) in [(Group::Reference, 600, 0.0), (Group::Focal, 400, -0.5)] {
            for _ in 0..n {
                let theta = mean + normal(&mut rng);
                let row: Vec<Option<u32>> = (0..items)
                    .map(|i| {
                        let dif = if i == 0 && group == Group::Focal {
                            1.0
                        } else {
                            0.0
                        };
                        Some(draw(&mut rng, theta - delta[i] - dif, &tau))
                    })
                    .collect();
                scores.push(row);
                groups.push(Some(group));
            }
        }
        let results = dif_poly_items(&scores, &groups, &max_scores, Matching::Total);
        let studied = results[0].as_ref().unwrap();
        if studied.ets_class == PolyEtsClass::CCMinus {
            flagged += 1;
        }
        assert!(studied.smd < 0.0 && studied.mantel_z < 0.0);
        for r in &results[1..] {
            others += 1;
            if r.as_ref().unwrap().ets_class == PolyEtsClass::AA {
                clean += 1;
            }
        }
    }
    assert_eq!(flagged, replications, "the DIF item is CC- every time");
    assert!(
        clean as f64 >= 0.9 * others as f64,
        "{clean} of {others} items without DIF are AA"
    );
}

#[test]
fn items_table_matches_on_total_or_rest_and_skips_the_unscored() {
    // Three candidates per group on two items; the third of each group not scored on item 1.
    let scores = vec![
        vec![Some(0), Some(1)],
        vec![Some(2), Some(1)],
        vec![Some(1), None],
        vec![Some(1), Some(0)],
        vec![Some(2), Some(2)],
        vec![Some(0), None],
    ];
    let groups = [
        Some(Group::Reference),
        Some(Group::Reference),
        Some(Group::Reference),
        Some(Group::Focal),
        Some(Group::Focal),
        Some(Group::Focal),
    ];
    let results = dif_poly_items(&scores, &groups, &[2, 2], Matching::Rest);
    // Item 1 by rest score, candidates 0, 1, 3, 4 only: rest scores c0 0, c1 2, c3 1, c4 2;
    // stratum 2 holds both groups (c1 reference, c4 focal), the others one group each.
    assert_eq!(results[1], Err(PolyDifError::OneStratum { stratum: 2 }));
    // Item 0 by rest score: c0 1, c1 1, c2 0, c3 0, c4 2, c5 0: stratum 0 holds R (c2) and F
    // (c3, c5), the others one group each.
    assert_eq!(results[0], Err(PolyDifError::OneStratum { stratum: 0 }));
    // Item 0 by total: c0 1, c1 3, c2 1, c3 1, c4 4, c5 0: stratum 1 holds R (c0, c2) and F
    // (c3), the others one group each.
    let totals = dif_poly_items(&scores, &groups, &[2, 2], Matching::Total);
    assert_eq!(totals[0], Err(PolyDifError::OneStratum { stratum: 1 }));
    // No candidate in a group: both items lack the focal group.
    let none = dif_poly_items(&scores, &[Some(Group::Reference)], &[2, 2], Matching::Total);
    assert_eq!(none[0], Err(PolyDifError::NoFocal));
}
