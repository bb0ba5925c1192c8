//! `imh-exam analyze angoff`: a standard-setting panel's modified-Angoff (or Yes/No Angoff)
//! ratings from files: the cut with its spread and standard error, on the percent, Rasch and
//! equated scales, each panelist's cut, consistency and misplacement, the items' spread, the
//! impact on a sitting's scores and Hofstee's compromise. Formats: `docs/statistics.md`,
//! "`imh-exam analyze`".

mod files;

use std::path::Path;

use super::files::{read, Errors, FileError};
use super::output::{LongCsv, Node};
use super::{checked, Failure, Format, ReadFile};
use crate::stats::standard_setting::{self as ss, Hofstee, HofsteeBounds};
use files::RatingsFile;

/// The command's files and options, as `AnalyzeCommand::Angoff` gives them.
pub struct Options<'a> {
    pub ratings: &'a Path,
    pub max: Option<&'a Path>,
    pub items: Option<&'a Path>,
    pub scores: Option<&'a Path>,
    pub hofstee: Option<&'a Path>,
    pub pool: Option<&'a Path>,
    pub round: Option<u32>,
    pub se_adjust: Option<f64>,
    pub format: Format,
}

/// One round's complete panel: `ratings[panelist][item]`, names and maxima in their order.
struct Panel {
    round: u32,
    rounds: Vec<u32>,
    panelists: Vec<String>,
    items: Vec<String>,
    max: Vec<f64>,
    ratings: Vec<Vec<f64>>,
}

/// The round to analyse (`--round`, else the last) with every panelist of that round rating
/// every item of it; a gap is an error naming the panelist and the item.
fn panel(
    file: &RatingsFile,
    max: &rustc_hash::FxHashMap<String, (f64, u64)>,
    round: Option<u32>,
) -> Result<Panel, Failure> {
    let mut rounds: Vec<u32> = file.ratings.iter().map(|r| r.round).collect();
    rounds.sort_unstable();
    rounds.dedup();
    let round = match round {
        None => rounds.last().copied().unwrap_or(1),
        Some(r) if rounds.contains(&r) => r,
        Some(r) => {
            let list: Vec<String> = rounds.iter().map(u32::to_string).collect();
            return Err(Failure::Usage(format!(
                "--round {r}: {} has round{} {}",
                file.name,
                if rounds.len() == 1 { "" } else { "s" },
                list.join(", ")
            )));
        }
    };
    let of_round: Vec<&files::Rated> = file.ratings.iter().filter(|r| r.round == round).collect();
    // Panelists and items of the round, in the file's order of first appearance.
    let mut p_ids: Vec<usize> = of_round.iter().map(|r| r.panelist).collect();
    let mut i_ids: Vec<usize> = of_round.iter().map(|r| r.item).collect();
    for ids in [&mut p_ids, &mut i_ids] {
        ids.sort_unstable();
        ids.dedup();
    }
    let p_at = |id: usize| p_ids.binary_search(&id).unwrap_or(0);
    let i_at = |id: usize| i_ids.binary_search(&id).unwrap_or(0);
    let mut grid = vec![vec![f64::NAN; i_ids.len()]; p_ids.len()];
    for r in &of_round {
        grid[p_at(r.panelist)][i_at(r.item)] = r.value;
    }
    let mut gaps = Vec::new();
    for (p, row) in grid.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            if v.is_nan() {
                gaps.push(FileError::whole(
                    &file.name,
                    format!(
                        "panelist \"{}\" did not rate item \"{}\" in round {round}",
                        file.panelists.names[p_ids[p]], file.items.names[i_ids[i]]
                    ),
                ));
            }
        }
    }
    if !gaps.is_empty() {
        return Err(Failure::Files(gaps));
    }
    let items: Vec<String> = i_ids.iter().map(|&i| file.items.names[i].clone()).collect();
    Ok(Panel {
        round,
        rounds,
        panelists: p_ids
            .iter()
            .map(|&p| file.panelists.names[p].clone())
            .collect(),
        max: items
            .iter()
            .map(|i| max.get(i).map_or(1.0, |m| m.0))
            .collect(),
        items,
        ratings: grid,
    })
}

/// Reads the files, computes the report and prints it as `format` asks.
pub fn run(read_file: ReadFile, o: &Options) -> Result<String, Failure> {
    if o.se_adjust.is_some_and(|k| !k.is_finite()) {
        return Err(Failure::Usage(
            "--se-adjust is a number of standard errors such as 1 or -1.5".to_string(),
        ));
    }
    if o.hofstee.is_some() && o.scores.is_none() {
        return Err(Failure::Usage(
            "--hofstee needs --scores: the compromise is read off the candidates' scores"
                .to_string(),
        ));
    }
    let mut errors: Errors = Vec::new();
    let max = match o.max {
        None => Some(Default::default()),
        Some(path) => {
            read(read_file, path, &mut errors).and_then(|i| files::maxima(&i, &mut errors))
        }
    };
    let file = read(read_file, o.ratings, &mut errors)
        .and_then(|i| files::ratings(&i, max.as_ref()?, &mut errors));
    if let (Some(path), Some(max), Some(file)) = (o.max, &max, &file) {
        files::unrated_maxima(&path.display().to_string(), max, file, &mut errors);
    }
    let (file, max) = checked(file.zip(max), errors)?;
    let panel = panel(&file, &max, o.round)?;
    let total: f64 = panel.max.iter().sum();
    let mut errors: Errors = Vec::new();
    let figures = o.items.and_then(|path| {
        read(read_file, path, &mut errors)
            .and_then(|i| files::item_figures(&i, &round_items(&panel), &mut errors))
    });
    let scores = o.scores.and_then(|path| {
        read(read_file, path, &mut errors).and_then(|i| files::scores(&i, total, &mut errors))
    });
    let bounds = o.hofstee.and_then(|path| {
        read(read_file, path, &mut errors).and_then(|i| files::hofstee(&i, total, &mut errors))
    });
    let pool = o.pool.and_then(|path| {
        read(read_file, path, &mut errors).and_then(|i| files::pool(&i, &mut errors))
    });
    if !errors.is_empty() {
        return Err(Failure::Files(errors));
    }
    if o.pool.is_some()
        && figures
            .as_ref()
            .and_then(|f| f.difficulties.as_ref())
            .is_none()
    {
        return Err(match o.items {
            None => Failure::Usage(
                "--pool needs the rated items' difficulties: give --items with a difficulty column"
                    .to_string(),
            ),
            Some(path) => Failure::Files(vec![FileError::whole(
                &path.display().to_string(),
                "has no difficulty column, which --pool needs to find θ_cut",
            )]),
        });
    }
    let report = report(
        &panel,
        o,
        figures.as_ref(),
        scores.as_deref(),
        bounds.as_deref(),
        pool.as_deref(),
    )?;
    Ok(match o.format {
        Format::Json => report.json(),
        Format::Csv => csv(&report),
    })
}

/// The round's items as an index, to check the items file against.
fn round_items(panel: &Panel) -> files::Index {
    let mut index = files::Index::default();
    for item in &panel.items {
        index.id(item);
    }
    index
}

fn num(x: Option<f64>) -> Node {
    Node::of(&x)
}

fn report(
    panel: &Panel,
    o: &Options,
    figures: Option<&files::ItemFigures>,
    scores: Option<&[f64]>,
    bounds: Option<&[HofsteeBounds]>,
    pool: Option<&[f64]>,
) -> Result<Node, Failure> {
    let whole =
        |e: String| Failure::Files(vec![FileError::whole(&o.ratings.display().to_string(), e)]);
    let cut = ss::angoff(&panel.ratings, &panel.max).map_err(|e| whole(e.to_string()))?;
    let total: f64 = panel.max.iter().sum();
    // The Rasch scale and misplacement are for dichotomous items (Part One) only.
    let dichotomous = panel.max.iter().all(|m| *m == 1.0);
    let difficulties = figures
        .and_then(|f| f.difficulties.as_deref())
        .filter(|_| dichotomous);
    let scales = ss::cut_on_scales(cut.cut, total, difficulties, pool);
    let p_values = figures.map(|f| f.p_values.as_slice());
    let (misplacement_from, misplacement_b) = match (difficulties, p_values) {
        (Some(b), _) => ("difficulty", Some(b.to_vec())),
        (None, Some(p)) if dichotomous => ("p_value", Some(ss::difficulties_from_p_values(p))),
        _ => ("", None),
    };
    // Ratings over their items' maxima, to set against p-values (mean scores over the maximum
    // for Part Two): a question worth 4 points is not "easier" for being rated 3.
    let shares = |ratings: &[f64]| -> Vec<f64> {
        ratings.iter().zip(&panel.max).map(|(r, m)| r / m).collect()
    };
    let adjusted = o.se_adjust.and_then(|k| ss::adjusted_cut(&cut, k, total));
    let mut fields: Vec<(String, Node)> = vec![
        ("round".into(), Node::of(&panel.round)),
        ("rounds".into(), Node::of(&panel.rounds)),
        ("panelists".into(), Node::of(&panel.panelists.len())),
        ("items".into(), Node::of(&panel.items.len())),
        ("max".into(), Node::of(&total)),
        ("cut".into(), Node::of(&cut.cut)),
        ("sd".into(), num(cut.sd)),
        ("se".into(), num(cut.se)),
        ("percent".into(), num(scales.percent)),
        ("theta".into(), num(scales.theta)),
        ("pool_percent".into(), num(scales.pool_percent)),
        ("se_adjust".into(), num(o.se_adjust)),
        ("adjusted_cut".into(), num(adjusted)),
        (
            "consistency".into(),
            num(p_values.and_then(|p| ss::consistency(&shares(&cut.item_means), p))),
        ),
        (
            "misplacement_from".into(),
            if misplacement_from.is_empty() {
                Node::Null
            } else {
                Node::Str(misplacement_from.into())
            },
        ),
    ];
    fields.push((
        "impact".into(),
        scores.map_or(Node::Null, |s| {
            Node::Map(vec![
                ("candidates".into(), Node::of(&s.len())),
                ("pass_rate".into(), num(ss::pass_rate(s, cut.cut))),
                (
                    "adjusted_pass_rate".into(),
                    num(adjusted.and_then(|a| ss::pass_rate(s, a))),
                ),
            ])
        }),
    ));
    let hofstee = match (bounds, scores) {
        (Some(b), Some(s)) => hofstee_node(b, s).map_err(|e| {
            Failure::Files(vec![FileError::whole(
                &o.hofstee
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                e,
            )])
        })?,
        _ => Node::Null,
    };
    fields.push(("hofstee".into(), hofstee));
    let by_panelist = panel
        .panelists
        .iter()
        .zip(&panel.ratings)
        .zip(&cut.panelist_cuts)
        .map(|((name, row), c)| {
            let m = misplacement_b
                .as_ref()
                .and_then(|b| ss::misplacement(row, b));
            let misplaced = m.as_ref().map_or(Node::Null, |m| {
                Node::List(
                    m.worst(m.items.len())
                        .into_iter()
                        .map(|i| {
                            Node::Map(vec![
                                ("item".into(), Node::Str(panel.items[i].clone())),
                                ("misplacement".into(), Node::of(&m.items[i])),
                            ])
                        })
                        .collect(),
                )
            });
            Node::Map(vec![
                ("panelist".into(), Node::Str(name.clone())),
                ("cut".into(), Node::of(c)),
                (
                    "consistency".into(),
                    num(p_values.and_then(|p| ss::consistency(&shares(row), p))),
                ),
                ("misplacement".into(), num(m.as_ref().map(|m| m.mean))),
                ("theta".into(), num(m.as_ref().map(|m| m.theta))),
                ("misplaced".into(), misplaced),
            ])
        })
        .collect();
    fields.push(("by_panelist".into(), Node::List(by_panelist)));
    let by_item = panel
        .items
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let column: Vec<f64> = panel.ratings.iter().map(|row| row[i]).collect();
            let mean = cut.item_means[i];
            let sd = (column.len() > 1).then(|| {
                let squares: f64 = column.iter().map(|r| (r - mean).powi(2)).sum();
                (squares / (column.len() - 1) as f64).sqrt()
            });
            Node::Map(vec![
                ("item".into(), Node::Str(name.clone())),
                ("max".into(), Node::of(&panel.max[i])),
                ("mean".into(), Node::of(&mean)),
                ("sd".into(), num(sd)),
                (
                    "lowest".into(),
                    Node::of(&column.iter().copied().fold(f64::INFINITY, f64::min)),
                ),
                (
                    "highest".into(),
                    Node::of(&column.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                ),
                ("p_value".into(), num(p_values.map(|p| p[i]))),
            ])
        })
        .collect();
    fields.push(("by_item".into(), Node::List(by_item)));
    Ok(Node::Map(fields))
}

/// The panel's mean bounds and the compromise on the candidates' scores.
fn hofstee_node(bounds: &[HofsteeBounds], scores: &[f64]) -> Result<Node, String> {
    let mean = HofsteeBounds::mean(bounds).ok_or("no panelist gave bounds")?;
    let result = ss::hofstee(scores, &mean).map_err(|e| e.to_string())?;
    let (cut, fail) = match result {
        Hofstee::Cut { cut, fail_rate } => (Some(cut), Some(fail_rate)),
        _ => (None, None),
    };
    Ok(Node::Map(vec![
        ("panelists".into(), Node::of(&bounds.len())),
        ("cut_min".into(), Node::of(&mean.cut_min)),
        ("cut_max".into(), Node::of(&mean.cut_max)),
        ("fail_min".into(), Node::of(&mean.fail_min)),
        ("fail_max".into(), Node::of(&mean.fail_max)),
        ("result".into(), Node::Str(result.as_str().into())),
        ("cut".into(), num(cut)),
        ("fail_rate".into(), num(fail)),
    ]))
}

/// Tables `cut` (the panel's figures), `impact`, `hofstee`, `panelist` (id the panelist),
/// `misplaced` (id the panelist, sub the item, from the most misplaced) and `item` (id the
/// item).
fn csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    out.scalars("cut", "", "", report, &[]);
    out.scalars("impact", "", "", report.get("impact"), &[]);
    out.scalars("hofstee", "", "", report.get("hofstee"), &[]);
    for p in report.get("by_panelist").list() {
        let id = p.get("panelist").text();
        out.scalars("panelist", &id, "", p, &["panelist"]);
        for m in p.get("misplaced").list() {
            let item = m.get("item").text();
            out.row(
                "misplaced",
                &id,
                &item,
                "misplacement",
                m.get("misplacement"),
            );
        }
    }
    for item in report.get("by_item").list() {
        out.scalars("item", &item.get("item").text(), "", item, &["item"]);
    }
    out.finish()
}
