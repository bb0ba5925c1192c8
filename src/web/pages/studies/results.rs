//! `GET /studies/{id}/results`: per closed round the panel's cut (raw points, percent of the
//! study's maximum, and where the items are calibrated θ and the equated percent on the pool),
//! its SE and SD, each panelist's cut, consistency and misplacement; Hofstee (each panelist's
//! bounds, the panel's means, the compromise and its chart); the cut adjusted by k SE; and the
//! adopt form. `POST /studies/{id}/adopt` adopts a pass mark (`store::results::pass_mark`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::PassMark;
use crate::exam::fair;
use crate::stats::standard_setting::{
    adjusted_cut, consistency, cut_on_scales, hofstee, misplacement, AngoffCut, Hofstee,
    HofsteeBounds,
};
use crate::store::results::pass_mark::{self, Adoption, ReleasedPolicy};
use crate::store::studies::{self, Observed, RoundMatrix, Study};
use crate::store::{bank as bank_store, calibration, forms};
use crate::web::charts;
use crate::web::error::AppResult;
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field, field_error, scroll_box, staff_chrome as chrome};
use crate::web::AppState;

use super::figures::parse_k;
use super::{num, part_name, the_study};

/// The Rasch difficulties the cut's other scales need: the study's items' (in position order)
/// and the blueprint's operational pool's, each only when every one is calibrated; Part Two is
/// never calibrated.
struct Calibrated {
    items: Option<Vec<f64>>,
    pool: Option<Vec<f64>>,
}

async fn calibrated(state: &AppState, study: &Study) -> AppResult<Calibrated> {
    if study.part != 1 {
        return Ok(Calibrated {
            items: None,
            pool: None,
        });
    }
    let db = &state.db;
    let by_version = calibration::latest_difficulties(db).await?;
    let items: Option<Vec<f64>> = studies::items(db, study.id)
        .await?
        .iter()
        .map(|i| by_version.get(&(i.item_id.clone(), i.version)).copied())
        .collect();
    let pool = bank_store::pool(db).await?;
    let d = forms::pool_difficulties(&pool, &by_version);
    let bp = bank_store::blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == study.blueprint_id);
    let pool_bs = bp.and_then(|bp| fair::pool_difficulties(&bp, &pool, &d).ok());
    Ok(Calibrated {
        items: items.filter(|v| !v.is_empty()),
        pool: pool_bs.filter(|v| !v.is_empty()),
    })
}

/// One closed round's figures.
struct Round {
    matrix: RoundMatrix,
    cut: Option<AngoffCut>,
}

fn percent_of(x: f64, max: f64) -> Option<f64> {
    (max > 0.0).then(|| 100.0 * x / max)
}

fn round_section(study: &Study, r: &Round, observed: &Observed, cal: &Calibrated) -> Markup {
    let m = &r.matrix;
    let max = m.total_max();
    let (names, rows) = m.complete();
    let shares = observed.shares(&m.max);
    html! {
        h2 id={ "round-" (m.round) } { "Round " (m.round) }
        @match &r.cut {
            None => p { "No panelist rated every item in this round: there is no cut." },
            Some(cut) => {
                @let scales = cut_on_scales(cut.cut, max, cal.items.as_deref(), cal.pool.as_deref());
                dl class="summary" id={ "cut-" (m.round) } {
                    dt { "Cut (raw points)" } dd class="cut-raw" { (format!("{:.2}", cut.cut)) " of " (max) }
                    dt { "Cut (percent of the maximum)" } dd class="cut-percent" { (scales.percent.map_or_else(|| "–".into(), |p| format!("{p:.2}%"))) }
                    @if study.part == 1 {
                        dt { "θ at the cut (logits)" } dd class="cut-theta" { (scales.theta.map_or_else(|| "– (the items are not all calibrated)".into(), |t| format!("{t:.3}"))) }
                        dt { "Equated percent on the pool" } dd class="cut-equated" { (scales.pool_percent.map_or_else(|| "– (the pool is not calibrated)".into(), |p| format!("{p:.2}%"))) }
                    }
                    dt { "Standard error" } dd class="cut-se" { (num(cut.se)) @if let Some(se) = cut.se { " (" (format!("{:.2}", percent_of(se, max).unwrap_or(0.0))) "%)" } }
                    dt { "SD of the panelists' cuts" } dd class="cut-sd" { (num(cut.sd)) }
                    dt { "Panelists counted" } dd { (rows.len()) " of " (m.panelists.len()) " (those who rated every item)" }
                }
                (scroll_box(&format!("Round {} panelists", m.round), html! {
                    table class="stats" id={ "panelists-" (m.round) } {
                        caption { "Round " (m.round) ": each panelist's cut" }
                        thead { tr {
                            th scope="col" { "Panelist" } th scope="col" { "Cut" } th scope="col" { "Percent" }
                            th scope="col" { "Consistency (r with observed)" }
                            @if study.part == 1 { th scope="col" { "Misplacement" } }
                        } }
                        tbody {
                            @for (name, ratings) in names.iter().zip(&rows) {
                                @let own: f64 = ratings.iter().sum();
                                @let pairs: (Vec<f64>, Vec<f64>) = ratings.iter().zip(&m.max).zip(&shares)
                                    .filter_map(|((r, mx), o)| o.map(|o| (if *mx > 0.0 { r / mx } else { 0.0 }, o)))
                                    .unzip();
                                tr {
                                    td { (name) }
                                    td { (format!("{own:.2}")) }
                                    td { (percent_of(own, max).map_or_else(|| "–".into(), |p| format!("{p:.2}%"))) }
                                    td { (num(consistency(&pairs.0, &pairs.1))) }
                                    @if study.part == 1 {
                                        td { (num(cal.items.as_deref().and_then(|b| misplacement(ratings, b)).map(|x| x.mean))) }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

/// The Hofstee section of the newest round that has bounds.
async fn hofstee_section(
    state: &AppState,
    study: &Study,
    observed: &Observed,
) -> AppResult<Markup> {
    let mut given = Vec::new();
    let mut round = 0;
    if let Some(last) = study.last_closed_round() {
        for r in (1..=last).rev() {
            given = studies::hofstee_of(&state.db, study.id, r).await?;
            if !given.is_empty() {
                round = r;
                break;
            }
        }
    }
    if given.is_empty() {
        return Ok(
            html! { h2 id="hofstee" { "Hofstee" } p { "No panelist has given Hofstee bounds in a closed round." } },
        );
    }
    let bounds: Vec<HofsteeBounds> = given.iter().map(|(_, h)| h.bounds()).collect();
    let mean = HofsteeBounds::mean(&bounds).expect("bounds were given");
    let percents = observed.percents();
    let result = hofstee(&percents, &mean);
    let pct = |share: f64| format!("{:.1}%", 100.0 * share);
    Ok(html! {
        h2 id="hofstee" { "Hofstee, round " (round) }
        (scroll_box("Hofstee bounds", html! {
            table class="stats" id="hofstee-bounds" {
                caption { "Each panelist's acceptable cuts (percent correct) and failure rates" }
                thead { tr { th scope="col" { "Panelist" } th scope="col" { "Lowest cut" } th scope="col" { "Highest cut" } th scope="col" { "Lowest failure rate" } th scope="col" { "Highest failure rate" } } }
                tbody {
                    @for (name, h) in &given {
                        tr { td { (name) } td { (format!("{:.1}%", h.cut_min)) } td { (format!("{:.1}%", h.cut_max)) } td { (format!("{:.1}%", h.fail_min)) } td { (format!("{:.1}%", h.fail_max)) } }
                    }
                    tr class="mean" { th scope="row" { "The panel's means" } td { (format!("{:.1}%", mean.cut_min)) } td { (format!("{:.1}%", mean.cut_max)) } td { (pct(mean.fail_min)) } td { (pct(mean.fail_max)) } }
                }
            }
        }))
        p id="hofstee-result" {
            @match &result {
                Ok(Hofstee::Cut { cut, fail_rate }) => { "Compromise cut: " strong { (cut) "%" } " of the maximum, where " (pct(*fail_rate)) " of " (percents.len()) " candidates fail." }
                Ok(Hofstee::CurveBelowLine) => { "No compromise: even the highest acceptable cut fails fewer than the panel would accept." }
                Ok(Hofstee::CurveAboveLine) => { "No compromise: already at the lowest acceptable cut more fail than the panel would accept." }
                Err(e) => { "No compromise: " (e) "." }
            }
        }
        @if let Ok(r) = &result {
            div class="charts" {
                (charts::hofstee("hofstee-chart", "Hofstee: failure rate by cut (percent of the maximum)", &percents, 100.0, &mean, r))
            }
        }
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ResultsQuery {
    #[serde(default)]
    pub k: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct AdoptForm {
    #[serde(default)]
    pub pass_mark: String,
    #[serde(default)]
    pub reason: String,
    /// "decide" (see who would change in each released sitting, then decide per sitting) or
    /// "keep" (leave every released sitting as released).
    #[serde(default)]
    pub release_policy: String,
}

type Errors = BTreeMap<&'static str, String>;

async fn page(
    state: &AppState,
    csrf: &str,
    study: &Study,
    k_text: &str,
    form: Option<&AdoptForm>,
    errors: &Errors,
) -> AppResult<Markup> {
    let db = &state.db;
    let observed = studies::observed(db, study).await?;
    let cal = calibrated(state, study).await?;
    let mut rounds = Vec::new();
    if let Some(last) = study.last_closed_round() {
        for r in 1..=last {
            if let Ok(matrix) = studies::round_ratings(db, study, r).await {
                let cut = matrix.angoff().ok();
                rounds.push(Round { matrix, cut });
            }
        }
    }
    let k = parse_k(k_text);
    let newest = rounds.iter().rev().find_map(|r| {
        r.cut
            .as_ref()
            .map(|c| (r.matrix.round, c.clone(), r.matrix.total_max()))
    });
    let adjusted = newest.as_ref().and_then(|(_, c, max)| {
        let k = *k.as_ref().ok()?;
        adjusted_cut(c, k, *max)
            .or_else(|| (k == 0.0).then_some(c.cut))
            .map(|a| (a, *max))
    });
    let recommended =
        adjusted.and_then(|(a, max)| percent_of(a, max).and_then(PassMark::at_or_below));
    let bp = bank_store::blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == study.blueprint_id);
    let current = bp.as_ref().map(|b| pass_mark::mark_of(b, study.part));
    let described = |f: &'static str| errors.contains_key(f).then(|| format!("{f}-error"));
    let id = study.id;
    Ok(html! {
        h1 { "Results: " (study.name) }
        p { a href={ "/studies/" (id) } { "The study's facilitation page" } " · " (study.blueprint_id) ", " (part_name(study.part)) ", " (study.method.title()) ". " (study.state()) "." }
        @if rounds.is_empty() {
            p id="no-rounds" { "No round has been closed yet: results show once one is." }
        }
        @for r in &rounds { (round_section(study, r, &observed, &cal)) }
        (hofstee_section(state, study, &observed).await?)
        h2 id="adjust" { "The cut adjusted by k standard errors" }
        form method="get" action={ "/studies/" (id) "/results#adjust" } class="inline" {
            label for="k" { "k (from −3 to 3; negative lowers the cut)" }
            (field_error("k-error", k.as_ref().err()))
            input id="k" name="k" inputmode="decimal" value=(k_text) aria-describedby=[k.is_err().then_some("k-error")];
            button type="submit" { "Adjust" }
        }
        @match (&newest, adjusted) {
            (Some((round, c, max)), Some((a, _))) => p id="adjusted" {
                "Round " (round) ": the cut " (format!("{:.2}", c.cut)) " + k × SE " (num(c.se)) " = " strong { (format!("{a:.2}")) " of " (max) } " points ("
                (percent_of(a, *max).map_or_else(|| "–".into(), |p| format!("{p:.2}%"))) ")."
            },
            (Some(_), None) => p id="adjusted" { "No adjustment: the cut has no standard error (one panelist) or k is not valid." },
            _ => p id="adjusted" { "No cut yet." },
        }
        h2 id="adopt" { "Adopt a pass mark" }
        p {
            "The blueprint's " (part_name(study.part)) " pass mark is now " strong id="current-mark" { (current.map_or_else(|| "–".into(), |m| format!("{m}%"))) } ". "
            "Adopting one records it with its reason in the audit log, applies it wherever results are computed, and re-decides the stored results of the blueprint's sittings not yet released, in one step. Released sittings change only when the committee decides for each, after seeing who would change."
        }
        @if !errors.is_empty() {
            div class="error" role="alert" id="adopt-errors" {
                p { "Nothing was adopted:" }
                ul { @for e in errors.values() { li { (e) } } }
            }
        }
        form method="post" action={ "/studies/" (id) "/adopt" } class="stack" novalidate {
            (csrf_field(csrf))
            label for="pass_mark" { "Pass mark (percent of the maximum, to a hundredth)" }
            (field_error("pass_mark-error", errors.get("pass_mark")))
            input id="pass_mark" name="pass_mark" inputmode="decimal" required
                value=(form.map_or_else(|| recommended.map(|m| m.to_string()).unwrap_or_default(), |f| f.pass_mark.clone()))
                aria-describedby=[described("pass_mark")];
            @if let Some(m) = recommended { p class="hint" id="recommended" { "Recommended from the panel's cut" @if adjusted.is_some() && k.as_ref().is_ok_and(|k| *k != 0.0) { " adjusted by k SE" } ": " (m) "%." } }
            label for="reason" { "Reason (kept in the audit log)" }
            (field_error("reason-error", errors.get("reason")))
            textarea id="reason" name="reason" rows="3" required aria-describedby=[described("reason")] { (form.map(|f| f.reason.as_str()).unwrap_or("")) }
            fieldset aria-describedby=[described("release_policy")] {
                legend { "Sittings whose results are released" }
                (field_error("release_policy-error", errors.get("release_policy")))
                @let chosen = form.map_or("decide", |f| f.release_policy.as_str());
                div class="option" {
                    input type="radio" name="release_policy" id="policy-decide" value="decide" checked[chosen == "decide"];
                    label for="policy-decide" { "Show me who would change in each, then I decide per sitting" }
                }
                div class="option" {
                    input type="radio" name="release_policy" id="policy-keep" value="keep" checked[chosen == "keep"];
                    label for="policy-keep" { "Leave every released sitting as released" }
                }
            }
            button type="submit" { "Adopt this pass mark" }
        }
    })
}

pub async fn show(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<ResultsQuery>,
) -> AppResult<Response> {
    let study = the_study(&state, id).await?;
    let body = page(&state, &csrf, &study, &q.k, None, &Errors::new()).await?;
    Ok(views::page(
        &format!("Results: {}", study.name),
        Some(&chrome(me, &csrf)),
        body,
    )
    .into_response())
}

/// Adopts the pass mark for the study's blueprint part; errors named by field re-render the page
/// (422). On success to the adoption's page, which lists the released sittings to decide on.
pub async fn adopt(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<AdoptForm>,
) -> AppResult<Response> {
    let study = the_study(&state, id).await?;
    let mut errors = Errors::new();
    let mark = match PassMark::parse(&f.pass_mark) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.insert("pass_mark", format!("Pass mark: {e}."));
            None
        }
    };
    if f.reason.trim().is_empty() {
        errors.insert(
            "reason",
            "Reason: say why this pass mark is adopted; it is kept in the audit log.".into(),
        );
    }
    let policy = match f.release_policy.trim() {
        "decide" | "" => None,
        "keep" => Some(ReleasedPolicy::Keep),
        other => {
            errors.insert(
                "release_policy",
                format!(
                    "Released sittings: \"{}\" is neither decide nor keep.",
                    crate::auth::loggable(other)
                ),
            );
            None
        }
    };
    if let Some(mark) = mark.filter(|_| errors.is_empty()) {
        let a = Adoption {
            blueprint_id: study.blueprint_id.clone(),
            part: study.part,
            mark,
            reason: f.reason.clone(),
            study_id: Some(study.id),
        };
        match pass_mark::adopt(&state.db, &a, &me.username).await? {
            Ok(done) => {
                if policy == Some(ReleasedPolicy::Keep) {
                    for s in &done.released_sittings {
                        // A refusal here (decided meanwhile) leaves that sitting as it is.
                        let _ = pass_mark::decide_released(
                            &state.db,
                            done.change_id,
                            *s,
                            ReleasedPolicy::Keep,
                            &f.reason,
                            &me.username,
                        )
                        .await?;
                    }
                }
                return Ok(Redirect::to(&format!("/pass-marks/{}", done.change_id)).into_response());
            }
            Err(e) => {
                let field = match e {
                    pass_mark::Refused::NoReason => "reason",
                    _ => "pass_mark",
                };
                errors.insert(field, super::adoption::capitalised(&e.to_string()));
            }
        }
    }
    let body = page(&state, &csrf, &study, "", Some(&f), &errors).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page(
            &format!("Results: {}", study.name),
            Some(&chrome(me, &csrf)),
            body,
        ),
    )
        .into_response())
}
