//! One item on the panel: as candidates see it, with its key and rationale (a Part Two
//! question with its rubric and anchors), the rating form, and after a closed round the
//! panel's spread, the observed difficulty and the impact of the panel's cut.
//!
//! Not for copying: the item's text cannot be selected (`user-select: none`), pages are never
//! stored (`Cache-Control: no-store`, on every page), there is no export, and every view is
//! logged.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::store::studies::{self, MyRating, RateError, Study, StudyItem};
use crate::store::users::User;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::OnPanel;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::feedback::{spread_block, Feedback};
use super::mcc_block;

fn paragraphs(text: &str) -> Markup {
    html! { @for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) { p { (para) } } }
}

/// The item `{position}` of the route, or 404.
async fn the_item(
    state: &AppState,
    study: &Study,
    position: &str,
) -> AppResult<(Vec<StudyItem>, usize)> {
    let pos: u32 = position.parse().map_err(|_| AppError::NotFound)?;
    let items = studies::items(&state.db, study.id).await?;
    let index = items
        .iter()
        .position(|i| i.position == pos)
        .ok_or(AppError::NotFound)?;
    Ok((items, index))
}

/// `GET /panel/{id}/items/{position}`.
pub async fn item_page(
    State(state): State<AppState>,
    OnPanel { user: me, study }: OnPanel,
    Path((_, position)): Path<(String, String)>,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let (items, index) = the_item(&state, &study, &position).await?;
    let item = &items[index];
    studies::log_view(
        &state.db,
        study.id,
        study.round,
        &me.username,
        item.position,
    )
    .await?;
    let page = render(&state, &me, &csrf, &study, &items, index, None, None).await?;
    Ok(page.into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub rating: Option<String>,
}

/// `POST /panel/{id}/items/{position}`: one rating row; then the next item, or the study
/// after the last.
pub async fn rate(
    State(state): State<AppState>,
    OnPanel { user: me, study }: OnPanel,
    Path((_, position)): Path<(String, String)>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<RateForm>,
) -> AppResult<Response> {
    let (items, index) = the_item(&state, &study, &position).await?;
    let item = &items[index];
    let scale = study.scale(item.max_points);
    let raw = form.rating.unwrap_or_default();
    let result: Result<(), String> = match scale.parse(&raw) {
        Err(e) => Err(e),
        Ok(v) => match studies::rate(&state.db, study.id, &me.username, item.position, v).await {
            Ok(_) => Ok(()),
            Err(RateError::Store(e)) => return Err(e.into()),
            Err(e) => Err(e.to_string()),
        },
    };
    match result {
        Ok(_) => {
            let next = items.get(index + 1).map_or_else(
                || format!("/panel/{}", study.id),
                |n| format!("/panel/{}/items/{}", study.id, n.position),
            );
            Ok(Redirect::to(&next).into_response())
        }
        Err(message) => {
            let page = render(
                &state,
                &me,
                &csrf,
                &study,
                &items,
                index,
                Some(&message),
                Some(raw.as_str()),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    me: &User,
    csrf: &str,
    study: &Study,
    items: &[StudyItem],
    index: usize,
    error: Option<&str>,
    typed: Option<&str>,
) -> AppResult<Markup> {
    let item = &items[index];
    let mine: Option<MyRating> =
        studies::my_ratings(&state.db, study.id, study.round, &me.username)
            .await?
            .get(&item.position)
            .copied();
    let vignette = match &item.vignette {
        Some(v) => studies::vignette(&state.db, v).await?,
        None => None,
    };
    let fb = Feedback::of(&state.db, study).await?;
    let scale = study.scale(item.max_points);
    // What the form shows chosen: what was just sent (when it is on the scale), else my rating.
    let chosen: Option<String> = match typed {
        Some(t) => scale.parse(t).ok().map(|v| scale.form_value(v)),
        None => mine.map(|m| scale.form_value(m.value)),
    };
    let choices = scale.choices();
    let focus_value = chosen
        .clone()
        .unwrap_or_else(|| scale.form_value(choices[0].0));
    let n = items.len();
    let round = study.open_round();
    let body = html! {
        p class="hint" {
            a href={ "/panel/" (study.id) } { (study.name) }
            " · item " (item.position) " of " (n)
        }
        h1 { "Item " (item.position) " of " (n) }
        (mcc_block(study, false))
        div class="panel-layout" {
            section class="panel-item" aria-labelledby="item-title" {
                h2 id="item-title" class="sr-only" { "The item" }
                @if let Some((title, text)) = &vignette {
                    section class="vignette" aria-labelledby="vignette-title" {
                        h3 id="vignette-title" { (title) }
                        (paragraphs(text))
                    }
                }
                (item_body(&item.body))
            }
            div class="panel-rate" {
                @if let Some(r) = round {
                    form method="post" action={ "/panel/" (study.id) "/items/" (item.position) } class="rate" {
                        (csrf_field(csrf))
                        fieldset aria-describedby=[error.map(|_| "rating-error")] {
                            legend { (legend(study)) }
                            @if let Some(e) = error {
                                p class="field-error" role="alert" id="rating-error" { (e) }
                            }
                            div class={ "choices " (if matches!(scale, studies::Scale::Probability) { "grid" } else { "" }) } {
                                @for (value, label) in &choices {
                                    @let v = scale.form_value(*value);
                                    div class="option rating" {
                                        input type="radio" name="rating" id={ "rating-" (v) } value=(v)
                                            checked[chosen.as_deref() == Some(v.as_str())]
                                            aria-invalid=[error.map(|_| "true")]
                                            autofocus[v == focus_value];
                                        label for={ "rating-" (v) } { (label) }
                                    }
                                }
                            }
                        }
                        @if let Some(m) = mine {
                            @if m.carried && error.is_none() {
                                p class="hint" { "Your round " (r.saturating_sub(1)) " rating is chosen; save it to keep it, or choose another." }
                            }
                        }
                        div class="actions" {
                            button type="submit" { "Save and next" }
                        }
                        p class="hint" { "Arrow keys move the choice; Enter saves it and opens the next item." }
                    }
                } @else {
                    @if let Some(e) = error {
                        p class="field-error" role="alert" id="rating-error" { (e) }
                    }
                    p role="status" class="notice" {
                        @if study.finished_at.is_some() { "The study is finished." }
                        @else if study.round == 0 { "Rating opens when the facilitator opens round 1." }
                        @else { "Round " (study.round) " is closed: ratings are taken only while a round is open." }
                    }
                    @if let Some(m) = mine {
                        p { "Your rating: " strong { (scale.form_value(m.value)) } }
                    }
                }
                nav class="pager" aria-label="Items" {
                    @if index > 0 { a href={ "/panel/" (study.id) "/items/" (items[index - 1].position) } { "Previous item" } }
                    a href={ "/panel/" (study.id) } { "All items" }
                    @if index + 1 < n { a href={ "/panel/" (study.id) "/items/" (items[index + 1].position) } { "Next item" } }
                }
            }
        }
        @if let Some(f) = &fb { (spread_block(f, index, study.part)) }
    };
    Ok(views::page(
        &format!("Item {} · {}", item.position, study.name),
        Some(&chrome(me, csrf)),
        body,
    ))
}

fn legend(study: &Study) -> &'static str {
    match (study.part, study.method) {
        (1, studies::Method::YesNo) => {
            "Your rating: would a minimally competent candidate answer this item correctly?"
        }
        (1, _) => "Your rating: the probability that a minimally competent candidate answers this item correctly",
        _ => "Your rating: the points a minimally competent candidate would be expected to score",
    }
}

/// The item as candidates see it, with what they do not: the key and rationale, or the rubric
/// with its anchors.
fn item_body(body: &ItemBody) -> Markup {
    html! {
        @match body {
            ItemBody::Mcq(m) => {
                div class="stem" { (paragraphs(&m.stem)) }
                ol class="options" {
                    @for o in &m.options {
                        li class=(if o.letter == m.key { "key" } else { "" }) {
                            span class="letter" { (o.letter) "." } " " (o.text)
                            @if o.letter == m.key { " " strong class="chip ok" { "Key" } }
                        }
                    }
                }
                h3 { "Rationale" }
                (paragraphs(&m.rationale))
            }
            ItemBody::Open(o) => {
                div class="stem" { (paragraphs(&o.prompt)) }
                p class="hint" { "Scored 0 to " (o.max_score) " against the rubric." }
                h3 { "Rubric" }
                @for p in &o.rubric {
                    h4 { "Score " (p.score) }
                    p { (p.descriptor) }
                    @for (i, a) in p.anchors.iter().enumerate() {
                        figure class="anchor" {
                            figcaption { "Anchor answer " (i + 1) " at score " (p.score) }
                            blockquote { (a) }
                        }
                    }
                }
            }
        }
    }
}
