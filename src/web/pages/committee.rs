//! The exam committee's scoring pages: assigning raters, reassigning when one drops out,
//! validity responses and calibration, and the raters' feedback. The results are in `results`,
//! key review with rescoring in `keys`.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::store::sittings::{self, Sitting};
use crate::store::{bank as bank_store, ratings};

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

pub(super) async fn the_sitting(state: &AppState, id: i64) -> AppResult<Sitting> {
    sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn list(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let all = sittings::list_sittings(&state.db).await?;
    let body = html! {
        h1 { "Scoring and results" }
        @if all.is_empty() { p { "No sittings yet." } }
        ul {
            @for s in &all {
                li { a href={ "/scoring/" (s.id) } { (s.name) } " · " (s.place) }
            }
        }
        p { a href="/keys" { "Key review" } ": change a key, accept two keys or drop an item from scoring." }
    };
    Ok(views::page("Scoring", Some(&chrome(me, &csrf)), body).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let sitting = the_sitting(&state, id).await?;
    let progress = ratings::progress(&state.db, id).await?;
    let raters = ratings::rater_status(&state.db, id, &sitting.blueprints).await?;
    let qualification = ratings::qualification(&state.db, id).await?;
    let pool = bank_store::pool(&state.db).await?;
    let open_items: Vec<(String, u32)> = pool
        .items
        .iter()
        .filter(|i| i.kind == crate::bank::ItemKind::Open)
        .map(|i| (i.id.clone(), i.version))
        .collect();
    let body = html! {
        h1 { "Scoring: " (sitting.name) }
        p {
            a href={ "/scoring/" (id) "/results" } { "Results" } " · "
            a href={ "/scoring/" (id) "/appeals" } { "Appeals" } " · "
            a href={ "/stats/" (id) "/items" } { "Item statistics" } " · "
            a href={ "/stats/" (id) "/agreement" } { "Rater agreement" } " · "
            a href={ "/scoring/" (id) "/read-behind" } { "Read-behinds" } " · "
            a href={ "/stats/" (id) "/dif" } { "Fairness (DIF)" } " · "
            a href={ "/stats/" (id) "/rasch" } { "Rasch calibration" } " · "
            a href={ "/stats/" (id) "/report" } { "Technical report" }
        }
        h2 { "Responses" }
        dl class="summary" {
            dt { "Open responses" } dd { (progress.responses) }
            dt { "Blank (scored 0, not rated)" } dd { (progress.blank) }
            dt { "Settled" } dd { (progress.settled) }
            dt { "Waiting for an adjudicator" } dd { (progress.awaiting_third) }
            dt { "Validity responses" } dd { (progress.validity) }
        }
        form method="post" action={ "/scoring/" (id) "/assign" } {
            (csrf_field(&csrf))
            button type="submit" { "Assign raters to every response that needs them" }
        }
        h2 { "Raters" }
        @if raters.is_empty() { p { "No rater has work in this sitting yet." } }
        @else {
            div class="table-wrap" role="region" tabindex="0" aria-label="Raters" { table {
                thead { tr {
                    th scope="col" { "Rater" } th scope="col" { "Assigned" } th scope="col" { "Scored" }
                    th scope="col" { "Agreement with experts" } th scope="col" { "Flag" } th scope="col" { "Dropped out?" }
                } }
                tbody {
                    @for r in &raters {
                        tr {
                            td { (r.display_name) " (" (r.username) ")" }
                            td { (r.assigned) }
                            td { (r.done) }
                            td { @match r.calibration.percent() {
                                Some(p) => { (format!("{p:.0}%")) " of " (r.calibration.scored) }
                                None => { "none scored yet" }
                            } }
                            td { @if r.flagged { strong class="flag" { "Below the standard" } } }
                            td {
                                form method="post" action={ "/scoring/" (id) "/withdraw" } {
                                    (csrf_field(&csrf))
                                    input type="hidden" name="rater_id" value=(r.rater_id);
                                    button type="submit" class="link" { "Reassign " (r.username) "’s unfinished work" }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { "Rater qualification" }
        @if qualification.iter().all(|q| q.standing == ratings::Standing::NoGate) {
            p class="notice" { "No qualifying set has been chosen for this sitting: raters start live scoring untested. Add responses with expert scores to set 1 below; each rater then scores the set before any live response reaches them." }
        } @else {
            div class="table-wrap" role="region" tabindex="0" aria-label="Rater qualification" { table {
                caption class="hint" { "A rater's live queue opens once their scores on a set agree with the experts' at the blueprint's standard; below it, they are given the next set." }
                thead { tr { th scope="col" { "Rater" } th scope="col" { "Standing" } th scope="col" { "Attempts (exact, within one point)" } } }
                tbody {
                    @for q in &qualification {
                        tr {
                            td { (q.username) }
                            td { (standing_label(&q.standing)) }
                            td { (attempts_label(&q.standing)) }
                        }
                    }
                }
            } }
        }
        form method="post" action={ "/scoring/" (id) "/qualifying" } {
            (csrf_field(&csrf))
            (expert_fields("q-", &open_items))
            label for="q-set" { "Set" }
            select id="q-set" name="set_no" { option value="1" { "Set 1" } option value="2" { "Set 2 (for raters below the standard on set 1)" } option value="3" { "Set 3" } }
            button type="submit" { "Add to the qualifying set" }
        }
        h2 { "Seed a validity response" }
        p { "A response with an expert score goes into every rater's queue, looking like any other. Raters' agreement with the expert score is reported above." }
        form method="post" action={ "/scoring/" (id) "/validity" } {
            (csrf_field(&csrf))
            (expert_fields("", &open_items))
            button type="submit" { "Seed the validity response" }
        }
    };
    Ok(views::page("Scoring", Some(&chrome(me, &csrf)), body).into_response())
}

pub async fn assign(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    ratings::assign_sitting(&state.db, id, &BTreeSet::new(), &me.username).await?;
    Ok(Redirect::to(&format!("/scoring/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    pub rater_id: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
    Form(f): Form<WithdrawForm>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    let rater: i64 = f.rater_id.trim().parse().map_err(|_| {
        AppError::BadRequest(format!(
            "Rater: \"{}\" is not a rater of this sitting.",
            f.rater_id
        ))
    })?;
    ratings::withdraw_rater(&state.db, id, rater, &me.username).await?;
    Ok(Redirect::to(&format!("/scoring/{id}")).into_response())
}

/// A committee's response with an expert score, checked: the item (`ID@VERSION`, an open item
/// of the bank), a text, and a score on its rubric.
async fn expert_response(
    state: &AppState,
    item_field: &str,
    body: &str,
    expert_field: &str,
) -> AppResult<(String, u32, u32)> {
    let (item, version) = item_field
        .split_once('@')
        .and_then(|(i, v)| Some((i.to_string(), v.parse::<u32>().ok()?)))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Item: \"{}\" is not an item of the bank.",
                item_field
            ))
        })?;
    let stored = bank_store::item_version(&state.db, &item, version)
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Item: {item} version {version} is not in the bank."
            ))
        })?;
    let ItemBody::Open(open) = stored.body else {
        return Err(AppError::BadRequest(format!(
            "Item: {item} is not an open item."
        )));
    };
    if body.trim().is_empty() {
        return Err(AppError::BadRequest(
            "Response text: write the response to be scored.".into(),
        ));
    }
    let expert: u32 = expert_field
        .trim()
        .parse()
        .ok()
        .filter(|s| *s <= open.max_score)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Expert score: \"{}\" is not a whole number from 0 to {}.",
                expert_field, open.max_score
            ))
        })?;
    Ok((item, version, expert))
}

pub async fn validity(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
    Form(f): Form<ExpertResponseForm>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    let (item, version, expert) =
        expert_response(&state, &f.item, &f.body, &f.expert_score).await?;
    ratings::seed_validity(&state.db, id, &item, version, &f.body, expert, &me.username).await?;
    Ok(Redirect::to(&format!("/scoring/{id}")).into_response())
}

/// The fields of a response with an expert score (validity or qualifying), their ids prefixed
/// so two such forms can share a page.
fn expert_fields(prefix: &str, open_items: &[(String, u32)]) -> Markup {
    html! {
        label for={ (prefix) "item" } { "Item" }
        select id={ (prefix) "item" } name="item" {
            @for (item, version) in open_items { option value={ (item) "@" (version) } { (item) " (version " (version) ")" } }
        }
        label for={ (prefix) "body" } { "Response text" }
        textarea id={ (prefix) "body" } name="body" rows="6" required {}
        label for={ (prefix) "expert_score" } { "Expert score" }
        input type="number" id={ (prefix) "expert_score" } name="expert_score" min="0" max="10" required;
    }
}

fn standing_label(s: &ratings::Standing) -> String {
    match s {
        ratings::Standing::NoGate => "No qualifying set".into(),
        ratings::Standing::Qualifying {
            set_no, done, of, ..
        } => format!("Scoring set {set_no}: {done} of {of}"),
        ratings::Standing::Qualified(_) => "Qualified".into(),
        ratings::Standing::NotQualified(_) => "Not qualified: every set below the standard".into(),
    }
}

fn attempts_label(s: &ratings::Standing) -> String {
    let tried = match s {
        ratings::Standing::NoGate => return String::new(),
        ratings::Standing::Qualifying { earlier, .. } => earlier,
        ratings::Standing::Qualified(t) | ratings::Standing::NotQualified(t) => t,
    };
    tried
        .iter()
        .map(|a| {
            format!(
                "set {}: {:.0}%, {:.0}% ({})",
                a.set_no,
                a.agreement.exact_percent(),
                a.agreement.adjacent_percent(),
                if a.passed { "met" } else { "below" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A response with an expert score, as the committee adds one: a validity response (no set)
/// or one of a qualifying set.
#[derive(Debug, Default, Deserialize)]
pub struct ExpertResponseForm {
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub expert_score: String,
    #[serde(default)]
    pub set_no: String,
}

pub async fn qualifying(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
    Form(f): Form<ExpertResponseForm>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    let (item, version, expert) =
        expert_response(&state, &f.item, &f.body, &f.expert_score).await?;
    let set_no: u32 = f
        .set_no
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Set: \"{}\" is not a set number from 1 to 5.",
                f.set_no
            ))
        })?;
    ratings::seed_qualifying(
        &state.db,
        id,
        &item,
        version,
        &f.body,
        expert,
        set_no,
        &me.username,
    )
    .await?;
    Ok(Redirect::to(&format!("/scoring/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    pub feedback: String,
}

pub async fn feedback_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let row: Option<(String, String, i64, Option<f64>)> = sqlx::query_as(
        "SELECT code, item_id, sitting_id, final_score FROM responses WHERE id = $1 AND expert_score IS NULL",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?;
    let (code, item, sitting_id, score) = row.ok_or(AppError::NotFound)?;
    let given = ratings::feedback_for(&state.db, id).await?;
    let body = html! {
        h1 { "Feedback on response " (code) }
        p { "Item " (item) " · settled score " (score.map(|s| s.to_string()).unwrap_or_else(|| "not yet".into())) }
        h2 { "What the candidate will read" }
        @for f in &given { blockquote { (f) } }
        @if given.is_empty() { p { "No feedback yet." } }
        form method="post" action={ "/scoring/responses/" (id) "/feedback" } {
            (csrf_field(&csrf))
            label for="feedback" { "Replace it with" }
            textarea id="feedback" name="feedback" rows="6" required { (given.join("\n\n")) }
            button type="submit" { "Save the feedback" }
        }
        p { a href={ "/scoring/" (sitting_id) "/results" } { "Back to the results" } }
    };
    Ok(views::page("Feedback", Some(&chrome(me, &csrf)), body).into_response())
}

pub async fn save_feedback(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
    Form(f): Form<FeedbackForm>,
) -> AppResult<Response> {
    if f.feedback.trim().is_empty() {
        return Err(AppError::BadRequest(
            "Feedback: write what the candidate should read.".into(),
        ));
    }
    if !ratings::edit_feedback(&state.db, id, &f.feedback, &me.username).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/scoring/responses/{id}/feedback")).into_response())
}
