//! `imh-exam analyze` on plain files: the worked examples through the real binary in both
//! formats, and every kind of malformed file with its exact `file:line: message`.

use std::process::{Command, Output};

use serde_json::Value;

/// A temporary folder to write the files in and run the binary from.
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

    fn write_bytes(&self, name: &str, bytes: &[u8]) -> &Self {
        std::fs::write(self.tmp.path().join(name), bytes).unwrap();
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_imh-exam"))
            .arg("analyze")
            .args(args)
            .current_dir(self.tmp.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        out
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail on its files; the error lines (the count line checked and
    /// left out).
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
}

const ITEMS: &[&str] = &["items", "--responses", "R.csv", "--key", "K.csv"];

fn with_format<'a>(args: &[&'a str], format: &'a str) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(["--format", format]);
    v
}

/// Parses the long CSV and checks it is well formed: the header, five fields on every row.
fn long_csv(text: &str) -> Vec<[String; 5]> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["table", "id", "sub", "statistic", "value"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("well-formed CSV");
            assert_eq!(r.len(), 5);
            [0, 1, 2, 3, 4].map(|i| r[i].to_string())
        })
        .collect()
}

/// The value of one statistic in the long CSV.
fn cell(rows: &[[String; 5]], table: &str, id: &str, sub: &str, statistic: &str) -> String {
    let matches: Vec<&[String; 5]> = rows
        .iter()
        .filter(|r| r[0] == table && r[1] == id && r[2] == sub && r[3] == statistic)
        .collect();
    assert_eq!(matches.len(), 1, "{table},{id},{sub},{statistic}");
    matches[0][4].clone()
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a number"))
}

fn close(actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol, "{actual} vs {expected}");
}

/// The KR-20 worked example (eight candidates, five items) as answer letters: 1 is the key A,
/// 0 the distractor B.
fn kr20_files(dir: &Dir) {
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3,Q4,Q5\n\
         c1,A,A,A,B,A\n\
         c2,A,B,A,B,B\n\
         c3,A,A,A,A,A\n\
         c4,B,B,A,B,B\n\
         c5,A,A,B,A,A\n\
         c6,B,B,B,B,A\n\
         c7,A,A,A,A,B\n\
         c8,A,B,A,B,A\n",
    )
    .write("K.csv", "item,key\nQ1,A\nQ2,A\nQ3,A\nQ4,A\nQ5,A\n");
}

/// KR-20 = 0.56640625 and KR-21 = 0.5 (Kuder & Richardson 1937; the worked examples).
#[test]
fn items_reports_the_kr20_example_in_csv_and_json() {
    let dir = Dir::new();
    kr20_files(&dir);
    let csv = dir.ok(ITEMS);
    assert_eq!(
        csv,
        dir.ok(&with_format(ITEMS, "csv")),
        "csv is the default"
    );
    let rows = long_csv(&csv);
    assert_eq!(cell(&rows, "form", "", "", "kr20"), "0.56640625");
    assert_eq!(cell(&rows, "form", "", "", "kr21"), "0.5");
    assert_eq!(cell(&rows, "form", "", "", "candidates"), "8");
    assert_eq!(cell(&rows, "distribution", "4", "", "count"), "3");
    assert_eq!(cell(&rows, "item", "Q1", "", "p"), "0.75");
    close(
        number(&cell(&rows, "item", "Q1", "", "pbis")),
        0.8164965809277261,
        1e-12,
    );
    close(
        number(&cell(&rows, "item", "Q2", "", "alpha_if_deleted")),
        0.20833333333333331,
        1e-12,
    );
    assert_eq!(cell(&rows, "option", "Q1", "B", "proportion"), "0.25");
    assert_eq!(cell(&rows, "item", "Q3", "", "flag"), "low_discrimination");

    let json: Value = serde_json::from_str(&dir.ok(&with_format(ITEMS, "json"))).unwrap();
    assert_eq!(json["form"]["kr20"], 0.56640625);
    assert_eq!(json["form"]["kr21"], 0.5);
    assert_eq!(
        json["form"]["distribution"],
        serde_json::json!([0, 2, 1, 1, 3, 1])
    );
    let q1 = &json["items"][0];
    assert_eq!(q1["item"], "Q1");
    for field in ["p", "pbis", "pbis_rest", "disc_27", "alpha_if_deleted"] {
        assert!(q1[field].is_f64(), "{field}");
    }
    close(q1["pbis_rest"].as_f64().unwrap(), 0.6622661785325219, 1e-12);
    // Full precision: the JSON and the CSV print the same digits.
    assert_eq!(
        q1["pbis"].to_string(),
        cell(&rows, "item", "Q1", "", "pbis")
    );
    assert_eq!(
        json["items"][2]["flags"],
        serde_json::json!(["low_discrimination"])
    );
}

#[test]
fn items_with_domains_several_keys_and_omissions() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3\nc1,a,,C\nc2,B,D,C\nc3,A,A,\nc4,C,A,B\n",
    )
    .write("K.csv", "item,key,domain\nQ1,A|B,TF\nQ2,A,TF\nQ3,C,\n");
    let json: Value = serde_json::from_str(&dir.ok(&with_format(ITEMS, "json"))).unwrap();
    // Q1 accepts A or B (the lower-case a too): three of four right.
    assert_eq!(json["items"][0]["p"], 0.75);
    assert_eq!(json["items"][0]["options"][1]["key"], true);
    assert_eq!(json["items"][1]["omitted"], 1);
    // Q2's options run to its highest letter, D.
    assert_eq!(json["items"][1]["options"].as_array().unwrap().len(), 4);
    assert_eq!(json["domains"][0]["domain"], "TF");
    assert_eq!(json["domains"][0]["items"], 2);
    assert_eq!(json["items"][2]["domain"], Value::Null);
}

#[test]
fn a_missing_file() {
    let dir = Dir::new();
    assert_eq!(
        dir.errors(ITEMS),
        vec!["R.csv: no such file", "K.csv: no such file"]
    );
}

#[test]
fn an_empty_file() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write("R.csv", "");
    assert_eq!(dir.errors(ITEMS), vec!["R.csv:1: the file is empty"]);
    dir.write("R.csv", "\n\n");
    assert_eq!(dir.errors(ITEMS), vec!["R.csv:1: the file is empty"]);
    dir.write("R.csv", "candidate,Q1,Q2,Q3,Q4,Q5\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec!["R.csv:1: no candidates after the header"]
    );
    dir.write("R.csv", "candidate\nc1\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec!["R.csv:1: the header names no items after \"candidate\""]
    );
}

#[test]
fn a_wrong_header() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write("R.csv", "cand,Q1\nc1,A\n")
        .write("K.csv", "item,answer\nQ1,A\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "R.csv:1: the header must begin with \"candidate\", found \"cand\"",
            "K.csv:1: the header must be \"item,key\" or \"item,key,domain\", found \"item,answer\"",
        ]
    );
    dir.write("R.csv", "candidate,Q1,,Q1\nc1,A,B,C\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "R.csv:1: column 3 has no item id",
            "R.csv:1: item \"Q1\" is also column 2",
            "K.csv:1: the header must be \"item,key\" or \"item,key,domain\", found \"item,answer\"",
        ]
    );
}

#[test]
fn an_unknown_item_in_the_key_and_an_item_without_key() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write("K.csv", "item,key\nQ1,A\nQ2,A\nQ9,B\nQ3,A\nQ4,A\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "K.csv:4: item \"Q9\" is not a column of R.csv",
            "R.csv:1: item \"Q5\" is not in K.csv",
        ]
    );
}

#[test]
fn a_key_that_is_not_a_letter() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write("K.csv", "item,key\nQ1,1\nQ2,A|\nQ3,AB\nQ4,\nQ5,A|C\nQ5,B\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "K.csv:2: the key \"1\" is not a letter A-Z, or letters joined by |",
            "K.csv:3: the key \"A|\" is not a letter A-Z, or letters joined by |",
            "K.csv:4: the key \"AB\" is not a letter A-Z, or letters joined by |",
            "K.csv:5: the key \"\" is not a letter A-Z, or letters joined by |",
            "K.csv:7: item \"Q5\" is also on line 6",
        ]
    );
}

#[test]
fn bad_answers_rows_and_duplicate_candidates() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3,Q4,Q5\n\
         c1,A,A,A,B,A\n\
         c2,A,AB,A,B,7\n\
         c3,A,A,A,A\n\
         \n\
         c1,A,A,A,A,A\n\
         ,A,A,A,A,A\n\
         c4,A,A,A,A,A,A\n",
    );
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "R.csv:3: item Q2: \"AB\" is not an option letter A-Z, empty or -",
            "R.csv:3: item Q5: \"7\" is not an option letter A-Z, empty or -",
            "R.csv:4: expected 6 fields like the header, found 5",
            "R.csv:6: candidate \"c1\" is also on line 2",
            "R.csv:7: the candidate is empty",
            "R.csv:8: expected 6 fields like the header, found 7",
        ]
    );
}

#[test]
fn garbage_never_panics() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write_bytes("R.csv", b"candidate,Q1\nc1,\xff\xfe\n");
    assert_eq!(
        dir.errors(ITEMS),
        vec!["R.csv:2: field 2 is not valid UTF-8"]
    );
    for garbage in [
        &b"\0\0\0"[..],
        b"\"",
        b",,,\n,,,",
        b"\xef\xbb\xbf",
        b"\r\n\r\n",
    ] {
        dir.write_bytes("R.csv", garbage);
        let out = dir.run(ITEMS);
        assert_eq!(out.status.code(), Some(1));
    }
    // A directory where a file should be.
    std::fs::create_dir(dir.tmp.path().join("D.csv")).unwrap();
    let out = dir.run(&["items", "--responses", "D.csv", "--key", "K.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("D.csv: cannot be read: "));
}

/// The weighted-kappa worked example (rows rater A, columns rater B; weights of Cohen 1968) as a
/// ratings file, each response read by "ann" then "bob".
fn weighted_kappa_file(dir: &Dir, with_item: bool) {
    let table = [[11, 3, 1, 0], [2, 14, 4, 1], [0, 3, 12, 2], [0, 1, 2, 9]];
    let mut text = String::from(if with_item {
        "response,rater,score,item\n"
    } else {
        "response,rater,score\n"
    });
    let mut n = 0;
    for (a, row) in table.iter().enumerate() {
        for (b, &count) in row.iter().enumerate() {
            for _ in 0..count {
                n += 1;
                let item = if with_item {
                    if n % 2 == 0 {
                        ",even"
                    } else {
                        ",odd"
                    }
                } else {
                    ""
                };
                text.push_str(&format!("r{n},ann,{a}{item}\nr{n},bob,{b}{item}\n"));
            }
        }
    }
    dir.write("X.csv", &text);
}

const AGREEMENT: &[&str] = &[
    "agreement",
    "--ratings",
    "X.csv",
    "--min-score",
    "0",
    "--max-score",
    "3",
];

/// Gwet's AC1 and AC2 in `analyze agreement`, on Gwet's `cac.raw4raters` (Gwet 2014, *Handbook
/// of Inter-Rater Reliability*, 4th ed., p. 120; irrCAC README: AC1 0.77544, SE 0.14295; AC2
/// with quadratic weights 0.914, SE 0.104): twelve responses, up to four raters, scores 1-5.
#[test]
fn agreement_reports_gwet_on_raw4raters() {
    let table = [
        "1,1,,1", "2,2,3,2", "3,3,3,3", "3,3,3,3", "2,2,2,2", "1,2,3,4", "4,4,4,4", "1,1,2,1",
        "2,2,2,2", ",5,5,5", ",,1,1", ",,3,",
    ];
    let mut text = String::from("response,rater,score\n");
    for (i, row) in table.iter().enumerate() {
        for (j, score) in row.split(',').enumerate() {
            if !score.is_empty() {
                text.push_str(&format!("s{i},r{j},{score}\n"));
            }
        }
    }
    let dir = Dir::new();
    dir.write("X.csv", &text);
    let args = [
        "agreement",
        "--ratings",
        "X.csv",
        "--min-score",
        "1",
        "--max-score",
        "5",
        "--format",
        "json",
    ];
    let json: Value = serde_json::from_str(&dir.ok(&args)).unwrap();
    close(json["gwet_ac1"].as_f64().unwrap(), 0.77544, 5e-6);
    close(json["gwet_ac1_se"].as_f64().unwrap(), 0.14295, 5e-6);
    close(json["gwet_ac2_quadratic"].as_f64().unwrap(), 0.914, 5e-4);
    close(json["gwet_ac2_quadratic_se"].as_f64().unwrap(), 0.104, 5e-4);
    let csv = long_csv(&dir.ok(&args[..7]));
    close(
        number(&cell(&csv, "all", "", "", "gwet_ac1")),
        0.77544,
        5e-6,
    );
}

/// κ = 0.6044202434336964 (SE 0.07719679286266347), linear 0.70233139050791, quadratic
/// 0.7941176470588236: the worked example's values (scikit-learn and statsmodels).
#[test]
fn agreement_reports_the_weighted_kappa_example_in_csv_and_json() {
    let dir = Dir::new();
    weighted_kappa_file(&dir, true);
    let rows = long_csv(&dir.ok(AGREEMENT));
    let all = |s: &str| number(&cell(&rows, "all", "", "", s));
    close(all("kappa"), 0.6044202434336964, 1e-12);
    close(all("kappa_se"), 0.07719679286266347, 1e-12);
    close(all("kappa_linear"), 0.70233139050791, 1e-12);
    close(all("kappa_quadratic"), 0.7941176470588236, 1e-12);
    close(all("exact"), 46.0 / 65.0, 1e-15);
    assert_eq!(cell(&rows, "all", "", "", "pairs"), "65");
    assert_eq!(cell(&rows, "confusion", "1", "2", "count"), "4");
    assert_eq!(cell(&rows, "rater", "ann", "", "scored"), "65");
    assert_eq!(cell(&rows, "rater_pair", "ann", "bob", "pairs"), "65");
    assert_eq!(cell(&rows, "item", "odd", "", "responses"), "33");
    assert!(!cell(&rows, "all", "", "", "fleiss_kappa").is_empty());

    let json: Value = serde_json::from_str(&dir.ok(&with_format(AGREEMENT, "json"))).unwrap();
    close(json["kappa"].as_f64().unwrap(), 0.6044202434336964, 1e-12);
    close(
        json["kappa_quadratic"].as_f64().unwrap(),
        0.7941176470588236,
        1e-12,
    );
    for field in [
        "exact",
        "adjacent",
        "kappa_low",
        "kappa_high",
        "icc_2_1",
        "icc_3_1",
        "alpha_ordinal",
        "alpha_interval",
        "fleiss_kappa",
    ] {
        assert!(json[field].is_f64(), "{field}");
    }
    assert_eq!(json["confusion"][0], serde_json::json!([11, 3, 1, 0]));
    assert_eq!(json["raters"][1]["rater"], "bob");
    assert_eq!(json["rater_pairs"][0]["rater_a"], "ann");
    assert_eq!(json["items"][1]["item"], "even");
    assert_eq!(json["min_score"], 0);
    assert_eq!(json["max_score"], 3);
    // Without the item column there is no per-item breakdown.
    weighted_kappa_file(&dir, false);
    let json: Value = serde_json::from_str(&dir.ok(&with_format(AGREEMENT, "json"))).unwrap();
    assert_eq!(json["items"], serde_json::json!([]));
    close(
        json["kappa_linear"].as_f64().unwrap(),
        0.70233139050791,
        1e-12,
    );
}

#[test]
fn scores_off_the_scale_or_not_whole_numbers() {
    let dir = Dir::new();
    dir.write(
        "X.csv",
        "response,rater,score\na1,r1,2\na1,r2,4\na2,r1,2.5\na2,r2,\na3,r1,-1\na3,,x\n",
    );
    assert_eq!(
        dir.errors(AGREEMENT),
        vec![
            "X.csv:3: the score 4 is off the scale 0 to 3",
            "X.csv:4: the score \"2.5\" is not a whole number",
            "X.csv:5: the score \"\" is not a whole number",
            "X.csv:6: the score -1 is off the scale 0 to 3",
            "X.csv:7: the rater is empty",
            "X.csv:7: the score \"x\" is not a whole number",
        ]
    );
}

#[test]
fn malformed_ratings_files() {
    let dir = Dir::new();
    dir.write("X.csv", "response,reader,score\na1,r1,2\n");
    assert_eq!(
        dir.errors(AGREEMENT),
        vec![
            "X.csv:1: the header must be \"response,rater,score\" or \"response,rater,score,item\", found \"response,reader,score\""
        ]
    );
    dir.write(
        "X.csv",
        "response,rater,score,item\na1,r1,2,Q1\na1,r2\na1,r1,3,Q1\na1,r3,1,Q2\n,r1,1,Q1\na2,r1,1,\n",
    );
    assert_eq!(
        dir.errors(AGREEMENT),
        vec![
            "X.csv:3: expected 4 fields like the header, found 2",
            "X.csv:4: rater \"r1\" already scored response \"a1\" on line 2",
            "X.csv:5: response \"a1\" is for item \"Q1\" on line 2",
            "X.csv:6: the response is empty",
            "X.csv:7: the item is empty",
        ]
    );
    dir.write("X.csv", "response,rater,score\n");
    assert_eq!(
        dir.errors(AGREEMENT),
        vec!["X.csv:1: no ratings after the header"]
    );
    dir.write("X.csv", "");
    assert_eq!(dir.errors(AGREEMENT), vec!["X.csv:1: the file is empty"]);
    std::fs::remove_file(dir.tmp.path().join("X.csv")).unwrap();
    assert_eq!(dir.errors(AGREEMENT), vec!["X.csv: no such file"]);
}

#[test]
fn a_reversed_or_huge_scale_is_a_usage_error() {
    let dir = Dir::new();
    dir.write("X.csv", "response,rater,score\na1,r1,2\n");
    let out = dir.run(&[
        "agreement",
        "--ratings",
        "X.csv",
        "--min-score",
        "3",
        "--max-score",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imh-exam analyze: --min-score 3 is greater than --max-score 0\n"
    );
    let out = dir.run(&[
        "agreement",
        "--ratings",
        "X.csv",
        "--min-score",
        "-5",
        "--max-score",
        "1000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imh-exam analyze: --min-score/--max-score: a scale from -5 to 1000 has more than 101 points\n"
    );
    // Negative scales are fine.
    let out = dir.run(&[
        "agreement",
        "--ratings",
        "X.csv",
        "--min-score",
        "-2",
        "--max-score",
        "2",
    ]);
    assert!(out.status.success());
}

const DIF: &[&str] = &[
    "dif",
    "--responses",
    "R.csv",
    "--key",
    "K.csv",
    "--groups",
    "G.csv",
    "--focal",
    "F",
    "--reference",
    "REF",
];

/// The Mantel-Haenszel worked example as candidates: three score strata on a four-item form
/// whose first item is studied; rows (reference, focal) × (right, wrong).
fn mh_files(dir: &Dir) {
    let strata = [(30, 20, 20, 30), (40, 10, 30, 20), (45, 5, 40, 10)];
    let mut r = String::from("candidate,Q1,Q2,Q3,Q4\n");
    let mut g = String::from("candidate,group\n");
    let mut n = 0;
    for (s, &(a, b, c, d)) in strata.iter().enumerate() {
        let total = s + 1;
        for (count, group, q1_right) in [
            (a, "REF", true),
            (b, "REF", false),
            (c, "F", true),
            (d, "F", false),
        ] {
            let others = total - usize::from(q1_right);
            let mut row = String::from(if q1_right { "A" } else { "B" });
            for j in 0..3 {
                row.push_str(if j < others { ",A" } else { ",B" });
            }
            for _ in 0..count {
                n += 1;
                r.push_str(&format!("c{n},{row}\n"));
                g.push_str(&format!("c{n},{group}\n"));
            }
        }
    }
    // A candidate of another group is left out.
    r.push_str("x1,A,A,A,A\n");
    g.push_str("x1,OTHER\n");
    dir.write("R.csv", &r)
        .write("K.csv", "item,key\nQ1,A\nQ2,A\nQ3,A\nQ4,A\n")
        .write("G.csv", &g);
}

/// alpha_MH = 2.388888888888889, χ² = 9.706212765957448, p = 0.0018364608806423766,
/// D = −2.0464466408238846, SE 0.6351451724165122, class C− (the worked examples; Holland &
/// Thayer 1988, Robins, Breslow & Greenland 1986, Zwick 2012).
#[test]
fn dif_reports_the_mantel_haenszel_example_in_csv_and_json() {
    let dir = Dir::new();
    mh_files(&dir);
    let rows = long_csv(&dir.ok(DIF));
    let q1 = |s: &str| cell(&rows, "item", "Q1", "", s);
    close(number(&q1("alpha_mh")), 2.388888888888889, 1e-13);
    close(number(&q1("chi2_mh")), 9.706212765957448, 1e-12);
    close(number(&q1("p_value")), 0.0018364608806423766, 1e-15);
    close(number(&q1("d_dif")), -2.0464466408238846, 1e-12);
    close(number(&q1("d_dif_se")), 0.6351451724165122, 1e-12);
    assert_eq!(q1("ets_class"), "C-");
    assert_eq!(q1("strata"), "3");
    assert_eq!(
        cell(&rows, "group", "REF", "reference", "candidates"),
        "150"
    );
    assert_eq!(cell(&rows, "group", "F", "focal", "candidates"), "150");

    let json: Value = serde_json::from_str(&dir.ok(&with_format(DIF, "json"))).unwrap();
    assert_eq!(json["focal_group"], "F");
    assert_eq!(json["reference_group"], "REF");
    let q1 = &json["items"][0];
    assert_eq!(q1["item"], "Q1");
    assert_eq!(q1["ets_class"], "C-");
    for field in ["alpha_mh", "chi2_mh", "p_value", "d_dif", "d_dif_se"] {
        assert!(q1[field].is_f64(), "{field}");
    }
    close(q1["d_dif"].as_f64().unwrap(), -2.0464466408238846, 1e-12);
}

#[test]
fn a_candidate_without_group_and_groups_without_members() {
    let dir = Dir::new();
    dir.write("R.csv", "candidate,Q1\nc1,A\nc2,B\nc3,A\n")
        .write("K.csv", "item,key\nQ1,A\n")
        .write(
            "G.csv",
            "candidate,group\nc1,REF\nc2,REF\nzz,F\nc1,F\n,F\nc4,\n",
        );
    assert_eq!(
        dir.errors(DIF),
        vec![
            "G.csv:4: candidate \"zz\" is not in R.csv",
            "G.csv:5: candidate \"c1\" is also on line 2",
            "G.csv:6: the candidate is empty",
            "G.csv:7: the group is empty",
            "R.csv:4: candidate \"c3\" has no group in G.csv",
            "G.csv: no candidate is in the focal group \"F\"",
        ]
    );
    dir.write("G.csv", "candidate,group\nc1,F\nc2,F\nc3,F\n");
    assert_eq!(
        dir.errors(DIF),
        vec!["G.csv: no candidate is in the reference group \"REF\""]
    );
    dir.write("G.csv", "candidate,team\nc1,F\n");
    assert_eq!(
        dir.errors(DIF),
        vec!["G.csv:1: the header must be \"candidate,group\", found \"candidate,team\""]
    );
    dir.write("G.csv", "candidate,group\nc1,F,extra\nc2,REF\nc3,F\n");
    assert_eq!(
        dir.errors(DIF),
        vec![
            "G.csv:2: expected 2 fields like the header, found 3",
            "R.csv:2: candidate \"c1\" has no group in G.csv",
        ]
    );
}

#[test]
fn dif_reports_every_file_at_once() {
    let dir = Dir::new();
    dir.write("R.csv", "candidate,Q1\nc1,A\nc1,B\n")
        .write("K.csv", "item,key\nQ1,?\n");
    assert_eq!(
        dir.errors(DIF),
        vec![
            "R.csv:3: candidate \"c1\" is also on line 2",
            "K.csv:2: the key \"?\" is not a letter A-Z, or letters joined by |",
            "G.csv: no such file",
        ]
    );
}

#[test]
fn the_same_focal_and_reference_group_is_a_usage_error() {
    let dir = Dir::new();
    let out = dir.run(&[
        "dif",
        "--responses",
        "R.csv",
        "--key",
        "K.csv",
        "--groups",
        "G.csv",
        "--focal",
        "F",
        "--reference",
        "F",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imh-exam analyze: --focal and --reference name the same group \"F\"\n"
    );
}

#[test]
fn the_paths_are_printed_as_given() {
    let dir = Dir::new();
    std::fs::create_dir(dir.tmp.path().join("data")).unwrap();
    dir.write("data/R.csv", "candidate,Q1\nc1,A\n");
    let out = dir.run(&["items", "--responses", "data/R.csv", "--key", "data/K.csv"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("data/K.csv: no such file\n"), "{stderr}");
}

/// Ids that a spreadsheet would run as formulas (CSV injection), each as a quoted CSV field.
const HOSTILE: [&str; 4] = [
    r#"=HYPERLINK("http://evil.test","x")"#,
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "-1+1",
];

/// `value` as one CSV field.
fn field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// No cell of the long CSV starts a formula: each one that begins with `=`, `+`, `-`, `@`, a
/// tab or a carriage return is a plain number.
fn assert_no_formula(rows: &[[String; 5]]) {
    for row in rows {
        for c in row {
            if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                assert!(c.parse::<f64>().is_ok(), "formula cell {c:?} in {row:?}");
            }
        }
    }
}

#[test]
fn item_ids_that_look_like_formulas_are_written_as_text() {
    let dir = Dir::new();
    kr20_files(&dir);
    let ids = ["Q1", "Q2", "Q3", "Q4"];
    let mut r = std::fs::read_to_string(dir.tmp.path().join("R.csv")).unwrap();
    let mut k = "item,key,domain\n".to_string();
    for (id, hostile) in ids.iter().zip(HOSTILE) {
        r = r.replacen(id, &field(hostile), 1);
        k.push_str(&format!("{},A,{}\n", field(hostile), field(hostile)));
    }
    k.push_str("Q5,A,TF\n");
    dir.write("R.csv", &r).write("K.csv", &k);
    let rows = long_csv(&dir.ok(ITEMS));
    assert_no_formula(&rows);
    for hostile in HOSTILE {
        let text = format!("'{hostile}");
        // The item's and its domain's statistics, under the id with a quote before it.
        number(&cell(&rows, "item", &text, "", "p"));
        number(&cell(&rows, "option", &text, "A", "proportion"));
        number(&cell(&rows, "domain", &text, "", "items"));
    }
    // The item left alone keeps its id, and JSON is not a spreadsheet: it keeps the ids as is.
    number(&cell(&rows, "item", "Q5", "", "p"));
    let json: Value = serde_json::from_str(&dir.ok(&with_format(ITEMS, "json"))).unwrap();
    assert_eq!(json["items"][0]["item"], HOSTILE[0]);
}

#[test]
fn rater_and_item_names_that_look_like_formulas_are_written_as_text() {
    let dir = Dir::new();
    weighted_kappa_file(&dir, true);
    let text = std::fs::read_to_string(dir.tmp.path().join("X.csv"))
        .unwrap()
        .replace(",ann,", &format!(",{},", field(HOSTILE[0])))
        .replace(",bob,", &format!(",{},", field(HOSTILE[2])))
        .replace(",odd\n", &format!(",{}\n", field(HOSTILE[1])))
        .replace(",even\n", &format!(",{}\n", field(HOSTILE[3])));
    dir.write("X.csv", &text);
    let rows = long_csv(&dir.ok(AGREEMENT));
    assert_no_formula(&rows);
    let (ann, bob) = (format!("'{}", HOSTILE[0]), format!("'{}", HOSTILE[2]));
    number(&cell(&rows, "rater", &ann, "", "scored"));
    number(&cell(&rows, "rater", &bob, "", "scored"));
    number(&cell(&rows, "rater_pair", &ann, &bob, "kappa"));
    number(&cell(
        &rows,
        "item",
        &format!("'{}", HOSTILE[1]),
        "",
        "kappa",
    ));
    number(&cell(
        &rows,
        "item",
        &format!("'{}", HOSTILE[3]),
        "",
        "kappa",
    ));
    close(
        number(&cell(&rows, "all", "", "", "kappa")),
        0.6044202434336964,
        1e-12,
    );
}

#[test]
fn group_names_that_look_like_formulas_are_written_as_text_and_numbers_stay_numbers() {
    let dir = Dir::new();
    mh_files(&dir);
    let path = |name: &str| dir.tmp.path().join(name);
    let r = std::fs::read_to_string(path("R.csv")).unwrap();
    let g = std::fs::read_to_string(path("G.csv")).unwrap();
    dir.write("R.csv", &r.replacen("Q1", &field(HOSTILE[0]), 1))
        .write(
            "K.csv",
            &format!("item,key\n{},A\nQ2,A\nQ3,A\nQ4,A\n", field(HOSTILE[0])),
        )
        .write(
            "G.csv",
            &g.replace(",REF\n", &format!(",{}\n", field(HOSTILE[3])))
                .replace(",F\n", &format!(",{}\n", field(HOSTILE[2]))),
        );
    let args = [
        "dif",
        "--responses",
        "R.csv",
        "--key",
        "K.csv",
        "--groups",
        "G.csv",
        "--focal",
        HOSTILE[2],
        &format!("--reference={}", HOSTILE[3]),
    ];
    let rows = long_csv(&dir.ok(&args));
    assert_no_formula(&rows);
    let reference = format!("'{}", HOSTILE[3]);
    let focal = format!("'{}", HOSTILE[2]);
    assert_eq!(
        cell(&rows, "group", &reference, "reference", "candidates"),
        "150"
    );
    assert_eq!(cell(&rows, "group", &focal, "focal", "candidates"), "150");
    // D-DIF is negative: a number, so it is written as one, with no quote before it.
    let d = cell(&rows, "item", &format!("'{}", HOSTILE[0]), "", "d_dif");
    assert!(d.starts_with('-'), "{d}");
    close(number(&d), -2.0464466408238846, 1e-12);
}

/// A quoted field may hold a newline or an escape sequence; echoed in a message it is shown
/// escaped, so each error stays one `file:line: message` line.
#[test]
fn values_echoed_in_errors_are_shown_escaped_on_one_line() {
    let dir = Dir::new();
    kr20_files(&dir);
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3,Q4,Q5\n\
         \"two\nlines\",A,A,A,B,A\n\
         \"two\nlines\",A,B,A,B,B\n\
         c3,\"\u{1b}[2J\",A,A,A,A\n",
    );
    assert_eq!(
        dir.errors(ITEMS),
        vec![
            "R.csv:4: candidate \"two\\nlines\" is also on line 2",
            "R.csv:6: item Q1: \"\\u{1b}[2J\" is not an option letter A-Z, empty or -",
        ]
    );
    weighted_kappa_file(&dir, false);
    let text = std::fs::read_to_string(dir.tmp.path().join("X.csv")).unwrap();
    dir.write("X.csv", &text.replacen("r1,ann,0", "r1,ann,\"0\r\n1\"", 1));
    assert_eq!(
        dir.errors(AGREEMENT),
        vec!["X.csv:2: the score \"0\\r\\n1\" is not a whole number"]
    );
}

/// The Livingston & Lewis two-parameter score set of `tests/fixtures/decision/` (40 items,
/// 300 candidates, reference values from R: `benches/reference/decision_reference.R`) as a
/// response file. The correct answers are laid end to end around the 40 items, candidate after
/// candidate; the totals add up to a multiple of 40, so every item is answered right equally
/// often and KR-20 equals KR-21, the reliability the reference used.
fn decision_files(dir: &Dir) -> Value {
    let f: Value =
        serde_json::from_str(include_str!("fixtures/decision/two_parameter.json")).unwrap();
    let n = f["n_items"].as_u64().unwrap() as usize;
    let mut responses = String::from("candidate");
    let mut key = String::from("item,key\n");
    for i in 0..n {
        responses.push_str(&format!(",Q{i}"));
        key.push_str(&format!("Q{i},A\n"));
    }
    responses.push('\n');
    let (mut start, mut candidate) = (0, 0);
    for (total, count) in f["distribution"].as_array().unwrap().iter().enumerate() {
        for _ in 0..count.as_u64().unwrap() {
            let mut row = vec!["B"; n];
            for k in 0..total {
                row[(start + k) % n] = "A";
            }
            start = (start + total) % n;
            candidate += 1;
            responses.push_str(&format!("c{candidate},{}\n", row.join(",")));
        }
    }
    dir.write("R.csv", &responses).write("K.csv", &key);
    f
}

#[test]
fn items_with_a_cut_reports_decision_consistency_and_accuracy() {
    let dir = Dir::new();
    let f = decision_files(&dir);
    let args = [ITEMS, &["--cut", "32"]].concat();
    let json: Value = serde_json::from_str(&dir.ok(&with_format(&args, "json"))).unwrap();
    let form = &json["form"];
    close(
        form["kr20"].as_f64().unwrap(),
        form["kr21"].as_f64().unwrap(),
        1e-13,
    );
    let d = &json["decision"];
    assert_eq!(
        (d["cut"].as_u64(), d["items"].as_u64()),
        (Some(32), Some(40))
    );
    assert_eq!(d["candidates"], 300);
    let passed: u64 = f["distribution"].as_array().unwrap()[32..]
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(d["pass_rate"].as_f64().unwrap(), passed as f64 / 300.0);
    let get = |field: &str| d[field].as_f64().unwrap_or_else(|| panic!("{field}"));
    let want = |path: &[&str]| path.iter().fold(&f, |v, k| &v[*k]).as_f64().unwrap();
    close(get("reliability"), want(&["reliability"]), 1e-13);
    // Subkoviak: the R reference's p0 and kappa.
    close(get("subkoviak_p0"), want(&["subkoviak", "p0"]), 1e-12);
    close(get("subkoviak_kappa"), want(&["subkoviak", "kappa"]), 1e-12);
    // Livingston & Lewis, two-parameter fall-back: betafunctions' values.
    assert_eq!(d["ll_model"], "two_parameter");
    close(
        get("ll_effective_length"),
        want(&["effective_length"]),
        1e-9,
    );
    close(get("ll_accuracy"), want(&["accuracy"]), 1e-9);
    close(get("ll_consistency"), want(&["consistency"]), 1e-9);
    close(get("ll_kappa"), want(&["kappa"]), 1e-9);
    close(
        get("ll_false_pass"),
        want(&["accuracy_table", "fail_pass"]),
        1e-9,
    );
    close(
        get("ll_false_fail"),
        want(&["accuracy_table", "pass_fail"]),
        1e-9,
    );
    // Lord's binomial CSEM at 32 of 40: √(32·8/39).
    close(
        get("csem_binomial_at_cut"),
        (256.0_f64 / 39.0).sqrt(),
        1e-15,
    );

    // The CSV has the same numbers in table `decision`.
    let rows = long_csv(&dir.ok(&args));
    for field in [
        "cut",
        "subkoviak_p0",
        "ll_accuracy",
        "ll_consistency",
        "ll_model",
    ] {
        let text = cell(&rows, "decision", "", "", field);
        assert_eq!(text, d[field].to_string().trim_matches('"'), "{field}");
    }
    // Without --cut, neither has one.
    let json: Value = serde_json::from_str(&dir.ok(&with_format(ITEMS, "json"))).unwrap();
    assert_eq!(json.get("decision"), None);
    assert!(long_csv(&dir.ok(ITEMS)).iter().all(|r| r[0] != "decision"));
}

#[test]
fn a_cut_on_a_handful_of_candidates() {
    // The KR-20 example, 8 candidates on 5 items, cut 4.
    let dir = Dir::new();
    kr20_files(&dir);
    let args = [ITEMS, &["--cut", "4", "--format", "json"]].concat();
    let json: Value = serde_json::from_str(&dir.ok(&args)).unwrap();
    let d = &json["decision"];
    assert_eq!(d["pass_rate"], 0.5);
    assert_eq!(d["kr21"], 0.5);
    assert_eq!(d["csem_binomial_at_cut"], 1.0);
    assert!(d["subkoviak_p0"].is_f64());
    // n′ = (3·2 − r·16/7)/((16/7)(1 − r)) with r = 0.56640625 and σ² = 16/7.
    close(
        d["ll_effective_length"].as_f64().unwrap(),
        (6.0 - 0.56640625 * 16.0 / 7.0) / (16.0 / 7.0 * (1.0 - 0.56640625)),
        1e-14,
    );
    // Eight scores' four moments give an inadmissible four-parameter beta: two parameters.
    assert_eq!(d["ll_model"], "two_parameter");
}

#[test]
fn bad_cuts_are_usage_errors() {
    let dir = Dir::new();
    kr20_files(&dir);
    let run = |cut: &str| {
        let out = dir.run(&[ITEMS, &["--cut", cut]].concat());
        assert_eq!(out.status.code(), Some(2), "{cut}");
        assert!(out.stdout.is_empty());
        String::from_utf8(out.stderr).unwrap()
    };
    assert_eq!(
        run("6"),
        "imh-exam analyze: --cut 6 is above the 5 items of a form\n"
    );
    let negative = run("-3");
    assert!(
        negative.contains("'-3'") && negative.contains("-3 is negative"),
        "{negative}"
    );
    let zero = run("0");
    assert!(zero.contains("0 passes everyone"), "{zero}");
    let word = run("forty");
    assert!(word.contains("\"forty\" is not a whole number"), "{word}");
    let fraction = run("4.5");
    assert!(
        fraction.contains("\"4.5\" is not a whole number"),
        "{fraction}"
    );
    let huge = run("99999999999");
    assert!(huge.contains("more items than any form has"), "{huge}");
    // At the form's length it is a cut (only a perfect score passes).
    assert!(dir
        .ok(&[ITEMS, &["--cut", "5"]].concat())
        .contains("decision"));
}

// ---- rasch ----

const RASCH: &[&str] = &["rasch", "--responses", "R.csv", "--key", "K.csv"];

/// eRm's raschdat1 (or its missing-by-design copy) as answer letters: 1 is the key A, 0 the
/// distractor B, NA the not-presented `-`. With the R fixture of the same data.
fn rasch_files(dir: &Dir, name: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rasch");
    let csv = std::fs::read_to_string(root.join(format!("{name}.csv"))).unwrap();
    let mut lines = csv.lines();
    let items: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut r = format!("candidate,{}\n", items.join(","));
    for (v, line) in lines.enumerate() {
        let cells: Vec<&str> = line
            .split(',')
            .map(|c| match c {
                "1" => "A",
                "0" => "B",
                _ => "-",
            })
            .collect();
        r.push_str(&format!("p{},{}\n", v + 1, cells.join(",")));
    }
    let mut k = String::from("item,key\n");
    for item in &items {
        k.push_str(&format!("{item},A\n"));
    }
    dir.write("R.csv", &r).write("K.csv", &k);
    let json = std::fs::read_to_string(root.join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&json).unwrap()
}

fn rasch_checks(name: &str) {
    let dir = Dir::new();
    let fixture = rasch_files(&dir, name);
    let report: Value = serde_json::from_str(&dir.ok(&with_format(RASCH, "json"))).unwrap();
    let expected = |key: &str, i: usize| fixture["psychotools"][key][i].as_f64().unwrap();
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["item"], format!("I{}", i + 1));
        // psychotools' BFGS stops about 2e-6 short of the maximum (see stats::rasch::tests).
        close(
            item["difficulty"].as_f64().unwrap(),
            expected("difficulty", i),
            1e-5,
        );
        close(item["se"].as_f64().unwrap(), expected("se", i), 1e-6);
        for key in ["infit", "outfit", "infit_z", "outfit_z"] {
            close(
                item[key].as_f64().unwrap(),
                fixture["fit"][key][i].as_f64().unwrap(),
                1e-5,
            );
        }
        assert_eq!(item["anchored"], false);
        assert_eq!(item["excluded"], Value::Null);
    }
    // Every person's WLE is the entry of their form's table at their raw score.
    let forms = report["forms"].as_array().unwrap();
    assert_eq!(forms.len(), fixture["forms"].as_array().unwrap().len());
    for p in report["persons"].as_array().unwrap() {
        let form = &forms[p["form"].as_u64().unwrap() as usize - 1];
        let row = &form["scores"][p["raw"].as_u64().unwrap() as usize];
        assert_eq!(p["wle"], row["wle"]);
        assert_eq!(p["wle_se"], row["wle_se"]);
        assert!(p["candidate"].as_str().unwrap().starts_with('p'));
    }
    // The long CSV carries the same numbers.
    let rows = long_csv(&dir.ok(RASCH));
    for item in items {
        let id = item["item"].as_str().unwrap();
        for key in ["difficulty", "se", "infit", "outfit", "infit_z", "outfit_z"] {
            assert_eq!(
                number(&cell(&rows, "item", id, "", key)),
                item[key].as_f64().unwrap()
            );
        }
    }
    let p1 = &report["persons"][0];
    assert_eq!(
        number(&cell(&rows, "person", "p1", "", "wle")),
        p1["wle"].as_f64().unwrap()
    );
    assert_eq!(cell(&rows, "form", "1", "1", "item"), forms[0]["items"][0]);
    assert_eq!(
        number(&cell(&rows, "score", "1", "0", "wle")),
        forms[0]["scores"][0]["wle"].as_f64().unwrap()
    );
}

/// raschdat1 (eRm): difficulties and SEs as psychotools' CML gives them, fit as eRm's itemfit
/// formulas give it (`benches/reference/rasch_reference.R`).
#[test]
fn rasch_reports_raschdat1_in_json_and_csv() {
    rasch_checks("raschdat1");
}

/// The same data with cells not presented by design, written `-`.
#[test]
fn rasch_takes_not_presented_cells() {
    rasch_checks("raschdat1_na");
}

#[test]
fn rasch_anchors_fix_items_and_report_left_out_items() {
    let dir = Dir::new();
    rasch_files(&dir, "raschdat1");
    let free: Value = serde_json::from_str(&dir.ok(&with_format(RASCH, "json"))).unwrap();
    dir.write("A.csv", "item,difficulty\nI1,0.5\n");
    let mut args = with_format(RASCH, "json");
    args.extend(["--anchor", "A.csv"]);
    let anchored: Value = serde_json::from_str(&dir.ok(&args)).unwrap();
    assert_eq!(anchored["normalisation"], "anchored");
    let b1 = free["items"][0]["difficulty"].as_f64().unwrap();
    for (f, a) in free["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(anchored["items"].as_array().unwrap())
    {
        close(
            a["difficulty"].as_f64().unwrap(),
            f["difficulty"].as_f64().unwrap() - b1 + 0.5,
            1e-7,
        );
    }
    assert_eq!(anchored["items"][0]["anchored"], true);
    assert_eq!(anchored["items"][0]["se"], Value::Null);

    // Pretest items are calibrated like the others, and flagged.
    let mut args = with_format(RASCH, "json");
    args.extend(["--pretest", "I29,I30"]);
    let pretest: Value = serde_json::from_str(&dir.ok(&args)).unwrap();
    assert_eq!(pretest["items"][29]["pretest"], true);
    assert_eq!(pretest["items"][28]["pretest"], true);
    assert_eq!(pretest["items"][27]["pretest"], false);
    assert_eq!(
        pretest["items"][29]["difficulty"],
        free["items"][29]["difficulty"]
    );
    let mut args = RASCH.to_vec();
    args.extend(["--pretest", "I99"]);
    let out = dir.run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "imh-exam analyze: --pretest I99: no item \"I99\" in R.csv\n"
    );

    // An item everyone answered right is reported and left out.
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3\nc1,A,B,A\nc2,B,A,A\nc3,A,A,A\nc4,B,B,A\n",
    )
    .write("K.csv", "item,key\nQ1,A\nQ2,A\nQ3,A\n");
    let r: Value = serde_json::from_str(&dir.ok(&with_format(RASCH, "json"))).unwrap();
    assert_eq!(r["items"][2]["excluded"], "all_correct");
    assert_eq!(r["items"][2]["difficulty"], Value::Null);
    assert_eq!(r["persons_extreme"], 2);
    close(r["items"][0]["difficulty"].as_f64().unwrap(), 0.0, 1e-9);
}

#[test]
fn malformed_anchor_files_and_unlinked_forms() {
    let dir = Dir::new();
    rasch_files(&dir, "raschdat1");
    let mut args = RASCH.to_vec();
    args.extend(["--anchor", "A.csv"]);
    dir.write(
        "A.csv",
        "item,difficulty\nI1,0.5\nQ9,1\nI2,hard\nI1,0.7\n,1\nI3,inf\n",
    );
    assert_eq!(
        dir.errors(&args),
        vec![
            "A.csv:3: item \"Q9\" is not a column of the responses",
            "A.csv:4: the difficulty \"hard\" of item \"I2\" is not a number of logits",
            "A.csv:5: item \"I1\" is also on line 2",
            "A.csv:6: the item is empty",
            "A.csv:7: the difficulty \"inf\" of item \"I3\" is not a number of logits",
        ]
    );
    dir.write("A.csv", "item,logits\nI1,0.5\n");
    assert_eq!(
        dir.errors(&args),
        vec!["A.csv:1: the header must be \"item,difficulty\", found \"item,logits\""]
    );
    dir.write("A.csv", "item,difficulty\n");
    assert_eq!(
        dir.errors(&args),
        vec!["A.csv:1: no anchors after the header"]
    );

    // Two forms without a common item: no common scale.
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3,Q4\nc1,A,B,-,-\nc2,B,A,-,-\nc3,-,-,A,B\nc4,-,-,B,A\n",
    )
    .write("K.csv", "item,key\nQ1,A\nQ2,A\nQ3,A\nQ4,A\n");
    assert_eq!(
        dir.errors(RASCH),
        vec!["R.csv: the items fall into 2 groups that no person links (no common items)"]
    );
}

/// `-` is "not presented" in every analyze responses file: `items` counts an item over the
/// candidates presented it, `dif` too.
#[test]
fn not_presented_cells_in_items_and_dif() {
    let dir = Dir::new();
    dir.write(
        "R.csv",
        "candidate,Q1,Q2,Q3\nc1,A,-,A\nc2,B,A,-\nc3,,A,A\nc4,-,B,A\n",
    )
    .write("K.csv", "item,key\nQ1,A\nQ2,A\nQ3,A\n");
    let report: Value = serde_json::from_str(&dir.ok(&with_format(ITEMS, "json"))).unwrap();
    let q1 = &report["items"][0];
    assert_eq!(q1["n"], 3);
    assert_eq!(q1["omitted"], 1);
    close(q1["p"].as_f64().unwrap(), 1.0 / 3.0, 1e-12);
    assert_eq!(report["items"][1]["n"], 3);
    assert_eq!(report["items"][2]["n"], 3);
    close(report["items"][2]["p"].as_f64().unwrap(), 1.0, 1e-12);

    dir.write("G.csv", "candidate,group\nc1,F\nc2,REF\nc3,F\nc4,REF\n");
    let dif: Value = serde_json::from_str(&dir.ok(&with_format(DIF, "json"))).unwrap();
    assert_eq!(dif["items"].as_array().unwrap().len(), 3);
}

/// `analyze facets` on two raters who read every answer to one yes/no question: rater "bea"
/// passed 2 that "abe" failed and failed 6 he passed, so she is harsher by 2·ln 3 logits (the
/// closed form of JMLE for two elements, Andersen 1973); candidates both passed or both failed
/// are extreme and measured from their adjusted scores. Names, scores on the file's scale
/// (here 1-2) and the CSV tables follow the file.
#[test]
fn facets_measures_a_harsher_rater_by_name() {
    let mut text = String::from("candidate,question,rater,score\n");
    let mut c = 0;
    for (a, b, times) in [(2, 1, 6), (1, 2, 2), (2, 2, 5), (1, 1, 4)] {
        for _ in 0..times {
            c += 1;
            text.push_str(&format!("c{c},q1,abe,{a}\nc{c},q1,bea,{b}\n"));
        }
    }
    let dir = Dir::new();
    dir.write("F.csv", &text);
    let args = [
        "facets",
        "--ratings",
        "F.csv",
        "--min-score",
        "1",
        "--max-score",
        "2",
    ];
    let json: Value = serde_json::from_str(&dir.ok(&with_format(&args, "json"))).unwrap();
    let raters = json["raters"].as_array().unwrap();
    assert_eq!(
        (raters[0]["rater"].as_str(), raters[1]["rater"].as_str()),
        (Some("abe"), Some("bea"))
    );
    let measure = |r: &Value| r["measure"].as_f64().unwrap();
    let harsher = measure(&raters[1]) - measure(&raters[0]);
    close(harsher, 2.0 * 3f64.ln(), 0.05);
    // Each 1.1 logits from the raters' mean: both beyond the 1-logit limit, neither misfitting.
    for r in raters {
        assert_eq!(
            (r["flag_severity"].as_bool(), r["flag_misfit"].as_bool()),
            (Some(true), Some(false)),
            "{r}"
        );
    }
    assert_eq!(json["observations_used"], 16);
    assert_eq!(json["candidates"][8]["candidate"], "c9");
    assert_eq!(json["candidates"][8]["status"], "extreme_high");
    assert_eq!(json["scales"][0]["scores"], serde_json::json!([1, 2]));
    assert!(json["rater_summary"]["reliability"].is_f64());

    let rows = long_csv(&dir.ok(&args));
    close(
        number(&cell(&rows, "rater", "bea", "", "measure")),
        measure(&raters[1]),
        1e-9,
    );
    assert!(!cell(&rows, "rater_summary", "", "", "separation").is_empty());
    assert_eq!(cell(&rows, "rater", "abe", "", "flag_severity"), "true");
    assert!(!cell(&rows, "threshold", "", "2", "threshold").is_empty());

    // Partial credit: one threshold set per question, named.
    let pc: Value = serde_json::from_str(&dir.ok(&[
        "facets",
        "--ratings",
        "F.csv",
        "--min-score",
        "1",
        "--max-score",
        "2",
        "--model",
        "partial-credit",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(pc["model"], "partial_credit");
    assert_eq!(pc["scales"][0]["question"], "q1");
}

#[test]
fn facets_refuses_malformed_ratings_with_every_line() {
    let dir = Dir::new();
    dir.write(
        "F.csv",
        "candidate,question,rater,score\nc1,q1,r1,2\nc1,q1,r1,1\nc2,,r1,1\nc2,q1,r2,7\nc3,q1,r2,one\n",
    );
    assert_eq!(
        dir.errors(&["facets", "--ratings", "F.csv", "--max-score", "3"]),
        vec![
            "F.csv:3: rater \"r1\" already scored candidate \"c1\" on question \"q1\" on line 2",
            "F.csv:4: the question is empty",
            "F.csv:5: the score 7 is off the scale 0 to 3",
            "F.csv:6: the score \"one\" is not a whole number",
        ]
    );
    dir.write("G.csv", "candidate,question,score\nc1,q1,1\n");
    let err = dir.errors(&["facets", "--ratings", "G.csv", "--max-score", "3"]);
    assert!(
        err.len() == 1 && err[0].starts_with("G.csv:1: the header must be"),
        "{err:?}"
    );
    let usage = dir.run(&[
        "facets",
        "--ratings",
        "F.csv",
        "--min-score",
        "2",
        "--max-score",
        "2",
    ]);
    assert_eq!(usage.status.code(), Some(2));
}
