//! The answer files: responses (`candidate,<item>,...`), key (`item,key[,domain]`) and groups
//! (`candidate,group`), checked against each other into the statistics' types.

use std::collections::HashMap;

use super::files::{in_line_order, read_table, Errors, FileError, Input};
use crate::stats::items::{ItemKey, Responses, MAX_OPTIONS};
use crate::stats::Group;

/// A letter A-Z (either case) as an option index.
fn option_letter(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [b] if b.is_ascii_alphabetic() => Some(b.to_ascii_uppercase() - b'A'),
        _ => None,
    }
}

/// The response file: header `candidate,<item>,...`, a letter or nothing per cell.
pub struct ResponseFile {
    pub name: String,
    pub header_line: u64,
    pub items: Vec<String>,
    /// (candidate, line).
    pub candidates: Vec<(String, u64)>,
    pub answers: Vec<Vec<Option<u8>>>,
}

pub fn responses(input: &Input, errors: &mut Errors) -> Option<ResponseFile> {
    let name = &input.name;
    let before = errors.len();
    let table = read_table(input, errors)?;
    let header_errors = errors.len();
    let header_line = table.header_line;
    match table.header.first().map(String::as_str) {
        Some("candidate") => {}
        other => errors.push(FileError::at(
            name,
            header_line,
            format!(
                "the header must begin with \"candidate\", found \"{}\"",
                other.unwrap_or("")
            ),
        )),
    }
    let items: Vec<String> = table.header.iter().skip(1).cloned().collect();
    if items.is_empty() {
        errors.push(FileError::at(
            name,
            header_line,
            "the header names no items after \"candidate\"",
        ));
    }
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            errors.push(FileError::at(
                name,
                header_line,
                format!("column {} has no item id", i + 2),
            ));
        } else if let Some(first) = columns.insert(item, i + 2) {
            errors.push(FileError::at(
                name,
                header_line,
                format!("item \"{item}\" is also column {first}"),
            ));
            columns.insert(item, first);
        }
    }
    if errors.len() > header_errors {
        return None;
    }
    let rows = table.rows_of_header_width(name, errors);
    if rows.is_empty() && errors.len() == before {
        errors.push(FileError::at(
            name,
            header_line,
            "no candidates after the header",
        ));
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut candidates = Vec::with_capacity(rows.len());
    let mut answers = Vec::with_capacity(rows.len());
    for row in rows {
        let candidate = &row.fields[0];
        if candidate.is_empty() {
            errors.push(FileError::at(name, row.line, "the candidate is empty"));
            continue;
        }
        if let Some(first) = seen.get(candidate) {
            errors.push(FileError::at(
                name,
                row.line,
                format!("candidate \"{candidate}\" is also on line {first}"),
            ));
            continue;
        }
        seen.insert(candidate.clone(), row.line);
        let mut chosen = Vec::with_capacity(items.len());
        for (cell, item) in row.fields[1..].iter().zip(&items) {
            if cell.is_empty() {
                chosen.push(None);
            } else if let Some(o) = option_letter(cell) {
                chosen.push(Some(o));
            } else {
                errors.push(FileError::at(
                    name,
                    row.line,
                    format!("item {item}: \"{cell}\" is not an option letter A-Z"),
                ));
            }
        }
        if chosen.len() == items.len() {
            candidates.push((candidate.clone(), row.line));
            answers.push(chosen);
        }
    }
    in_line_order(&mut errors[before..]);
    (errors.len() == before).then(|| ResponseFile {
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
    let table = read_table(input, errors)?;
    if !table.check_header(
        name,
        &[&["item", "key"], &["item", "key", "domain"]],
        errors,
    ) {
        return None;
    }
    let header_line = table.header_line;
    let rows = table.rows_of_header_width(name, errors);
    if rows.is_empty() && errors.len() == before {
        errors.push(FileError::at(
            name,
            header_line,
            "no items after the header",
        ));
    }
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let item = &row.fields[0];
        let key = &row.fields[1];
        if item.is_empty() {
            errors.push(FileError::at(name, row.line, "the item is empty"));
            continue;
        }
        if let Some(first) = seen.get(item) {
            errors.push(FileError::at(
                name,
                row.line,
                format!("item \"{item}\" is also on line {first}"),
            ));
            continue;
        }
        seen.insert(item.clone(), row.line);
        let letters: Option<Vec<u8>> = key.split('|').map(|l| option_letter(l.trim())).collect();
        let Some(letters) = letters else {
            errors.push(FileError::at(
                name,
                row.line,
                format!("the key \"{key}\" is not a letter A-Z, or letters joined by |"),
            ));
            continue;
        };
        out.push(KeyRow {
            item: item.clone(),
            accepted: letters.iter().fold(0, |a, &l| a | 1 << l),
            domain: row.fields.get(2).filter(|d| !d.is_empty()).cloned(),
            line: row.line,
        });
    }
    in_line_order(&mut errors[before..]);
    (errors.len() == before).then(|| KeyFile {
        name: name.clone(),
        rows: out,
    })
}

/// The response table checked against the key: every column keyed, every key a column. An
/// item's options run from A to the highest letter in its key or its answers.
pub fn form(r: &ResponseFile, k: &KeyFile, errors: &mut Errors) -> Option<Responses> {
    let before = errors.len();
    let keyed: HashMap<&str, &KeyRow> = k.rows.iter().map(|row| (row.item.as_str(), row)).collect();
    let columns: HashMap<&str, usize> = r
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
    for answers in &r.answers {
        for (h, a) in highest.iter_mut().zip(answers) {
            if let Some(o) = a {
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
    for ((_, line), answers) in r.candidates.iter().zip(&r.answers) {
        if let Err(e) = responses.push(answers) {
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
    let table = read_table(input, errors)?;
    if !table.check_header(name, &[&["candidate", "group"]], errors) {
        return None;
    }
    let rows = table.rows_of_header_width(name, errors);
    let index: HashMap<&str, usize> = r
        .candidates
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.as_str(), i))
        .collect();
    let mut group_of: Vec<Option<&str>> = vec![None; r.candidates.len()];
    let mut lines: HashMap<String, u64> = HashMap::new();
    let mut groups: Vec<String> = Vec::new();
    for row in &rows {
        let (candidate, group) = (&row.fields[0], &row.fields[1]);
        if candidate.is_empty() {
            errors.push(FileError::at(name, row.line, "the candidate is empty"));
            continue;
        }
        if group.is_empty() {
            errors.push(FileError::at(name, row.line, "the group is empty"));
            continue;
        }
        if let Some(first) = lines.get(candidate) {
            errors.push(FileError::at(
                name,
                row.line,
                format!("candidate \"{candidate}\" is also on line {first}"),
            ));
            continue;
        }
        lines.insert(candidate.clone(), row.line);
        match index.get(candidate.as_str()) {
            Some(&c) => {
                group_of[c] = Some(group.as_str());
                groups.push(group.clone());
            }
            None => errors.push(FileError::at(
                name,
                row.line,
                format!("candidate \"{candidate}\" is not in {}", r.name),
            )),
        }
    }
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
    for (role, wanted) in [("focal", focal), ("reference", reference)] {
        if !groups.iter().any(|g| g == wanted) {
            errors.push(FileError::whole(
                name,
                format!("no candidate is in the {role} group \"{wanted}\""),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(
        group_of
            .into_iter()
            .map(|g| match g {
                Some(g) if g == focal => Some(Group::Focal),
                Some(g) if g == reference => Some(Group::Reference),
                _ => None,
            })
            .collect(),
    )
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
