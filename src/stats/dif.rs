//! Differential item functioning by the Mantel-Haenszel procedure (Holland & Thayer 1988,
//! "Differential item performance and the Mantel-Haenszel procedure", in Wainer & Braun (eds.),
//! Test Validity), with the ETS A/B/C classes (Zwick 2012, "A review of ETS differential item
//! functioning assessment procedures", ETS RR-12-08).
//!
//! Candidates of a reference and a focal group are matched on the total score including the
//! studied item, one stratum per score; each stratum is a 2×2 table, rows (reference, focal),
//! columns (right, wrong). When candidates were presented different items, the total is on each
//! candidate's own form, and an item's tables hold only the candidates presented it.

use std::fmt;

use serde::{Serialize, Serializer};

use super::items::Responses;
use super::{dist, finite, ratio};

/// One score stratum of one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stratum {
    pub reference_right: u64,
    pub reference_wrong: u64,
    pub focal_right: u64,
    pub focal_wrong: u64,
}

/// The ETS class of an item's DIF; `+` favours the focal group (D > 0), `-` the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtsClass {
    A,
    BPlus,
    BMinus,
    CPlus,
    CMinus,
}

impl fmt::Display for EtsClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EtsClass::A => "A",
            EtsClass::BPlus => "B+",
            EtsClass::BMinus => "B-",
            EtsClass::CPlus => "C+",
            EtsClass::CMinus => "C-",
        })
    }
}

impl Serialize for EtsClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The Mantel-Haenszel statistics of one item. `None` where undefined (no usable stratum, an
/// odds ratio of 0 or infinity, no variance); no ETS class then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MantelHaenszel {
    /// The strata used: at least 2 candidates and both groups present.
    pub strata: u64,
    /// Candidates of each group in those strata.
    pub reference: u64,
    pub focal: u64,
    /// The common odds ratio Σ(AD/T) / Σ(BC/T).
    pub alpha_mh: Option<f64>,
    /// (|ΣA − ΣE(A)| − 0.5)² / ΣVar(A).
    pub chi2_mh: Option<f64>,
    /// P(χ²₁ ≥ chi2_mh).
    pub p_value: Option<f64>,
    /// −2.35·ln(alpha_mh), the ETS delta scale.
    pub d_dif: Option<f64>,
    /// 2.35·√Var(ln alpha_mh), Robins, Breslow & Greenland (1986).
    pub d_dif_se: Option<f64>,
    pub ets_class: Option<EtsClass>,
}

/// The Mantel-Haenszel statistics of strata given as 2×2 tables. Strata with fewer than 2
/// candidates or with only one group are dropped.
pub fn mantel_haenszel(strata: &[Stratum]) -> MantelHaenszel {
    let (mut used, mut reference, mut focal) = (0u64, 0u64, 0u64);
    let (mut r, mut s) = (0.0, 0.0);
    let (mut sum_a, mut sum_e, mut sum_v) = (0.0, 0.0, 0.0);
    let (mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0);
    for st in strata {
        let n_ref = st.reference_right.saturating_add(st.reference_wrong);
        let n_foc = st.focal_right.saturating_add(st.focal_wrong);
        let total = n_ref.saturating_add(n_foc);
        if total < 2 || n_ref == 0 || n_foc == 0 {
            continue;
        }
        used += 1;
        reference = reference.saturating_add(n_ref);
        focal = focal.saturating_add(n_foc);
        let (a, b) = (st.reference_right as f64, st.reference_wrong as f64);
        let (c, d) = (st.focal_right as f64, st.focal_wrong as f64);
        let (n_ref, n_foc, t) = (n_ref as f64, n_foc as f64, total as f64);
        let (right, wrong) = (a + c, b + d);
        let rk = a * d / t;
        let sk = b * c / t;
        let (pk, qk) = ((a + d) / t, (b + c) / t);
        r += rk;
        s += sk;
        sum_a += a;
        sum_e += n_ref * right / t;
        sum_v += n_ref * n_foc * right * wrong / (t * t * (t - 1.0));
        pr += pk * rk;
        ps_qr += pk * sk + qk * rk;
        qs += qk * sk;
    }
    let alpha_mh = ratio(r, s).filter(|&a| a > 0.0);
    let chi2_mh = ratio(((sum_a - sum_e).abs() - 0.5).powi(2), sum_v);
    let p_value = chi2_mh.map(dist::chi2_1_sf);
    let d_dif = alpha_mh.and_then(|a| finite(-2.35 * a.ln()));
    let d_dif_se = if r > 0.0 && s > 0.0 {
        let var = pr / (2.0 * r * r) + ps_qr / (2.0 * r * s) + qs / (2.0 * s * s);
        finite(2.35 * var.sqrt())
    } else {
        None
    };
    let ets_class = match (d_dif, p_value, d_dif_se) {
        (Some(d), Some(p), Some(se)) => Some(ets_class(d, p, se)),
        _ => None,
    };
    MantelHaenszel {
        strata: used,
        reference,
        focal,
        alpha_mh,
        chi2_mh,
        p_value,
        d_dif,
        d_dif_se,
        ets_class,
    }
}

/// A when |D| < 1 or p ≥ .05; C when |D| ≥ 1.5 and (|D| − 1)/SE > 1.645; B otherwise.
fn ets_class(d: f64, p: f64, se: f64) -> EtsClass {
    let size = d.abs();
    let favours_focal = d > 0.0;
    if size < 1.0 || p >= 0.05 {
        EtsClass::A
    } else if size >= 1.5 && se > 0.0 && (size - 1.0) / se > 1.645 {
        if favours_focal {
            EtsClass::CPlus
        } else {
            EtsClass::CMinus
        }
    } else if favours_focal {
        EtsClass::BPlus
    } else {
        EtsClass::BMinus
    }
}

/// A candidate's group for a DIF analysis; candidates in neither are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Reference,
    Focal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifReport {
    /// Candidates in each group.
    pub reference: u64,
    pub focal: u64,
    pub items: Vec<DifItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifItem {
    pub item: String,
    #[serde(flatten)]
    pub mh: MantelHaenszel,
}

/// Mantel-Haenszel DIF for every item of a form. `groups[c]` is candidate c's group; candidates
/// beyond the end of `groups`, or with `None`, are in neither group.
///
/// Candidates are matched on their total on their own form, and each item's strata count only
/// the candidates presented it. When candidates were presented different items, the totals are
/// comparable, and so the matching meaningful, only if every form has the same length
/// ([`Responses::form_lengths`]); the strata are built all the same.
pub fn dif(responses: &Responses, groups: &[Option<Group>]) -> DifReport {
    let items = responses.items();
    let k = items.len();
    let totals = responses.totals();
    let scores = totals.iter().max().map_or(0, |&t| t as usize) + 1;
    // Per stratum the size of each group; per stratum and item, in each group, how many were
    // not presented the item and how many were right (stratum-major, so that a candidate's
    // counts are one run of k).
    let mut ref_n = vec![0u64; scores];
    let mut foc_n = vec![0u64; scores];
    let mut ref_counts = vec![Counts::default(); scores * k];
    let mut foc_counts = vec![Counts::default(); scores * k];
    let (mut reference, mut focal) = (0u64, 0u64);
    for (c, &t) in totals.iter().enumerate() {
        let t = t as usize;
        let (n, counts) = match groups.get(c).copied().flatten() {
            Some(Group::Reference) => {
                reference += 1;
                (&mut ref_n, &mut ref_counts)
            }
            Some(Group::Focal) => {
                focal += 1;
                (&mut foc_n, &mut foc_counts)
            }
            None => continue,
        };
        n[t] += 1;
        for (score, count) in responses.scores(c).zip(&mut counts[t * k..(t + 1) * k]) {
            match score {
                None => count.absent += 1,
                Some(right) => count.right += u32::from(right),
            }
        }
    }
    let mut strata = Vec::with_capacity(scores);
    let items = items
        .iter()
        .enumerate()
        .map(|(i, key)| {
            strata.clear();
            strata.extend((0..scores).map(|t| {
                let (r, f) = (ref_counts[t * k + i], foc_counts[t * k + i]);
                let (rr, fr) = (u64::from(r.right), u64::from(f.right));
                Stratum {
                    reference_right: rr,
                    reference_wrong: ref_n[t] - u64::from(r.absent) - rr,
                    focal_right: fr,
                    focal_wrong: foc_n[t] - u64::from(f.absent) - fr,
                }
            }));
            DifItem {
                item: key.id.clone(),
                mh: mantel_haenszel(&strata),
            }
        })
        .collect();
    DifReport {
        reference,
        focal,
        items,
    }
}

/// Of the candidates of one group and stratum, for one item: how many were not presented it,
/// and how many answered it right.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    absent: u32,
    right: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::items::ItemKey;

    fn stratum(a: u64, b: u64, c: u64, d: u64) -> Stratum {
        Stratum {
            reference_right: a,
            reference_wrong: b,
            focal_right: c,
            focal_wrong: d,
        }
    }

    fn close(actual: Option<f64>, expected: f64, tol: f64) {
        let a = actual.expect("defined");
        assert!((a - expected).abs() <= tol, "{a} vs {expected}");
    }

    const EXAMPLE: [(u64, u64, u64, u64); 3] =
        [(30, 20, 20, 30), (40, 10, 30, 20), (45, 5, 40, 10)];

    /// The three-stratum example of the worked examples, with the Mantel-Haenszel estimator and
    /// test of Mantel & Haenszel (1959), "Statistical aspects of the analysis of data from
    /// retrospective studies of disease", JNCI 22(4), the variance of ln α of Robins, Breslow &
    /// Greenland (1986), Biometrics 42(2), and the ETS rules of Zwick (2012): α = 2.38888…,
    /// χ² = 9.706212765957448, p = 0.0018364608806423766, D = −2.0464466408238846, SE(D) =
    /// 0.6351451724165122, class C−.
    #[test]
    fn mantel_haenszel_worked_example() {
        let strata: Vec<Stratum> = EXAMPLE
            .iter()
            .map(|&(a, b, c, d)| stratum(a, b, c, d))
            .collect();
        let mh = mantel_haenszel(&strata);
        close(mh.alpha_mh, 2.388888888888889, 1e-14);
        close(mh.chi2_mh, 9.706212765957448, 1e-12);
        close(mh.p_value, 0.0018364608806423766, 1e-15);
        close(mh.d_dif, -2.0464466408238846, 1e-13);
        close(mh.d_dif_se, 0.6351451724165122, 1e-13);
        assert_eq!(mh.ets_class, Some(EtsClass::CMinus));
        assert_eq!((mh.strata, mh.reference, mh.focal), (3, 150, 150));
    }

    #[test]
    fn strata_without_both_groups_or_two_candidates_are_dropped() {
        let mut strata: Vec<Stratum> = EXAMPLE
            .iter()
            .map(|&(a, b, c, d)| stratum(a, b, c, d))
            .collect();
        strata.push(stratum(0, 0, 0, 1));
        strata.push(stratum(5, 3, 0, 0));
        strata.push(stratum(0, 0, 0, 0));
        strata.push(stratum(1, 0, 0, 0));
        let mh = mantel_haenszel(&strata);
        assert_eq!(mh.strata, 3);
        close(mh.chi2_mh, 9.706212765957448, 1e-12);
        // Nothing usable at all.
        let mh = mantel_haenszel(&[stratum(3, 1, 0, 0)]);
        assert_eq!(mh.strata, 0);
        assert_eq!(
            (mh.alpha_mh, mh.chi2_mh, mh.p_value, mh.d_dif, mh.ets_class),
            (None, None, None, None, None)
        );
        // Focal candidates never right where reference ones are wrong: α infinite.
        let mh = mantel_haenszel(&[stratum(5, 0, 3, 2), stratum(4, 0, 1, 3)]);
        assert_eq!((mh.alpha_mh, mh.d_dif, mh.ets_class), (None, None, None));
        assert!(mh.chi2_mh.is_some());
    }

    #[test]
    fn ets_classes() {
        assert_eq!(ets_class(-0.9, 0.001, 0.1), EtsClass::A);
        assert_eq!(ets_class(-2.0, 0.06, 0.1), EtsClass::A);
        assert_eq!(ets_class(1.2, 0.01, 0.1), EtsClass::BPlus);
        assert_eq!(ets_class(-1.2, 0.01, 0.1), EtsClass::BMinus);
        // |D| ≥ 1.5 but not significantly above 1: B.
        assert_eq!(ets_class(-1.6, 0.01, 0.5), EtsClass::BMinus);
        assert_eq!(ets_class(1.6, 0.01, 0.2), EtsClass::CPlus);
        assert_eq!(EtsClass::CMinus.to_string(), "C-");
    }

    /// The worked example built as candidates: totals 1, 2, 3 on a four-item form whose first
    /// item is studied; each candidate's other three items make up the rest of their total.
    #[test]
    fn dif_on_responses_rebuilds_the_strata() {
        let keys: Vec<ItemKey> = (1..=4)
            .map(|i| ItemKey {
                id: format!("Q{i}"),
                domain: None,
                options: 2,
                accepted: 1,
            })
            .collect();
        let mut responses = Responses::new(keys).unwrap();
        let mut groups = Vec::new();
        let (right, wrong) = (Some(0), Some(1));
        for (s, &(a, b, c, d)) in EXAMPLE.iter().enumerate() {
            let total = s + 1;
            for (count, group, q1) in [
                (a, Group::Reference, right),
                (b, Group::Reference, wrong),
                (c, Group::Focal, right),
                (d, Group::Focal, wrong),
            ] {
                let others = total - usize::from(q1 == right);
                let mut row = vec![q1];
                row.extend((0..3).map(|j| if j < others { right } else { wrong }));
                for _ in 0..count {
                    responses.push(&row).unwrap();
                    groups.push(Some(group));
                }
            }
        }
        // Candidates in no group change nothing.
        responses.push(&[right, right, right, right]).unwrap();
        groups.push(None);
        let report = dif(&responses, &groups);
        assert_eq!((report.reference, report.focal), (150, 150));
        let q1 = &report.items[0];
        assert_eq!(q1.item, "Q1");
        close(q1.mh.alpha_mh, 2.388888888888889, 1e-14);
        close(q1.mh.chi2_mh, 9.706212765957448, 1e-12);
        assert_eq!(q1.mh.ets_class, Some(EtsClass::CMinus));
    }

    /// The worked example on a pool of five items, each candidate presented four: the example's
    /// candidates Q1 to Q4 (not Q5), and 30 more Q2 to Q5 (not Q1), 5 of each group at each
    /// total 1, 2, 3, three of the five right on Q5. Q1's strata hold only its 300 candidates, so
    /// its statistics are the example's; Q5's only the 30: (3, 2, 3, 2) at each total, α = 1.
    #[test]
    fn dif_counts_only_the_candidates_presented_the_item() {
        use crate::stats::items::Cell;
        let keys: Vec<ItemKey> = (1..=5)
            .map(|i| ItemKey {
                id: format!("Q{i}"),
                domain: None,
                options: 2,
                accepted: 1,
            })
            .collect();
        let mut responses = Responses::new(keys.clone()).unwrap();
        let mut four = Responses::new(keys[..4].to_vec()).unwrap();
        let mut groups = Vec::new();
        let (right, wrong, absent) = (Cell::Chose(0), Cell::Chose(1), Cell::NotPresented);
        // `first` on the studied item, then `others` right of the three after it.
        let row = |first: Cell, others: usize| -> Vec<Cell> {
            let mut row = vec![first];
            row.extend((0..3).map(|j| if j < others { right } else { wrong }));
            row
        };
        for (s, &(a, b, c, d)) in EXAMPLE.iter().enumerate() {
            let total = s + 1;
            for (count, group, q1) in [
                (a, Group::Reference, right),
                (b, Group::Reference, wrong),
                (c, Group::Focal, right),
                (d, Group::Focal, wrong),
            ] {
                let cells = row(q1, total - usize::from(q1 == right));
                let answers: Vec<Option<u8>> = cells
                    .iter()
                    .map(|c| match *c {
                        Cell::Chose(o) => Some(o),
                        _ => None,
                    })
                    .collect();
                for _ in 0..count {
                    let mut presented = cells.clone();
                    presented.push(absent);
                    responses.push_presented(&presented).unwrap();
                    four.push(&answers).unwrap();
                    groups.push(Some(group));
                }
            }
        }
        let example = dif(&four, &groups);
        for total in 1..=3 {
            for group in [Group::Reference, Group::Focal] {
                for j in 0..5 {
                    let q5 = if j < 3 { right } else { wrong };
                    // Q2, Q3, Q4 then Q5: the rest of the total on Q2 to Q4.
                    let mut cells = vec![absent];
                    cells.extend(
                        row(q5, total - usize::from(q5 == right))
                            .into_iter()
                            .skip(1),
                    );
                    cells.push(q5);
                    responses.push_presented(&cells).unwrap();
                    groups.push(Some(group));
                }
            }
        }
        let extra: Vec<u32> = (1..=3).flat_map(|t| [t; 10]).collect();
        assert_eq!(responses.totals()[300..], extra[..]);
        assert_eq!(responses.form_lengths(), Some((4, 4)));
        let report = dif(&responses, &groups);
        assert_eq!((report.reference, report.focal), (165, 165));
        assert_eq!(report.items[0].mh, example.items[0].mh);
        assert_eq!(
            (report.items[0].mh.reference, report.items[0].mh.focal),
            (150, 150)
        );
        close(report.items[0].mh.alpha_mh, 2.388888888888889, 1e-14);
        let q5 = &report.items[4].mh;
        assert_eq!((q5.strata, q5.reference, q5.focal), (3, 15, 15));
        assert_eq!(q5.alpha_mh, Some(1.0));
        assert_eq!(q5.d_dif, Some(0.0));
        assert_eq!(q5.ets_class, Some(EtsClass::A));
    }

    #[test]
    fn dif_with_no_candidates_or_groups() {
        let keys = vec![ItemKey {
            id: "Q1".into(),
            domain: None,
            options: 4,
            accepted: 1,
        }];
        let mut responses = Responses::new(keys).unwrap();
        let report = dif(&responses, &[]);
        assert_eq!(report.items[0].mh.strata, 0);
        responses.push(&[Some(0)]).unwrap();
        let report = dif(&responses, &[]);
        assert_eq!((report.reference, report.focal), (0, 0));
        assert_eq!(report.items[0].mh.alpha_mh, None);
    }
}
