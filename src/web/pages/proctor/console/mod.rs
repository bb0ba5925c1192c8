//! A sitting's console: its candidates' rows, the page around them, and the rows as JSON for the
//! console's script to refresh in place.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::exam::limits::{thousands, MAX_LISTED_BROWSER_EVENTS};
use crate::exam::registration::RegistrationFields;
use crate::store::attempts::{self, Attempt};
use crate::store::batches::Batch;
use crate::store::now_ms;
use crate::store::sittings::{self, Registration, Sitting, SittingEvent};
use crate::store::users::User;

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Proctor;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

use crate::web::time::local;

use super::minutes_seconds;

mod filter;
mod rows;

pub(in crate::web::pages) use filter::Filter;
use rows::*;

/// What the console shows besides the sitting: the outcome of the last form sent.
#[derive(Default)]
pub(in crate::web::pages) struct Outcome {
    pub message: Option<String>,
    pub reg_form: RegistrationFields,
    pub reg_errors: BTreeMap<&'static str, String>,
    /// (name, email, access code) of candidates just registered.
    pub new_codes: Vec<(String, String, String)>,
    /// The batch they were registered in: its codes' CSV and slips.
    pub new_batch: Option<i64>,
    /// Which candidates are listed.
    pub filter: Filter,
}

/// The console, with the batches whose codes `me` may still hand out.
pub(in crate::web::pages) fn console(
    me: &User,
    csrf: &str,
    sitting: &Sitting,
    rows: &[Row],
    events: &[SittingEvent],
    batches: &[Batch],
    out: &Outcome,
) -> Markup {
    let now = now_ms();
    let (message, reg_form, reg_errors) = (out.message.as_deref(), &out.reg_form, &out.reg_errors);
    let closed = sitting.closes_at <= now;
    let tz = sitting.time_zone.as_str();
    let row_views: Vec<RowView> = rows.iter().map(|r| view(r, now)).collect();
    let count = |f: Filter| row_views.iter().filter(|v| f.admits(v)).count();
    let shown: Vec<(&Row, &RowView)> = rows
        .iter()
        .zip(&row_views)
        .filter(|(_, v)| out.filter.admits(v))
        .collect();
    let base = format!("/sittings/{}", sitting.id);
    views::page(
        &sitting.name,
        Some(&chrome(me, csrf)),
        html! {
            div class="console" {
            h1 { (sitting.name) }
            p { (sitting.place) ", " (local(sitting.opens_at, tz)) " to " (local(sitting.closes_at, tz))
                " (times in " (tz) "). Blueprints: " (sitting.blueprints.join(", ")) "." }
            @if let Some(m) = message { p class="notice" role="status" { (m) } }
            @if !out.new_codes.is_empty() {
                div class="table-wrap" {
                    table id="new-codes" {
                        caption { "New access codes" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Access code" } } }
                        tbody { @for (n, e, c) in &out.new_codes { tr { td { (n) } td { (e) } td { code class="code" { (c) } } } } }
                    }
                }
                @if let Some(b) = out.new_batch { (crate::web::pages::registration::batch_links(b)) }
            }
            @if !batches.is_empty() {
                h2 { "Access codes to hand out" }
                p class="hint" { "Codes are kept on the server, for whoever registered them and the administrators only, until you mark them handed out or the sitting closes." }
                ul {
                    @for b in batches {
                        li {
                            a href={ "/batches/" (b.id) } { "Batch " (b.id) } ": " (b.candidates) " candidate(s), registered by " (b.created_by) " on " (local(b.created_at, tz)) ". "
                            a href={ "/batches/" (b.id) "/codes.csv" } download { "Codes (CSV)" } " · "
                            a href={ "/batches/" (b.id) "/slips" } { "Slips to print" }
                        }
                    }
                }
            }
            h2 id="candidates" { "Candidates" }
            @if rows.is_empty() { p { "No candidate is registered yet." } }
            @else {
                nav class="filters" aria-label="Show candidates" {
                    ul {
                        @for f in Filter::ALL {
                            li {
                                a href={ (base) "?show=" (f.key()) "#candidates" }
                                    aria-current=[(f == out.filter).then_some("page")] {
                                    (f.label()) " (" (count(f)) ")"
                                }
                            }
                        }
                    }
                }
                div class="actions" {
                    form method="post" action={ (base) "/pause-all" } { (csrf_field(csrf)) button type="submit" class="secondary small" { "Pause everyone" } }
                    form method="post" action={ (base) "/resume-all" } { (csrf_field(csrf)) button type="submit" class="secondary small" { "Resume everyone" } }
                }
                p class="hint" id="console-hint" {
                    @if out.filter == Filter::All { (rows.len()) " candidate(s). " }
                    @else { "Showing " (shown.len()) " of " (rows.len()) " candidates: " (out.filter.label().to_lowercase()) ". " }
                    "The list updates itself every few seconds; each candidate's actions are under Actions."
                }
                @if shown.is_empty() { p { "No candidate is " (out.filter.label().to_lowercase()) " now." } }
                @else {
                    div class="table-wrap" role="region" aria-labelledby="candidates" tabindex="0" {
                        table id="console" data-live={ (base) "/live" } aria-describedby="console-hint" {
                            thead { tr {
                                th scope="col" { "Candidate" } th scope="col" { "Status" } th scope="col" { "Part and progress" }
                                th scope="col" class="n" { "Time left" } th scope="col" { "Last heard from" }
                                th scope="col" class="n" { "Focus lost" } th scope="col" { span class="sr-only" { "Actions" } }
                            } }
                            tbody {
                                @for (row, v) in &shown { (candidate_row(csrf, row, v, closed)) }
                            }
                        }
                    }
                }
            }
            h2 { "Register a candidate" }
            (registration_form(csrf, sitting.id, reg_form, reg_errors))
            h2 { "Register from a CSV file" }
            (crate::web::pages::registration::csv_form(csrf, sitting.id))
            h2 { "Incidents and events" }
            form method="post" action={ (base) "/incident" } {
                (csrf_field(csrf))
                label for="incident" { "Log an incident" }
                input type="text" id="incident" name="detail" required;
                button type="submit" { "Log" }
            }
            @for row in rows.iter().filter(|r| r.unlisted_events > 0) {
                p class="notice unlisted" {
                    (row.reg.name) ": " (thousands(usize::try_from(row.unlisted_events).unwrap_or(usize::MAX)))
                    " more browser events not listed (the first " (MAX_LISTED_BROWSER_EVENTS) " of each part are)."
                }
            }
            @if events.is_empty() { p { "Nothing has happened yet." } }
            @else {
                div class="table-wrap tall" role="region" aria-label="Incidents and events" tabindex="0" {
                    table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Candidate" } th scope="col" { "What" } th scope="col" { "By" } th scope="col" { "Resolved" } } }
                        tbody {
                            @for e in events {
                                tr {
                                    td { (local(e.at, tz)) }
                                    td { (e.registration_id.and_then(|id| rows.iter().find(|r| r.reg.id == id)).map(|r| r.reg.name.clone()).unwrap_or_default()) }
                                    td { (e.kind) ": " (e.detail) }
                                    td { (e.actor) }
                                    td { @if let Some(t) = e.resolved_at { (local(t, tz)) } @else if e.kind == "second-login" { "open" } }
                                }
                            }
                        }
                    }
                }
            }
            script src="/assets/proctor.js" defer {}
            }
        },
    )
}

pub(in crate::web::pages) fn parts_label(p: crate::exam::form::Parts) -> &'static str {
    match (p.one, p.two) {
        (true, true) => "both parts",
        (true, false) => "Part One only",
        (false, true) => "Part Two only",
        (false, false) => "no part",
    }
}

fn registration_form(
    csrf: &str,
    sitting_id: i64,
    f: &RegistrationFields,
    errors: &BTreeMap<&'static str, String>,
) -> Markup {
    let field = |name: &'static str, label: &str, value: &str, hint: Option<&str>| {
        let err_id = format!("{name}-error");
        html! {
            label for=(name) { (label) }
            @if let Some(h) = hint { p class="hint" id={ (name) "-hint" } { (h) } }
            input type="text" id=(name) name=(name) value=(value)
                aria-invalid=[errors.contains_key(name).then_some("true")]
                aria-describedby=[errors.contains_key(name).then_some(err_id.clone()).or(hint.map(|_| format!("{name}-hint")))];
            (field_error(&err_id, errors.get(name)))
        }
    };
    html! {
        form method="post" action={ "/sittings/" (sitting_id) "/register" } novalidate {
            (csrf_field(csrf))
            (field("name", "Full name", &f.name, None))
            (field("email", "Email", &f.email, None))
            (field("organisation", "Organisation", &f.organisation, Some("Raters from the same organisation never score this candidate.")))
            label for="level" { "Level / track" }
            select id="level" name="level" {
                @for l in crate::bank::Level::ALL { option value=(l.code()) selected[f.level == l.code()] { (l.code()) } }
            }
            (field_error("level-error", errors.get("level")))
            label for="parts" { "Parts" }
            select id="parts" name="parts" {
                option value="both" selected[f.parts.is_empty() || f.parts == "both"] { "Both parts" }
                option value="1" selected[f.parts == "1"] { "Part One only (retake)" }
                option value="2" selected[f.parts == "2"] { "Part Two only (retake)" }
            }
            (field_error("parts-error", errors.get("parts")))
            (field("time_multiplier", "Approved time multiplier", &f.time_multiplier, Some("1 for standard time; 1.5 or 2 for an approved accommodation.")))
            (field("extra_breaks", "Approved extra breaks", &f.extra_breaks, None))
            (field("retake_override", "Retake within the waiting period: reason (administrators only)", &f.retake_override, None))
            button type="submit" { "Register" }
        }
    }
}

pub(in crate::web::pages) async fn load_console(
    state: &AppState,
    id: i64,
) -> AppResult<(Sitting, Vec<Row>, Vec<SittingEvent>)> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let regs = sittings::registrations(&state.db, id).await?;
    let events = sittings::events(&state.db, id).await?;
    let seen = sittings::last_seen(&state.db, id).await?;
    let unlisted = sittings::unlisted_browser_events(&state.db, id).await?;
    let mut rows = Vec::new();
    for reg in regs {
        let attempts = attempts::attempts_of(&state.db, reg.id).await?;
        let mut answered = 0;
        if let Some(a) = attempts.iter().find(|a| a.is_open()).or(attempts.last()) {
            answered = attempts::answers(&state.db, a.id)
                .await?
                .iter()
                .filter(|(k, v)| !k.starts_with('@') && !v.is_empty())
                .count();
        }
        let focus_losses = events
            .iter()
            .filter(|e| e.registration_id == Some(reg.id) && e.kind == "focus-lost")
            .count();
        let last_seen = seen.get(&reg.id).copied();
        let unlisted_events = unlisted.get(&reg.id).copied().unwrap_or(0);
        rows.push(Row {
            reg,
            attempts,
            answered,
            focus_losses,
            unlisted_events,
            last_seen,
        });
    }
    Ok((sitting, rows, events))
}

#[derive(Debug, Default, Deserialize)]
pub struct ConsoleQuery {
    #[serde(default)]
    pub show: String,
}

pub async fn show(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<ConsoleQuery>,
) -> AppResult<Markup> {
    let (sitting, rows, events) = load_console(&state, id).await?;
    let batches = crate::web::pages::registration::batches_for(&state, me, id).await?;
    Ok(console(
        me,
        &csrf,
        &sitting,
        &rows,
        &events,
        &batches,
        &Outcome {
            filter: Filter::parse(&q.show),
            ..Outcome::default()
        },
    ))
}

/// The console's rows as JSON, for its script to refresh the table in place.
pub async fn live(
    State(state): State<AppState>,
    _: Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (_, rows, _) = load_console(&state, id).await?;
    let now = now_ms();
    let out: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let v = view(r, now);
            serde_json::json!({
                "registration": r.reg.id,
                "status": status(r, now),
                "state": v.state.key(),
                "chip": v.chip,
                "chip_class": v.chip_class,
                "problem": !v.problems.is_empty(),
                "progress": v.progress,
                "time_left": v.time_left,
                "answered": r.answered,
                "last_save": last_save(r, now),
                "focus_losses": r.focus_losses,
                "unlisted_events": r.unlisted_events,
                "connection": connection(r, now),
            })
        })
        .collect();
    Ok(axum::Json(out).into_response())
}
