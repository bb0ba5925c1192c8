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

/// Parses a CSV of registrations with a header row naming the columns (name, email,
/// organisation, level, parts, time_multiplier, extra_breaks; the last four may be left out).
/// Returns every row or every error as `line N: field: message`.
pub fn parse_csv(text: &str) -> Result<Vec<NewRegistration>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![format!("line 1: {e}")]),
    };
    for required in ["name", "email", "level"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(format!("line 1: the header has no column \"{required}\""));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut emails = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let fields: RegistrationFields = match record.deserialize(Some(&headers)) {
            Ok(f) => f,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        match fields.parse() {
            Ok(r) => {
                if let Some(first) = emails.insert(r.email.clone(), line) {
                    errors.push(format!(
                        "line {line}: email: {} is also on line {first}",
                        r.email
                    ));
                }
                out.push(r);
            }
            Err(fe) => {
                for (field, msg) in fe {
                    errors.push(format!("line {line}: {field}: {msg}"));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
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
        assert_eq!(
            parse_csv(csv).unwrap_err(),
            vec![
                "line 3: email: \"bo@x\" is not an email address".to_string(),
                "line 5: email: ana@x.org is also on line 2".to_string(),
                "line 6: level: unknown level \"V\"; expected one of III, IV-Clinical, IV-Policy, IV-Research/Faculty".to_string(),
                "line 6: name: give the candidate's full name".to_string(),
            ]
        );
        let ok =
            parse_csv("name,email,level\nAna Ruiz,ana@x.org,III\nCy Dunn,cy@x.org,IV-Policy\n")
                .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].level, Level::IvPolicy);
        assert_eq!(
            parse_csv("name,level\nA,III\n").unwrap_err(),
            vec!["line 1: the header has no column \"email\""]
        );
    }
}
