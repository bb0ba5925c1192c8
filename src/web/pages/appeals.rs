//! The committee's appeals of a sitting (`/scoring/{id}/appeals`): open appeals first with the
//! window's deadline, each with what the decision rests on (Part One: the candidate's answers
//! beside the key as it stands, and the recount; Part Two: the earlier readings beside the
//! blind re-readings, and the blueprint's rule applied), starting the re-score, deciding with
//! reasons, and the sitting's appeals and outcomes as CSV for the annual report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::scoring::results::points_text;
use crate::store::appeals::{self, Appeal, PartOneLine, PartTwoLine, Review, State as AppealState};
use crate::store::audit::{self, Action};
use crate::store::sittings::{Registration, Sitting};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::time::{self, local};
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::committee::the_sitting;
use super::stats::csv_response;

fn part_title(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

fn result_text(r: (f64, bool), max: Option<f64>) -> String {
    format!(
        "{}{} ({})",
        points_text(r.0),
        max.map(|m| format!(" of {}", points_text(m)))
            .unwrap_or_default(),
        if r.1 { "passed" } else { "not passed" }
    )
}

pub async fn appeals_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let body = page(&state, &csrf, id, None).await?;
    Ok(views::page("Appeals", Some(&chrome(me, &csrf)), body).into_response())
}

async fn page(state: &AppState, csrf: &str, id: i64, outcome: Option<Markup>) -> AppResult<Markup> {
    let sitting = the_sitting(state, id).await?;
    let all = appeals::of_sitting(&state.db, id).await?;
    let open = all
        .iter()
        .filter(|(a, _)| a.state != AppealState::Decided)
        .count();
    let mut sections = Vec::new();
    for (a, reg) in &all {
        let review = if a.state == AppealState::Decided {
            None
        } else {
            appeals::review(&state.db, a).await?
        };
        sections.push(appeal_section(csrf, &sitting, a, reg, review.as_ref()));
    }
    Ok(html! {
        h1 { "Appeals: " (sitting.name) }
        p { a href={ "/scoring/" (id) } { "Scoring" } " · " a href={ "/scoring/" (id) "/results" } { "Results" } }
        @if let Some(o) = outcome { (o) }
        p role="status" id="appeals-summary" { (all.len()) " appeal(s), " (open) " not decided yet." }
        p { "A candidate may appeal a part once the sitting's results are released, within their blueprint's window. "
            "Start the re-score, then decide with reasons, which the candidate reads. A changed result is stored for that candidate alone and shows on their page at once." }
        p { a href={ "/scoring/" (id) "/appeals.csv" } download { "Download the appeals and outcomes (CSV)" } }
        @if !all.is_empty() {
            div class="table-wrap" role="region" tabindex="0" aria-label="Appeals at a glance" { table id="appeals-table" {
                thead { tr { th scope="col" { "Candidate" } th scope="col" { "Part" } th scope="col" { "Requested" } th scope="col" { "Window closes" } th scope="col" { "State" } th scope="col" { "Outcome" } } }
                tbody {
                    @for (a, reg) in &all {
                        tr {
                            td { a href={ "#appeal-" (a.id) } { (reg.name) } }
                            td { (part_title(a.part)) }
                            td { (local(a.requested_at, &sitting.time_zone)) }
                            td { (local(a.deadline_at, &sitting.time_zone)) }
                            td { (a.state.label()) }
                            td { @match a.upheld { Some(true) => span class="chip ok" { "upheld" }, Some(false) => span class="chip" { "not upheld" }, None => "" } }
                        }
                    }
                }
            } }
        }
        @for s in sections { (s) }
    })
}

fn appeal_section(
    csrf: &str,
    sitting: &Sitting,
    a: &Appeal,
    reg: &Registration,
    review: Option<&Review>,
) -> Markup {
    let tz = &sitting.time_zone;
    let base = format!("/scoring/{}/appeals/{}", sitting.id, a.id);
    html! {
        section class="appeal" id={ "appeal-" (a.id) } aria-labelledby={ "appeal-title-" (a.id) } {
            h2 id={ "appeal-title-" (a.id) } { (reg.name) ", " (part_title(a.part)) " " span class="chip" { (a.state.label()) } }
            dl class="summary" {
                dt { "Email" } dd { (reg.email) }
                dt { "Requested" } dd { (local(a.requested_at, tz)) }
                dt { "Window closes" } dd { (local(a.deadline_at, tz)) }
                dt { "Result appealed" } dd { (result_text(a.before, None)) }
                @if let Some((by, at)) = &a.started { dt { "Re-score started" } dd { (local(*at, tz)) " by " (by) } }
                @if let Some(rule) = a.part_two_rule { dt { "Rule" } dd { (rule) ": " (rule.describe()) } }
            }
            p { "The candidate's reason:" }
            blockquote { (a.reason) }
            @match a.state {
                AppealState::Open => {
                    form method="post" action={ (base) "/start" } {
                        (csrf_field(csrf))
                        button type="submit" { @if a.part == 1 { "Recount against the current key" } @else { "Assign the blind re-readings" } }
                    }
                }
                AppealState::Rescoring => {
                    @if let Some(r) = review { (review_markup(r, a)) }
                    @if review.is_some_and(lacks_rereading) {
                        form method="post" action={ (base) "/start" } {
                            (csrf_field(csrf))
                            p { "A re-reading's rater was withdrawn: hand it to another rater who has not read the response." }
                            button type="submit" { "Assign the missing re-readings" }
                        }
                    }
                    form method="post" action={ (base) "/decide" } {
                        (csrf_field(csrf))
                        label for={ "reasons-" (a.id) } { "Reasons for the decision (the candidate reads them)" }
                        textarea id={ "reasons-" (a.id) } name="reasons" rows="3" maxlength="2000" required {}
                        button type="submit" { "Decide" }
                    }
                }
                AppealState::Decided => {
                    @let after = a.after.unwrap_or(a.before);
                    p role="status" {
                        @if a.upheld == Some(true) { strong { "Upheld" } ": " (result_text(a.before, None)) " became " (result_text(after, None)) ", released to this candidate." }
                        @else { strong { "Not upheld" } ": the re-score gave " (result_text(after, None)) "; the result stands." }
                    }
                    @if let Some((by, at)) = &a.decided { p { "Decided " (local(*at, tz)) " by " (by) ". Reasons:" } }
                    @if let Some(d) = &a.decision { blockquote { (d) } }
                }
            }
        }
    }
}

/// A Part Two response read before that holds no re-reading (its re-reader was withdrawn).
fn lacks_rereading(r: &Review) -> bool {
    matches!(r, Review::PartTwo { lines, .. }
        if lines.iter().any(|l| !l.response.readings.is_empty() && l.response.rereadings.is_empty()))
}

fn review_markup(r: &Review, a: &Appeal) -> Markup {
    match r {
        Review::PartOne {
            lines,
            recount,
            max,
        } => html! {
            p { @match recount {
                Some(now) => { "Recount against the current key: " strong { (result_text(*now, Some(*max))) } "; the result appealed was " (result_text(a.before, Some(*max))) "." }
                None => { "The part cannot be recounted: its attempt is no longer scorable." }
            } }
            (part_one_table(a.id, lines))
        },
        Review::PartTwo {
            lines,
            rule,
            pass,
            max,
            outcome,
        } => html! {
            p { "Each response read before is read once more, blind, by a rater who had not read it. The rule: " (rule.describe()) ". The pass mark is " (pass) "% of " (points_text(*max)) " points." }
            (part_two_table(a.id, lines))
            p role="status" { @match outcome {
                Some(o) => {
                    "By the rule: " strong { (result_text(o.after, Some(*max))) } ", against " (result_text(o.before, Some(*max))) " appealed; "
                    @if o.changed() { "the result would change." } @else { "the result would stand." }
                }
                None => { "Waiting for every re-reading to be submitted." }
            } }
        },
    }
}

fn part_one_table(id: i64, lines: &[PartOneLine]) -> Markup {
    let right = lines.iter().filter(|l| l.correct == Some(true)).count();
    html! {
        details {
            summary { "The candidate's answers and the key (" (right) " of " (lines.iter().filter(|l| l.correct.is_some()).count()) " right)" }
            div class="table-wrap" role="region" tabindex="0" aria-label={ "Answers and keys, appeal " (id) } { table {
                thead { tr { th scope="col" { "Question" } th scope="col" { "Answer" } th scope="col" { "Key now" } th scope="col" { "Counted" } } }
                tbody { @for l in lines { tr {
                    th scope="row" { (l.item_id) " v" (l.version) }
                    td { @if l.answer.is_empty() { span class="hint" { "none" } } @else { (l.answer) } }
                    td { (l.key) }
                    td { @match l.correct { Some(true) => "right", Some(false) => "wrong", None => span class="hint" { "not scored" } } }
                } } }
            } }
        }
    }
}

fn part_two_table(id: i64, lines: &[PartTwoLine]) -> Markup {
    let scores = |xs: &[u32]| {
        xs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    html! {
        div class="table-wrap" role="region" tabindex="0" aria-label={ "Readings, appeal " (id) } { table {
            thead { tr { th scope="col" { "Response" } th scope="col" { "Question" } th scope="col" class="n" { "Settled" } th scope="col" { "Earlier readings" } th scope="col" { "Re-reading" } th scope="col" class="n" { "By the rule" } } }
            tbody { @for l in lines { tr {
                th scope="row" { (l.response.code) }
                td { (l.response.item_id) }
                td class="n" { (points_text(l.response.score)) " of " (points_text(l.max)) }
                td { @if l.response.readings.is_empty() { span class="hint" { "blank: 0 by rule" } } @else { (scores(&l.response.readings)) } }
                td { @for (rater, s) in &l.response.rereadings { (rater) ": " @match s { Some(s) => { (s) } None => { span class="hint" { "not submitted" } } } " " } }
                td class="n" { @if let Some(s) = l.new_score { (points_text(s)) } }
            } } }
        } }
    }
}

/// The appeal `appeal` of sitting `id`, or 404.
async fn the_appeal(state: &AppState, id: i64, appeal: i64) -> AppResult<Appeal> {
    let a = appeals::get(&state.db, appeal)
        .await?
        .ok_or(AppError::NotFound)?;
    let reg = crate::store::sittings::registration(&state.db, a.registration_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if reg.sitting_id != id {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

async fn refused(
    state: &AppState,
    me: &crate::store::users::User,
    csrf: &str,
    id: i64,
    message: String,
) -> AppResult<Response> {
    let outcome = html! { div class="error" role="alert" { p { (message) } } };
    let body = page(state, csrf, id, Some(outcome)).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page("Appeals", Some(&chrome(me, csrf)), body),
    )
        .into_response())
}

/// After a start or a decision: back to the appeal, or the page again with why not.
async fn after<T, E: std::fmt::Display>(
    state: &AppState,
    me: &crate::store::users::User,
    csrf: &str,
    (id, appeal): (i64, i64),
    done: Option<Result<T, E>>,
    cannot: &str,
) -> AppResult<Response> {
    match done {
        None => Err(AppError::NotFound),
        Some(Ok(_)) => {
            Ok(Redirect::to(&format!("/scoring/{id}/appeals#appeal-{appeal}")).into_response())
        }
        Some(Err(e)) => refused(state, me, csrf, id, format!("{cannot}: {e}.")).await,
    }
}

/// `POST /scoring/{id}/appeals/{appeal}/start`: Part One recounted, or Part Two's re-readings
/// assigned.
pub async fn start(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, appeal)): Path<(i64, i64)>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    the_appeal(&state, id, appeal).await?;
    let done = appeals::start(&state.db, appeal, &me.username).await?;
    after(
        &state,
        me,
        &csrf,
        (id, appeal),
        done,
        "The re-score cannot start",
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub reasons: String,
}

/// `POST /scoring/{id}/appeals/{appeal}/decide`.
pub async fn decide(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, appeal)): Path<(i64, i64)>,
    Form(f): Form<DecideForm>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    the_appeal(&state, id, appeal).await?;
    let done = appeals::decide(&state.db, appeal, &f.reasons, &me.username).await?;
    after(
        &state,
        me,
        &csrf,
        (id, appeal),
        done,
        "The appeal cannot be decided",
    )
    .await
}

/// `GET /scoring/{id}/appeals.csv`: every appeal of the sitting and its outcome, one a row;
/// the download is audited (it carries candidates' names and words).
pub async fn appeals_csv(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let sitting = the_sitting(&state, id).await?;
    let all = appeals::of_sitting(&state.db, id).await?;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut w = crate::csv_safe::Writer::new();
    w.write_record([
        "appeal",
        "name",
        "email",
        "level",
        "part",
        "requested_utc",
        "deadline_utc",
        "reason",
        "state",
        "part_two_rule",
        "points_before",
        "passed_before",
        "points_after",
        "passed_after",
        "upheld",
        "decided_by",
        "decided_utc",
        "decision",
    ]);
    for (a, reg) in &all {
        w.write_record([
            a.id.to_string(),
            reg.name.clone(),
            reg.email.clone(),
            reg.level.to_string(),
            a.part.to_string(),
            time::utc_text(a.requested_at),
            time::utc_text(a.deadline_at),
            a.reason.clone(),
            a.state.code().to_string(),
            a.part_two_rule
                .map(|r| r.code().to_string())
                .unwrap_or_default(),
            points_text(a.before.0),
            yes_no(a.before.1),
            a.after.map(|r| points_text(r.0)).unwrap_or_default(),
            a.after.map(|r| yes_no(r.1)).unwrap_or_default(),
            a.upheld.map(yes_no).unwrap_or_default(),
            a.decided
                .as_ref()
                .map(|(by, _)| by.clone())
                .unwrap_or_default(),
            a.decided
                .as_ref()
                .map(|(_, at)| time::utc_text(*at))
                .unwrap_or_default(),
            a.decision.clone().unwrap_or_default(),
        ]);
    }
    audit::record(
        &state.db,
        &me.username,
        Action::AppealsExport,
        &format!("sitting {id} ({}): {} appeal(s)", sitting.name, all.len()),
    )
    .await?;
    Ok(csv_response(&format!("appeals-{id}.csv"), w.into_string()))
}
