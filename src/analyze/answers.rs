//! The answer files: responses (`candidate,<item>,...`), key (`item,key[,domain]`) and groups
//! (`candidate,group`), checked against each other into the statistics' types.
//!
//! A response cell is an option letter, empty (presented but not answered: scores 0), or `-`
//! (the item was not presented to that candidate: their form did not hold it).

use rustc_hash::FxHashMap;

use super::files::{in_line_order, rows_hint, Errors, FileError, Input, Records, UniqueIds};
use crate::stats::items::{Cell, ItemKey, Responses, MAX_OPTIONS};
use crate::stats::Group;

/// A letter A-Z (either case) as an option index.
fn option_letter(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [b] if b.is_ascii_alphabetic() => Some(b.to_ascii_uppercase() - b'A'),
        _ => None,
    }
}

/// The response file: header `candidate,<item>,...`, a letter, nothing or `-` per cell.
pub struct ResponseFile {
    pub name: String,
    pub header_line: u64,
    pub items: Vec<String>,
    /// (candidate, line).
    pub candidates: Vec<(String, u64)>,
    /// Each candidate's cells in a row of `items.len()`, one after another.
    pub answers: Vec<Cell>,
}

impl ResponseFile {
    /// Each candidate's cells, in the order of `candidates`.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, Cell> {
        self.answers.chunks_exact(self.items.len().max(1))
    }
}

pub fn responses(input: &Input, errors: &mut Errors) -> Option<ResponseFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    let header_line = records.header_line;
    let mut header_problems = Vec::new();
    match records.header.first().map(String::as_str) {
        Some("candidate") => {}
        other => header_problems.push(FileError::at(
            name,
            header_line,
            format!(
                "the header must begin with \"candidate\", found \"{}\"",
                other.unwrap_or("")
            ),
        )),
    }
    let items: Vec<String> = records.header.iter().skip(1).cloned().collect();
    if items.is_empty() {
        header_problems.push(FileError::at(
            name,
            header_line,
            "the header names no items after \"candidate\"",
        ));
    }
    let mut columns: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            header_problems.push(FileError::at(
                name,
                header_line,
                format!("column {} has no item id", i + 2),
            ));
        } else if let Some(first) = columns.insert(item, i + 2) {
            header_problems.push(FileError::at(
                name,
                header_line,
                format!("item \"{item}\" is also column {first}"),
            ));
            columns.insert(item, first);
        }
    }
    if !header_problems.is_empty() {
        return records.refuse(errors, header_problems);
    }
    let hint = rows_hint(input);
    let mut seen = UniqueIds::default();
    let mut candidates = Vec::with_capacity(hint);
    let mut answers = Vec::with_capacity(hint.saturating_mul(items.len()));
    let mut problems = Vec::new();
    while let Some(row) = records.next_row() {
        let candidate = &row.fields[0];
        if let Err(problem) = seen.check(name, row.line, "candidate", candidate) {
            problems.push(problem);
            continue;
        }
        let start = answers.len();
        for (cell, item) in row.fields.iter().skip(1).zip(&items) {
            if cell.is_empty() {
                answers.push(Cell::Omitted);
            } else if cell == "-" {
                answers.push(Cell::NotPresented);
            } else if let Some(o) = option_letter(cell) {
                answers.push(Cell::Chose(o));
            } else {
                problems.push(FileError::at(
                    name,
                    row.line,
                    format!("item {item}: \"{cell}\" is not an option letter A-Z, empty or -"),
                ));
            }
        }
        if answers.len() - start == items.len() {
            candidates.push((candidate.to_string(), row.line));
        } else {
            answers.truncate(start);
        }
    }
    records
        .close(errors, before, problems, "candidates")
        .then(|| ResponseFile {
            name: name.clone(),
            header_line,
            items,
            candidates,
            answers,
        })
}

/// One row of the key file.
pub struct KeyRow {
    pub item: String,
    pub accepted: u32,
    pub domain: Option<String>,
    pub line: u64,
}

pub struct KeyFile {
    pub name: String,
    pub rows: Vec<KeyRow>,
}

pub fn key(input: &Input, errors: &mut Errors) -> Option<KeyFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["item", "key"], &["item", "key", "domain"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let mut seen = UniqueIds::default();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    while let Some(row) = records.next_row() {
        let item = &row.fields[0];
        let key = &row.fields[1];
        if let Err(problem) = seen.check(name, row.line, "item", item) {
            problems.push(problem);
            continue;
        }
        let letters: Option<Vec<u8>> = key.split('|').map(|l| option_letter(l.trim())).collect();
        let Some(letters) = letters else {
            problems.push(FileError::at(
                name,
                row.line,
                format!("the key \"{key}\" is not a letter A-Z, or letters joined by |"),
            ));
            continue;
        };
        out.push(KeyRow {
            item: item.to_string(),
            accepted: letters.iter().fold(0, |a, &l| a | 1 << l),
            domain: row
                .fields
                .get(2)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            line: row.line,
        });
    }
    records
        .close(errors, before, problems, "items")
        .then(|| KeyFile {
            name: name.clone(),
            rows: out,
        })
}

/// The response table checked against the key: every column keyed, every key a column. An
/// item's options run from A to the highest letter in its key or its answers.
pub fn form(r: &ResponseFile, k: &KeyFile, errors: &mut Errors) -> Option<Responses> {
    let before = errors.len();
    let keyed: FxHashMap<&str, &KeyRow> =
        k.rows.iter().map(|row| (row.item.as_str(), row)).collect();
    let columns: FxHashMap<&str, usize> = r
        .items
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    for row in &k.rows {
        if !columns.contains_key(row.item.as_str()) {
            errors.push(FileError::at(
                &k.name,
                row.line,
                format!("item \"{}\" is not a column of {}", row.item, r.name),
            ));
        }
    }
    for item in &r.items {
        if !keyed.contains_key(item.as_str()) {
            errors.push(FileError::at(
                &r.name,
                r.header_line,
                format!("item \"{item}\" is not in {}", k.name),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    let mut highest: Vec<u8> = r
        .items
        .iter()
        .map(|item| (32 - keyed[item.as_str()].accepted.leading_zeros()) as u8)
        .collect();
    for answers in r.rows() {
        for (h, a) in highest.iter_mut().zip(answers) {
            if let Cell::Chose(o) = a {
                *h = (*h).max(o + 1);
            }
        }
    }
    let keys = r
        .items
        .iter()
        .zip(&highest)
        .map(|(item, &options)| {
            let row = keyed[item.as_str()];
            ItemKey {
                id: item.clone(),
                domain: row.domain.clone(),
                options: options.min(MAX_OPTIONS),
                accepted: row.accepted,
            }
        })
        .collect();
    let mut responses = match Responses::new(keys) {
        Ok(t) => t,
        Err(e) => {
            errors.push(FileError::whole(&k.name, e.to_string()));
            return None;
        }
    };
    for ((_, line), answers) in r.candidates.iter().zip(r.rows()) {
        if let Err(e) = responses.push_presented(answers) {
            errors.push(FileError::at(&r.name, *line, e.to_string()));
        }
    }
    (errors.len() == before).then_some(responses)
}

/// Each candidate's group for DIF, checked against the response file's candidates.
pub fn groups(
    input: &Input,
    r: &ResponseFile,
    focal: &str,
    reference: &str,
    errors: &mut Errors,
) -> Option<Vec<Option<Group>>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["candidate", "group"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let index: FxHashMap<&str, usize> = r
        .candidates
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.as_str(), i))
        .collect();
    // Each candidate's group: `None` without a row, `Some(None)` in neither group compared.
    let mut group_of: Vec<Option<Option<Group>>> = vec![None; r.candidates.len()];
    let mut lines: FxHashMap<String, u64> = FxHashMap::default();
    let (mut any_focal, mut any_reference) = (false, false);
    let mut problems = Vec::new();
    while let Some(row) = records.next_row() {
        let (candidate, group) = (&row.fields[0], &row.fields[1]);
        if candidate.is_empty() {
            problems.push(FileError::at(name, row.line, "the candidate is empty"));
            continue;
        }
        if group.is_empty() {
            problems.push(FileError::at(name, row.line, "the group is empty"));
            continue;
        }
        if let Some(first) = lines.get(candidate) {
            problems.push(FileError::at(
                name,
                row.line,
                format!("candidate \"{candidate}\" is also on line {first}"),
            ));
            continue;
        }
        lines.insert(candidate.to_string(), row.line);
        match index.get(candidate) {
            Some(&c) => {
                group_of[c] = Some(if group == focal {
                    any_focal = true;
                    Some(Group::Focal)
                } else if group == reference {
                    any_reference = true;
                    Some(Group::Reference)
                } else {
                    None
                });
            }
            None => problems.push(FileError::at(
                name,
                row.line,
                format!("candidate \"{candidate}\" is not in {}", r.name),
            )),
        }
    }
    records.finish(errors);
    errors.append(&mut problems);
    in_line_order(&mut errors[before..]);
    for ((candidate, line), g) in r.candidates.iter().zip(&group_of) {
        if g.is_none() {
            errors.push(FileError::at(
                &r.name,
                *line,
                format!("candidate \"{candidate}\" has no group in {name}"),
            ));
        }
    }
    for (role, wanted, any) in [
        ("focal", focal, any_focal),
        ("reference", reference, any_reference),
    ] {
        if !any {
            errors.push(FileError::whole(
                name,
                format!("no candidate is in the {role} group \"{wanted}\""),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(group_of.into_iter().map(Option::flatten).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_letters() {
        assert_eq!(option_letter("A"), Some(0));
        assert_eq!(option_letter("d"), Some(3));
        assert_eq!(option_letter("Z"), Some(25));
        for bad in ["", "AB", "1", "é", "-"] {
            assert_eq!(option_letter(bad), None, "{bad}");
        }
    }
}
