//! A candidate's registration for a sitting, parsed from a form or a CSV row. Every error
//! names its field (and, for CSV, its line).

use std::collections::BTreeMap;

use crate::bank::Level;

use super::clock::Multiplier;
use super::form::Parts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub level: Level,
    pub parts: Parts,
    pub multiplier: Multiplier,
    pub extra_breaks: u32,
    /// An admin's reason to register a retake before the waiting period is over.
    pub retake_override: Option<String>,
}

/// The raw fields, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct RegistrationFields {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub parts: String,
    #[serde(default)]
    pub time_multiplier: String,
    #[serde(default)]
    pub extra_breaks: String,
    #[serde(default)]
    pub retake_override: String,
}

pub type FieldErrors = BTreeMap<&'static str, String>;

pub fn parse_parts(s: &str) -> Result<Parts, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "both" | "1+2" | "1,2" => Ok(Parts::BOTH),
        "1" | "one" | "part one" => Ok(Parts {
            one: true,
            two: false,
        }),
        "2" | "two" | "part two" => Ok(Parts {
            one: false,
            two: true,
        }),
        other => Err(format!("parts \"{other}\" is not one of both, 1, 2")),
    }
}

fn check_email(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_lowercase();
    let ok = s.len() <= 254
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !s.chars().any(char::is_whitespace);
    if ok {
        Ok(s)
    } else {
        Err(format!("\"{s}\" is not an email address"))
    }
}

impl RegistrationFields {
    pub fn parse(&self) -> Result<NewRegistration, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.insert("name", "give the candidate's full name".into());
        }
        let email = check_email(&self.email)
            .map_err(|e| errors.insert("email", e))
            .ok();
        let level = self
            .level
            .trim()
            .parse::<Level>()
            .map_err(|e| errors.insert("level", e))
            .ok();
        let parts = parse_parts(&self.parts)
            .map_err(|e| errors.insert("parts", e))
            .ok();
        let multiplier = if self.time_multiplier.trim().is_empty() {
            Some(Multiplier::STANDARD)
        } else {
            Multiplier::parse(&self.time_multiplier)
                .map_err(|e| errors.insert("time_multiplier", e))
                .ok()
        };
        let extra_breaks = match self.extra_breaks.trim() {
            "" => Some(0),
            s => s.parse::<u32>().ok().filter(|n| *n <= 10).or_else(|| {
                errors.insert(
                    "extra_breaks",
                    format!("\"{s}\" is not a number of breaks from 0 to 10"),
                );
                None
            }),
        };
        match (email, level, parts, multiplier, extra_breaks) {
            (Some(email), Some(level), Some(parts), Some(multiplier), Some(extra_breaks))
                if errors.is_empty() =>
            {
                Ok(NewRegistration {
                    name,
                    email,
                    organisation: self.organisation.trim().to_string(),
                    level,
                    parts,
                    multiplier,
                    extra_breaks,
                    retake_override: Some(self.retake_override.trim().to_string())
                        .filter(|s| !s.is_empty()),
                })
            }
            _ => Err(errors),
        }
    }
}

/// One registration read from a CSV file, with the line its record starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: u64,
    pub registration: NewRegistration,
}

/// A problem with one row of a batch (a CSV line, or the one form), named by line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// None for a problem with the record as a whole (e.g. a missing column).
    pub field: Option<&'static str>,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, field: &'static str, message: impl Into<String>) -> Self {
        RowError {
            line,
            field: Some(field),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What a CSV file held: the rows that parse and an error for every one that does not, so
/// the rows that parse can be checked further and every problem reported at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCsv {
    pub rows: Vec<CsvRow>,
    pub errors: Vec<RowError>,
}

/// Parses a CSV of registrations with a header row naming the columns (name, email,
/// organisation, level, parts, time_multiplier, extra_breaks; the last four may be left out).
/// Every row is read, however many; an email given twice is reported on its second line, and a
/// file of more candidates than one upload registers is reported first.
pub fn parse_csv(text: &str) -> ParsedCsv {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut out = ParsedCsv::default();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.errors.push(RowError {
                line: 1,
                field: None,
                message: e.to_string(),
            });
            return out;
        }
    };
    for required in ["name", "email", "level"] {
        if !headers.iter().any(|h| h == required) {
            out.errors.push(RowError {
                line: 1,
                field: None,
                message: format!("the header has no column \"{required}\""),
            });
        }
    }
    if !out.errors.is_empty() {
        return out;
    }
    let mut emails = BTreeMap::new();
    let (mut records, mut line_over) = (0usize, 0u64);
    for record in reader.records() {
        records += 1;
        if records == super::batch::MAX_ROWS_PER_UPLOAD + 1 {
            line_over = match &record {
                Ok(r) => r.position().map_or(0, |p| p.line()),
                Err(e) => e.position().map_or(0, |p| p.line()),
            };
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(RowError {
                    line,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let fields: RegistrationFields = match record.deserialize(Some(&headers)) {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(RowError {
                    line,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        match fields.parse() {
            Ok(r) => {
                if let Some(first) = emails.insert(r.email.clone(), line) {
                    out.errors.push(RowError::new(
                        line,
                        "email",
                        format!("{} is also on line {first}", r.email),
                    ));
                } else {
                    out.rows.push(CsvRow {
                        line,
                        registration: r,
                    });
                }
            }
            Err(fe) => {
                for (field, msg) in fe {
                    out.errors.push(RowError::new(line, field, msg));
                }
            }
        }
    }
    if let Some(e) = super::batch::over_cap(records, line_over) {
        out.errors.push(e);
        out.errors.sort_by_key(|e| e.line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_parses_with_defaults() {
        let r = RegistrationFields {
            name: " Maya Chen ".into(),
            email: "Maya@Example.org".into(),
            level: "IV-Clinical".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(r.email, "maya@example.org");
        assert_eq!(r.parts, Parts::BOTH);
        assert_eq!(r.multiplier, Multiplier::STANDARD);
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = RegistrationFields {
            email: "not-an-email".into(),
            level: "V".into(),
            parts: "3".into(),
            time_multiplier: "0.5".into(),
            extra_breaks: "many".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            e.keys().copied().collect::<Vec<_>>(),
            vec![
                "email",
                "extra_breaks",
                "level",
                "name",
                "parts",
                "time_multiplier"
            ]
        );
    }

    #[test]
    fn a_csv_reports_every_bad_row_by_line() {
        let csv = "name,email,organisation,level,parts,time_multiplier\nAna Ruiz,ana@x.org,Clinic,III,both,\nBo Lee,bo@x,Clinic,III,1,1.5\nCy Dunn,cy@x.org,,IV-Policy,2,2.0\nDee,ana@x.org,,III,,\n,e@x.org,,V,,\n";
        let parsed = parse_csv(csv);
        assert_eq!(
            parsed.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "line 3: email: \"bo@x\" is not an email address".to_string(),
                "line 5: email: ana@x.org is also on line 2".to_string(),
                "line 6: level: unknown level \"V\"; expected one of III, IV-Clinical, IV-Policy, IV-Research/Faculty".to_string(),
                "line 6: name: give the candidate's full name".to_string(),
            ]
        );
        // The rows that parse are kept, with their lines, for the checks that follow.
        assert_eq!(
            parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 4]
        );
        let ok =
            parse_csv("name,email,level\nAna Ruiz,ana@x.org,III\nCy Dunn,cy@x.org,IV-Policy\n");
        assert!(ok.errors.is_empty());
        assert_eq!(ok.rows.len(), 2);
        assert_eq!(ok.rows[1].registration.level, Level::IvPolicy);
        assert_eq!(
            parse_csv("name,level\nA,III\n")
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec!["line 1: the header has no column \"email\""]
        );
    }

    #[test]
    fn a_quoted_line_break_keeps_later_lines_right() {
        let parsed = parse_csv("name,email,level\n\"Ana\nRuiz\",ana@x.org,III\nBo,bo@x,III\n");
        assert_eq!(parsed.rows[0].line, 2);
        assert_eq!(
            parsed.errors[0].to_string(),
            "line 4: email: \"bo@x\" is not an email address"
        );
    }
}
