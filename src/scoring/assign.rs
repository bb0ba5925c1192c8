//! Which rater reads which response.
//!
//! A response goes to distinct raters; never to a rater of the candidate's own organisation nor
//! to one who declared a conflict with the candidate. Each reading goes to the eligible rater with
//! the least work so far, so loads stay within one of each other wherever eligibility allows;
//! ties are broken by a hash of (response, rater), so the same two raters are not always paired.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaterInfo {
    pub id: i64,
    pub organisation: String,
}

/// A response that needs more readings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Need {
    pub response_id: i64,
    /// The candidate's organisation; None for a validity response (no candidate).
    pub organisation: Option<String>,
    /// Raters who declared a conflict with the candidate.
    pub conflicts: BTreeSet<i64>,
    /// Raters who read it already or hold it now: a response never goes twice to one rater.
    pub excluded: BTreeSet<i64>,
    pub readings: u32,
    /// The responses it stands for (a candidate's vignette read together); 0 is taken as 1.
    /// Each reading adds this much to the rater's load.
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// (response, rater), in the order decided.
    pub assignments: Vec<(i64, i64)>,
    /// Responses that could not get every reading they need, and how many they lack.
    pub short: Vec<(i64, u32)>,
}

/// Two organisations are the same when their names match, ignoring case and spacing; a blank
/// organisation matches nothing.
pub fn same_organisation(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

/// Whether `rater` may read the response of `need`.
pub fn eligible(rater: &RaterInfo, need: &Need) -> bool {
    !need.excluded.contains(&rater.id)
        && !need.conflicts.contains(&rater.id)
        && !need
            .organisation
            .as_deref()
            .is_some_and(|org| same_organisation(org, &rater.organisation))
}

fn tie_break(response: i64, rater: i64) -> u64 {
    // SplitMix64 of the pair: cheap, stable across runs and platforms.
    let mut z = (response as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(rater as u64);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Plans the readings `needs` lack. `load` is each rater's work so far (readings held or done);
/// raters missing from it start at 0.
pub fn plan(raters: &[RaterInfo], load: &BTreeMap<i64, u32>, needs: &[Need]) -> Plan {
    let mut load: BTreeMap<i64, u32> = raters
        .iter()
        .map(|r| (r.id, load.get(&r.id).copied().unwrap_or(0)))
        .collect();
    let mut plan = Plan::default();
    // The hardest to place first: the fewest eligible raters.
    let mut order: Vec<&Need> = needs.iter().collect();
    order.sort_by_key(|n| {
        (
            raters.iter().filter(|r| eligible(r, n)).count(),
            n.response_id,
        )
    });
    for need in order {
        let mut need = need.clone();
        let mut lacking = need.readings;
        while lacking > 0 {
            let pick = raters
                .iter()
                .filter(|r| eligible(r, &need))
                .min_by_key(|r| (load[&r.id], tie_break(need.response_id, r.id)));
            let Some(rater) = pick else { break };
            plan.assignments.push((need.response_id, rater.id));
            *load.get_mut(&rater.id).expect("every rater has a load") += need.size.max(1);
            need.excluded.insert(rater.id);
            lacking -= 1;
        }
        if lacking > 0 {
            plan.short.push((need.response_id, lacking));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rater(id: i64, org: &str) -> RaterInfo {
        RaterInfo {
            id,
            organisation: org.into(),
        }
    }

    fn need(id: i64, org: &str) -> Need {
        Need {
            response_id: id,
            organisation: Some(org.into()),
            readings: 2,
            ..Need::default()
        }
    }

    #[test]
    fn two_distinct_raters_never_of_the_candidates_organisation_nor_in_conflict() {
        let raters = [
            rater(1, "Lakeside Clinic"),
            rater(2, "Hillview"),
            rater(3, "Riverside"),
            rater(4, "Northgate"),
        ];
        let mut needs: Vec<Need> = (0..40).map(|i| need(i, " lakeside  clinic")).collect();
        needs[0].conflicts.insert(2);
        let plan = plan(&raters, &BTreeMap::new(), &needs);
        assert!(plan.short.is_empty());
        assert_eq!(plan.assignments.len(), 80);
        for n in &needs {
            let got: Vec<i64> = plan
                .assignments
                .iter()
                .filter(|(r, _)| *r == n.response_id)
                .map(|(_, rater)| *rater)
                .collect();
            assert_eq!(got.len(), 2);
            assert_ne!(got[0], got[1]);
            assert!(
                !got.contains(&1),
                "rater 1 works at the candidate's organisation"
            );
        }
        assert!(plan
            .assignments
            .iter()
            .all(|(r, rater)| !(*r == 0 && *rater == 2)));
    }

    #[test]
    fn loads_stay_within_one_and_pairs_vary() {
        let raters: Vec<RaterInfo> = (1..=5).map(|i| rater(i, &format!("Org {i}"))).collect();
        let needs: Vec<Need> = (0..101).map(|i| need(i, "Elsewhere")).collect();
        let plan = plan(&raters, &BTreeMap::new(), &needs);
        let mut load = BTreeMap::new();
        for (_, r) in &plan.assignments {
            *load.entry(*r).or_insert(0) += 1;
        }
        let (min, max) = (load.values().min().unwrap(), load.values().max().unwrap());
        assert!(max - min <= 1, "{load:?}");
        let mut pairs = BTreeSet::new();
        for chunk in plan.assignments.chunks(2) {
            pairs.insert((chunk[0].1.min(chunk[1].1), chunk[0].1.max(chunk[1].1)));
        }
        assert!(
            pairs.len() >= 8,
            "only {} rater pairs: {pairs:?}",
            pairs.len()
        );
    }

    #[test]
    fn existing_work_counts_and_a_shortfall_is_reported() {
        let raters = [rater(1, "A"), rater(2, "B"), rater(3, "C")];
        let load = BTreeMap::from([(1, 10), (2, 10)]);
        let p = plan(
            &raters,
            &load,
            &[Need {
                readings: 1,
                ..need(7, "Z")
            }],
        );
        assert_eq!(p.assignments, vec![(7, 3)], "the least loaded rater");
        // Only rater 3 is eligible (1 is excluded, 2 shares the organisation): one short.
        let mut n = need(8, "b");
        n.excluded.insert(1);
        let p = plan(&raters, &BTreeMap::new(), &[n]);
        assert_eq!(p.assignments, vec![(8, 3)]);
        assert_eq!(p.short, vec![(8, 1)]);
    }

    #[test]
    fn organisations_match_loosely_but_blank_matches_nothing() {
        assert!(same_organisation("Lakeside  Clinic", "lakeside clinic"));
        assert!(!same_organisation("", ""));
        assert!(!same_organisation("Lakeside", "Lakeside Clinic"));
    }
}
