//! Checking a batch of registrations (a CSV file, or the one form) against a sitting before
//! anything is written: every row is checked and every problem reported with its line and
//! field, so a batch goes in whole or not at all. Pure: the store reads what is checked against.

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::Blueprint;

use super::registration::{CsvRow, RowError};

/// The most candidates one upload registers: 10,000 fit in one transaction well inside the
/// request timeout, and the form says so where the file is chosen.
pub const MAX_ROWS_PER_UPLOAD: usize = 10_000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Dates as the committee writes them, e.g. `2026-11-23`.
pub fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| {
            t.format(&time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a batch is checked against, read from the store beforehand.
pub struct BatchRules<'a> {
    /// The sitting's blueprints (a candidate's level picks one).
    pub offered: Vec<&'a Blueprint>,
    /// When the sitting opens: the waiting period after a part sat must be over by then.
    pub opens_at: i64,
    /// Emails already registered for the sitting.
    pub registered: &'a BTreeSet<String>,
    /// When each (email, part) was last sat: the newest submitted attempt that was not voided.
    /// A registration marked absent has no attempt, so it never starts a waiting period.
    pub last_sat: &'a BTreeMap<(String, u8), i64>,
    /// Only an administrator may register a retake before the waiting period is over.
    pub by_admin: bool,
}

/// The error for a file of `count` candidates when that is more than one upload registers;
/// `line_over` is the line of the first candidate over the cap.
pub fn over_cap(count: usize, line_over: u64) -> Option<RowError> {
    (count > MAX_ROWS_PER_UPLOAD).then(|| RowError {
        line: line_over,
        field: None,
        message: format!(
            "the file has {} candidates; one upload registers at most {}, so nothing was registered: split the file into files of at most {} rows",
            thousands(count),
            thousands(MAX_ROWS_PER_UPLOAD),
            thousands(MAX_ROWS_PER_UPLOAD),
        ),
    })
}

/// Checks every row, and that there are no more than one upload registers; returns the
/// blueprint each row sits, or every problem found, in line order.
pub fn check_batch<'a>(
    rows: &[CsvRow],
    rules: &BatchRules<'a>,
) -> Result<Vec<&'a Blueprint>, Vec<RowError>> {
    let cap = rows
        .get(MAX_ROWS_PER_UPLOAD)
        .and_then(|r| over_cap(rows.len(), r.line));
    match (check_rows(rows, rules), cap) {
        (Ok(chosen), None) => Ok(chosen),
        (Ok(_), Some(cap)) => Err(vec![cap]),
        (Err(mut errors), cap) => {
            errors.extend(cap);
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }
}

/// Checks every row against the sitting (the cap aside, for rows of a file counted elsewhere).
pub fn check_rows<'a>(
    rows: &[CsvRow],
    rules: &BatchRules<'a>,
) -> Result<Vec<&'a Blueprint>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut chosen = Vec::with_capacity(rows.len());
    let mut lines_by_email: BTreeMap<&str, u64> = BTreeMap::new();
    for row in rows {
        let new = &row.registration;
        let line = row.line;
        if let Some(first) = lines_by_email.insert(&new.email, line) {
            errors.push(RowError::new(
                line,
                "email",
                format!("{} is also on line {first}", new.email),
            ));
        }
        let Some(bp) = rules.offered.iter().find(|b| b.level == new.level) else {
            errors.push(RowError::new(
                line,
                "level",
                format!("this sitting offers no blueprint for level {}", new.level),
            ));
            continue;
        };
        chosen.push(*bp);
        if rules.registered.contains(&new.email) {
            errors.push(RowError::new(
                line,
                "email",
                format!("{} is already registered for this sitting", new.email),
            ));
        }
        if new.retake_override.is_some() && !rules.by_admin {
            errors.push(RowError::new(
                line,
                "retake_override",
                "only an administrator may override the waiting period",
            ));
            continue;
        }
        let wait_ms = i64::from(bp.retake_wait_days) * DAY_MS;
        for (part, sits) in [(1u8, new.parts.one), (2, new.parts.two)] {
            let Some(last) = rules.last_sat.get(&(new.email.clone(), part)) else {
                continue;
            };
            if sits && last + wait_ms > rules.opens_at && new.retake_override.is_none() {
                errors.push(RowError::new(
                    line,
                    "parts",
                    format!(
                        "{} sat Part {} on {}; the waiting period of {} days ends on {}. An administrator may register the retake earlier, with a reason.",
                        new.email,
                        if part == 1 { "One" } else { "Two" },
                        date(*last),
                        bp.retake_wait_days,
                        date(last + wait_ms)
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(chosen)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Level;
    use crate::exam::clock::Multiplier;
    use crate::exam::form::Parts;
    use crate::exam::registration::NewRegistration;

    fn blueprint(id: &str, level: Level, wait: u32) -> Blueprint {
        let text = std::fs::read_to_string(format!(
            "{}/item-bank/blueprints/level-iii.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut bp = crate::bank::toml_files::blueprint("level-iii.toml", &text).unwrap();
        bp.id = id.into();
        bp.level = level;
        bp.retake_wait_days = wait;
        bp
    }

    fn row(line: u64, email: &str, level: Level, parts: Parts) -> CsvRow {
        CsvRow {
            line,
            registration: NewRegistration {
                name: "A Person".into(),
                email: email.into(),
                organisation: String::new(),
                level,
                parts,
                multiplier: Multiplier::STANDARD,
                extra_breaks: 0,
                retake_override: None,
            },
        }
    }

    const DAY: i64 = DAY_MS;

    #[test]
    fn every_row_is_checked_and_every_problem_named_by_line() {
        let iii = blueprint("level-iii", Level::III, 90);
        let registered = BTreeSet::from(["old@x.org".to_string()]);
        // bo sat Part One 30 days before the sitting opens: within the 90 days.
        let opens = 1_000 * DAY;
        let last_sat = BTreeMap::from([(("bo@x.org".to_string(), 1u8), opens - 30 * DAY)]);
        let rules = BatchRules {
            offered: vec![&iii],
            opens_at: opens,
            registered: &registered,
            last_sat: &last_sat,
            by_admin: false,
        };
        let mut over = row(6, "cy@x.org", Level::III, Parts::BOTH);
        over.registration.retake_override = Some("approved".into());
        let rows = vec![
            row(2, "ana@x.org", Level::III, Parts::BOTH),
            row(3, "old@x.org", Level::III, Parts::BOTH),
            row(4, "bo@x.org", Level::III, Parts::BOTH),
            row(5, "dee@x.org", Level::IvPolicy, Parts::BOTH),
            over,
        ];
        let errors: Vec<String> = check_batch(&rows, &rules)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            vec![
                "line 3: email: old@x.org is already registered for this sitting",
                "line 4: parts: bo@x.org sat Part One on 1972-08-28; the waiting period of 90 days ends on 1972-11-26. An administrator may register the retake earlier, with a reason.",
                "line 5: level: this sitting offers no blueprint for level IV-Policy",
                "line 6: retake_override: only an administrator may override the waiting period",
            ]
        );
        // Part Two alone is no retake for bo; an administrator may override with a reason.
        let bo_two = row(
            4,
            "bo@x.org",
            Level::III,
            Parts {
                one: false,
                two: true,
            },
        );
        assert_eq!(check_batch(&[bo_two], &rules).unwrap().len(), 1);
        let admin = BatchRules {
            by_admin: true,
            ..rules
        };
        let mut bo = row(4, "bo@x.org", Level::III, Parts::BOTH);
        bo.registration.retake_override = Some("appeal upheld".into());
        assert_eq!(check_batch(&[bo], &admin).unwrap()[0].id, "level-iii");
    }

    #[test]
    fn more_rows_than_the_cap_are_refused_naming_the_first_line_over() {
        let iii = blueprint("level-iii", Level::III, 90);
        let (registered, last_sat) = (BTreeSet::new(), BTreeMap::new());
        let rules = BatchRules {
            offered: vec![&iii],
            opens_at: 0,
            registered: &registered,
            last_sat: &last_sat,
            by_admin: false,
        };
        let rows: Vec<CsvRow> = (0..=MAX_ROWS_PER_UPLOAD)
            .map(|i| {
                row(
                    i as u64 + 2,
                    &format!("c{i}@x.org"),
                    Level::III,
                    Parts::BOTH,
                )
            })
            .collect();
        let errors = check_batch(&rows, &rules).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec!["line 10002: the file has 10,001 candidates; one upload registers at most 10,000, so nothing was registered: split the file into files of at most 10,000 rows"]
        );
        assert!(check_batch(&rows[..MAX_ROWS_PER_UPLOAD], &rules).is_ok());
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
