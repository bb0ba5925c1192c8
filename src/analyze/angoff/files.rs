//! The files of `imh-exam analyze angoff`, each checked row by row into `file:line: message`:
//! the ratings (`panelist,item,rating[,round]`), the items' maxima (`item,max`), the items'
//! observed figures (`item,p_value[,difficulty]`), the candidates' scores (`candidate,score`),
//! the Hofstee bounds (`panelist,cut_min,cut_max,fail_min,fail_max`) and the operational pool
//! (`item,difficulty`).

use rustc_hash::FxHashMap;

use super::super::files::{Errors, FileError, Input, Records, UniqueIds};
use crate::stats::standard_setting::HofsteeBounds;

/// Names numbered in order of first appearance.
#[derive(Default)]
pub struct Index {
    pub names: Vec<String>,
    ids: FxHashMap<String, usize>,
}

impl Index {
    pub fn id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.ids.get(name).copied()
    }
}

/// One rating: its round, panelist, item (ids of `RatingsFile`) and value.
pub struct Rated {
    pub round: u32,
    pub panelist: usize,
    pub item: usize,
    pub value: f64,
}

/// The ratings of every round, names numbered in order of first appearance.
pub struct RatingsFile {
    pub name: String,
    pub panelists: Index,
    pub items: Index,
    pub ratings: Vec<Rated>,
}

fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The items' maxima: `item,max`, each a number above 0 (a Part Two question's top score);
/// items not in the file have maximum 1. Each item's line is kept to refuse one not rated.
pub fn maxima(input: &Input, errors: &mut Errors) -> Option<FxHashMap<String, (f64, u64)>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["item", "max"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut seen, mut out, mut problems) = (UniqueIds::default(), FxHashMap::default(), vec![]);
    while let Some(row) = records.next_row() {
        let (item, value) = (&row.fields[0], &row.fields[1]);
        if let Err(problem) = seen.check(name, row.line, "item", item) {
            problems.push(problem);
            continue;
        }
        match number(value).filter(|m| *m > 0.0) {
            Some(m) => {
                out.insert(item.to_string(), (m, row.line));
            }
            None => problems.push(FileError::at(
                name,
                row.line,
                format!("the maximum \"{value}\" of item \"{item}\" is not a number above 0"),
            )),
        }
    }
    records
        .close(errors, before, problems, "items")
        .then_some(out)
}

/// The ratings: `panelist,item,rating` (one round) or `panelist,item,rating,round`. A rating
/// is a number from 0 to its item's maximum (`max`, 1 when not given); a round a whole number
/// from 1; a panelist rates an item once a round.
pub fn ratings(
    input: &Input,
    max: &FxHashMap<String, (f64, u64)>,
    errors: &mut Errors,
) -> Option<RatingsFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[
        &["panelist", "item", "rating"],
        &["panelist", "item", "rating", "round"],
    ]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut panelists, mut items) = (Index::default(), Index::default());
    let mut ratings = Vec::new();
    // (round, panelist, item) → the line that rated it first.
    let mut rated: FxHashMap<(u32, usize, usize), u64> = FxHashMap::default();
    let mut problems: Errors = Vec::new();
    while let Some(row) = records.next_row() {
        let f = row.fields;
        let at = |message: String| FileError::at(name, row.line, message);
        let mut wrong = Vec::new();
        for (i, what) in ["panelist", "item"].iter().enumerate() {
            if f[i].is_empty() {
                wrong.push(at(format!("the {what} is empty")));
            }
        }
        let top = max.get(&f[1]).map_or(1.0, |m| m.0);
        let value = match number(&f[2]) {
            Some(v) if (0.0..=top).contains(&v) => Some(v),
            Some(v) => {
                wrong.push(at(format!(
                    "the rating {v} of item \"{}\" is not between 0 and its maximum {top}",
                    &f[1]
                )));
                None
            }
            None => {
                wrong.push(at(format!("the rating \"{}\" is not a number", &f[2])));
                None
            }
        };
        let round = match f.get(3) {
            None => Some(1),
            Some(r) => match r.parse::<u32>() {
                Ok(r) if r >= 1 => Some(r),
                _ => {
                    wrong.push(at(format!(
                        "the round \"{r}\" is not a whole number from 1"
                    )));
                    None
                }
            },
        };
        let (Some(value), Some(round), true) = (value, round, wrong.is_empty()) else {
            problems.extend(wrong);
            continue;
        };
        let (panelist, item) = (panelists.id(&f[0]), items.id(&f[1]));
        if let Some(first) = rated.get(&(round, panelist, item)) {
            problems.push(at(format!(
                "panelist \"{}\" already rated item \"{}\" in round {round} on line {first}",
                &f[0], &f[1]
            )));
            continue;
        }
        rated.insert((round, panelist, item), row.line);
        ratings.push(Rated {
            round,
            panelist,
            item,
            value,
        });
    }
    records
        .close(errors, before, problems, "ratings")
        .then_some(RatingsFile {
            name: name.clone(),
            panelists,
            items,
            ratings,
        })
}

/// Refuses the maxima of items no one rated, at their lines in the maxima's file.
pub fn unrated_maxima(
    file: &str,
    max: &FxHashMap<String, (f64, u64)>,
    ratings: &RatingsFile,
    errors: &mut Errors,
) {
    let mut unrated: Vec<(&String, u64)> = max
        .iter()
        .filter(|(item, _)| ratings.items.get(item).is_none())
        .map(|(item, (_, line))| (item, *line))
        .collect();
    unrated.sort_by_key(|u| u.1);
    for (item, line) in unrated {
        errors.push(FileError::at(
            file,
            line,
            format!("item \"{item}\" is not rated in {}", ratings.name),
        ));
    }
}

/// Each rated item's observed p-value (or mean score over its maximum) and, with a third
/// column, its Rasch difficulty.
pub struct ItemFigures {
    pub p_values: Vec<f64>,
    pub difficulties: Option<Vec<f64>>,
}

/// `item,p_value` or `item,p_value,difficulty`: one row for every item of `items` (the
/// ratings' items, in their order), none for another.
pub fn item_figures(input: &Input, items: &Index, errors: &mut Errors) -> Option<ItemFigures> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) =
        records.header_problem(&[&["item", "p_value"], &["item", "p_value", "difficulty"]])
    {
        return records.refuse(errors, vec![problem]);
    }
    let calibrated = records.header.len() == 3;
    let n = items.names.len();
    let (mut p_values, mut difficulties) = (vec![f64::NAN; n], vec![f64::NAN; n]);
    let (mut seen, mut problems) = (UniqueIds::default(), Vec::new());
    while let Some(row) = records.next_row() {
        let f = row.fields;
        let at = |message: String| FileError::at(name, row.line, message);
        if let Err(problem) = seen.check(name, row.line, "item", &f[0]) {
            problems.push(problem);
            continue;
        }
        let Some(i) = items.get(&f[0]) else {
            problems.push(at(format!("item \"{}\" is not rated", &f[0])));
            continue;
        };
        match number(&f[1]).filter(|p| (0.0..=1.0).contains(p)) {
            Some(p) => p_values[i] = p,
            None => problems.push(at(format!(
                "the p-value \"{}\" of item \"{}\" is not a share from 0 to 1",
                &f[1], &f[0]
            ))),
        }
        if calibrated {
            match number(&f[2]) {
                Some(b) => difficulties[i] = b,
                None => problems.push(at(format!(
                    "the difficulty \"{}\" of item \"{}\" is not a number of logits",
                    &f[2], &f[0]
                ))),
            }
        }
    }
    let line = records.header_line;
    let ok = records.close(errors, before, problems, "items");
    if !ok {
        return None;
    }
    let missing: Vec<&String> = (0..n)
        .filter(|&i| p_values[i].is_nan())
        .map(|i| &items.names[i])
        .collect();
    for item in &missing {
        errors.push(FileError::at(
            name,
            line,
            format!("item \"{item}\" of the ratings has no row"),
        ));
    }
    missing.is_empty().then_some(ItemFigures {
        p_values,
        difficulties: calibrated.then_some(difficulties),
    })
}

/// The candidates' total scores: `candidate,score`, each a number from 0 to `max`, the rated
/// items' maximum.
pub fn scores(input: &Input, max: f64, errors: &mut Errors) -> Option<Vec<f64>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["candidate", "score"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut seen, mut out, mut problems) = (UniqueIds::default(), Vec::new(), Vec::new());
    while let Some(row) = records.next_row() {
        let (candidate, value) = (&row.fields[0], &row.fields[1]);
        if let Err(problem) = seen.check(name, row.line, "candidate", candidate) {
            problems.push(problem);
            continue;
        }
        match number(value).filter(|s| (0.0..=max).contains(s)) {
            Some(s) => out.push(s),
            None => problems.push(FileError::at(
                name,
                row.line,
                format!(
                    "the score \"{value}\" of candidate \"{candidate}\" is not a number from 0 to the items' maximum {max}"
                ),
            )),
        }
    }
    records
        .close(errors, before, problems, "candidates")
        .then_some(out)
}

/// Each Hofstee panelist's bounds: `panelist,cut_min,cut_max,fail_min,fail_max`, cuts on the
/// raw scale from 0 to `max` (the lowest below the highest), failure rates shares from 0 to 1
/// (the lowest not above the highest).
pub fn hofstee(input: &Input, max: f64, errors: &mut Errors) -> Option<Vec<HofsteeBounds>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    let columns = ["panelist", "cut_min", "cut_max", "fail_min", "fail_max"];
    if let Some(problem) = records.header_problem(&[&columns]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut seen, mut out, mut problems) = (UniqueIds::default(), Vec::new(), Vec::new());
    while let Some(row) = records.next_row() {
        let f = row.fields;
        let at = |message: String| FileError::at(name, row.line, message);
        if let Err(problem) = seen.check(name, row.line, "panelist", &f[0]) {
            problems.push(problem);
            continue;
        }
        let mut v = [0.0; 4];
        let mut wrong = Vec::new();
        for (k, slot) in v.iter_mut().enumerate() {
            let (column, text) = (columns[k + 1], &f[k + 1]);
            let (lo, hi, what) = if k < 2 {
                (
                    0.0,
                    max,
                    format!("a number from 0 to the items' maximum {max}"),
                )
            } else {
                (0.0, 1.0, "a share from 0 to 1 (30% is 0.3)".to_string())
            };
            match number(text).filter(|x| (lo..=hi).contains(x)) {
                Some(x) => *slot = x,
                None => wrong.push(at(format!("the {column} \"{text}\" is not {what}"))),
            }
        }
        if wrong.is_empty() && v[0] >= v[1] {
            wrong.push(at(format!(
                "the cut_min {} is not below the cut_max {}",
                v[0], v[1]
            )));
        }
        if wrong.is_empty() && v[2] > v[3] {
            wrong.push(at(format!(
                "the fail_min {} is above the fail_max {}",
                v[2], v[3]
            )));
        }
        if wrong.is_empty() {
            out.push(HofsteeBounds {
                cut_min: v[0],
                cut_max: v[1],
                fail_min: v[2],
                fail_max: v[3],
            });
        }
        problems.extend(wrong);
    }
    records
        .close(errors, before, problems, "panelists")
        .then_some(out)
}

/// The operational pool's difficulties: `item,difficulty`, each item once, in logits.
pub fn pool(input: &Input, errors: &mut Errors) -> Option<Vec<f64>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["item", "difficulty"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut seen, mut out, mut problems) = (UniqueIds::default(), Vec::new(), Vec::new());
    while let Some(row) = records.next_row() {
        let (item, value) = (&row.fields[0], &row.fields[1]);
        if let Err(problem) = seen.check(name, row.line, "item", item) {
            problems.push(problem);
            continue;
        }
        match number(value) {
            Some(b) => out.push(b),
            None => problems.push(FileError::at(
                name,
                row.line,
                format!("the difficulty \"{value}\" of item \"{item}\" is not a number of logits"),
            )),
        }
    }
    records
        .close(errors, before, problems, "items")
        .then_some(out)
}
