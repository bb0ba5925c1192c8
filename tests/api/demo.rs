//! The demo's completed sitting, on both engines: 200 simulated candidates who took both parts,
//! every response rated and settled, results released, and the committee's pages showing them.

use imh_exam::auth::Role;
use imh_exam::store::{ratings, results, sittings, studies};

use crate::helpers::exam::import_sample;
use crate::helpers::{count, demo_raters, spawn_app_on, test_db, Engine};
use crate::on_both_engines;

async fn the_demo_holds_a_completed_rated_sitting(engine: Engine) {
    // Prepared before the server starts, as `imh-exam demo` does: the simulated sitting lies in
    // the past, and a running server would submit its attempts at their long-gone deadlines.
    let t = test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    let raters = demo_raters(db).await;
    let id = imh_exam::demo::completed_sitting(db, 200, &raters)
        .await
        .unwrap();
    assert_eq!(
        imh_exam::demo::completed_sitting(db, 200, &raters)
            .await
            .unwrap(),
        id,
        "a restarted demo reuses the sitting"
    );
    assert_eq!(sittings::registrations(db, id).await.unwrap().len(), 200);
    assert!(results::released_at(db, id).await.unwrap().is_some());
    let p = ratings::progress(db, id).await.unwrap();
    assert!(p.responses >= 300, "{p:?}");
    assert_eq!(p.settled, p.responses, "every response settled");
    let lines = results::stored(db, id).await.unwrap().lines;
    let scored = |part: usize| {
        lines
            .iter()
            .filter(|l| matches!(l.parts[part], results::PartLine::Scored(_)))
            .count()
    };
    assert_eq!((scored(0), scored(1)), (200, 200));
    // Calibrated before its results were computed: every Part One result is equated as well,
    // and the forms' differing difficulty moves many a candidate's percent off the raw one.
    let equated: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|l| match &l.parts[0] {
            results::PartLine::Scored(r) => {
                Some((r.percent(), r.equating.as_ref()?.equated_percent?))
            }
            _ => None,
        })
        .collect();
    assert_eq!(equated.len(), 200, "every Part One result is equated");
    let moved = equated
        .iter()
        .filter(|(raw, eq)| (raw - eq).abs() > 0.5)
        .count();
    let shift = equated.iter().map(|(raw, eq)| eq - raw).sum::<f64>() / 200.0;
    let spread = equated
        .iter()
        .map(|(raw, eq)| (eq - raw - shift).powi(2))
        .sum::<f64>()
        / 200.0;
    println!(
        "equated percent more than half a point off the raw one: {moved} of 200; mean equated - raw {shift:+.2}, SD {:.2}",
        spread.sqrt()
    );
    assert!(moved >= 20, "{moved} of 200: {equated:?}");
    let passed = lines.iter().filter(|l| l.exam_passed == Some(true)).count();
    assert!(
        (20..=180).contains(&passed),
        "a realistic mix of outcomes: {passed} passed"
    );
    // Some readings needed an adjudicator.
    let thirds = count(db, "SELECT COUNT(*) FROM assignments WHERE reading = 3").await;
    assert!(thirds > 0);

    // Two appeals, one upheld and one not (`appeals::the_demo_appeals`).
    crate::appeals::the_demo_appeals(db, id).await;

    // How many Part One forms carried each item, counted from the forms themselves.
    let forms_carrying: std::collections::HashMap<String, i64> = sqlx::query_as(
        "SELECT f.object_id, COUNT(*) FROM form_items f JOIN attempts a ON a.id = f.attempt_id
         WHERE a.part = 1 GROUP BY f.object_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();

    // The demo's standard-setting study on this sitting: two rounds of five panelists, closed
    // and finished, with a panel cut below the average candidate's percent (the panel rates a
    // minimally competent candidate) and Hofstee bounds from each.
    let study_id = imh_exam::demo::study::completed_study(db, id, "a long test password")
        .await
        .unwrap();
    assert_eq!(
        imh_exam::demo::study::completed_study(db, id, "a long test password")
            .await
            .unwrap(),
        study_id,
        "a restarted demo reuses the study"
    );
    let study = studies::study(db, study_id).await.unwrap().unwrap();
    assert_eq!((study.round, study.round_open), (2, false));
    assert!(study.finished_at.is_some());
    let observed = studies::observed(db, &study).await.unwrap();
    let average = observed.percents().iter().sum::<f64>() / observed.candidates.len() as f64;
    // The sitting's data as the study reads it: each Level III candidate's Part One score is
    // their stored result's, and every item's p-value rests on the forms that carried it.
    let stored: std::collections::HashMap<i64, (f64, f64)> = lines
        .iter()
        .filter(|l| l.registration.blueprint_id == "level-iii")
        .filter_map(|l| match &l.parts[0] {
            results::PartLine::Scored(r) => Some((r.registration_id, (r.points, r.max))),
            _ => None,
        })
        .collect();
    assert_eq!(observed.candidates.len(), stored.len());
    for c in &observed.candidates {
        assert_eq!((c.raw, c.max), stored[&c.registration_id], "{c:?}");
    }
    let study_items = studies::items(db, study_id).await.unwrap();
    let mut met = 0;
    for (item, o) in study_items.iter().zip(&observed.items) {
        assert!(o.n as i64 <= forms_carrying.get(&item.item_id).copied().unwrap_or(0));
        if let Some(p) = o.value {
            assert!((0.0..=1.0).contains(&p) && o.n > 0, "{o:?}");
            met += 1;
        }
    }
    assert!(
        met > study_items.len() / 2,
        "{met} of {} items met",
        study_items.len()
    );
    let mut cuts = Vec::new();
    for round in [1, 2] {
        let m = studies::round_ratings(db, &study, round).await.unwrap();
        assert_eq!(m.complete().0.len(), 5, "every panelist rated every item");
        let cut = m.angoff().unwrap();
        cuts.push((100.0 * cut.cut / m.total_max(), cut.sd.unwrap()));
    }
    println!("demo study: (cut %, SD of panelists' cuts) by round {cuts:?}; candidates' mean {average:.1}%");
    assert!(
        cuts.iter().all(|(c, _)| (40.0..average).contains(c)),
        "{cuts:?} vs {average}"
    );
    assert!(
        cuts[1].1 < cuts[0].1,
        "round 2 pulls the panel together: {cuts:?}"
    );
    assert_eq!(studies::hofstee_of(db, study_id, 2).await.unwrap().len(), 5);

    // The committee's pages show it.
    let app = spawn_app_on(t).await;
    let committee = app.as_role(Role::Committee).await;
    // The panel's page of the demo study shows round 2's feedback with real numbers.
    let panelist = app.signed_in("panel1").await;
    let page = panelist.get_text(&format!("/panel/{study_id}")).await;
    assert!(
        page.contains("Round 2 feedback") && page.contains("Round 2 panel cut: "),
        "{page}"
    );
    assert!(page.contains("candidates would pass."), "{page}");
    // The committee's facilitation page: the last round's impact on the demo sitting's
    // candidates, and the results page: the cut, the Hofstee compromise and its chart, all from
    // this run.
    let page = committee.get_text(&format!("/studies/{study_id}")).await;
    assert!(
        page.contains("id=\"impact-2\"")
            && page.contains("Round 2: who would pass at the panel")
            && page.contains(&format!("cut, of {} candidates", observed.candidates.len())),
        "round 2's impact: {page}"
    );
    let page = committee
        .get_text(&format!("/studies/{study_id}/results"))
        .await;
    let round_two = format!("{:.2}%", cuts[1].0);
    assert!(
        page.contains(&round_two),
        "round 2's cut {round_two}: {page}"
    );
    assert!(page.contains("id=\"hofstee-bounds\""), "{page}");
    let compromise = page
        .split("id=\"hofstee-result\"")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default();
    println!("demo study's Hofstee: {compromise}");
    assert!(
        compromise.contains("Compromise cut: ") || compromise.contains("No compromise"),
        "{page}"
    );
    // The chart, its description naming the panel's bounds and (with a compromise) the cut.
    let desc = page
        .split("<desc id=\"hofstee-chart-desc\">")
        .nth(1)
        .and_then(|rest| rest.split("</desc>").next())
        .unwrap_or_else(|| panic!("the Hofstee chart: {page}"));
    println!("demo study's Hofstee chart: {desc}");
    if let Some(cut) = compromise
        .split("<strong>")
        .nth(1)
        .and_then(|c| c.split('%').next())
    {
        assert!(desc.contains(cut), "the chart marks the cut {cut}: {desc}");
    }
    let page = committee.get_text(&format!("/scoring/{id}")).await;
    assert!(page.contains("Settled"), "{page}");
    let res = committee.get(&format!("/scoring/{id}/results")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("of 60"), "{html}");
    assert!(
        html.contains(" · equated ") && html.contains("decided by raw"),
        "{html}"
    );

    // Rater agreement, with its charts and its tables as CSV.
    let html = committee.get_text(&format!("/stats/{id}/agreement")).await;
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "the heat map, the severity chart and the many-facet severity map"
    );
    assert!(
        html.contains("Severity map: candidates, questions and raters"),
        "{html}"
    );
    assert!(
        html.contains("Cohen's kappa") && html.contains("rater3"),
        "{html}"
    );
    let csv = committee
        .get_text(&format!("/stats/{id}/agreement?csv=raters"))
        .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rater,scored,mean,pairs,severity,exact,validity,accuracy,read_behind,overridden")
    );
    assert_eq!(lines.count(), 4, "{csv}");

    // Part Two measured as Facets does: every rater's severity with its standard error and fit,
    // rater3 (the demo's harshest) the most severe; the bias table; a D study with real numbers.
    let csv = committee
        .get_text(&format!("/stats/{id}/agreement?csv=facets_raters"))
        .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rater,ratings,observed_average,fair_average,severity,se,infit,outfit,flag")
    );
    let raters: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(raters.len(), 4, "{csv}");
    let severity = |name: &str| -> f64 {
        raters.iter().find(|r| r[0] == name).unwrap()[4]
            .parse()
            .unwrap()
    };
    assert!(
        ["rater1", "rater2", "rater4"]
            .iter()
            .all(|r| severity("rater3") > severity(r)),
        "{csv}"
    );
    assert!(
        raters.iter().all(|r| r[5].parse::<f64>().unwrap() > 0.0),
        "an SE each: {csv}"
    );
    let csv = committee
        .get_text(&format!("/stats/{id}/agreement?csv=bias"))
        .await;
    assert!(csv.lines().count() > 4, "rater × group cells: {csv}");
    let csv = committee
        .get_text(&format!("/stats/{id}/agreement?csv=d_study"))
        .await;
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 28, "1-4 raters by 2-8 questions: {csv}");
    let phi = |r: f64, q: f64| rows.iter().find(|x| x[0] == r && x[1] == q).unwrap()[2];
    assert!(phi(1.0, 2.0) > 0.0 && phi(4.0, 8.0) < 1.0);
    assert!(
        phi(2.0, 6.0) > phi(1.0, 6.0) && phi(2.0, 6.0) > phi(2.0, 2.0),
        "{csv}"
    );

    // The raters qualified before live scoring, and the committee read behind them.
    assert!(count(&app.db, "SELECT COUNT(*) FROM qualification_attempts").await >= 4);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(DISTINCT rater_id) FROM qualification_attempts WHERE passed = 1"
        )
        .await,
        4,
        "every demo rater qualifies (rater3 on set 2)"
    );
    // Candidates near the cut had every response read a third time, and still all settled.
    assert!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM responses WHERE near_cut_at IS NOT NULL"
        )
        .await
            > 0
    );
    let read = count(&app.db, "SELECT COUNT(*) FROM read_behinds").await;
    let overridden = count(
        &app.db,
        "SELECT COUNT(*) FROM read_behinds WHERE overridden = 1",
    )
    .await;
    assert!(
        read > 0 && overridden > 0 && overridden < read,
        "{read} read, {overridden} overridden"
    );

    // Item statistics: the form's reliability, the histogram with the cut score, the
    // difficulty/discrimination chart, the sortable table with flags and exposure.
    let html = committee
        .get_text(&format!("/stats/{id}/items?sort=p"))
        .await;
    assert_eq!(html.matches("<svg").count(), 2, "{html}");
    assert!(html.contains("the cut score is 48"), "{html}");
    assert!(html.contains("KR-20") && html.contains("Feldt"), "{html}");
    let csv = committee
        .get_text(&format!("/stats/{id}/items?csv=items&sort=p"))
        .await;
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("item,domain,n,exposure_all_sittings,omitted,p,pbis,pbis_rest,disc_27"),
        "{header}"
    );
    assert!(
        csv.lines().count() > 100,
        "every item of the pool that was drawn"
    );
    // Exposure is counted as forms are drawn, in bulk here: every item's count is the number of
    // Part One forms that carried it, at least the candidates it was scored for in this sitting.
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let id = cells[0].split(' ').next().unwrap();
        let n: i64 = cells[2].parse().unwrap();
        let exposure: i64 = cells[3].parse().unwrap();
        let forms = forms_carrying[id];
        assert_eq!(exposure, forms, "{line}");
        assert!(exposure >= n, "{line}");
    }
    // The demo's flawed item: its key discriminates poorly and option A draws the able, and
    // candidates say why in comments, which the key review lists beside those figures.
    let flawed = imh_exam::demo::comments::FLAWED_ITEM;
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.split([' ', ',']).next() == Some(flawed))
        .unwrap()
        .split(',')
        .collect();
    let pbis_rest: f64 = row[7].parse().unwrap();
    assert!(pbis_rest < 0.15, "{row:?}");
    assert!(row[10].contains("distractor_positive:A"), "{row:?}");
    let said = imh_exam::store::comments::of_sitting(&app.db, id)
        .await
        .unwrap();
    let on_flawed: Vec<_> = said.iter().filter(|c| c.target == flawed).collect();
    println!(
        "{flawed}: pbis_rest {pbis_rest}, flags {}; {} comment(s) on it",
        row[10],
        on_flawed.len()
    );
    assert!(on_flawed.len() >= 5, "{said:?}");
    assert!(on_flawed.iter().any(|c| c.chose.as_deref() == Some("A")));
    let review = committee.get_text(&format!("/keys?sitting={id}")).await;
    assert!(
        review.contains(&format!("Question {flawed} ({})", on_flawed.len())),
        "{review}"
    );
    assert!(review.contains("A attracts the able") && review.contains("Chose A"));
    assert!(review.contains("Esperanza has just turned pale") || review.contains("at this point"));
    let form = committee
        .get_text(&format!("/stats/{id}/items?csv=form"))
        .await;
    assert!(form.contains("\ncandidates,200\n"), "{form}");
    assert!(form.contains("\nkr20,0."), "{form}");
    // The demo's sitting is calibrated (Rasch) from the first run.
    let rasch = committee
        .get_text(&format!("/stats/{id}/rasch?csv=1"))
        .await;
    assert!(
        rasch.starts_with("item,version,difficulty,se,infit,outfit"),
        "{rasch}"
    );
    let calibrated = rasch
        .lines()
        .skip(1)
        .filter(|l| {
            l.split(',')
                .nth(2)
                .is_some_and(|b| b.parse::<f64>().is_ok())
        })
        .count();
    assert!(calibrated > 50, "{rasch}");
    // Decision consistency at the cut, the same as the statistics give on the form's own score
    // distribution and KR-20.
    let decision = committee
        .get_text(&format!("/stats/{id}/items?csv=decision"))
        .await;
    let value = |csv: &str, name: &str| -> Option<f64> {
        csv.lines().find_map(|l| {
            l.strip_prefix(&format!("{name},"))?
                .split(',')
                .next()?
                .parse()
                .ok()
        })
    };
    let distribution: Vec<u64> = form
        .lines()
        .filter_map(|l| l.strip_prefix("score ")?.split(',').nth(1)?.parse().ok())
        .collect();
    let expected = imh_exam::stats::decision::decision(
        &imh_exam::stats::decision::Scores::from_distribution(&distribution).unwrap(),
        48,
        value(&form, "kr20"),
    );
    assert_eq!(value(&decision, "cut"), Some(48.0), "{decision}");
    for (name, want) in [
        ("subkoviak_p0", expected.subkoviak_p0),
        ("subkoviak_kappa", expected.subkoviak_kappa),
        ("ll_accuracy", expected.ll_accuracy),
        ("ll_consistency", expected.ll_consistency),
        ("csem_binomial_at_cut", expected.csem_binomial_at_cut),
    ] {
        let got = value(&decision, name).unwrap_or_else(|| panic!("{name} in {decision}"));
        let want = want.unwrap_or_else(|| panic!("{name} is defined for the demo sitting"));
        // The CSV carries every digit; the tolerance is for the f64 round trip.
        assert!((got - want).abs() < 1e-4, "{name}: {got} vs {want}");
        assert!(
            (0.0..=1.0).contains(&got) || name == "csem_binomial_at_cut",
            "{name} {got}"
        );
    }
    // Sorted by p, ascending.
    let ps: Vec<f64> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(5)?.parse().ok())
        .collect();
    assert!(ps.windows(2).all(|w| w[0] <= w[1]), "sorted by p");
    // An item's page: its text, key, distractor table and history across sittings.
    // The first column is the item's label: its id, with " vN" after a first version.
    let item = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let html = committee
        .get_text(&format!("/stats/{id}/items/{item}"))
        .await;
    assert!(
        html.contains("(key)")
            && html.contains("Options in this sitting")
            && html.contains("Across sittings"),
        "{html}"
    );
    // DIF between the self-reported groups finds the communication items the simulation made
    // harder for second-language speakers.
    let csv = committee
        .get_text(&format!(
            "/stats/{id}/dif?question=language&focal=other&reference=english&csv=1"
        ))
        .await;
    // Which item reaches class B or C depends on the simulated sitting's draw (and an item
    // nobody in one group got right has no finite odds ratio, hence no D), so the test does not
    // pin it. What holds for any draw is that the Mantel-Haenszel test finds most
    // communication items and few of the others.
    let significant = |com: bool| {
        let ps: Vec<f64> = csv
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("COM-") == com)
            .filter_map(|l| l.split(',').nth(6)?.parse().ok())
            .collect();
        assert!(!ps.is_empty(), "{csv}");
        ps.iter().filter(|p| **p < 0.05).count() as f64 / ps.len() as f64
    };
    let (com, rest) = (significant(true), significant(false));
    println!("DIF, share with p < .05: communication items {com:.2}, the others {rest:.2}");
    assert!(
        com >= 0.25 && rest <= 0.1,
        "COM {com}, others {rest}:\n{csv}"
    );
    let html = committee.get_text(&format!("/stats/{id}/dif")).await;
    assert!(html.contains("item(s) in class B or C"), "{html}");
    // Part Two's questions too, by Mantel's test and the SMD: the simulation gives them no
    // DIF, so (for any draw) most are class AA, and each has a class or says why not.
    let csv = committee
        .get_text(&format!(
            "/stats/{id}/dif?question=language&focal=other&reference=english&csv=part_two"
        ))
        .await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("question,strata,reference,focal,mantel_chi2,p_value,smd_points,smd_sd,ets_class")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 12, "{csv}");
    let class = |l: &str| {
        ["AA", "BB+", "BB-", "CC+", "CC-"]
            .into_iter()
            .find(|c| l.ends_with(&format!(",{c}")))
    };
    let estimated: Vec<&str> = rows.iter().filter_map(|l| class(l)).collect();
    assert!(
        rows.iter()
            .all(|l| class(l).is_some() || l.contains("not estimated: ")),
        "{csv}"
    );
    let aa = estimated.iter().filter(|c| **c == "AA").count();
    assert!(estimated.len() >= 12, "{csv}");
    assert!(
        aa * 10 >= estimated.len() * 7,
        "{aa} of {}:\n{csv}",
        estimated.len()
    );

    // The technical report of the completed sitting, with real numbers from the first run:
    // the calibration's item map, the forms' spread, Rudner's accuracy, agreement and DIF.
    let res = committee.get(&format!("/stats/{id}/report")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    for text in [
        "Technical report: ",
        "200 registered",
        "Rudner accuracy (consistency)",
        "CSEM at the cut (Rasch), logits",
        "Forms' expected percent correct at θ_cut",
        "The item map as a table",
        "Cohen's kappa",
        "Is English your first language?",
    ] {
        assert!(html.contains(text), "{text}: {html}");
    }
    assert_eq!(html.matches("<svg").count(), 1, "the item map");
    // Equating as stored: every Part One result equated, the mean shift the results show.
    assert!(
        html.contains("Part One results, raw and equated")
            && html.contains("<tr><td>200</td><td>200</td>")
            && html.contains(&format!("<td>{shift:.2}</td>")),
        "equating summary (mean shift {shift:.2}): {html}"
    );
    assert!(
        html.contains("The committee has not decided otherwise"),
        "{html}"
    );
    let file = committee
        .get_text(&format!("/stats/{id}/report?download=1"))
        .await;
    assert!(
        file.contains("<style>") && !file.contains("<link"),
        "self-contained"
    );
}

on_both_engines!(the_demo_holds_a_completed_rated_sitting);
