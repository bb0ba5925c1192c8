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

/// A table of `n` candidates × `k` items of four options (item i keyed `i % 4`, item 5 also D),
/// in two domains, 10% of the presented omitted; `form` draws the items a candidate is
/// presented.
fn generated(k: usize, n: usize, seed: u64, form: impl Fn(&mut Lcg) -> Vec<bool>) -> Responses {
    let mut rng = Lcg(seed);
    let keys: Vec<ItemKey> = (0..k)
        .map(|i| {
            let mut item = key(&format!("I{i}"), 4, &[(i % 4) as u8]);
            if i == 5 {
                item.accepted |= 1 << 3;
            }
            item.domain = Some(["B", "A"][i % 2].to_string());
            item
        })
        .collect();
    let mut responses = Responses::new(keys).unwrap();
    for c in 0..n {
        let ability = c as u64 % 5;
        let shown = form(&mut rng);
        let cells: Vec<Cell> = (0..k)
            .map(|i| match rng.below(10) {
                _ if !shown[i] => Cell::NotPresented,
                0 => Cell::Omitted,
                r if r < 3 + ability => Cell::Chose((i % 4) as u8),
                _ => Cell::Chose(rng.below(4) as u8),
            })
            .collect();
        responses.push_presented(&cells).unwrap();
    }
    responses
}

/// `m` of the `k` items, drawn at random.
fn draw(rng: &mut Lcg, k: usize, m: usize) -> Vec<bool> {
    let mut shown = vec![false; k];
    let mut left = m;
    for (i, s) in shown.iter_mut().enumerate() {
        // Each remaining item with probability (items still to draw) / (items left).
        if rng.below((k - i) as u64) < left as u64 {
            *s = true;
            left -= 1;
        }
    }
    shown
}

/// A full table pushed cell by cell, every cell presented, is the same table as with `push`,
/// and so gives the same analysis and DIF.
#[test]
fn every_cell_presented_is_the_same_as_push() {
    let full = generated(9, 57, 11, |_| vec![true; 9]);
    assert!(full.all_presented());
    let mut old = Responses::new(full.items().to_vec()).unwrap();
    for c in 0..full.candidates() {
        let answers: Vec<Option<u8>> = (0..9)
            .map(|i| match full.cell(c, i) {
                Some(Cell::Chose(o)) => Some(o),
                _ => None,
            })
            .collect();
        old.push(&answers).unwrap();
        let cells: Vec<Cell> = answers.iter().map(|&a| Cell::from(a)).collect();
        assert_eq!(
            (0..9).map(|i| full.cell(c, i).unwrap()).collect::<Vec<_>>(),
            cells
        );
    }
    assert_eq!(old, full);
    assert_eq!(item_analysis(&old), item_analysis(&full));
    let groups: Vec<Option<crate::stats::Group>> = (0..57)
        .map(|c| {
            [
                Some(crate::stats::Group::Reference),
                Some(crate::stats::Group::Focal),
                None,
            ][c % 3]
        })
        .collect();
    assert_eq!(
        crate::stats::dif(&old, &groups),
        crate::stats::dif(&full, &groups)
    );
    // The fixed form's alpha if deleted is the recomputed alpha.
    assert!(item_analysis(&full)
        .items
        .iter()
        .all(|i| i.alpha_if_deleted.is_some()));
}

/// Eight candidates, each presented two of three items (three options, A to C):
///
/// | candidate | Q1 (key A) | Q2 (key B) | Q3 (key A) | total |
/// |---|---|---|---|---|
/// | c0 | A | B | – | 2 |
/// | c1 | B | – | A | 1 |
/// | c2 | – | B | C | 1 |
/// | c3 | A | omitted | – | 1 |
/// | c4 | C | – | omitted | 0 |
/// | c5 | – | A | A | 1 |
/// | c6 | A | – | A | 2 |
/// | c7 | – | B | B | 1 |
#[test]
fn varied_forms_by_hand() {
    let keys = vec![key("Q1", 3, &[0]), key("Q2", 3, &[1]), key("Q3", 3, &[0])];
    let mut r = Responses::new(keys).unwrap();
    let (a, b, c, o, x) = (
        Cell::Chose(0),
        Cell::Chose(1),
        Cell::Chose(2),
        Cell::Omitted,
        Cell::NotPresented,
    );
    for row in [
        [a, b, x],
        [b, x, a],
        [x, b, c],
        [a, o, x],
        [c, x, o],
        [x, a, a],
        [a, x, a],
        [x, b, b],
    ] {
        r.push_presented(&row).unwrap();
    }
    assert!(!r.all_presented());
    assert_eq!(r.form_lengths(), Some((2, 2)));
    assert_eq!(r.totals(), vec![2, 1, 1, 1, 0, 1, 2, 1]);
    assert_eq!(r.cell(2, 0), Some(Cell::NotPresented));
    assert_eq!(r.cell(3, 1), Some(Cell::Omitted));
    assert_eq!(r.cell(8, 0), None);
    assert!(!r.presented(2, 0) && r.presented(3, 1));
    let an = item_analysis(&r);
    let (q1, q2, q3) = (&an.items[0], &an.items[1], &an.items[2]);

    // Q1: presented to c0, c1, c3, c4, c6 (n = 5), totals 2, 1, 1, 0, 2; right c0, c3, c6.
    // p = 3/5. ΣT = 6, ΣT² = 10, ΣxT = 5: pbis = (5·5 − 3·6)/√((5·3 − 3²)(5·10 − 6²)) = 7/√84.
    // Rest y = T − x = 1, 1, 0, 0, 1: Σy = Σy² = 3, Σxy = 2, pbis_rest = (5·2 − 9)/√(6·6) = 1/6.
    // Groups of round(0.27·5) = 1 (not the 2 of all eight) among the five, ranked c0 (2),
    // c6 (2), c1, c3, c4: upper c0 (right), lower c4 (wrong), disc_27 = 1.
    // Options A 3/5, B 1/5 (c1), C 1/5 (c4); upper: A 1; lower: C 1. B's pbis: chosen by one
    // candidate of total 1, (5·1 − 1·6)/√((5 − 1)(5·10 − 6²)) = −1/√56.
    assert_eq!((q1.n, q1.omitted), (5, 0));
    assert_eq!(q1.p, Some(0.6));
    close(q1.pbis, 7.0 / 84f64.sqrt(), 1e-15);
    close(q1.pbis_rest, 1.0 / 6.0, 1e-15);
    assert_eq!(q1.disc_27, Some(1.0));
    let shares = |item: &ItemStats| -> Vec<(Option<f64>, Option<f64>, Option<f64>)> {
        item.options
            .iter()
            .map(|o| (o.proportion, o.upper, o.lower))
            .collect()
    };
    assert_eq!(
        shares(q1),
        vec![
            (Some(0.6), Some(1.0), Some(0.0)),
            (Some(0.2), Some(0.0), Some(0.0)),
            (Some(0.2), Some(0.0), Some(1.0)),
        ]
    );
    close(q1.options[1].pbis, -1.0 / 56f64.sqrt(), 1e-15);
    assert_eq!(q1.flags, vec![]);

    // Q2: presented to c0, c2, c3, c5, c7 (n = 5), totals 2, 1, 1, 1, 1; right c0, c2, c7; c3
    // omitted. p = 3/5. ΣT = 6, ΣT² = 8, ΣxT = 4: pbis = (5·4 − 3·6)/√(6·(5·8 − 36)) = 2/√24.
    // Rest y = 1, 0, 1, 1, 0: Σy = Σy² = 3, Σxy = 1, pbis_rest = (5 − 9)/6 = −2/3.
    // Groups of 1, ranked c0, then the four with 1 in input order c2, c3, c5, c7: upper c0,
    // lower c7, both right: disc_27 = 0.
    // Options A 1/5 (c5), B 3/5, C 0; upper B 1, lower B 1.
    assert_eq!((q2.n, q2.omitted), (5, 1));
    assert_eq!(q2.p, Some(0.6));
    close(q2.pbis, 2.0 / 24f64.sqrt(), 1e-15);
    close(q2.pbis_rest, -2.0 / 3.0, 1e-15);
    assert_eq!(q2.disc_27, Some(0.0));
    assert_eq!(
        shares(q2),
        vec![
            (Some(0.2), Some(0.0), Some(0.0)),
            (Some(0.6), Some(1.0), Some(1.0)),
            (Some(0.0), Some(0.0), Some(0.0)),
        ]
    );
    assert_eq!(
        q2.flags,
        vec![Flag::LowDiscrimination, Flag::DistractorRare('C')]
    );

    // Q3: presented to c1, c2, c4, c5, c6, c7 (n = 6), totals 1, 1, 0, 1, 2, 1; right c1, c5,
    // c6; c4 omitted. p = 3/6. ΣT = 6, ΣT² = 8, ΣxT = 4: pbis = (6·4 − 3·6)/√((6·3 − 9)(6·8 −
    // 36)) = 6/√108. Rest y = 0, 1, 0, 0, 1, 1: Σy = Σy² = 3, Σxy = 1, pbis_rest = (6 − 9)/9 =
    // −1/3. Groups of round(1.62) = 2, ranked c6, c1, c2, c5, c7, c4: upper c6, c1 (both
    // right), lower c7 (B), c4 (omitted): disc_27 = (2 − 0)/2 = 1.
    // Options A 3/6, B 1/6 (c7), C 1/6 (c2); upper A 1; lower B 1/2 (the omission is in no row).
    assert_eq!((q3.n, q3.omitted), (6, 1));
    assert_eq!(q3.p, Some(0.5));
    close(q3.pbis, 6.0 / 108f64.sqrt(), 1e-15);
    close(q3.pbis_rest, -1.0 / 3.0, 1e-15);
    assert_eq!(q3.disc_27, Some(1.0));
    assert_eq!(
        shares(q3),
        vec![
            (Some(0.5), Some(1.0), Some(0.0)),
            (Some(1.0 / 6.0), Some(0.0), Some(0.5)),
            (Some(1.0 / 6.0), Some(0.0), Some(0.0)),
        ]
    );
    assert_eq!(q3.options[1].pbis, Some(0.0));
    assert_eq!(q3.flags, vec![Flag::LowDiscrimination]);
    assert_eq!(an.group_27, 2);
    assert!(an.items.iter().all(|i| i.alpha_if_deleted.is_none()));

    // The forms: every candidate had 2 items. ΣT = 9, ΣT² = 13, N²σ² = 8·13 − 9² = 23.
    // Mean over candidates of Σ pq on their form = (5·0.24 + 5·0.24 + 6·0.25)/8 = 3.9/8, and
    // σ² = 23/64: KR-20 = 2·(1 − 8·3.9/23) = −16.4/23. Alpha with (n − 1) variances: items
    // 5·0.24·5/4 = 1.5, 1.5, 6·0.25·6/5 = 1.8, totals 23/56: 2·(1 − (4.8/8)/(23/56)) = −21.2/23.
    // KR-21 = 2·(1 − (9/8)(2 − 9/8)/(2·23/64)) = −17/23.
    let f = &an.form;
    assert_eq!((f.candidates, f.items), (8, 2));
    assert_eq!(f.mean, Some(1.125));
    close(f.sd, (23.0f64 / 56.0).sqrt(), 1e-15);
    assert_eq!(f.distribution, vec![1, 5, 2]);
    close(f.kr20, -16.4 / 23.0, 1e-14);
    close(f.alpha, -21.2 / 23.0, 1e-14);
    close(f.kr21, -17.0 / 23.0, 1e-14);
    assert!(f.alpha_low.is_some() && f.sem.is_some());

    // A ninth candidate presented all three: the forms differ in length, so no reliability.
    r.push_presented(&[a, b, a]).unwrap();
    assert_eq!(r.form_lengths(), Some((2, 3)));
    let f = item_analysis(&r).form;
    assert_eq!((f.candidates, f.items), (9, 3));
    assert_eq!(f.distribution, vec![1, 5, 2, 1]);
    assert_eq!(f.mean, Some(12.0 / 9.0));
    assert!(f.sd.is_some());
    assert_eq!(
        (f.kr20, f.kr21, f.alpha, f.alpha_low, f.alpha_high, f.sem),
        (None, None, None, None, None, None)
    );
}

/// On random forms of equal length, every statistic equals its definition recomputed over the
/// candidates presented each item (the 27% groups by an explicit stable sort of them), and
/// KR-20 and alpha equal the varied-form definitions of `docs/statistics.md`.
#[test]
fn varied_forms_match_a_naive_recomputation() {
    let (k, n, m) = (12, 83, 7);
    let responses = generated(k, n, 3, |rng| draw(rng, k, m));
    let a = item_analysis(&responses);
    let score = |c: usize, i: usize| f64::from(u8::from(responses.correct(c, i)));
    let totals: Vec<f64> = responses.totals().iter().map(|&t| f64::from(t)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| totals[y].total_cmp(&totals[x]));
    let (mut pq, mut pq_alpha) = (0.0, 0.0);
    for (i, item) in a.items.iter().enumerate() {
        let shown: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&c| responses.presented(c, i))
            .collect();
        let ni = shown.len();
        assert_eq!(item.n, ni as u64);
        let x: Vec<f64> = shown.iter().map(|&c| score(c, i)).collect();
        let t: Vec<f64> = shown.iter().map(|&c| totals[c]).collect();
        let rest: Vec<f64> = t.iter().zip(&x).map(|(t, x)| t - x).collect();
        let p = x.iter().sum::<f64>() / ni as f64;
        close(item.p, p, 1e-15);
        pq += ni as f64 * p * (1.0 - p);
        pq_alpha += ni as f64 * p * (1.0 - p) * ni as f64 / (ni as f64 - 1.0);
        close(item.pbis, naive_pearson(&x, &t).unwrap(), 1e-12);
        close(item.pbis_rest, naive_pearson(&x, &rest).unwrap(), 1e-12);
        assert_eq!(item.alpha_if_deleted, None);
        let g = (0.27 * ni as f64).round() as usize;
        let (upper, lower) = (&shown[..g], &shown[ni - g..]);
        let share = |group: &[usize], f: &dyn Fn(usize) -> f64| {
            group.iter().map(|&c| f(c)).sum::<f64>() / g as f64
        };
        close(
            item.disc_27,
            share(upper, &|c| score(c, i)) - share(lower, &|c| score(c, i)),
            1e-15,
        );
        let omitted = shown
            .iter()
            .filter(|&&c| responses.cell(c, i) == Some(Cell::Omitted))
            .count();
        assert_eq!(item.omitted, omitted as u64);
        for o in &item.options {
            let letter = o.option as u8 - b'A';
            let chose =
                |c: usize| f64::from(u8::from(responses.cell(c, i) == Some(Cell::Chose(letter))));
            let chosen: Vec<f64> = shown.iter().map(|&c| chose(c)).collect();
            close(o.proportion, chosen.iter().sum::<f64>() / ni as f64, 1e-15);
            if let Some(r) = naive_pearson(&chosen, &t) {
                close(o.pbis, r, 1e-12);
            }
            close(o.upper, share(upper, &chose), 1e-15);
            close(o.lower, share(lower, &chose), 1e-15);
        }
    }
    let nf = n as f64;
    let mean = totals.iter().sum::<f64>() / nf;
    let var = totals.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / nf;
    let kf = m as f64;
    assert_eq!(a.form.items, m as u64);
    close(
        a.form.kr20,
        kf / (kf - 1.0) * (1.0 - (pq / nf) / var),
        1e-12,
    );
    let var_alpha = var * nf / (nf - 1.0);
    close(
        a.form.alpha,
        kf / (kf - 1.0) * (1.0 - (pq_alpha / nf) / var_alpha),
        1e-12,
    );
    close(
        a.form.kr21,
        kf / (kf - 1.0) * (1.0 - mean * (kf - mean) / (kf * var)),
        1e-12,
    );
    // The domains' forms differ in length (3 or 4 of the 6 items of a domain, say).
    for d in &a.domains {
        assert_eq!(d.stats.kr20, None);
        assert_eq!(d.stats.distribution.iter().sum::<u64>(), n as u64);
        assert_eq!(d.stats.distribution.len() as u64, d.stats.items + 1);
    }
}

/// A fixed form with an item presented to nobody is the form without it: the classical values
/// exactly, the item itself undefined.
#[test]
fn an_item_presented_to_nobody_changes_nothing() {
    let full = generated(8, 40, 5, |_| vec![true; 8]);
    let mut keys = full.items().to_vec();
    keys.insert(3, key("never", 4, &[0]));
    let mut with = Responses::new(keys).unwrap();
    for c in 0..full.candidates() {
        let mut cells: Vec<Cell> = (0..8).map(|i| full.cell(c, i).unwrap()).collect();
        cells.insert(3, Cell::NotPresented);
        with.push_presented(&cells).unwrap();
    }
    let (a, mut b) = (item_analysis(&full), item_analysis(&with));
    let never = b.items.remove(3);
    assert_eq!(a, b);
    assert_eq!((never.n, never.omitted), (0, 0));
    assert_eq!(
        (never.p, never.pbis, never.disc_27, never.alpha_if_deleted),
        (None, None, None, None)
    );
    assert!(never.options.iter().all(|o| o.proportion.is_none()));
}

#[test]
fn degenerate_varied_forms_never_panic() {
    let keys = vec![key("Q1", 2, &[0]), key("Q2", 2, &[0])];
    let x = Cell::NotPresented;
    // Nobody presented anything: a form of no items.
    let mut r = Responses::new(keys.clone()).unwrap();
    r.push_presented(&[x, x]).unwrap();
    r.push_presented(&[x, x]).unwrap();
    let a = item_analysis(&r);
    assert_eq!((a.form.items, a.form.distribution.clone()), (0, vec![2]));
    assert_eq!(
        (a.items[0].n, a.items[0].p, a.items[0].pbis),
        (0, None, None)
    );
    // One candidate presented nothing, one everything.
    let mut r = Responses::new(keys).unwrap();
    r.push_presented(&[x, x]).unwrap();
    r.push_presented(&[Cell::Chose(0), Cell::Chose(1)]).unwrap();
    let a = item_analysis(&r);
    assert_eq!((a.form.items, a.form.kr20), (2, None));
    assert_eq!(a.form.distribution, vec![1, 1, 0]);
    assert_eq!(
        (a.items[0].n, a.items[0].p, a.items[0].disc_27),
        (1, Some(1.0), None)
    );
    // An item presented to a single candidate adds nothing to alpha's item variances (its
    // variance is 0). Forms of 2: Q1 right for c0, c2, c3 (n = 4, S = 3), Q2 right for c0 of
    // c0, c1, c3 (n = 3, S = 1), Q3 right for c2 alone; totals 2, 0, 2, 1, N²σ² = 4·9 − 5² = 11.
    // KR-20 = 2·(1 − 4·(3/4 + 2/3 + 0)/11) = 32/33; alpha = 2·(1 − 3·(3/3 + 2/2 + 0)/11) =
    // 10/11.
    let keys = vec![key("Q1", 2, &[0]), key("Q2", 2, &[0]), key("Q3", 2, &[0])];
    let (right, wrong) = (Cell::Chose(0), Cell::Chose(1));
    let mut r = Responses::new(keys).unwrap();
    for row in [
        [right, right, x],
        [wrong, wrong, x],
        [right, x, right],
        [right, wrong, x],
    ] {
        r.push_presented(&row).unwrap();
    }
    let a = item_analysis(&r);
    assert_eq!((a.form.items, a.items[2].n), (2, 1));
    close(a.form.kr20, 32.0 / 33.0, 1e-15);
    close(a.form.alpha, 10.0 / 11.0, 1e-15);
}

#[test]
fn a_bad_cell_is_refused() {
    let mut r = Responses::new(vec![key("Q1", 4, &[0]), key("Q2", 2, &[0])]).unwrap();
    assert_eq!(
        r.push_presented(&[Cell::NotPresented, Cell::Chose(2)]),
        Err(ResponsesError::Choice {
            id: "Q2".into(),
            option: 2,
            options: 2
        })
    );
    assert_eq!(
        r.push_presented(&[Cell::NotPresented]),
        Err(ResponsesError::Length { found: 1, items: 2 })
    );
    assert_eq!(r.candidates(), 0);
    assert!(r.all_presented());
    assert_eq!(r.form_lengths(), None);
    r.push_presented(&[Cell::Omitted, Cell::Chose(1)]).unwrap();
    assert!(r.all_presented());
    assert_eq!(r.form_lengths(), Some((2, 2)));
    assert_eq!(r.cell(0, 0), Some(Cell::Omitted));
}
