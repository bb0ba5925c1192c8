//! `imh-exam analyze` against a Python reference, each as a whole process: CSV in, JSON out.
//!
//! `cargo bench --bench analyze` writes the three inputs into a temporary folder (10,000
//! candidates × 150 items with their key; the same with a group per candidate for DIF;
//! 1,000,000 ratings), then runs the release `imh-exam analyze items|dif|agreement` and, when
//! `python3` has pandas, numpy, statsmodels, scikit-learn and krippendorff, the reference
//! `benches/reference/analyze_reference.py` on the same files, interleaved, 3 runs each. It
//! prints each run's wall time and peak resident memory (GNU `/usr/bin/time` when installed, else
//! sampled from `/proc`), the medians side by side with their ratio, and a few headline numbers
//! of both reports, which should agree.
//!
//! Under `cargo test --bench analyze` it runs a tiny version of the Rust side only, in a second.
//! Settings: `ANALYZE_BENCH_DIR` (write the inputs there and keep them), `ANALYZE_PYTHON` (the
//! interpreter; `none` to skip the reference), `ANALYZE_RUNS` (runs of each, default 3).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How big the generated files are.
struct Sizes {
    candidates: usize,
    items: usize,
    /// Responses read twice; `third` of them are read a third time (an adjudication).
    responses: usize,
    third: usize,
    raters: usize,
    rated_items: usize,
}

/// 450,000 × 2 + 100,000 = 1,000,000 ratings, as in `benches/stats.rs`.
const FULL: Sizes = Sizes {
    candidates: 10_000,
    items: 150,
    responses: 450_000,
    third: 100_000,
    raters: 40,
    rated_items: 30,
};

const SMOKE: Sizes = Sizes {
    candidates: 200,
    items: 20,
    responses: 900,
    third: 200,
    raters: 8,
    rated_items: 5,
};

const LETTERS: &[u8] = b"ABCD";

/// `responses.csv`, `key.csv` and `groups.csv`: answers from a logistic model (ability against
/// difficulty, wrong answers spread over the distractors, 2% omitted); 30% of the candidates in
/// the focal group F, 60% in the reference group R, the rest in X; every tenth item 0.6 logits
/// harder for the focal group, so DIF has something to find.
fn write_answers(dir: &Path, s: &Sizes, rng: &mut ChaCha8Rng) -> std::io::Result<()> {
    let mut key = BufWriter::new(File::create(dir.join("key.csv"))?);
    writeln!(key, "item,key,domain")?;
    for i in 0..s.items {
        writeln!(key, "Q{i:03},{},D{}", LETTERS[i % 4] as char, i % 8)?;
    }
    key.flush()?;
    let difficulty: Vec<f64> = (0..s.items).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let mut responses = BufWriter::new(File::create(dir.join("responses.csv"))?);
    let mut groups = BufWriter::new(File::create(dir.join("groups.csv"))?);
    write!(responses, "candidate")?;
    for i in 0..s.items {
        write!(responses, ",Q{i:03}")?;
    }
    writeln!(responses)?;
    writeln!(groups, "candidate,group")?;
    for c in 0..s.candidates {
        let group = match rng.gen_range(0..10) {
            0..=2 => "F",
            3..=8 => "R",
            _ => "X",
        };
        writeln!(groups, "C{c:05},{group}")?;
        let ability: f64 = rng.gen_range(-2.5..2.5);
        write!(responses, "C{c:05}")?;
        for (i, d) in difficulty.iter().enumerate() {
            let shift = if group == "F" && i % 10 == 0 {
                0.6
            } else {
                0.0
            };
            let key = i % 4;
            let p = 1.0 / (1.0 + (d + shift - ability).exp());
            if rng.gen_bool(0.02) {
                write!(responses, ",")?;
            } else if rng.gen_bool(p) {
                write!(responses, ",{}", LETTERS[key] as char)?;
            } else {
                let wrong = (key + rng.gen_range(1..4)) % 4;
                write!(responses, ",{}", LETTERS[wrong] as char)?;
            }
        }
        writeln!(responses)?;
    }
    responses.flush()?;
    groups.flush()
}

/// `ratings.csv`: each response read by two different raters of differing severity, on a scale
/// of 0 to 3, then some responses read a third time by a third rater, at the end of the file
/// as in the order scored.
fn write_ratings(dir: &Path, s: &Sizes, rng: &mut ChaCha8Rng) -> std::io::Result<()> {
    let severity: Vec<f64> = (0..s.raters).map(|_| rng.gen_range(-0.4..0.4)).collect();
    let score = |rng: &mut ChaCha8Rng, truth: f64, rater: usize| -> i64 {
        (truth + severity[rater] + rng.gen_range(-0.7..0.7))
            .round()
            .clamp(0.0, 3.0) as i64
    };
    let mut out = BufWriter::new(File::create(dir.join("ratings.csv"))?);
    writeln!(out, "response,rater,score,item")?;
    let mut read = Vec::with_capacity(s.responses);
    for response in 0..s.responses {
        let truth: f64 = rng.gen_range(0.0..3.0);
        let item = rng.gen_range(0..s.rated_items);
        let first = rng.gen_range(0..s.raters);
        let second = (first + rng.gen_range(1..s.raters)) % s.raters;
        for rater in [first, second] {
            let score = score(rng, truth, rater);
            writeln!(out, "X{response:06},R{rater:02},{score},I{item:02}")?;
        }
        read.push((truth, item, first, second));
    }
    for response in index::sample(rng, s.responses, s.third) {
        let (truth, item, first, second) = read[response];
        let rater = loop {
            let r = rng.gen_range(0..s.raters);
            if r != first && r != second {
                break r;
            }
        };
        let score = score(rng, truth, rater);
        writeln!(out, "X{response:06},R{rater:02},{score},I{item:02}")?;
    }
    out.flush()
}

/// One run: its wall time and peak resident memory in kB.
struct Run {
    wall: Duration,
    peak_kb: Option<u64>,
}

fn gnu_time() -> Option<&'static Path> {
    let time = Path::new("/usr/bin/time");
    let works = Command::new(time)
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(time)
}

/// VmHWM of a running process, in kB.
fn peak_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `program args` in `dir` with stdout to `out`; panics with its stderr if it fails.
fn run(time: Option<&Path>, program: &Path, args: &[String], dir: &Path, out: &Path) -> Run {
    let rss = dir.join("rss.txt");
    let mut command = match time {
        Some(time) => {
            let mut c = Command::new(time);
            c.args(["-f", "%M", "-o"]).arg(&rss).arg(program);
            c
        }
        None => Command::new(program),
    };
    command
        .args(args)
        .current_dir(dir)
        .stdout(File::create(out).expect("an output file"))
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().expect("the program starts");
    let mut sampled = None;
    if time.is_none() {
        // Without GNU time, the high-water mark as last seen before the process exits.
        while child.try_wait().expect("wait").is_none() {
            sampled = peak_of(child.id()).or(sampled);
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let output = child.wait_with_output().expect("the program ends");
    let wall = start.elapsed();
    assert!(
        output.status.success(),
        "{} {} failed: {}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    let peak_kb = match time {
        // GNU time writes "Command exited ..." lines before the figure when there are any.
        Some(_) => std::fs::read_to_string(&rss)
            .ok()
            .and_then(|t| t.lines().last()?.trim().parse().ok()),
        None => sampled,
    };
    Run { wall, peak_kb }
}

/// The Python interpreter when it has every package the reference needs.
fn python() -> Option<String> {
    let python = std::env::var("ANALYZE_PYTHON").unwrap_or_else(|_| "python3".into());
    if python == "none" {
        return None;
    }
    let ok = Command::new(&python)
        .args([
            "-c",
            "import pandas, numpy, scipy, statsmodels, sklearn, krippendorff",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "{python} lacks pandas, numpy, statsmodels, scikit-learn or krippendorff: \
             the reference is skipped (pip install pandas numpy statsmodels scikit-learn \
             krippendorff)"
        );
    }
    ok.then_some(python)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn seconds(runs: &[Run]) -> f64 {
    median(runs.iter().map(|r| r.wall.as_secs_f64()).collect())
}

fn megabytes(runs: &[Run]) -> Option<f64> {
    let peaks: Option<Vec<f64>> = runs
        .iter()
        .map(|r| r.peak_kb.map(|k| k as f64 / 1024.0))
        .collect();
    peaks.map(median)
}

fn shown_mb(mb: Option<f64>) -> String {
    mb.map_or("?".into(), |m| format!("{m:.0} MB"))
}

/// A number at a path of field names (and list indices) in a JSON report.
fn at(report: &serde_json::Value, path: &[&str]) -> String {
    let mut v = report;
    for step in path {
        v = match step.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[*step],
        };
    }
    match v.as_f64() {
        Some(x) => format!("{x:.6}"),
        None => v.to_string(),
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("a report");
    serde_json::from_str(&text).expect("the report is JSON")
}

struct Analysis {
    name: &'static str,
    args: Vec<String>,
    /// Headline numbers both reports carry, by path.
    headlines: &'static [&'static [&'static str]],
}

fn analyses() -> Vec<Analysis> {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect();
    vec![
        Analysis {
            name: "items",
            args: words("items --responses responses.csv --key key.csv"),
            headlines: &[
                &["form", "kr20"],
                &["form", "alpha_low"],
                &["items", "0", "pbis_rest"],
                &["items", "0", "alpha_if_deleted"],
            ],
        },
        Analysis {
            name: "dif",
            args: words(
                "dif --responses responses.csv --key key.csv --groups groups.csv \
                 --focal F --reference R",
            ),
            headlines: &[
                &["items", "0", "alpha_mh"],
                &["items", "0", "chi2_mh"],
                &["items", "0", "d_dif_se"],
                &["items", "0", "ets_class"],
            ],
        },
        Analysis {
            name: "agreement",
            args: words("agreement --ratings ratings.csv --min-score 0 --max-score 3"),
            headlines: &[
                &["kappa"],
                &["kappa_se"],
                &["kappa_quadratic"],
                &["icc_2_1"],
                &["alpha_ordinal"],
                &["alpha_interval"],
            ],
        },
    ]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full { &FULL } else { &SMOKE };
    let runs: usize = std::env::var("ANALYZE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if full { 3 } else { 1 });
    let temp = tempfile::tempdir().expect("a temporary folder");
    let dir = match std::env::var_os("ANALYZE_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => temp.path().to_path_buf(),
    };
    std::fs::create_dir_all(&dir).expect("the folder");
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    write_answers(&dir, sizes, &mut rng).expect("the answer files");
    write_ratings(&dir, sizes, &mut rng).expect("the ratings file");

    let rust = PathBuf::from(env!("CARGO_BIN_EXE_imh-exam"));
    let python = if full { python() } else { None };
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/reference/analyze_reference.py");
    let time = gnu_time();
    if full {
        eprintln!(
            "inputs in {}; peak memory from {}",
            dir.display(),
            if time.is_some() {
                "/usr/bin/time"
            } else {
                "sampling /proc"
            }
        );
    }

    let mut table = Vec::new();
    for analysis in analyses() {
        let mut args = vec!["analyze".to_string()];
        args.extend(analysis.args.iter().cloned());
        args.extend(["--format".into(), "json".into()]);
        let rust_out = dir.join(format!("{}.rust.json", analysis.name));
        let python_out = dir.join(format!("{}.python.json", analysis.name));
        let mut python_args = vec![script.display().to_string()];
        python_args.extend(analysis.args.iter().cloned());
        let (mut rust_runs, mut python_runs) = (Vec::new(), Vec::new());
        // Interleaved, so a change in the machine's load falls on both alike.
        for _ in 0..runs {
            let r = run(time, &rust, &args, &dir, &rust_out);
            if full {
                eprintln!(
                    "{:<9} imh-exam {:>7.3} s {:>7}",
                    analysis.name,
                    r.wall.as_secs_f64(),
                    shown_mb(r.peak_kb.map(|k| k as f64 / 1024.0))
                );
            }
            rust_runs.push(r);
            if let Some(python) = &python {
                let p = run(time, Path::new(python), &python_args, &dir, &python_out);
                eprintln!(
                    "{:<9} python   {:>7.3} s {:>7}",
                    analysis.name,
                    p.wall.as_secs_f64(),
                    shown_mb(p.peak_kb.map(|k| k as f64 / 1024.0))
                );
                python_runs.push(p);
            }
        }
        let rust_report = read_json(&rust_out);
        if python.is_some() {
            let python_report = read_json(&python_out);
            for path in analysis.headlines {
                eprintln!(
                    "{:<9} {:<28} imh-exam {:>12}  python {:>12}",
                    analysis.name,
                    path.join("."),
                    at(&rust_report, path),
                    at(&python_report, path)
                );
            }
        }
        table.push((analysis.name, rust_runs, python_runs));
    }

    if !full {
        eprintln!("analyze bench: items, dif and agreement ran on small files (smoke test)");
        return;
    }
    println!();
    println!(
        "{:<10} {:>10} {:>9} {:>10} {:>9} {:>8} {:>8}",
        "analysis", "imh-exam", "peak", "python", "peak", "time ×", "memory ×"
    );
    for (name, rust_runs, python_runs) in &table {
        let (rt, rm) = (seconds(rust_runs), megabytes(rust_runs));
        if python_runs.is_empty() {
            println!("{name:<10} {rt:>8.3} s {:>9}", shown_mb(rm));
            continue;
        }
        let (pt, pm) = (seconds(python_runs), megabytes(python_runs));
        let memory = match (rm, pm) {
            (Some(r), Some(p)) => format!("{:.1}", p / r),
            _ => "?".into(),
        };
        println!(
            "{name:<10} {rt:>8.3} s {:>9} {pt:>8.3} s {:>9} {:>8.1} {memory:>8}",
            shown_mb(rm),
            shown_mb(pm),
            pt / rt
        );
    }
    println!("(medians of {runs} interleaved runs; × = python / imh-exam)");
}
