//! `imh-exam analyze angoff` through the real binary: the documented outputs on small files
//! whose numbers are worked by hand in the comments, both formats, and every malformed input
//! as its `file:line: message` (or the usage error, exit 2).

use std::process::{Command, Output};

use serde_json::Value;

/// A temporary folder to write the files in and run the binary from (as `tests/analyze.rs`).
struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.tmp.path().join(name), text).unwrap();
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_imh-exam"))
            .args(["analyze", "angoff"])
            .args(args)
            .current_dir(self.tmp.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The error lines of a run that fails on its files (exit 1; the count line checked).
    fn errors(&self, args: &[&str]) -> Vec<String> {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        let mut lines: Vec<String> = stderr.lines().map(str::to_string).collect();
        let last = lines.pop().unwrap();
        assert_eq!(
            last,
            format!(
                "imh-exam analyze: {} error(s); nothing was analysed",
                lines.len()
            )
        );
        lines
    }

    /// The message of a run refused for its arguments (exit 2).
    fn usage(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        String::from_utf8(out.stderr)
            .unwrap()
            .trim_end()
            .to_string()
    }
}

fn close(actual: &Value, expected: f64) {
    let a = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!((a - expected).abs() < 1e-9, "{a} vs {expected}");
}

/// The fixture files of the worked example in `docs/statistics.md`.
fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/standard_setting")
            .join(name),
    )
    .unwrap()
}

/// Three panelists, four items, two rounds. Round 2 (the default, the last): cuts 2.6, 2.4,
/// 2.8, mean 2.6, sample SD √((0 + .04 + .04)/2) = 0.2, SE 0.2/√3; 65% of the maximum 4.
#[test]
fn the_cut_its_standard_error_and_each_panelist_by_hand_for_the_last_round() {
    let dir = Dir::new();
    dir.write("R.csv", &fixture("ratings.csv"));
    let r = dir.json(&["--ratings", "R.csv"]);
    assert_eq!(r["round"], 2);
    assert_eq!(r["rounds"], serde_json::json!([1, 2]));
    assert_eq!(
        (r["panelists"].clone(), r["items"].clone()),
        (3.into(), 4.into())
    );
    close(&r["max"], 4.0);
    close(&r["cut"], 2.6);
    close(&r["sd"], 0.2);
    close(&r["se"], 0.2 / 3f64.sqrt());
    close(&r["percent"], 65.0);
    for (row, (name, cut)) in
        r["by_panelist"]
            .as_array()
            .unwrap()
            .iter()
            .zip([("ana", 2.6), ("ben", 2.4), ("chi", 2.8)])
    {
        assert_eq!(row["panelist"], name);
        close(&row["cut"], cut);
        // Without the items' figures: no consistency, no misplacement.
        assert!(row["consistency"].is_null() && row["misplacement"].is_null());
    }
    // Item 3: ratings .5, .6, .4: mean .5, SD .1, from .4 to .6.
    let item = &r["by_item"][2];
    assert_eq!(item["item"], "Q3");
    close(&item["mean"], 0.5);
    close(&item["sd"], 0.1);
    close(&item["lowest"], 0.4);
    close(&item["highest"], 0.6);
    assert!(r["theta"].is_null() && r["impact"].is_null() && r["hofstee"].is_null());
    // Round 1: cuts 2.0, 2.4, 3.2: mean 7.6/3.
    let r1 = dir.json(&["--ratings", "R.csv", "--round", "1"]);
    assert_eq!(r1["round"], 1);
    close(&r1["cut"], 7.6 / 3.0);
    // Deviations −8/15, −2/15, 10/15: squares 168/225 in all, over 2.
    let sd = (84.0f64 / 225.0).sqrt();
    close(&r1["sd"], sd);
    assert_eq!(
        dir.usage(&["--ratings", "R.csv", "--round", "3"]),
        "imh-exam analyze: --round 3: R.csv has rounds 1, 2"
    );
}

/// The long CSV has one number per row; the same figures as JSON.
#[test]
fn the_csv_report_has_the_tables_of_the_json() {
    let dir = Dir::new();
    dir.write("R.csv", &fixture("ratings.csv"))
        .write("I.csv", &fixture("items.csv"));
    let out = dir.run(&["--ratings", "R.csv", "--items", "I.csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["table", "id", "sub", "statistic", "value"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let cell = |t: &str, id: &str, sub: &str, s: &str| -> f64 {
        let hits: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| r[0] == t && r[1] == id && r[2] == sub && r[3] == s)
            .collect();
        assert_eq!(hits.len(), 1, "{t},{id},{sub},{s}");
        hits[0][4].parse().unwrap()
    };
    assert!((cell("cut", "", "", "cut") - 2.6).abs() < 1e-9);
    assert!((cell("panelist", "ben", "", "cut") - 2.4).abs() < 1e-9);
    assert!((cell("item", "Q1", "", "mean") - 0.6).abs() < 1e-9);
    // Every item's misplacement for every panelist.
    assert_eq!(rows.iter().filter(|r| r[0] == "misplaced").count(), 12);
    let json = dir.json(&["--ratings", "R.csv", "--items", "I.csv"]);
    let first = &json["by_panelist"][0]["misplaced"][0];
    let item = first["item"].as_str().unwrap();
    assert!(
        (cell("misplaced", "ana", item, "misplacement") - first["misplacement"].as_f64().unwrap())
            .abs()
            < 1e-15
    );
}

/// Two items at 0 and ln 3 logits with p-values .6 and .3. Ana rates them .25 and .5 (the
/// wrong way round): her cut .75 is τ(0), where the items' probabilities are .5 and .25, so
/// each rating is .25 off; her ratings correlate −1 with the p-values. Ben rates them .5 and
/// .25, exactly their probabilities at θ = 0: no misplacement, correlation +1. The panel's cut
/// .75 is θ = 0; on a pool of two items at 0 logits that is 50%.
#[test]
fn consistency_misplacement_and_the_cut_on_the_rasch_and_equated_scales() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "panelist,item,rating\nana,A,0.25\nana,B,0.5\nben,A,0.5\nben,B,0.25\n",
    )
    .write(
        "I.csv",
        "item,p_value,difficulty\nA,0.6,0\nB,0.3,1.0986122886681098\n",
    )
    .write("P.csv", "item,difficulty\nX,0\nY,0\n");
    let r = dir.json(&["--ratings", "R.csv", "--items", "I.csv", "--pool", "P.csv"]);
    close(&r["cut"], 0.75);
    close(&r["theta"], 0.0);
    close(&r["pool_percent"], 50.0);
    close(&r["percent"], 37.5);
    assert_eq!(r["misplacement_from"], "difficulty");
    let (ana, ben) = (&r["by_panelist"][0], &r["by_panelist"][1]);
    close(&ana["misplacement"], 0.25);
    close(&ana["theta"], 0.0);
    close(&ana["consistency"], -1.0);
    close(&ben["misplacement"], 0.0);
    close(&ben["consistency"], 1.0);
    // The most misplaced first (a tie keeps the items' order).
    assert_eq!(ana["misplaced"][0]["item"], "A");
    close(&ana["misplaced"][1]["misplacement"], 0.25);
    // The panel's item means (.375, .375) have no variance: no correlation.
    assert!(r["consistency"].is_null());
    // Uncalibrated: difficulties from the p-values, ln((1 − p)/p): .5 → 0 and .25 → ln 3, the
    // same curve, so the same misplacement.
    dir.write("U.csv", "item,p_value\nA,0.5\nB,0.25\n");
    let u = dir.json(&["--ratings", "R.csv", "--items", "U.csv"]);
    assert_eq!(u["misplacement_from"], "p_value");
    close(&u["by_panelist"][0]["misplacement"], 0.25);
    assert!(u["theta"].is_null());
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--items", "U.csv", "--pool", "P.csv"]),
        vec!["U.csv: has no difficulty column, which --pool needs to find θ_cut"]
    );
    assert_eq!(
        dir.usage(&["--ratings", "R.csv", "--pool", "P.csv"]),
        "imh-exam analyze: --pool needs the rated items' difficulties: give --items with a difficulty column"
    );
}

/// Yes/No Angoff on ten items: ana says yes to 6, ben to 7; cut 6.5, SD √.5, SE .5. Scores
/// 2, 3, 4, 5, 5, 6, 6, 7, 8, 9: at 6.5, 3 of 10 pass; one SE lower (6), 5 pass. Hofstee: the
/// mean bounds of (3, 7, 0, .4) and (5, 9, .2, .6) are cuts 4 to 8 and failure rates .1 to .5;
/// the line is .5 − .1(c − 4); at 6, F = .5 ≥ .3 first: the compromise cut 6, half failing.
#[test]
fn yes_no_ratings_impact_and_hofstee_by_hand() {
    let dir = Dir::new();
    dir.write("R.csv", &fixture("yes_no_ratings.csv"))
        .write("S.csv", &fixture("scores.csv"))
        .write("H.csv", &fixture("hofstee.csv"));
    let args = [
        "--ratings",
        "R.csv",
        "--scores",
        "S.csv",
        "--hofstee",
        "H.csv",
        "--se-adjust",
        "-1",
    ];
    let r = dir.json(&args);
    close(&r["cut"], 6.5);
    close(&r["sd"], 0.5f64.sqrt());
    close(&r["se"], 0.5);
    close(&r["adjusted_cut"], 6.0);
    close(&r["se_adjust"], -1.0);
    assert_eq!(r["impact"]["candidates"], 10);
    close(&r["impact"]["pass_rate"], 0.3);
    close(&r["impact"]["adjusted_pass_rate"], 0.5);
    let h = &r["hofstee"];
    assert_eq!(h["panelists"], 2);
    for (field, want) in [
        ("cut_min", 4.0),
        ("cut_max", 8.0),
        ("fail_min", 0.1),
        ("fail_max", 0.5),
    ] {
        close(&h[field], want);
    }
    assert_eq!(h["result"], "cut");
    close(&h["cut"], 6.0);
    close(&h["fail_rate"], 0.5);
    // Bounds no sitting meets: the result says which way, without a cut.
    dir.write(
        "L.csv",
        "panelist,cut_min,cut_max,fail_min,fail_max\nana,4,8,0.9,1\n",
    );
    let mut lenient = args.to_vec();
    lenient[5] = "L.csv";
    let l = dir.json(&lenient);
    assert_eq!(l["hofstee"]["result"], "curve_below_line");
    assert!(l["hofstee"]["cut"].is_null());
    assert_eq!(
        dir.usage(&["--ratings", "R.csv", "--hofstee", "H.csv"]),
        "imh-exam analyze: --hofstee needs --scores: the compromise is read off the candidates' scores"
    );
}

/// Part Two questions rated in points up to their maximum: cuts 6.5 and 5.5 of 9, mean 6;
/// no Rasch scale or misplacement for polytomous questions.
#[test]
fn part_two_questions_are_rated_in_points() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "panelist,item,rating\nana,q1,2\nana,q2,1.5\nana,q3,3\nben,q1,1\nben,q2,2.5\nben,q3,2\n",
    )
    .write("M.csv", "item,max\nq1,3\nq2,3\nq3,3\n")
    .write(
        "I.csv",
        "item,p_value,difficulty\nq1,0.5,0\nq2,0.6,-0.2\nq3,0.7,-0.4\n",
    );
    let r = dir.json(&["--ratings", "R.csv", "--max", "M.csv", "--items", "I.csv"]);
    close(&r["cut"], 6.0);
    close(&r["max"], 9.0);
    close(&r["percent"], 600.0 / 9.0);
    assert!(r["theta"].is_null() && r["misplacement_from"].is_null());
    assert!(r["by_panelist"][0]["misplacement"].is_null());
    close(&r["by_item"][0]["max"], 3.0);
    // Without the maxima, a rating of 2 is off the probability scale.
    assert_eq!(
        dir.errors(&["--ratings", "R.csv"]),
        vec![
            "R.csv:2: the rating 2 of item \"q1\" is not between 0 and its maximum 1",
            "R.csv:3: the rating 1.5 of item \"q2\" is not between 0 and its maximum 1",
            "R.csv:4: the rating 3 of item \"q3\" is not between 0 and its maximum 1",
            "R.csv:6: the rating 2.5 of item \"q2\" is not between 0 and its maximum 1",
            "R.csv:7: the rating 2 of item \"q3\" is not between 0 and its maximum 1",
        ]
    );
}

/// Consistency sets each rating over its item's maximum against the p-values (mean scores over
/// the maximum): ana rates questions of 2, 4 and 1 points 1, 3 and .25, shares .5, .75, .25,
/// exactly the p-values' order and spacing: r = 1 (her points themselves would not be).
/// Ben's shares .5, .25, .75 against .5, .75, .25: r = −1.
#[test]
fn consistency_compares_ratings_over_their_maximum() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "panelist,item,rating\nana,q1,1\nana,q2,3\nana,q3,0.25\nben,q1,1\nben,q2,1\nben,q3,0.75\n",
    )
    .write("M.csv", "item,max\nq1,2\nq2,4\nq3,1\n")
    .write("I.csv", "item,p_value\nq1,0.5\nq2,0.75\nq3,0.25\n");
    let r = dir.json(&["--ratings", "R.csv", "--max", "M.csv", "--items", "I.csv"]);
    close(&r["by_panelist"][0]["consistency"], 1.0);
    close(&r["by_panelist"][1]["consistency"], -1.0);
    // The panel's item shares .5, .5, .5: no variance, no correlation.
    assert!(r["consistency"].is_null());
}

#[test]
fn every_malformed_ratings_file_is_named_by_line() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "panelist,item,rating,round\n\
         ana,Q1,0.5,1\n\
         ,Q2,0.5,1\n\
         ana,Q2,lots,1\n\
         ana,Q3,-0.1,1\n\
         ana,Q1,0.6,0\n\
         ana,Q1,0.7,1\n\
         ben,Q1,0.5\n",
    );
    assert_eq!(
        dir.errors(&["--ratings", "R.csv"]),
        vec![
            "R.csv:3: the panelist is empty",
            "R.csv:4: the rating \"lots\" is not a number",
            "R.csv:5: the rating -0.1 of item \"Q3\" is not between 0 and its maximum 1",
            "R.csv:6: the round \"0\" is not a whole number from 1",
            "R.csv:7: panelist \"ana\" already rated item \"Q1\" in round 1 on line 2",
            "R.csv:8: expected 4 fields like the header, found 3",
        ]
    );
    dir.write("H.csv", "judge,item,rating\nana,Q1,0.5\n");
    let header = dir.errors(&["--ratings", "H.csv"]);
    assert_eq!(
        header,
        vec!["H.csv:1: the header must be \"panelist,item,rating\" or \"panelist,item,rating,round\", found \"judge,item,rating\""]
    );
    // A gap in the round analysed.
    dir.write(
        "G.csv",
        "panelist,item,rating\nana,Q1,0.5\nana,Q2,0.5\nben,Q1,0.5\n",
    );
    assert_eq!(
        dir.errors(&["--ratings", "G.csv"]),
        vec!["G.csv: panelist \"ben\" did not rate item \"Q2\" in round 1"]
    );
    assert_eq!(
        dir.errors(&["--ratings", "missing.csv"]),
        vec!["missing.csv: no such file"]
    );
}

#[test]
fn every_malformed_companion_file_is_named_by_line() {
    let dir = Dir::new();
    dir.write("R.csv", &fixture("ratings.csv"))
        .write("M.csv", "item,max\nQ1,0\nQ1,3\n")
        .write("N.csv", "item,max\nQ1,1\nQ9,2\n");
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--max", "M.csv"]),
        vec![
            "M.csv:2: the maximum \"0\" of item \"Q1\" is not a number above 0",
            "M.csv:3: item \"Q1\" is also on line 2",
        ]
    );
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--max", "N.csv"]),
        vec!["N.csv:3: item \"Q9\" is not rated in R.csv"]
    );
    dir.write(
        "I.csv",
        "item,p_value,difficulty\nQ1,1.5,0\nQ2,0.5,hard\nQ9,0.5,0\nQ3,0.5,0\n",
    );
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--items", "I.csv"]),
        vec![
            "I.csv:2: the p-value \"1.5\" of item \"Q1\" is not a share from 0 to 1",
            "I.csv:3: the difficulty \"hard\" of item \"Q2\" is not a number of logits",
            "I.csv:4: item \"Q9\" is not rated",
        ]
    );
    dir.write("J.csv", "item,p_value\nQ1,0.5\nQ2,0.5\n");
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--items", "J.csv"]),
        vec![
            "J.csv:1: item \"Q3\" of the ratings has no row",
            "J.csv:1: item \"Q4\" of the ratings has no row",
        ]
    );
    dir.write("S.csv", "candidate,score\nc1,3\nc2,5\nc1,2\nc3,many\n");
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--scores", "S.csv"]),
        vec![
            "S.csv:3: the score \"5\" of candidate \"c2\" is not a number from 0 to the items' maximum 4",
            "S.csv:4: candidate \"c1\" is also on line 2",
            "S.csv:5: the score \"many\" of candidate \"c3\" is not a number from 0 to the items' maximum 4",
        ]
    );
    dir.write("T.csv", "candidate,score\nc1,3\n").write(
        "H.csv",
        "panelist,cut_min,cut_max,fail_min,fail_max\nana,1,3,0.1,30\nben,3,2,0.1,0.3\ncal,1,3,0.4,0.3\nana,1,2,0,0.1\n",
    );
    assert_eq!(
        dir.errors(&[
            "--ratings",
            "R.csv",
            "--scores",
            "T.csv",
            "--hofstee",
            "H.csv"
        ]),
        vec![
            "H.csv:2: the fail_max \"30\" is not a share from 0 to 1 (30% is 0.3)",
            "H.csv:3: the cut_min 3 is not below the cut_max 2",
            "H.csv:4: the fail_min 0.4 is above the fail_max 0.3",
            "H.csv:5: panelist \"ana\" is also on line 2",
        ]
    );
    dir.write(
        "I.csv",
        "item,p_value,difficulty\nQ1,0.5,0\nQ2,0.5,0\nQ3,0.5,0\nQ4,0.5,0\n",
    )
    .write("P.csv", "item,difficulty\nX,abc\n");
    assert_eq!(
        dir.errors(&["--ratings", "R.csv", "--items", "I.csv", "--pool", "P.csv"]),
        vec!["P.csv:2: the difficulty \"abc\" of item \"X\" is not a number of logits"]
    );
}
