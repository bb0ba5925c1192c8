//! The ratings file: `response,rater,score[,item]`, one rating per row in the order scored.
//!
//! A million rows is the size to expect, so each row is checked as it is read and its names
//! interned at once: one `String` per distinct name, none per row.

use std::collections::hash_map::Entry;

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::files::{rows_hint, Errors, FileError, Input, Records};
use crate::stats::{Rating, Scale};

/// The ratings file, with names interned as ids: raters, items and responses are numbered in
/// order of first appearance.
pub struct RatingFile {
    pub ratings: Vec<Rating>,
    pub raters: Vec<String>,
    pub items: Vec<String>,
}

/// Names numbered in order of first appearance, kept in one buffer: half a million response
/// names are half a million small allocations (and frees) otherwise.
#[derive(Default)]
pub(super) struct Names {
    text: String,
    ends: Vec<usize>,
    /// A name's hash → the last id with that hash; `earlier` chains the ids of equal hash.
    by_hash: FxHashMap<u64, u32>,
    earlier: Vec<u32>,
}

const NO_ID: u32 = u32::MAX;

impl Names {
    fn name(&self, id: u32) -> &str {
        let at = |i: u32| self.ends.get(i as usize).copied().unwrap_or_default();
        let (start, end) = (id.checked_sub(1).map_or(0, at), at(id));
        self.text.get(start..end).unwrap_or_default()
    }

    /// The name's id, and whether it is new.
    pub(super) fn id(&mut self, name: &str) -> (u32, bool) {
        let hash = FxBuildHasher.hash_one(name);
        let mut candidate = self.by_hash.get(&hash).copied().unwrap_or(NO_ID);
        while candidate != NO_ID {
            if self.name(candidate) == name {
                return (candidate, false);
            }
            candidate = self.earlier[candidate as usize];
        }
        let id = self.ends.len() as u32;
        self.text.push_str(name);
        self.ends.push(self.text.len());
        self.earlier
            .push(self.by_hash.insert(hash, id).unwrap_or(NO_ID));
        (id, true)
    }

    pub(super) fn into_vec(self) -> Vec<String> {
        (0..self.ends.len() as u32)
            .map(|id| self.name(id).to_string())
            .collect()
    }
}

/// A response as far as read: its item (when the file has items) and its first two raters with
/// the lines they scored it on. Most responses are read twice, so a rater scoring a response
/// twice is found here, next to the response, and only later readings go to a map.
struct Response {
    item: Option<u32>,
    raters: [u32; 2],
    lines: [u64; 2],
}

impl Response {
    fn new(item: Option<u32>, rater: u32, line: u64) -> Self {
        Self {
            item,
            raters: [rater, NO_ID],
            lines: [line, 0],
        }
    }

    /// The line of the response's first rating, which set its item.
    fn first_line(&self) -> u64 {
        self.lines[0]
    }
}

pub fn ratings(input: &Input, scale: Scale, errors: &mut Errors) -> Option<RatingFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    let with_item = ["response", "rater", "score", "item"];
    if let Some(problem) = records.header_problem(&[&with_item[..3], &with_item]) {
        return records.refuse(errors, vec![problem]);
    }
    let hint = rows_hint(input);
    let mut ratings = Vec::with_capacity(hint);
    let mut responses = Names::default();
    let mut raters = Names::default();
    let mut items = Names::default();
    // Indexed by response id.
    let mut seen: Vec<Response> = Vec::new();
    // (response, rater) → line, for the third reading of a response on.
    let mut later: FxHashMap<(u32, u32), u64> = FxHashMap::default();
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
        if new_response {
            seen.push(Response::new(item, rater, row.line));
        } else if let Some(r) = seen.get_mut(response as usize) {
            let already = if let Some(i) = r.raters.iter().position(|&x| x == rater) {
                Some(r.lines[i])
            } else if r.raters[1] == NO_ID {
                r.raters[1] = rater;
                r.lines[1] = row.line;
                None
            } else {
                match later.entry((response, rater)) {
                    Entry::Occupied(first) => Some(*first.get()),
                    Entry::Vacant(e) => {
                        e.insert(row.line);
                        None
                    }
                }
            };
            if let Some(first) = already {
                problems.push(FileError::at(
                    name,
                    row.line,
                    format!(
                        "rater \"{}\" already scored response \"{}\" on line {first}",
                        &f[1], &f[0]
                    ),
                ));
                continue;
            }
            if let Some(earlier) = r.item.filter(|&earlier| Some(earlier) != item) {
                problems.push(FileError::at(
                    name,
                    row.line,
                    format!(
                        "response \"{}\" is for item \"{}\" on line {}",
                        &f[0],
                        items.name(earlier),
                        r.first_line()
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
    records
        .close(errors, before, problems, "ratings")
        .then(|| RatingFile {
            ratings,
            raters: raters.into_vec(),
            items: items.into_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RatingFile, Errors> {
        let input = Input {
            name: "X.csv".into(),
            bytes: text.as_bytes().to_vec(),
        };
        let mut errors = Vec::new();
        let scale = Scale::new(0, 3).unwrap();
        ratings(&input, scale, &mut errors).ok_or(errors)
    }

    #[test]
    fn names_are_numbered_in_order_of_first_appearance() {
        let mut names = Names::default();
        assert_eq!(names.id("b"), (0, true));
        assert_eq!(names.id("a"), (1, true));
        assert_eq!(names.id("b"), (0, false));
        assert_eq!(names.id(""), (2, true));
        assert_eq!(names.name(1), "a");
        assert_eq!(names.name(9), "");
        assert_eq!(names.into_vec(), vec!["b", "a", ""]);
    }

    #[test]
    fn a_rater_scoring_a_response_twice_is_found_at_any_reading() {
        let errors =
            read("response,rater,score\nr1,a,1\nr1,b,2\nr1,c,3\nr1,b,0\nr1,c,0\nr1,a,0\nr2,a,1\n")
                .err()
                .unwrap();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "X.csv:5: rater \"b\" already scored response \"r1\" on line 3",
                "X.csv:6: rater \"c\" already scored response \"r1\" on line 4",
                "X.csv:7: rater \"a\" already scored response \"r1\" on line 2",
            ]
        );
    }

    #[test]
    fn ids_follow_the_file() {
        let file =
            read("response,rater,score,item\nr1,a,1,x\nr2,b,2,y\nr1,b,3,x\nr2,c,0,y\n").unwrap();
        assert_eq!(file.raters, vec!["a", "b", "c"]);
        assert_eq!(file.items, vec!["x", "y"]);
        let ids: Vec<(i64, i64, i64, Option<i64>)> = file
            .ratings
            .iter()
            .map(|r| (r.response, r.rater, r.score, r.item))
            .collect();
        assert_eq!(
            ids,
            vec![
                (0, 0, 1, Some(0)),
                (1, 1, 2, Some(1)),
                (0, 1, 3, Some(0)),
                (1, 2, 0, Some(1))
            ]
        );
    }
}
