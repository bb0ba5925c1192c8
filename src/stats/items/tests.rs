use super::*;

fn key(id: &str, options: u8, accepted: &[u8]) -> ItemKey {
    ItemKey {
        id: id.to_string(),
        domain: None,
        options,
        accepted: accepted.iter().fold(0, |a, &o| a | 1 << o),
    }
}

/// 0/1 scores as answers to two-option items keyed A (1 → A, 0 → B).
fn from_scores(scores: &[&[u8]]) -> Responses {
    let k = scores[0].len();
    let keys = (0..k)
        .map(|i| key(&format!("Q{}", i + 1), 2, &[0]))
        .collect();
    let mut r = Responses::new(keys).unwrap();
    for row in scores {
        let answers: Vec<Option<u8>> = row.iter().map(|&x| Some(1 - x)).collect();
        r.push(&answers).unwrap();
    }
    r
}

fn close(actual: Option<f64>, expected: f64, tol: f64) {
    let a = actual.expect("defined");
    assert!((a - expected).abs() <= tol, "{a} vs {expected}");
}

const KR20_EXAMPLE: [&[u8]; 8] = [
    &[1, 1, 1, 0, 1],
    &[1, 0, 1, 0, 0],
    &[1, 1, 1, 1, 1],
    &[0, 0, 1, 0, 0],
    &[1, 1, 0, 1, 1],
    &[0, 0, 0, 0, 1],
    &[1, 1, 1, 1, 0],
    &[1, 0, 1, 0, 1],
];

/// KR-20 and KR-21 (Kuder & Richardson 1937, "The theory of the estimation of test
/// reliability", Psychometrika 2(3), formulas 20 and 21) on the eight-candidate, five-item
/// example of the worked examples: KR-20 = 0.56640625, KR-21 = 0.5 with the population variance
/// of the totals. The per-item figures and Feldt's bounds were recomputed with mpmath.
#[test]
fn kr20_worked_example() {
    let a = item_analysis(&from_scores(&KR20_EXAMPLE));
    let f = &a.form;
    assert_eq!(f.kr20, Some(0.56640625));
    assert_eq!(f.kr21, Some(0.5));
    close(f.alpha, 0.56640625, 1e-15);
    assert_eq!((f.candidates, f.items), (8, 5));
    assert_eq!(f.mean, Some(3.0));
    close(f.sd, 1.5118578920369088, 1e-15);
    close(f.sem, 0.995525704626168, 1e-14);
    close(f.alpha_low, -0.20623992770079405, 1e-12);
    close(f.alpha_high, 0.9009497793478517, 1e-12);
    assert_eq!(f.distribution, vec![0, 2, 1, 1, 3, 1]);
    assert_eq!(a.group_27, 2);

    // p, pbis, pbis_rest, alpha if deleted, disc_27 per item.
    let want = [
        (
            0.75,
            0.8164965809277261,
            0.6622661785325219,
            0.31578947368421045,
            1.0,
        ),
        (0.5, 0.8838834764831843, 0.75, 0.20833333333333331, 1.0),
        (
            0.75,
            0.20412414523193154,
            -0.10369516947304253,
            0.7096774193548386,
            0.5,
        ),
        (
            0.375,
            0.7302967433402214,
            0.4938439597080077,
            0.40506329113924044,
            0.5,
        ),
        (
            0.625,
            0.3651483716701107,
            0.02450715406979359,
            0.6726726726726726,
            0.5,
        ),
    ];
    for (item, w) in a.items.iter().zip(want) {
        assert_eq!(item.p, Some(w.0));
        close(item.pbis, w.1, 1e-14);
        close(item.pbis_rest, w.2, 1e-14);
        close(item.alpha_if_deleted, w.3, 1e-14);
        close(item.disc_27, w.4, 1e-15);
        assert_eq!(item.n, 8);
        assert_eq!(item.omitted, 0);
    }
    // Q3 and Q5: p is fine but pbis_rest < 0.15.
    assert_eq!(a.items[2].flags, vec![Flag::LowDiscrimination]);
    assert_eq!(a.items[4].flags, vec![Flag::LowDiscrimination]);
    assert_eq!(a.items[1].flags, vec![]);
    // The key's pbis is the item's; the distractor's is its negative for a two-option item.
    let q1 = &a.items[0];
    assert_eq!(q1.options[0].pbis, q1.pbis);
    close(q1.options[1].pbis, -q1.pbis.unwrap(), 1e-15);
    assert_eq!(q1.options[0].upper, Some(1.0));
    assert_eq!(q1.options[0].lower, Some(0.0));
}

/// A small deterministic generator, so the property test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn naive_pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let syy: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

fn naive_kr20(scores: &[Vec<f64>]) -> Option<f64> {
    let n = scores.len() as f64;
    let k = scores[0].len();
    let totals: Vec<f64> = scores.iter().map(|r| r.iter().sum()).collect();
    let m = totals.iter().sum::<f64>() / n;
    let var = totals.iter().map(|t| (t - m) * (t - m)).sum::<f64>() / n;
    let pq: f64 = (0..k)
        .map(|i| {
            let p = scores.iter().map(|r| r[i]).sum::<f64>() / n;
            p * (1.0 - p)
        })
        .sum();
    (var > 0.0 && k > 1).then(|| k as f64 / (k as f64 - 1.0) * (1.0 - pq / var))
}

/// Every statistic from running sums equals the textbook recomputation (alpha if deleted by
/// recomputing alpha without the item, the 27% groups by an explicit stable sort).
#[test]
fn running_sums_match_a_naive_recomputation() {
    let mut rng = Lcg(7);
    let k = 12;
    let keys: Vec<ItemKey> = (0..k)
        .map(|i| {
            let mut item = key(&format!("I{i}"), 4, &[(i % 4) as u8]);
            if i == 5 {
                item.accepted |= 1 << 3; // two accepted answers
            }
            item.domain = Some(["B", "A"][i % 2].to_string());
            item
        })
        .collect();
    let mut responses = Responses::new(keys.clone()).unwrap();
    let n = 61;
    for c in 0..n {
        let ability = c as u64 % 5;
        let answers: Vec<Option<u8>> = (0..k)
            .map(|i| match rng.below(10) {
                0 => None,
                r if r < 3 + ability => Some((i % 4) as u8),
                _ => Some(rng.below(4) as u8),
            })
            .collect();
        responses.push(&answers).unwrap();
    }
    let a = item_analysis(&responses);
    let scores: Vec<Vec<f64>> = (0..n)
        .map(|c| {
            (0..k)
                .map(|i| f64::from(u8::from(responses.correct(c, i))))
                .collect()
        })
        .collect();
    let totals: Vec<f64> = scores.iter().map(|r| r.iter().sum()).collect();
    close(a.form.kr20, naive_kr20(&scores).unwrap(), 1e-12);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| totals[y].total_cmp(&totals[x]));
    let g = (0.27 * n as f64).round() as usize;
    assert_eq!(a.group_27, g as u64);
    let (upper, lower) = (&order[..g], &order[n - g..]);
    for (i, item) in a.items.iter().enumerate() {
        let x: Vec<f64> = scores.iter().map(|r| r[i]).collect();
        let rest: Vec<f64> = totals.iter().zip(&x).map(|(t, x)| t - x).collect();
        close(item.pbis, naive_pearson(&x, &totals).unwrap(), 1e-12);
        close(item.pbis_rest, naive_pearson(&x, &rest).unwrap(), 1e-12);
        let without: Vec<Vec<f64>> = scores
            .iter()
            .map(|r| (0..k).filter(|&j| j != i).map(|j| r[j]).collect())
            .collect();
        close(item.alpha_if_deleted, naive_kr20(&without).unwrap(), 1e-12);
        let share = |group: &[usize]| group.iter().map(|&c| x[c]).sum::<f64>() / g as f64;
        close(item.disc_27, share(upper) - share(lower), 1e-15);
        let omitted = (0..n).filter(|&c| responses.row(c)[i] == OMIT).count();
        assert_eq!(item.omitted, omitted as u64);
        for o in &item.options {
            let chose: Vec<f64> = (0..n)
                .map(|c| f64::from(u8::from(responses.row(c)[i] == o.option as u8 - b'A')))
                .collect();
            if let Some(r) = naive_pearson(&chose, &totals) {
                close(o.pbis, r, 1e-12);
            }
            let chose_in =
                |group: &[usize]| group.iter().map(|&c| chose[c]).sum::<f64>() / g as f64;
            close(o.upper, chose_in(upper), 1e-15);
            close(o.lower, chose_in(lower), 1e-15);
        }
    }
    assert!(a.items[5].options[3].key && a.items[5].options[1].key);
    // A sub-score is the analysis of its items alone.
    assert_eq!(a.domains.len(), 2);
    assert_eq!(a.domains[0].domain, "A");
    let only_a: Vec<Vec<f64>> = scores
        .iter()
        .map(|r| (0..k).filter(|j| j % 2 == 1).map(|j| r[j]).collect())
        .collect();
    close(a.domains[0].stats.kr20, naive_kr20(&only_a).unwrap(), 1e-12);
    assert_eq!(a.domains[0].stats.items, 6);
    assert_eq!(
        a.domains[0].stats.distribution.iter().sum::<u64>(),
        n as u64
    );
}

#[test]
fn degenerate_forms_never_panic() {
    // No candidates.
    let r = Responses::new(vec![key("Q1", 4, &[0]), key("Q2", 4, &[1])]).unwrap();
    let a = item_analysis(&r);
    assert_eq!(a.form.candidates, 0);
    assert_eq!((a.form.mean, a.form.sd, a.form.kr20), (None, None, None));
    assert_eq!(a.items[0].p, None);
    assert_eq!(a.form.distribution, vec![0, 0, 0]);
    // One candidate.
    let a = item_analysis(&from_scores(&[&[1, 0, 1]]));
    assert_eq!(a.form.mean, Some(2.0));
    assert_eq!((a.form.sd, a.form.alpha, a.form.sem), (None, None, None));
    assert_eq!(a.group_27, 0);
    assert_eq!(a.items[0].disc_27, None);
    // Everyone has the same score.
    let a = item_analysis(&from_scores(&[&[1, 0], &[0, 1], &[1, 0]]));
    assert_eq!(a.form.sd, Some(0.0));
    assert_eq!((a.form.kr20, a.form.kr21, a.form.alpha), (None, None, None));
    // One item: alpha needs two, alpha if deleted three.
    let a = item_analysis(&from_scores(&[&[1], &[0], &[1]]));
    assert_eq!((a.form.kr20, a.items[0].alpha_if_deleted), (None, None));
    // No items at all.
    let mut r = Responses::new(vec![]).unwrap();
    r.push(&[]).unwrap();
    let a = item_analysis(&r);
    assert_eq!(a.form.distribution, vec![1]);
    // Everyone right, everyone omitting the distractors.
    let a = item_analysis(&from_scores(&[&[1, 1], &[1, 0], &[1, 1]]));
    assert_eq!(a.items[0].p, Some(1.0));
    assert_eq!(a.items[0].pbis, None);
    assert_eq!(
        a.items[0].flags,
        vec![Flag::Easy, Flag::DistractorRare('B')]
    );
    assert_eq!(Flag::DistractorRare('B').to_string(), "distractor_rare:B");
}

#[test]
fn omitted_answers_score_zero_and_are_counted() {
    let mut r = Responses::new(vec![key("Q1", 3, &[2]), key("Q2", 3, &[0])]).unwrap();
    r.push(&[None, Some(0)]).unwrap();
    r.push(&[Some(2), None]).unwrap();
    r.push(&[Some(2), Some(0)]).unwrap();
    r.push(&[Some(1), None]).unwrap();
    let a = item_analysis(&r);
    assert_eq!(r.totals(), vec![1, 1, 2, 0]);
    assert_eq!(a.items[0].omitted, 1);
    assert_eq!(a.items[1].omitted, 2);
    assert_eq!(a.items[0].p, Some(0.5));
    assert_eq!(a.items[0].options[0].count, 0);
    assert_eq!(a.items[0].options[0].proportion, Some(0.0));
    assert!(a.items[0].flags.contains(&Flag::DistractorRare('A')));
}

#[test]
fn a_bad_key_or_answer_is_refused() {
    assert!(matches!(
        Responses::new(vec![key("Q1", 0, &[])]),
        Err(ResponsesError::Options { .. })
    ));
    assert!(matches!(
        Responses::new(vec![key("Q1", 27, &[0])]),
        Err(ResponsesError::Options { .. })
    ));
    assert!(matches!(
        Responses::new(vec![key("Q1", 4, &[])]),
        Err(ResponsesError::Key { .. })
    ));
    assert!(matches!(
        Responses::new(vec![key("Q1", 4, &[4])]),
        Err(ResponsesError::Key { .. })
    ));
    let mut r = Responses::new(vec![key("Q1", 4, &[0])]).unwrap();
    assert_eq!(
        r.push(&[Some(4)]),
        Err(ResponsesError::Choice {
            id: "Q1".into(),
            option: 4,
            options: 4
        })
    );
    assert_eq!(
        r.push(&[None, None]),
        Err(ResponsesError::Length { found: 2, items: 1 })
    );
    assert_eq!(r.candidates(), 0);
}

/// A miskeyed item: the strongest candidates choose B.
#[test]
fn a_miskeyed_item_is_flagged() {
    let keys = (1..=3).map(|i| key(&format!("Q{i}"), 4, &[0])).collect();
    let mut r = Responses::new(keys).unwrap();
    let (a, b, c, d) = (Some(0), Some(1), Some(2), Some(3));
    for row in [
        [b, a, a],
        [b, a, a],
        [b, a, a],
        [a, b, b],
        [c, b, b],
        [d, a, b],
        [c, b, a],
        [b, a, a],
    ] {
        r.push(&row).unwrap();
    }
    let a = item_analysis(&r);
    assert_eq!(a.items[0].p, Some(0.125));
    assert_eq!(
        a.items[0].flags,
        vec![
            Flag::Hard,
            Flag::LowDiscrimination,
            Flag::DistractorPositive('B')
        ]
    );
    assert!(a.items[0].options[1].pbis.unwrap() > 0.0);
}
