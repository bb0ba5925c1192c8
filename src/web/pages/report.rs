//! The technical report of a sitting, for the committee's annual review and an accreditor: the
//! candidates and pass rates, reliability and classification at the cut, the forms' difficulty
//! and equating policy, the Rasch item map, item flags, rater agreement, DIF and key changes,
//! each figure linked to its page. Printable (the stylesheet's print rules break pages between
//! sections) and downloadable as one self-contained HTML file (`?download=1`).
//!
//! Read in a fixed number of queries whatever the sitting's size: the statistics pages' own
//! reads (the Part One table is cached), the results and registrations grouped in two, the key
//! changes in one; computed off the async runtime.

mod sections;

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use crate::bank::{Blueprint, PassOn};
use crate::scoring::equating::decide;
use crate::stats::ItemAnalysis;
use crate::stats::{agreement, dif, item_analysis, AgreementReport, DifReport, Group, Scale};
use crate::store::calibration::{self, ItemRow, SittingScale};
use crate::store::results::{self, PassOnChange};
use crate::store::sittings::{self, Sitting};
use crate::store::{analysis, bank as bank_store, now_ms, Db};

use super::decision::{self, Figures};
use super::item_stats::sitting_data;
use super::stats::off_runtime;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::{self, staff_chrome as chrome};
use crate::web::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub download: Option<String>,
}

/// One level (and track)'s results in a part.
#[derive(Debug, Clone, Default)]
struct PartTally {
    scored: u64,
    passed: u64,
    /// Σ percent and Σ percent², for the mean and SD.
    sum: f64,
    sum_sq: f64,
}

impl PartTally {
    fn add(&mut self, percent: f64, passed: bool) {
        self.scored += 1;
        self.passed += u64::from(passed);
        self.sum += percent;
        self.sum_sq += percent * percent;
    }

    fn pass_rate(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.passed as f64 / self.scored as f64)
    }

    fn mean(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.sum / self.scored as f64)
    }

    /// The SD with divisor N − 1.
    fn sd(&self) -> Option<f64> {
        let n = self.scored as f64;
        (self.scored > 1)
            .then(|| ((self.sum_sq - self.sum * self.sum / n).max(0.0) / (n - 1.0)).sqrt())
    }
}

/// A level's (or, with `level` "All", the sitting's) candidates and results.
#[derive(Debug, Clone, Default)]
struct LevelRow {
    level: String,
    registered: u64,
    absent: u64,
    parts: [PartTally; 2],
    /// Candidates with both parts scored here, and those who passed both.
    both: u64,
    both_passed: u64,
}

/// DIF between the two first answers of one optional question.
struct DifSummary {
    question: &'static crate::demographics::Question,
    report: DifReport,
}

struct KeyChange {
    item_id: String,
    item_version: i64,
    rule: String,
    reason: String,
    changed_by: String,
    changed_at: i64,
}

/// Part One's stored results read both ways: how far equating moved them, and which decisions
/// would differ between the raw and the equated percent.
#[derive(Debug, Default)]
struct EquatingSummary {
    /// The committee's latest decision for this sitting (which score decides), with its reason.
    decision: Option<PassOnChange>,
    /// Part One results stored, those with an equated percent, and those it decided.
    results: u64,
    equated: u64,
    decided_by_equated: u64,
    /// Σ(equated − raw) and Σ(equated − raw)² in percentage points, over the equated results.
    diff_sum: f64,
    diff_sq: f64,
    /// Equated results whose pass or fail differs between the raw and the equated percent.
    differ: u64,
}

impl EquatingSummary {
    fn mean_shift(&self) -> Option<f64> {
        (self.equated > 0).then(|| self.diff_sum / self.equated as f64)
    }

    /// The SD of the shift, divisor N − 1.
    fn sd_shift(&self) -> Option<f64> {
        let n = self.equated as f64;
        (self.equated > 1).then(|| {
            ((self.diff_sq - self.diff_sum * self.diff_sum / n).max(0.0) / (n - 1.0)).sqrt()
        })
    }
}

/// Part One's stored results of the sitting, both ways: one read, plus the committee's decisions.
async fn equating_summary(
    db: &Db,
    sitting_id: i64,
    pass_percent: crate::bank::PassMark,
) -> AppResult<EquatingSummary> {
    let rows: Vec<(f64, f64, Option<f64>, Option<String>)> = sqlx::query_as(
        "SELECT r.points, r.max_points, r.equated_percent, r.decided_by
         FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND r.part = 1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut s = EquatingSummary {
        decision: results::pass_on_changes(db)
            .await?
            .into_iter()
            .find(|c| c.sitting_id == sitting_id),
        ..EquatingSummary::default()
    };
    for (points, max, equated, decided_by) in rows {
        s.results += 1;
        s.decided_by_equated += u64::from(decided_by.as_deref() == Some(PassOn::Equated.code()));
        let Some(equated) = equated else { continue };
        let (raw, max) = (points.round().max(0.0) as u32, max.round().max(0.0) as u32);
        let raw_percent = if max > 0 {
            100.0 * f64::from(raw) / f64::from(max)
        } else {
            0.0
        };
        s.equated += 1;
        s.diff_sum += equated - raw_percent;
        s.diff_sq += (equated - raw_percent).powi(2);
        let by_raw = decide(raw, max, Some(equated), pass_percent, PassOn::Raw).1;
        let by_equated = decide(raw, max, Some(equated), pass_percent, PassOn::Equated).1;
        s.differ += u64::from(by_raw != by_equated);
    }
    Ok(s)
}

/// Everything the report shows.
struct Report {
    sitting: Sitting,
    /// Prefixed to every link: empty on the site, the site's address in a download.
    base: String,
    generated_at: i64,
    levels: Vec<LevelRow>,
    computed: Option<(i64, String)>,
    released_at: Option<i64>,
    blueprints: Vec<Blueprint>,
    analysis: ItemAnalysis,
    pass_percent: crate::bank::PassMark,
    cut: u32,
    decision: Option<Figures>,
    scale: Option<SittingScale>,
    calibration: Vec<ItemRow>,
    agreement: Option<(AgreementReport, BTreeMap<i64, String>)>,
    dif: Vec<DifSummary>,
    key_changes: Vec<KeyChange>,
    equating: EquatingSummary,
}

type ResultRow = (i64, String, i64, f64, f64, i64);

/// The results as stored, by level: two grouped reads.
async fn levels(db: &Db, sitting_id: i64) -> AppResult<Vec<LevelRow>> {
    let registered: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT level, COUNT(*), COUNT(absent_at) FROM registrations WHERE sitting_id = $1
         GROUP BY level ORDER BY level",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let results: Vec<ResultRow> = sqlx::query_as(
        "SELECT r.registration_id, g.level, r.part, r.points, r.max_points, r.passed
         FROM results r JOIN registrations g ON g.id = r.registration_id WHERE g.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut rows: BTreeMap<String, LevelRow> = BTreeMap::new();
    for (level, n, absent) in registered {
        let r = rows.entry(level.clone()).or_default();
        r.level = level;
        r.registered = u64::try_from(n).unwrap_or(0);
        r.absent = u64::try_from(absent).unwrap_or(0);
    }
    let mut both: BTreeMap<i64, (String, [Option<bool>; 2])> = BTreeMap::new();
    for (reg, level, part, points, max, passed) in results {
        let Some(slot) = usize::try_from(part - 1).ok().filter(|p| *p < 2) else {
            continue;
        };
        let percent = if max > 0.0 { 100.0 * points / max } else { 0.0 };
        rows.entry(level.clone()).or_default().parts[slot].add(percent, passed == 1);
        both.entry(reg).or_insert_with(|| (level, [None, None])).1[slot] = Some(passed == 1);
    }
    for (level, parts) in both.into_values() {
        if let [Some(a), Some(b)] = parts {
            let r = rows.entry(level).or_default();
            r.both += 1;
            r.both_passed += u64::from(a && b);
        }
    }
    let mut out: Vec<LevelRow> = rows.into_values().collect();
    let mut all = LevelRow {
        level: "All".into(),
        ..Default::default()
    };
    for r in &out {
        all.registered += r.registered;
        all.absent += r.absent;
        all.both += r.both;
        all.both_passed += r.both_passed;
        for (a, p) in all.parts.iter_mut().zip(&r.parts) {
            a.scored += p.scored;
            a.passed += p.passed;
            a.sum += p.sum;
            a.sum_sq += p.sum_sq;
        }
    }
    out.push(all);
    Ok(out)
}

/// The committee's key changes of the items on this sitting's Part One forms, oldest first.
async fn key_changes(db: &Db, items: &BTreeSet<String>) -> AppResult<Vec<KeyChange>> {
    let rows: Vec<(String, i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT item_id, item_version, rule, reason, changed_by, changed_at FROM key_changes
         ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| items.contains(&r.0))
        .map(
            |(item_id, item_version, rule, reason, changed_by, changed_at)| KeyChange {
                item_id,
                item_version,
                rule,
                reason,
                changed_by,
                changed_at,
            },
        )
        .collect())
}

/// The site's own address for the links of a downloaded report, from the request's Host: only
/// a plain host name or address and port is taken; otherwise the links stay relative.
fn origin(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(h) => format!("{}://{h}", if secure { "https" } else { "http" }),
        None => String::new(),
    }
}

async fn gather(db: &Db, sitting: Sitting, base: String) -> AppResult<Report> {
    let id = sitting.id;
    let levels = levels(db, id).await?;
    let state: Option<(Option<i64>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT results_computed_at, results_computed_by, results_released_at FROM sittings
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let (computed, released_at) = match state {
        Some((Some(at), by, released)) => (Some((at, by.unwrap_or_default())), released),
        Some((None, _, released)) => (None, released),
        None => (None, None),
    };
    let blueprints: Vec<Blueprint> = bank_store::blueprints(db)
        .await?
        .into_iter()
        .filter(|b| sitting.blueprints.contains(&b.id))
        .collect();
    let pass_percent = blueprints
        .first()
        .map_or(crate::bank::PassMark::whole(80), |b| {
            b.part_one.pass_percent
        });
    let table = analysis::part_one_forms(db, id).await?;
    let on_forms: BTreeSet<String> = table.items.iter().map(|(i, _)| i.clone()).collect();
    let data = sitting_data(db, id).await?;
    let scale = calibration::sitting_scale(db, id).await?;
    let calibration = calibration::of_sitting(db, id).await?;
    let ratings = analysis::sitting_ratings(db, id).await?;
    let mut answers = Vec::new();
    for q in crate::demographics::QUESTIONS {
        answers.push((q, analysis::answers_to(db, id, q.key).await?));
    }
    let key_changes = key_changes(db, &on_forms).await?;
    let equating = equating_summary(db, id, pass_percent).await?;
    // Every statistic at once, off the runtime: item analysis, decision figures, agreement and
    // DIF over the same Part One table.
    let (analysis, decision, scale, agreement, dif) = off_runtime(move || {
        let a = item_analysis(&data.responses);
        let cut = pass_percent.raw_cut(u32::try_from(a.form.items).unwrap_or(u32::MAX));
        let decision = decision::figures(&a, cut, scale.as_ref());
        let agreement = Scale::new(0, ratings.max_score.max(1))
            .ok()
            .and_then(|s| agreement(s, &ratings.ratings).ok())
            .filter(|r| r.ratings > 0)
            .map(|r| (r, ratings.raters));
        let dif = answers
            .into_iter()
            .map(|(question, given)| {
                let (reference, focal) = (question.answers[0].0, question.answers[1].0);
                let groups: Vec<Option<Group>> = data
                    .registrations
                    .iter()
                    .map(|r| match given.get(r).map(String::as_str) {
                        Some(a) if a == focal => Some(Group::Focal),
                        Some(a) if a == reference => Some(Group::Reference),
                        _ => None,
                    })
                    .collect();
                DifSummary {
                    question,
                    report: dif(&data.responses, &groups),
                }
            })
            .collect();
        (a, decision, scale, agreement, dif)
    })
    .await?;
    let cut = pass_percent.raw_cut(u32::try_from(analysis.form.items).unwrap_or(u32::MAX));
    Ok(Report {
        sitting,
        base,
        generated_at: now_ms(),
        levels,
        computed,
        released_at,
        blueprints,
        analysis,
        pass_percent,
        cut,
        decision,
        scale,
        calibration,
        agreement,
        dif,
        key_changes,
        equating,
    })
}

pub async fn report_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let download = q.download.is_some();
    let base = if download {
        origin(&headers, state.config.secure_cookies)
    } else {
        String::new()
    };
    let report = gather(&state.db, sitting, base).await?;
    let title = format!("Technical report: {}", report.sitting.name);
    let body = sections::render(&report, download, &me.display_name);
    if download {
        return Ok(standalone(&title, id, body));
    }
    Ok(views::page(&title, Some(&chrome(me, &csrf)), body).into_response())
}

/// The report as one file: the stylesheet inline, no script, nothing to fetch to read it. Its
/// own Content Security Policy lets the inline stylesheet apply if it is opened from the site.
fn standalone(title: &str, id: i64, body: Markup) -> Response {
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(views::CSS)) }
            }
            body { main id="main" { (body) } }
        }
    };
    let mut res = doc.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!(
            "attachment; filename=\"technical-report-sitting-{id}.html\""
        ))
        .expect("a plain file name"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_links_back_to_the_host_asked_for_and_nothing_else() {
        let with = |host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            h
        };
        assert_eq!(
            origin(&with("exam.example.org"), true),
            "https://exam.example.org"
        );
        assert_eq!(
            origin(&with("127.0.0.1:8080"), false),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin(&with("[::1]:8080"), false), "http://[::1]:8080");
        // Anything but a host and port leaves the links relative.
        assert_eq!(origin(&with("evil.example/\"><script>"), false), "");
        assert_eq!(origin(&with("a b"), false), "");
        assert_eq!(origin(&HeaderMap::new(), false), "");
    }

    #[test]
    fn a_part_tally_gives_the_pass_rate_mean_and_sample_sd() {
        let mut t = PartTally::default();
        assert_eq!((t.pass_rate(), t.mean(), t.sd()), (None, None, None));
        for (p, passed) in [(70.0, false), (80.0, true), (90.0, true)] {
            t.add(p, passed);
        }
        assert_eq!(t.pass_rate(), Some(2.0 / 3.0));
        assert_eq!(t.mean(), Some(80.0));
        // (100 + 0 + 100) / 2 = 100.
        assert!((t.sd().unwrap() - 10.0).abs() < 1e-12);
    }
}
