//! `imh-exam analyze`: the statistics of `crate::stats` on plain files, so a committee can
//! analyse a paper exam or another system's data. Reading the files is the only I/O besides
//! printing; a malformed file gets every problem as `file:line: message` and exit 1.
//!
//! Output is JSON (the statistics' own field names) or CSV in long form: one row per number,
//! `table,id,sub,statistic,value`, so every table of the report fits one well-formed file.

mod angoff;
mod answers;
mod facets;
mod files;
mod output;
mod rasch;
mod ratings;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use crate::stats::{self, Scale};
use files::Errors;
pub use files::FileError;
use output::Node;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Csv,
    Json,
}

/// `analyze facets --model`: one set of thresholds, or one per question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum FacetsModel {
    #[default]
    RatingScale,
    PartialCredit,
}

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Item statistics of a multiple-choice form: difficulty, discrimination, distractors,
    /// KR-20/21, alpha, SEM, sub-scores by domain.
    Items {
        /// CSV: header `candidate,<item>,...`; each cell the option letter chosen, or empty.
        #[arg(long)]
        responses: PathBuf,
        /// CSV: header `item,key` (or `item,key,domain`); key a letter or letters joined by |.
        #[arg(long)]
        key: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// A raw pass mark (a pass is a total at or above it, 1 to the form's length): adds
        /// decision consistency and accuracy at that cut.
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_cut)]
        cut: Option<u32>,
    },
    /// Rater agreement on rubric scores: kappas, ICC, Krippendorff's and Fleiss' statistics,
    /// per rater, item and rater pair.
    Agreement {
        /// CSV: header `response,rater,score` (and optionally `item`), in the order scored.
        #[arg(long)]
        ratings: PathBuf,
        #[arg(long, allow_negative_numbers = true)]
        min_score: i64,
        #[arg(long, allow_negative_numbers = true)]
        max_score: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Many-facet Rasch measurement of rated answers (candidates × questions × raters, Andrich's
    /// rating scale or partial credit, estimated as Facets does): each element's measure with
    /// its SE, infit and outfit, fair averages, each facet's separation and reliability.
    Facets {
        /// CSV: header `candidate,question,rater,score`; a rater scores a candidate's question
        /// once.
        #[arg(long)]
        ratings: PathBuf,
        #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
        min_score: i64,
        #[arg(long, allow_negative_numbers = true)]
        max_score: i64,
        #[arg(long, value_enum, default_value_t)]
        model: FacetsModel,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Rasch calibration: item difficulties by conditional maximum likelihood with their
    /// standard errors, infit and outfit, Warm's person measures and each form's
    /// raw-score-to-measure table.
    Rasch {
        /// CSV: header `candidate,<item>,...`; each cell the option letter chosen, empty
        /// (omitted, scored 0) or `-` (not presented to this candidate).
        #[arg(long)]
        responses: PathBuf,
        /// CSV: header `item,key` (or `item,key,domain`); key a letter or letters joined by |.
        #[arg(long)]
        key: PathBuf,
        /// CSV: header `item,difficulty`: items fixed at these difficulties (logits), so the
        /// others land on their scale; without it the difficulties sum to zero.
        #[arg(long)]
        anchor: Option<PathBuf>,
        /// Items being pretested, by id, joined by commas: calibrated with the others and
        /// flagged `pretest`, for callers to count in no score.
        #[arg(long, value_delimiter = ',')]
        pretest: Vec<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// A standard-setting panel's modified-Angoff or Yes/No Angoff ratings: the cut with its
    /// spread and standard error (and on the percent, Rasch and equated scales), each
    /// panelist's cut, consistency and misplacement, the impact on the candidates' scores and
    /// Hofstee's compromise.
    Angoff {
        /// CSV: header `panelist,item,rating` or `panelist,item,rating,round`; a rating from 0
        /// to the item's maximum (a probability, 0/1 for Yes/No, points for Part Two).
        #[arg(long)]
        ratings: PathBuf,
        /// CSV: header `item,max`: a Part Two question's top score (items not listed: 1).
        #[arg(long)]
        max: Option<PathBuf>,
        /// CSV: header `item,p_value` or `item,p_value,difficulty`: each rated item's observed
        /// p-value (or mean score over its maximum) and Rasch difficulty in logits.
        #[arg(long)]
        items: Option<PathBuf>,
        /// CSV: header `candidate,score`: the candidates' total scores on the rated items, for
        /// the impact of the cut and Hofstee's compromise.
        #[arg(long)]
        scores: Option<PathBuf>,
        /// CSV: header `panelist,cut_min,cut_max,fail_min,fail_max`: each Hofstee panelist's
        /// acceptable raw cuts and failure rates (shares from 0 to 1). Needs --scores.
        #[arg(long)]
        hofstee: Option<PathBuf>,
        /// CSV: header `item,difficulty`: the operational pool, for the cut on the equated
        /// scale (expected percent on the pool). Needs --items with difficulties.
        #[arg(long)]
        pool: Option<PathBuf>,
        /// The round to analyse; the last one in the file by default.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        round: Option<u32>,
        /// Also the cut moved by this many standard errors (negative lowers it).
        #[arg(long, value_name = "K", allow_negative_numbers = true)]
        se_adjust: Option<f64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Mantel-Haenszel differential item functioning between a focal and a reference group.
    Dif {
        /// CSV: header `candidate,<item>,...`; each cell the option letter chosen, or empty.
        #[arg(long)]
        responses: PathBuf,
        /// CSV: header `item,key` (or `item,key,domain`); key a letter or letters joined by |.
        #[arg(long)]
        key: PathBuf,
        /// CSV: header `candidate,group`, one row per candidate.
        #[arg(long)]
        groups: PathBuf,
        /// The focal group's name in the groups file.
        #[arg(long)]
        focal: String,
        /// The reference group's name in the groups file.
        #[arg(long)]
        reference: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Why nothing was analysed.
#[derive(Debug)]
pub enum Failure {
    /// Problems in the files, exit 1: each one line, `file:line: message` (or `file: message`
    /// about the whole file).
    Files(Vec<FileError>),
    /// A bad argument, exit 2.
    Usage(String),
}

/// Runs the command; prints the report on stdout, or every problem on stderr.
pub fn run(command: &AnalyzeCommand) -> ExitCode {
    match report(command) {
        Ok(text) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(Failure::Files(errors)) => {
            let mut err = std::io::stderr().lock();
            for e in &errors {
                let _ = writeln!(err, "{e}");
            }
            let _ = writeln!(
                err,
                "imh-exam analyze: {} error(s); nothing was analysed",
                errors.len()
            );
            ExitCode::FAILURE
        }
        Err(Failure::Usage(message)) => {
            let message = crate::escape::controls(&message);
            let _ = writeln!(std::io::stderr().lock(), "imh-exam analyze: {message}");
            ExitCode::from(2)
        }
    }
}

/// How a file's bytes are read: the file system for the command line, memory in tests.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> std::io::Result<Vec<u8>>;

/// Reads the command's files and computes its report, as the text `run` prints.
pub fn report(command: &AnalyzeCommand) -> Result<String, Failure> {
    report_with(command, &|path| std::fs::read(path))
}

/// `report` with the files read by `read`.
pub fn report_with(command: &AnalyzeCommand, read: ReadFile) -> Result<String, Failure> {
    match command {
        AnalyzeCommand::Items {
            responses,
            key,
            format,
            cut,
        } => items(read, responses, key, *format, *cut),
        AnalyzeCommand::Agreement {
            ratings,
            min_score,
            max_score,
            format,
        } => agreement(read, ratings, *min_score, *max_score, *format),
        AnalyzeCommand::Dif {
            responses,
            key,
            groups,
            focal,
            reference,
            format,
        } => dif(read, responses, key, groups, focal, reference, *format),
        AnalyzeCommand::Facets {
            ratings,
            min_score,
            max_score,
            model,
            format,
        } => facets_report(read, ratings, *min_score, *max_score, *model, *format),
        AnalyzeCommand::Rasch {
            responses,
            key,
            anchor,
            pretest,
            format,
        } => rasch(read, responses, key, anchor.as_deref(), pretest, *format),
        AnalyzeCommand::Angoff {
            ratings,
            max,
            items,
            scores,
            hofstee,
            pool,
            round,
            se_adjust,
            format,
        } => angoff::run(
            read,
            &angoff::Options {
                ratings,
                max: max.as_deref(),
                items: items.as_deref(),
                scores: scores.as_deref(),
                hofstee: hofstee.as_deref(),
                pool: pool.as_deref(),
                round: *round,
                se_adjust: *se_adjust,
                format: *format,
            },
        ),
    }
}

/// The parsed files, or every problem found in them. (The parsers give `None` only with an
/// error, so the second arm always has one.)
fn checked<T>(parsed: Option<T>, errors: Errors) -> Result<T, Failure> {
    match parsed {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(Failure::Files(errors)),
    }
}

/// Reads and checks the response and key files into a form.
fn load_form(
    read: ReadFile,
    responses: &Path,
    key: &Path,
    errors: &mut Errors,
) -> Option<(answers::ResponseFile, stats::Responses)> {
    let r = files::read(read, responses, errors).and_then(|i| answers::responses(&i, errors));
    let k = files::read(read, key, errors).and_then(|i| answers::key(&i, errors));
    let (r, k) = (r?, k?);
    let form = answers::form(&r, &k, errors)?;
    Some((r, form))
}

fn items(
    read: ReadFile,
    responses: &Path,
    key: &Path,
    format: Format,
    cut: Option<u32>,
) -> Result<String, Failure> {
    let mut errors = Vec::new();
    let (_, form) = checked(load_form(read, responses, key, &mut errors), errors)?;
    let analysis = stats::item_analysis(&form);
    let decision = cut
        .map(|cut| decision_at(&form, &analysis.form, cut))
        .transpose()?;
    let mut report = Node::of(&analysis);
    if let Some(decision) = decision {
        report.set("decision", Node::of(&decision));
    }
    Ok(match format {
        Format::Json => report.json(),
        Format::Csv => output::items_csv(&report),
    })
}

/// `--cut N`: a whole number of items, at least 1 (its upper bound, the form's length, is
/// checked once the files are read).
fn parse_cut(s: &str) -> Result<u32, String> {
    let s = s.trim();
    match s.parse::<i128>() {
        Ok(n) if n < 0 => Err(format!(
            "{s} is negative; the cut is a raw score of at least 1"
        )),
        Ok(0) => Err("0 passes everyone; the cut is a raw score of at least 1".to_string()),
        Ok(n) => u32::try_from(n).map_err(|_| format!("{s} is more items than any form has")),
        Err(_) => Err(format!(
            "\"{s}\" is not a whole number; the cut is a raw score such as 48"
        )),
    }
}

/// The decision statistics at a raw cut, on the candidates' totals over their own forms:
/// every form must have the same length L, and the cut be at most L. Livingston & Lewis take
/// the form's KR-20 as the reliability.
fn decision_at(
    form: &stats::Responses,
    scores: &stats::items::ScoreStats,
    cut: u32,
) -> Result<stats::decision::DecisionReport, Failure> {
    let (shortest, longest) = form.form_lengths().unwrap_or((0, 0));
    if shortest != longest {
        return Err(Failure::Usage(format!(
            "--cut {cut}: the candidates' forms have {shortest} to {longest} items; a raw cut needs forms of one length"
        )));
    }
    if u64::from(cut) > scores.items {
        return Err(Failure::Usage(format!(
            "--cut {cut} is above the {} items of a form",
            scores.items
        )));
    }
    let totals = stats::decision::Scores::from_distribution(&scores.distribution)
        .map_err(|e| Failure::Usage(format!("--cut {cut}: {e}")))?;
    Ok(stats::decision::decision(&totals, cut, scores.kr20))
}

fn facets_report(
    read: ReadFile,
    ratings: &Path,
    min: i64,
    max: i64,
    model: FacetsModel,
    format: Format,
) -> Result<String, Failure> {
    let scale = scale_of(min, max)?;
    if scale.points() < 2 {
        return Err(Failure::Usage(format!(
            "--min-score {min} and --max-score {max} leave one score: a rating scale needs two"
        )));
    }
    let mut errors = Vec::new();
    let file = files::read(read, ratings, &mut errors)
        .and_then(|i| facets::ratings(&i, scale, &mut errors));
    let file = checked(file, errors)?;
    let model = match model {
        FacetsModel::RatingScale => stats::facets::Model::RatingScale,
        FacetsModel::PartialCredit => stats::facets::Model::PartialCredit,
    };
    let options = stats::facets::Options::new(model, (scale.points() - 1) as u32);
    let report = stats::facets::analyse(&file.observations, &options).map_err(|e| {
        Failure::Files(vec![FileError::whole(
            &ratings.display().to_string(),
            e.to_string(),
        )])
    })?;
    let tree = facets::report(&report, &file, min);
    Ok(match format {
        Format::Json => tree.json(),
        Format::Csv => facets::csv(&tree),
    })
}

/// The rubric's scale from `--min-score`/`--max-score`, or what is wrong with them.
fn scale_of(min: i64, max: i64) -> Result<Scale, Failure> {
    Scale::new(min, max).map_err(|e| {
        Failure::Usage(match e {
            stats::ScaleError::Reversed { min, max } => {
                format!("--min-score {min} is greater than --max-score {max}")
            }
            e => format!("--min-score/--max-score: {e}"),
        })
    })
}

fn agreement(
    read: ReadFile,
    ratings: &Path,
    min: i64,
    max: i64,
    format: Format,
) -> Result<String, Failure> {
    let scale = scale_of(min, max)?;
    let mut errors = Vec::new();
    let file = files::read(read, ratings, &mut errors)
        .and_then(|i| ratings::ratings(&i, scale, &mut errors));
    let file = checked(file, errors)?;
    let report = stats::agreement(scale, &file.ratings).map_err(|e| {
        Failure::Files(vec![FileError::whole(
            &ratings.display().to_string(),
            e.to_string(),
        )])
    })?;
    let mut report = Node::of(&report);
    // Ids back to the names in the file.
    for (list, fields, names) in [
        ("raters", &["rater"][..], &file.raters),
        ("rater_pairs", &["rater_a", "rater_b"][..], &file.raters),
        ("items", &["item"][..], &file.items),
    ] {
        let rows = report.get_mut(list).map_or(&mut [][..], Node::list_mut);
        for row in rows {
            for &field in fields {
                let name = row
                    .get(field)
                    .as_i64()
                    .and_then(|i| names.get(i as usize))
                    .map_or(Node::Null, |s| Node::Str(s.clone()));
                row.set(field, name);
            }
        }
    }
    Ok(match format {
        Format::Json => report.json(),
        Format::Csv => output::agreement_csv(&report),
    })
}

fn dif(
    read: ReadFile,
    responses: &Path,
    key: &Path,
    groups: &Path,
    focal: &str,
    reference: &str,
    format: Format,
) -> Result<String, Failure> {
    if focal == reference {
        return Err(Failure::Usage(format!(
            "--focal and --reference name the same group \"{focal}\""
        )));
    }
    let mut errors = Vec::new();
    let form = load_form(read, responses, key, &mut errors);
    let g = files::read(read, groups, &mut errors);
    let membership = match (&form, g) {
        (Some((r, _)), Some(g)) => answers::groups(&g, r, focal, reference, &mut errors),
        _ => None,
    };
    let ((_, form), membership) = checked(form.zip(membership), errors)?;
    // The groups' names first, then the report.
    let mut fields = vec![
        (
            "reference_group".to_string(),
            Node::Str(reference.to_string()),
        ),
        ("focal_group".to_string(), Node::Str(focal.to_string())),
    ];
    if let Node::Map(rest) = Node::of(&stats::dif(&form, &membership)) {
        fields.extend(rest);
    }
    let report = Node::Map(fields);
    Ok(match format {
        Format::Json => report.json(),
        Format::Csv => output::dif_csv(&report),
    })
}

fn rasch(
    read: ReadFile,
    responses: &Path,
    key: &Path,
    anchor: Option<&Path>,
    pretest: &[String],
    format: Format,
) -> Result<String, Failure> {
    let mut errors = Vec::new();
    let form = load_form(read, responses, key, &mut errors);
    let anchors = match (anchor, &form) {
        (None, _) => Some(Vec::new()),
        (Some(path), Some((r, _))) => files::read(read, path, &mut errors)
            .and_then(|input| rasch::anchors(&input, &r.items, &mut errors)),
        // The anchors are checked against the responses' items, so not without them.
        (Some(_), None) => None,
    };
    let ((file, form), anchors) = checked(form.zip(anchors), errors)?;
    let n = form.items().len();
    let mut data = stats::rasch::RaschResponses::new(n)
        .map_err(|e| Failure::Files(vec![FileError::whole(&file.name, e.to_string())]))?;
    let mut row = Vec::with_capacity(n);
    for c in 0..form.candidates() {
        row.clear();
        row.extend(form.scores(c));
        data.push(&row)
            .map_err(|e| Failure::Files(vec![FileError::whole(&file.name, e.to_string())]))?;
    }
    let pretest = pretest
        .iter()
        .map(|id| {
            file.items.iter().position(|i| i == id).ok_or_else(|| {
                Failure::Usage(format!("--pretest {id}: no item \"{id}\" in {}", file.name))
            })
        })
        .collect::<Result<Vec<usize>, Failure>>()?;
    let options = stats::rasch::Options { anchors, pretest };
    let analysis = stats::rasch::analyse(&data, &options)
        .map_err(|e| Failure::Files(vec![FileError::whole(&file.name, e.to_string())]))?;
    let candidates: Vec<String> = file.candidates.iter().map(|(c, _)| c.clone()).collect();
    let report = rasch::report(&analysis, &file.items, &candidates);
    Ok(match format {
        Format::Json => report.json(),
        Format::Csv => rasch::csv(&report),
    })
}
