//! The ratings file: `response,rater,score[,item]`, one rating per row in the order scored.
//!
//! A million rows is the size to expect, so each row is checked as it is read and its names
//! interned at once: one `String` per distinct name, none per row.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::files::{in_line_order, rows_hint, Errors, FileError, Input, Records};
use crate::stats::{Rating, Scale};

/// The ratings file, with names interned as ids: raters, items and responses are numbered in
/// order of first appearance.
pub struct RatingFile {
    pub ratings: Vec<Rating>,
    pub raters: Vec<String>,
    pub items: Vec<String>,
}

/// Names numbered in order of first appearance.
#[derive(Default)]
struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    /// Kept only when the names are wanted back (raters and items, not responses).
    names: Option<Vec<String>>,
}

impl Interner {
    fn keeping_names() -> Self {
        Self {
            names: Some(Vec::new()),
            ..Self::default()
        }
    }

    /// The name's id, and whether it is new.
    fn id(&mut self, name: &str) -> (u32, bool) {
        if let Some(&id) = self.ids.get(name) {
            return (id, false);
        }
        let id = self.ids.len() as u32;
        self.ids.insert(name.into(), id);
        if let Some(names) = &mut self.names {
            names.push(name.to_string());
        }
        (id, true)
    }

    fn into_names(self) -> Vec<String> {
        self.names.unwrap_or_default()
    }
}

/// What a response is: its item (when the file has items) and the line of its first rating.
#[derive(Clone, Copy)]
struct ResponseSeen {
    item: Option<u32>,
    line: u64,
}

pub fn ratings(input: &Input, scale: Scale, errors: &mut Errors) -> Option<RatingFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    let with_item = ["response", "rater", "score", "item"];
    if let Some(problem) = records.header_problem(&[&with_item[..3], &with_item]) {
        return records.refuse(errors, vec![problem]);
    }
    let header_line = records.header_line;
    let hint = rows_hint(input);
    let mut ratings = Vec::with_capacity(hint);
    let mut responses = Interner::default();
    let mut raters = Interner::keeping_names();
    let mut items = Interner::keeping_names();
    // Indexed by response id.
    let mut seen: Vec<ResponseSeen> = Vec::new();
    // (response, rater) → line.
    let mut scored: FxHashMap<(u32, u32), u64> = FxHashMap::default();
    scored.reserve(hint);
    let mut problems: Errors = Vec::new();
    while let Some(row) = records.next_row() {
        let f = row.fields;
        let mut missing = Vec::new();
        for (i, what) in ["response", "rater"].iter().enumerate() {
            if f[i].is_empty() {
                missing.push(format!("the {what} is empty"));
            }
        }
        let score = match f[2].parse::<i64>() {
            Ok(s) if scale.index(s).is_some() => Some(s),
            Ok(s) => {
                missing.push(format!("the score {s} is off the scale {scale}"));
                None
            }
            Err(_) => {
                missing.push(format!("the score \"{}\" is not a whole number", &f[2]));
                None
            }
        };
        let item = f.get(3);
        if item.is_some_and(str::is_empty) {
            missing.push("the item is empty".to_string());
        }
        if !missing.is_empty() {
            problems.extend(
                missing
                    .into_iter()
                    .map(|p| FileError::at(name, row.line, p)),
            );
            continue;
        }
        let (response, new_response) = responses.id(&f[0]);
        let (rater, _) = raters.id(&f[1]);
        let item = item.map(|i| items.id(i).0);
        match scored.entry((response, rater)) {
            Entry::Occupied(first) => {
                problems.push(FileError::at(
                    name,
                    row.line,
                    format!(
                        "rater \"{}\" already scored response \"{}\" on line {}",
                        &f[1],
                        &f[0],
                        first.get()
                    ),
                ));
                continue;
            }
            Entry::Vacant(e) => {
                e.insert(row.line);
            }
        }
        if new_response {
            seen.push(ResponseSeen {
                item,
                line: row.line,
            });
        } else if let Some(&ResponseSeen {
            item: Some(earlier),
            line,
        }) = seen.get(response as usize)
        {
            if Some(earlier) != item {
                let earlier = items.names.as_ref().and_then(|n| n.get(earlier as usize));
                problems.push(FileError::at(
                    name,
                    row.line,
                    format!(
                        "response \"{}\" is for item \"{}\" on line {line}",
                        &f[0],
                        earlier.map_or("", String::as_str)
                    ),
                ));
                continue;
            }
        }
        ratings.push(Rating {
            item: item.map(i64::from),
            ..Rating::new(
                i64::from(response),
                i64::from(rater),
                score.unwrap_or_default(),
            )
        });
    }
    let rows = records.rows;
    records.finish(errors);
    if rows == 0 && errors.len() == before {
        errors.push(FileError::at(
            name,
            header_line,
            "no ratings after the header",
        ));
    }
    errors.append(&mut problems);
    in_line_order(&mut errors[before..]);
    (errors.len() == before).then(|| RatingFile {
        ratings,
        raters: raters.into_names(),
        items: items.into_names(),
    })
}
