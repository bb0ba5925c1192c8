//! The ratings file: `response,rater,score[,item]`, one rating per row in the order scored.

use std::collections::HashMap;

use super::files::{in_line_order, read_table, Errors, FileError, Input};
use crate::stats::{Rating, Scale};

/// The ratings file, with names interned as ids: raters, items and responses are numbered in
/// order of first appearance.
pub struct RatingFile {
    pub ratings: Vec<Rating>,
    pub raters: Vec<String>,
    pub items: Vec<String>,
}

fn intern(names: &mut Vec<String>, ids: &mut HashMap<String, i64>, name: &str) -> i64 {
    if let Some(&id) = ids.get(name) {
        return id;
    }
    let id = names.len() as i64;
    names.push(name.to_string());
    ids.insert(name.to_string(), id);
    id
}

pub fn ratings(input: &Input, scale: Scale, errors: &mut Errors) -> Option<RatingFile> {
    let name = &input.name;
    let before = errors.len();
    let table = read_table(input, errors)?;
    let with_item = ["response", "rater", "score", "item"];
    if !table.check_header(name, &[&with_item[..3], &with_item], errors) {
        return None;
    }
    let header_line = table.header_line;
    let rows = table.rows_of_header_width(name, errors);
    if rows.is_empty() && errors.len() == before {
        errors.push(FileError::at(
            name,
            header_line,
            "no ratings after the header",
        ));
    }
    let mut out = RatingFile {
        ratings: Vec::with_capacity(rows.len()),
        raters: Vec::new(),
        items: Vec::new(),
    };
    let (mut responses, mut response_ids) = (Vec::new(), HashMap::new());
    let mut rater_ids = HashMap::new();
    let mut item_ids = HashMap::new();
    // (response, rater) → line; response → (item, line).
    let mut scored: HashMap<(i64, i64), u64> = HashMap::new();
    let mut item_of: HashMap<i64, (Option<i64>, u64)> = HashMap::new();
    for row in rows {
        let f = &row.fields;
        let mut problems = Vec::new();
        for (i, what) in ["response", "rater"].iter().enumerate() {
            if f[i].is_empty() {
                problems.push(format!("the {what} is empty"));
            }
        }
        let score = match f[2].parse::<i64>() {
            Ok(s) if scale.index(s).is_some() => Some(s),
            Ok(s) => {
                problems.push(format!("the score {s} is off the scale {scale}"));
                None
            }
            Err(_) => {
                problems.push(format!("the score \"{}\" is not a whole number", f[2]));
                None
            }
        };
        let item = f.get(3);
        if item.is_some_and(String::is_empty) {
            problems.push("the item is empty".to_string());
        }
        if !problems.is_empty() {
            errors.extend(
                problems
                    .into_iter()
                    .map(|p| FileError::at(name, row.line, p)),
            );
            continue;
        }
        let response = intern(&mut responses, &mut response_ids, &f[0]);
        let rater = intern(&mut out.raters, &mut rater_ids, &f[1]);
        let item = item.map(|i| intern(&mut out.items, &mut item_ids, i));
        if let Some(first) = scored.insert((response, rater), row.line) {
            errors.push(FileError::at(
                name,
                row.line,
                format!(
                    "rater \"{}\" already scored response \"{}\" on line {first}",
                    f[1], f[0]
                ),
            ));
            scored.insert((response, rater), first);
            continue;
        }
        match item_of.get(&response) {
            Some(&(Some(earlier), line)) if Some(earlier) != item => {
                errors.push(FileError::at(
                    name,
                    row.line,
                    format!(
                        "response \"{}\" is for item \"{}\" on line {line}",
                        f[0], out.items[earlier as usize]
                    ),
                ));
                continue;
            }
            Some(_) => {}
            None => {
                item_of.insert(response, (item, row.line));
            }
        }
        out.ratings.push(Rating {
            item,
            ..Rating::new(response, rater, score.unwrap_or_default())
        });
    }
    in_line_order(&mut errors[before..]);
    (errors.len() == before).then_some(out)
}
