//! `GET /studies/{id}`: the facilitator's page. The study's definition, the minimally competent
//! candidate (editable), the panel (add by username, remove), the rounds (open the next, close
//! the open one, finish), each panelist's progress while a round is open (counts only: ratings
//! are blind), and after a closed round the per-item feedback (spread, mean, observed, flags)
//! and the impact of the panel's cut (pass rate at the cut and at ± 1 and 2 SE) with the score
//! distribution.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::studies::{self, ChangeError, Observed, RoundMatrix, Spread, Study};
use crate::web::charts;
use crate::web::error::AppResult;
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field, field_error, scroll_box, staff_chrome as chrome};
use crate::web::AppState;

use super::figures::{by_whole_percent, flags, impact};
use super::{num, part_name, share_text, the_study};

/// An error to show in one of the page's forms.
#[derive(Debug, Default)]
struct FormError {
    /// "mcc", "panel" or "round".
    form: &'static str,
    message: String,
}

fn item_name(items: &[studies::StudyItem], position: u32) -> String {
    items
        .iter()
        .find(|i| i.position == position)
        .map_or_else(|| format!("#{position}"), |i| i.item_id.clone())
}

/// The per-item feedback table of a closed round.
fn feedback(
    study: &Study,
    m: &RoundMatrix,
    items: &[studies::StudyItem],
    observed: &Observed,
) -> Markup {
    let part_one = study.part == 1;
    html! {
        (scroll_box(&format!("Round {} feedback by item", m.round), html! {
            table class="stats" id={ "feedback-" (m.round) } {
                caption { "Round " (m.round) ": the panel's ratings of each item" }
                thead { tr {
                    th scope="col" { "#" } th scope="col" { "Item" } th scope="col" { "Ratings" }
                    th scope="col" { "Min" } th scope="col" { "Q1" } th scope="col" { "Median" } th scope="col" { "Q3" } th scope="col" { "Max" }
                    th scope="col" { "Mean" }
                    th scope="col" { (if part_one { "Observed p-value" } else { "Observed mean score" }) }
                    th scope="col" { "Flags" }
                } }
                tbody {
                    @for (i, pos) in m.positions.iter().enumerate() {
                        @let max = m.max.get(i).copied().unwrap_or(1.0);
                        @let spread = Spread::of(&m.item_values(i), &study.scale(max as u32));
                        @let obs = observed.items.get(i).and_then(|o| o.value);
                        tr {
                            td { (pos) }
                            td { (item_name(items, *pos)) }
                            @if let Some(s) = &spread {
                                td { (s.n) }
                                td { (format!("{:.2}", s.min)) } td { (format!("{:.2}", s.q1)) } td { (format!("{:.2}", s.median)) }
                                td { (format!("{:.2}", s.q3)) } td { (format!("{:.2}", s.max)) } td { (format!("{:.2}", s.mean)) }
                                td { (num(obs)) }
                                td { div class="flag-list" {
                                    @for f in flags(s.q1, s.q3, s.mean, obs, max) {
                                        span class="chip warn" { (f.words()) }
                                    }
                                } }
                            } @else {
                                td { "0" } td colspan="6" { "not rated" } td { (num(obs)) } td {}
                            }
                        }
                    }
                }
            }
        }))
    }
}

/// The impact of the round's cut on the sitting's scores, with their distribution.
fn impact_section(m: &RoundMatrix, observed: &Observed) -> Markup {
    let Ok(cut) = m.angoff() else {
        return html! { p id={ "impact-" (m.round) } { "No panelist rated every item in round " (m.round) ": no cut to show the impact of." } };
    };
    let total = m.total_max();
    let to_percent = |x: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
    let percents = observed.percents();
    let rows = impact(&percents, to_percent(cut.cut), cut.se.map(to_percent));
    html! {
        @if percents.is_empty() {
            p id={ "impact-" (m.round) } { "The study has no sitting with scores of this part: no impact to show." }
        } @else {
            (scroll_box(&format!("Round {} impact", m.round), html! {
                table class="stats" id={ "impact-" (m.round) } {
                    caption { "Round " (m.round) ": who would pass at the panel's cut, of " (percents.len()) " candidates" }
                    thead { tr { th scope="col" { "Cut" } th scope="col" { "Percent of the maximum" } th scope="col" { "Pass rate" } } }
                    tbody {
                        @for r in &rows {
                            tr data-k=(r.k) {
                                th scope="row" { @match r.k { 0 => "The panel's cut", k if k < 0 => { "Cut − " (-k) " SE" }, k => { "Cut + " (k) " SE" } } }
                                td class="cut-percent" { (format!("{:.2}%", r.cut_percent)) }
                                td class="pass-rate" { (share_text(r.pass_rate)) }
                            }
                        }
                    }
                }
            }))
            div class="charts" {
                (charts::histogram(&format!("distribution-{}", m.round), "The sitting's scores, with the panel's cut", &by_whole_percent(&percents), Some((to_percent(cut.cut) * 100.0).round() / 100.0), "score (percent of the maximum)"))
            }
        }
    }
}

fn definition(study: &Study, items: usize) -> Markup {
    html! {
        dl class="summary" id="definition" {
            dt { "Blueprint" } dd { (study.blueprint_id) ", " (part_name(study.part)) }
            dt { "Method" } dd { (study.method.title()) }
            dt { "Items" } dd { (items) " (" (match study.source {
                studies::Source::Pool => "the operational pool".to_string(),
                studies::Source::Form(r) => format!("the form of registration {r}"),
                studies::Source::Questions => "the open questions".to_string(),
            }) ")" }
            dt { "Sitting" } dd { (study.sitting_id.map_or_else(|| "none".into(), |s| format!("sitting {s}"))) }
            dt { "State" } dd id="study-state" { (study.state()) }
        }
    }
}

async fn page(
    state: &AppState,
    csrf: &str,
    study: &Study,
    error: Option<&FormError>,
) -> AppResult<Markup> {
    let db = &state.db;
    let items = studies::items(db, study.id).await?;
    let panel = studies::panel(db, study.id).await?;
    let progress = studies::progress(db, study).await?;
    let err = |form: &str| error.filter(|e| e.form == form).map(|e| e.message.clone());
    let closed = study.last_closed_round();
    let (matrix, observed) = match closed {
        Some(r) => (
            studies::round_ratings(db, study, r).await.ok(),
            studies::observed(db, study).await?,
        ),
        None => (None, Observed::default()),
    };
    let id = study.id;
    Ok(html! {
        h1 { "Study: " (study.name) }
        p { a href={ "/studies/" (id) "/results" } { "Results, Hofstee and adoption" } " · " a href="/studies" { "All studies" } }
        (definition(study, items.len()))
        h2 id="mcc-heading" { "The minimally competent candidate" }
        form method="post" action={ "/studies/" (id) "/mcc" } class="stack" {
            (csrf_field(csrf))
            label for="mcc" { "Description the panel rates against" }
            (field_error("mcc-error", err("mcc").as_ref()))
            textarea id="mcc" name="mcc" rows="6" { (study.mcc) }
            button type="submit" { "Save the description" }
        }
        h2 id="panel-heading" { "Panel" }
        @if panel.is_empty() {
            p { "No one is on the panel yet." }
        } @else {
            (scroll_box("Panel", html! {
                table class="stats" id="panel" {
                    caption { "Panel members" }
                    thead { tr { th scope="col" { "Member" } th scope="col" { "Added by" } th scope="col" { "Remove" } } }
                    tbody {
                        @for m in &panel {
                            tr {
                                td { (m.display_name) " (" (m.username) ")" }
                                td { (m.added_by) }
                                td {
                                    form method="post" action={ "/studies/" (id) "/panel" } {
                                        (csrf_field(csrf))
                                        input type="hidden" name="action" value="remove";
                                        input type="hidden" name="username" value=(m.username);
                                        button type="submit" class="secondary" { "Remove " (m.username) }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        form method="post" action={ "/studies/" (id) "/panel" } class="stack" {
            (csrf_field(csrf))
            input type="hidden" name="action" value="add";
            label for="username" { "Add a panelist or committee member by username" }
            (field_error("username-error", err("panel").as_ref()))
            input id="username" name="username" autocomplete="off" aria-describedby=[err("panel").map(|_| "username-error")];
            button type="submit" { "Add to the panel" }
        }
        h2 id="rounds-heading" { "Rounds" }
        p { (study.state()) ". " (study.rounds_planned) " round(s) planned." }
        (field_error("round-error", err("round").as_ref()))
        @if study.finished_at.is_none() {
            form method="post" action={ "/studies/" (id) "/round" } class="inline" {
                (csrf_field(csrf))
                @if study.round_open {
                    button type="submit" name="action" value="close" { "Close round " (study.round) }
                } @else if study.round < study.rounds_planned {
                    button type="submit" name="action" value="open" { "Open round " (study.round + 1) }
                }
                @if !study.round_open && study.round > 0 {
                    " " button type="submit" name="action" value="finish" class="secondary" { "Finish the study" }
                }
            }
        }
        @if study.round_open {
            h3 { "Progress in round " (study.round) }
            p { "Ratings are blind while the round is open: only how many items each member has rated." }
            (scroll_box("Progress", html! {
                table class="stats" id="progress" {
                    caption { "Progress in round " (study.round) }
                    thead { tr { th scope="col" { "Member" } th scope="col" { "Rated this round" } th scope="col" { "Current (incl. carried)" } th scope="col" { "Items" } th scope="col" { "Hofstee" } } }
                    tbody {
                        @for p in &progress {
                            tr {
                                td { (p.display_name) }
                                td { (p.rated) } td { (p.current) } td { (p.items) }
                                td { (if p.hofstee { "given" } else { "–" }) }
                            }
                        }
                    }
                }
            }))
        }
        @if let (Some(r), Some(m)) = (closed, &matrix) {
            h2 id="feedback-heading" { "Feedback after round " (r) }
            p { "Items are flagged where the ratings' interquartile range exceeds a fifth of the item's maximum, or where the panel's mean rating is more than a fifth of the maximum from the observed value." }
            (feedback(study, m, &items, &observed))
            h3 { "Impact" }
            (impact_section(m, &observed))
        }
    })
}

pub async fn show(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let study = the_study(&state, id).await?;
    let body = page(&state, &csrf, &study, None).await?;
    Ok(views::page(&study.name, Some(&chrome(me, &csrf)), body).into_response())
}

/// A change refused: the page again with the message in the form, 422.
async fn refused(
    state: &AppState,
    me: &crate::store::users::User,
    csrf: &str,
    id: i64,
    form: &'static str,
    e: ChangeError,
) -> AppResult<Response> {
    if let ChangeError::Store(e) = e {
        return Err(e.into());
    }
    let study = the_study(state, id).await?;
    let message = super::adoption::capitalised(&e.to_string());
    let body = page(state, csrf, &study, Some(&FormError { form, message })).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page(&study.name, Some(&chrome(me, csrf)), body),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct MccForm {
    #[serde(default)]
    pub mcc: String,
}

pub async fn mcc(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<MccForm>,
) -> AppResult<Response> {
    the_study(&state, id).await?;
    match studies::set_mcc(&state.db, id, &f.mcc, &me.username).await {
        Ok(()) => Ok(Redirect::to(&format!("/studies/{id}#mcc-heading")).into_response()),
        Err(e) => refused(&state, me, &csrf, id, "mcc", e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PanelForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub username: String,
}

pub async fn panel(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<PanelForm>,
) -> AppResult<Response> {
    the_study(&state, id).await?;
    let username = f.username.trim();
    let done = match f.action.as_str() {
        _ if username.is_empty() => Err(ChangeError::Round(
            "Username: give the username of a panelist or committee member.".into(),
        )),
        "add" => studies::add_panelist(&state.db, id, username, &me.username).await,
        "remove" => studies::remove_panelist(&state.db, id, username, &me.username)
            .await
            .map(|_| ()),
        other => Err(ChangeError::Round(format!(
            "Action: \"{}\" is neither add nor remove.",
            crate::auth::loggable(other)
        ))),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/studies/{id}#panel-heading")).into_response()),
        Err(e) => refused(&state, me, &csrf, id, "panel", e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RoundForm {
    #[serde(default)]
    pub action: String,
}

pub async fn round(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<RoundForm>,
) -> AppResult<Response> {
    the_study(&state, id).await?;
    let db = &state.db;
    let done = match f.action.as_str() {
        "open" => studies::open_round(db, id, &me.username).await.map(|_| ()),
        "close" => studies::close_round(db, id, &me.username).await.map(|_| ()),
        "finish" => studies::finish(db, id, &me.username).await,
        other => Err(ChangeError::Round(format!(
            "Action: \"{}\" is not open, close or finish.",
            crate::auth::loggable(other)
        ))),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/studies/{id}#rounds-heading")).into_response()),
        Err(e) => refused(&state, me, &csrf, id, "round", e).await,
    }
}
