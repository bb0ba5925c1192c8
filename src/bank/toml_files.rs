//! The bank's TOML files: `bank.toml`, `taxonomy.toml` and `blueprints/*.toml`.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use super::model::{
    Area, BankMeta, Blueprint, Combine, Diagnostic, Domain, DrawRule, Level, PartOne, PartTwo,
    PresentRule, RatingRules, Source, Taxonomy, VignetteKind, DEFAULT_BREAK_MINUTES,
    DEFAULT_MAX_CHARACTERS, MAX_BREAK_MINUTES, MAX_CHARACTERS_CEILING,
};
use super::policy::{FormTolerance, FormsPolicy, NearCutMargin, PassOn};

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

pub(crate) fn syntax_error(path: &str, text: &str, e: &toml::de::Error) -> Diagnostic {
    let start = e.span().map(|s| s.start);
    let line = start.map_or(1, |s| line_of(text, s));
    // TOML allows no control character but tab and line ends. The parser's message for one is
    // vague ("invalid basic string") or, in a comment, empty: name the character instead.
    let control = start
        .and_then(|s| text.get(s..))
        .and_then(|rest| rest.chars().next())
        .filter(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n'));
    if let Some(c) = control {
        return Diagnostic::new(
            path,
            line,
            format!(
                "control character {} is not allowed in TOML (only tab and line ends are)",
                c.escape_debug()
            ),
        );
    }
    // One line per error: a multi-line message would break `path:line: message` output.
    let message = e
        .message()
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let message = if message.is_empty() {
        "this is not valid TOML".to_string()
    } else {
        message
    };
    Diagnostic::new(path, line, message)
}

fn at<T>(path: &str, text: &str, s: &Spanned<T>) -> Source {
    Source::new(path, line_of(text, s.span().start))
}

pub fn bank_meta(path: &str, text: &str) -> Result<BankMeta, Vec<Diagnostic>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        name: String,
        #[serde(default)]
        sample: bool,
        #[serde(default)]
        notice: String,
        #[serde(default)]
        lint: super::lint::Thresholds,
    }
    let raw: Raw = toml::from_str(text).map_err(|e| vec![syntax_error(path, text, &e)])?;
    let line = text
        .lines()
        .position(|l| l.trim() == "[lint]")
        .map_or(1, |i| i + 1);
    let problems = raw.lint.problems();
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| Diagnostic::new(path, line, p))
            .collect());
    }
    Ok(BankMeta {
        name: raw.name,
        sample: raw.sample,
        notice: raw.notice,
        lint: raw.lint,
    })
}

pub fn taxonomy(path: &str, text: &str) -> Result<Taxonomy, Vec<Diagnostic>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawArea {
        code: Spanned<String>,
        name: String,
        #[serde(default)]
        mentor: bool,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawDomain {
        code: Spanned<String>,
        name: String,
        #[serde(default)]
        mentor: bool,
        areas: Vec<RawArea>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        domain: Vec<RawDomain>,
    }
    let raw: Raw = toml::from_str(text).map_err(|e| vec![syntax_error(path, text, &e)])?;
    let mut diags = Vec::new();
    let mut codes = BTreeSet::new();
    let mut domains = Vec::new();
    for d in raw.domain {
        let line = at(path, text, &d.code);
        if !codes.insert(d.code.get_ref().clone()) {
            diags.push(Diagnostic::at(
                &line,
                format!("domain code \"{}\" is given twice", d.code.get_ref()),
            ));
        }
        if d.areas.is_empty() {
            diags.push(Diagnostic::at(
                &line,
                format!("domain \"{}\" has no areas", d.code.get_ref()),
            ));
        }
        let mut area_codes = BTreeSet::new();
        let mut areas = Vec::new();
        for a in d.areas {
            if !area_codes.insert(a.code.get_ref().clone()) {
                diags.push(Diagnostic::at(
                    &at(path, text, &a.code),
                    format!(
                        "area code \"{}\" is given twice in domain \"{}\"",
                        a.code.get_ref(),
                        d.code.get_ref()
                    ),
                ));
            }
            areas.push(Area {
                code: a.code.into_inner(),
                name: a.name,
                mentor: a.mentor || d.mentor,
            });
        }
        domains.push(Domain {
            code: d.code.into_inner(),
            name: d.name,
            mentor: d.mentor,
            areas,
        });
    }
    if diags.is_empty() {
        Ok(Taxonomy { domains })
    } else {
        Err(diags)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDraw {
    domain: Spanned<String>,
    #[serde(default)]
    area: Option<Spanned<String>>,
    count: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartOne {
    name: String,
    minutes: Spanned<u32>,
    pass_percent: Spanned<u32>,
    #[serde(default)]
    pretest_items: u32,
    draw: Vec<RawDraw>,
    #[serde(default)]
    forms: Option<Spanned<String>>,
    #[serde(default)]
    form_tolerance: Option<Spanned<f64>>,
    #[serde(default)]
    pass_on: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPresent {
    kind: Spanned<String>,
    count: Spanned<u32>,
    #[serde(default)]
    min_answered: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartTwo {
    name: String,
    minutes: Spanned<u32>,
    pass_percent: Spanned<u32>,
    answer: Spanned<u32>,
    present: Vec<RawPresent>,
    #[serde(default)]
    rating: Option<RawRating>,
    #[serde(default)]
    max_characters: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRating {
    #[serde(default)]
    agree_within: Option<Spanned<u32>>,
    #[serde(default)]
    combine: Option<Spanned<String>>,
    #[serde(default)]
    calibration_min_percent: Option<Spanned<u32>>,
    #[serde(default)]
    calibration_min_count: Option<u32>,
    #[serde(default)]
    qualify_exact_percent: Option<Spanned<u32>>,
    #[serde(default)]
    qualify_adjacent_percent: Option<Spanned<u32>>,
    #[serde(default)]
    qualify_sets: Option<Spanned<u32>>,
    #[serde(default)]
    read_behind_percent: Option<Spanned<u32>>,
    #[serde(default)]
    near_cut_margin: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlueprint {
    id: Spanned<String>,
    name: String,
    level: Spanned<String>,
    retake_wait_days: u32,
    #[serde(default)]
    break_minutes: Option<Spanned<u32>>,
    part_one: RawPartOne,
    part_two: RawPartTwo,
    #[serde(default)]
    appeals: Option<super::appeals::RawAppeals>,
}

/// Parses one blueprint and checks what it says on its own (its numbers and words); whether
/// the bank can fill it is `check`'s business.
pub fn blueprint(path: &str, text: &str) -> Result<Blueprint, Vec<Diagnostic>> {
    let raw: RawBlueprint = toml::from_str(text).map_err(|e| vec![syntax_error(path, text, &e)])?;
    let mut diags = Vec::new();
    let mut err = |s: &Source, m: String| diags.push(Diagnostic::at(s, m));

    let stem = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if raw.id.get_ref() != stem {
        err(
            &at(path, text, &raw.id),
            format!(
                "blueprint id \"{}\" does not match the file name \"{stem}.toml\"",
                raw.id.get_ref()
            ),
        );
    }
    let level = match raw.level.get_ref().parse::<Level>() {
        Ok(l) => Some(l),
        Err(e) => {
            err(&at(path, text, &raw.level), e);
            None
        }
    };
    for (what, minutes) in [
        ("part_one.minutes", &raw.part_one.minutes),
        ("part_two.minutes", &raw.part_two.minutes),
    ] {
        if *minutes.get_ref() == 0 {
            err(
                &at(path, text, minutes),
                format!("{what} must be at least 1"),
            );
        }
    }
    for (what, pct) in [
        ("part_one.pass_percent", &raw.part_one.pass_percent),
        ("part_two.pass_percent", &raw.part_two.pass_percent),
    ] {
        if !(1..=100).contains(pct.get_ref()) {
            err(
                &at(path, text, pct),
                format!("{what} must be from 1 to 100, found {}", pct.get_ref()),
            );
        }
    }
    if let Some(m) = &raw.part_two.max_characters {
        if !(1..=MAX_CHARACTERS_CEILING).contains(m.get_ref()) {
            err(
                &at(path, text, m),
                format!(
                    "part_two.max_characters must be from 1 to {MAX_CHARACTERS_CEILING}, found {}",
                    m.get_ref()
                ),
            );
        }
    }
    if let Some(m) = &raw.break_minutes {
        if !(1..=MAX_BREAK_MINUTES).contains(m.get_ref()) {
            err(
                &at(path, text, m),
                format!(
                    "break_minutes must be from 1 to {MAX_BREAK_MINUTES}, found {}",
                    m.get_ref()
                ),
            );
        }
    }
    if raw.part_one.draw.is_empty() {
        err(
            &Source::new(path, 1),
            "part_one has no [[part_one.draw]] rules".into(),
        );
    }
    let mut seen_rules = BTreeSet::new();
    let mut draw = Vec::new();
    for d in &raw.part_one.draw {
        let src = at(path, text, &d.domain);
        let key = (
            d.domain.get_ref().clone(),
            d.area.as_ref().map(|a| a.get_ref().clone()),
        );
        if !seen_rules.insert(key) {
            err(
                &src,
                format!(
                    "a draw rule for {} is given twice",
                    rule_name(
                        d.domain.get_ref(),
                        d.area.as_ref().map(|a| a.get_ref().as_str())
                    )
                ),
            );
        }
        if *d.count.get_ref() == 0 {
            err(&at(path, text, &d.count), "count must be at least 1".into());
        }
        draw.push(DrawRule {
            domain: d.domain.get_ref().clone(),
            area: d.area.as_ref().map(|a| a.get_ref().clone()),
            count: *d.count.get_ref(),
            source: at(path, text, &d.count),
        });
    }

    let mut kinds = BTreeSet::new();
    let mut present = Vec::new();
    let mut min_total = 0;
    for p in &raw.part_two.present {
        let src = at(path, text, &p.kind);
        match p.kind.get_ref().parse::<VignetteKind>() {
            Ok(kind) => {
                if !kinds.insert(kind) {
                    err(
                        &src,
                        format!("vignette kind \"{kind}\" is presented by two rules"),
                    );
                }
                if *p.count.get_ref() == 0 {
                    err(&at(path, text, &p.count), "count must be at least 1".into());
                }
                if p.min_answered > *p.count.get_ref() {
                    err(
                        &src,
                        format!(
                            "min_answered {} is more than the {} {kind} vignettes presented",
                            p.min_answered,
                            p.count.get_ref()
                        ),
                    );
                }
                min_total += p.min_answered;
                present.push(PresentRule {
                    kind,
                    count: *p.count.get_ref(),
                    min_answered: p.min_answered,
                    source: at(path, text, &p.count),
                });
            }
            Err(e) => err(&src, e),
        }
    }
    let answer = *raw.part_two.answer.get_ref();
    let presented: u32 = raw
        .part_two
        .present
        .iter()
        .map(|p| *p.count.get_ref())
        .sum();
    let answer_src = at(path, text, &raw.part_two.answer);
    if answer == 0 || answer > presented {
        err(
            &answer_src,
            format!("answer must be from 1 to the {presented} vignettes presented, found {answer}"),
        );
    }
    if min_total > answer {
        err(
            &answer_src,
            format!("the rules' min_answered add up to {min_total}, more than answer = {answer}"),
        );
    }

    let forms = match &raw.part_one.forms {
        Some(f) => f.get_ref().parse::<FormsPolicy>().unwrap_or_else(|e| {
            err(&at(path, text, f), e);
            FormsPolicy::default()
        }),
        None => FormsPolicy::default(),
    };
    let form_tolerance = match &raw.part_one.form_tolerance {
        Some(t) => FormTolerance::from_points(*t.get_ref()).unwrap_or_else(|e| {
            err(&at(path, text, t), e);
            FormTolerance::default()
        }),
        None => FormTolerance::default(),
    };
    let pass_on = match &raw.part_one.pass_on {
        Some(p) => p.get_ref().parse::<PassOn>().unwrap_or_else(|e| {
            err(&at(path, text, p), e);
            PassOn::default()
        }),
        None => PassOn::default(),
    };

    let mut rating = RatingRules::default();
    if let Some(r) = &raw.part_two.rating {
        if let Some(w) = &r.agree_within {
            rating.agree_within = *w.get_ref();
        }
        if let Some(c) = &r.combine {
            match c.get_ref().as_str() {
                "mean" => rating.combine = Combine::Mean,
                "lower" => rating.combine = Combine::Lower,
                "higher" => rating.combine = Combine::Higher,
                other => err(
                    &at(path, text, c),
                    format!(
                        "part_two.rating.combine must be \"mean\", \"lower\" or \"higher\", found \"{other}\""
                    ),
                ),
            }
        }
        if let Some(p) = &r.calibration_min_percent {
            if *p.get_ref() > 100 {
                err(
                    &at(path, text, p),
                    format!(
                        "part_two.rating.calibration_min_percent must be from 0 to 100, found {}",
                        p.get_ref()
                    ),
                );
            }
            rating.calibration_min_percent = *p.get_ref();
        }
        if let Some(n) = r.calibration_min_count {
            rating.calibration_min_count = n;
        }
        for (field, value, into) in [
            (
                "qualify_exact_percent",
                &r.qualify_exact_percent,
                &mut rating.qualify_exact_percent,
            ),
            (
                "qualify_adjacent_percent",
                &r.qualify_adjacent_percent,
                &mut rating.qualify_adjacent_percent,
            ),
            (
                "read_behind_percent",
                &r.read_behind_percent,
                &mut rating.read_behind_percent,
            ),
        ] {
            if let Some(p) = value {
                if *p.get_ref() > 100 {
                    err(
                        &at(path, text, p),
                        format!(
                            "part_two.rating.{field} must be from 0 to 100, found {}",
                            p.get_ref()
                        ),
                    );
                }
                *into = *p.get_ref();
            }
        }
        if let Some(n) = &r.qualify_sets {
            if !(1..=5).contains(n.get_ref()) {
                err(
                    &at(path, text, n),
                    format!(
                        "part_two.rating.qualify_sets must be from 1 to 5, found {}",
                        n.get_ref()
                    ),
                );
            }
            rating.qualify_sets = *n.get_ref();
        }
        if let Some(m) = &r.near_cut_margin {
            rating.near_cut_margin = NearCutMargin::from_points(*m.get_ref()).unwrap_or_else(|e| {
                err(&at(path, text, m), e);
                NearCutMargin::default()
            });
        }
    }

    let appeals = raw.appeals.as_ref().map_or_else(Default::default, |a| {
        a.rules(
            |span| Source::new(path, line_of(text, span.start)),
            &mut err,
        )
    });

    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Blueprint {
        id: raw.id.into_inner(),
        name: raw.name,
        level: level.expect("checked above"),
        retake_wait_days: raw.retake_wait_days,
        break_minutes: raw
            .break_minutes
            .map_or(DEFAULT_BREAK_MINUTES, Spanned::into_inner),
        part_one: PartOne {
            name: raw.part_one.name,
            minutes: raw.part_one.minutes.into_inner(),
            pass_percent: super::PassMark::whole(raw.part_one.pass_percent.into_inner()),
            pretest_items: raw.part_one.pretest_items,
            draw,
            forms,
            form_tolerance,
            pass_on,
        },
        part_two: PartTwo {
            name: raw.part_two.name,
            minutes: raw.part_two.minutes.into_inner(),
            pass_percent: super::PassMark::whole(raw.part_two.pass_percent.into_inner()),
            answer,
            present,
            rating,
            max_characters: raw
                .part_two
                .max_characters
                .map_or(DEFAULT_MAX_CHARACTERS, Spanned::into_inner),
        },
        appeals,
        source: Source::new(path, 1),
    })
}

/// `TF` or `TF/attachment`.
pub fn rule_name(domain: &str, area: Option<&str>) -> String {
    match area {
        Some(a) => format!("{domain}/{a}"),
        None => domain.to_string(),
    }
}

#[cfg(test)]
mod tests;
