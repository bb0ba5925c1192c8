//! The standard-setting panel's pages (issue 14): a panelist's studies, one study's items with
//! their own ratings, the item page they rate on, and the Hofstee form. A panel member sees
//! only studies whose panel they sit on ([`OnPanel`]: any other is "not found") and only their
//! own ratings while a round is open; the panel's spread, without names, after it closes.
//!
//! Keyboard first and without script: the rating is one radio group (arrow keys move the
//! choice, Enter submits), the checked radio (or the first) has focus when the page opens, and
//! "Save and next" opens the next item.

mod feedback;
mod hofstee;
mod item;

pub use hofstee::{hofstee_page, hofstee_save};
pub use item::{item_page, rate};

use axum::extract::State;
use maud::{html, Markup};

use crate::store::studies::{self, Study};
use crate::store::users::User;
use crate::store::Db;
use crate::web::error::AppResult;
use crate::web::roles::{OnPanel, PanelMember};
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self};
use crate::web::AppState;

use feedback::{fmt, Feedback};

/// `GET /panel`: the studies whose panel I sit on.
pub async fn home(
    State(state): State<AppState>,
    PanelMember(ref me): PanelMember,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let body = my_studies(&state.db, me).await?;
    Ok(views::page(
        "My studies",
        Some(&chrome(me, &csrf)),
        html! { h1 { "Standard-setting studies" } (body) },
    ))
}

/// The list of `me`'s studies with their round and my progress: the panel page's body, and
/// a panelist's home page.
pub async fn my_studies(db: &Db, me: &User) -> AppResult<Markup> {
    let mine = studies::for_panelist(db, &me.username).await?;
    let mut rows = Vec::with_capacity(mine.len());
    for s in &mine {
        let n = studies::item_count(db, s.id).await?;
        let rated = match s.open_round() {
            Some(r) => Some(
                studies::my_ratings(db, s.id, r, &me.username)
                    .await?
                    .values()
                    .filter(|m| !m.carried)
                    .count(),
            ),
            None => None,
        };
        rows.push((s, n, rated));
    }
    Ok(html! {
        @if rows.is_empty() {
            p { "You are not on any study's panel yet. The committee's facilitator adds you to a panel; its study then appears here." }
        } @else {
            (views::scroll_box("Your studies", html! {
                table class="studies" {
                    caption class="hint" { "Studies whose panel you sit on" }
                    thead { tr { th scope="col" { "Study" } th scope="col" { "Round" } th scope="col" { "Your progress" } } }
                    tbody {
                        @for (s, n, rated) in &rows {
                            tr {
                                td { a href={ "/panel/" (s.id) } { (s.name) } }
                                td { (s.state()) }
                                td {
                                    @match rated {
                                        Some(k) => { (k) " of " (n) " items rated this round" }
                                        None => { (n) " items" }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
    })
}

/// What a study asks of the panel, in words.
fn method_line(s: &Study) -> &'static str {
    match (s.part, s.method) {
        (1, studies::Method::YesNo) => "For each item: would a minimally competent candidate answer it correctly? Yes or No.",
        (1, _) => "For each item: the probability (0.00 to 1.00) that a minimally competent candidate answers it correctly.",
        _ => "For each question: the points a minimally competent candidate would be expected to score.",
    }
}

/// The description of the minimally competent candidate, collapsible.
fn mcc_block(s: &Study, open: bool) -> Markup {
    html! {
        details class="mcc" open[open] {
            summary { "The minimally competent candidate" }
            @if s.mcc.trim().is_empty() {
                p class="hint" { "The facilitator has not described the minimally competent candidate yet." }
            } @else {
                @for para in s.mcc.split("\n\n").filter(|p| !p.trim().is_empty()) { p { (para) } }
            }
        }
    }
}

/// `GET /panel/{id}`: the study, the round's state, my ratings and (after a closed round) the
/// panel's feedback.
pub async fn study_page(
    State(state): State<AppState>,
    OnPanel { user: me, study }: OnPanel,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let items = studies::items(&state.db, study.id).await?;
    let round = study.open_round();
    let mine = studies::my_ratings(&state.db, study.id, study.round, &me.username).await?;
    let rated_now = mine.values().filter(|m| !m.carried).count();
    let first_unrated = items
        .iter()
        .find(|i| mine.get(&i.position).is_none_or(|m| m.carried))
        .or(items.first());
    let hofstee = match round {
        Some(r) if study.final_round_open() => {
            Some(studies::my_hofstee(&state.db, study.id, r, &me.username).await?)
        }
        _ => None,
    };
    let fb = Feedback::of(&state.db, &study).await?;
    let body = html! {
        p class="hint" { a href="/panel" { "My studies" } }
        h1 { (study.name) }
        dl class="summary" {
            dt { "Where it stands" } dd { (study.state()) }
            dt { "Blueprint" } dd { (study.blueprint_id) ", Part " (study.part) }
            dt { "Method" } dd { (study.method.title()) }
            dt { "Items" } dd { (items.len()) }
        }
        p { (method_line(&study)) }
        (mcc_block(&study, true))
        h2 { "Your ratings" }
        @match round {
            Some(r) => {
                p role="status" {
                    "Round " (r) " is open. You have rated " strong { (rated_now) " of " (items.len()) } " items in this round."
                    @if r > 1 { " An item you leave unchanged keeps your round " (r - 1) " rating." }
                }
                @if let Some(first) = first_unrated {
                    p { a class="button" href={ "/panel/" (study.id) "/items/" (first.position) } { "Rate item " (first.position) } }
                }
            }
            None => {
                p role="status" {
                    @if study.finished_at.is_some() { "The study is finished; thank you." }
                    @else if study.round == 0 { "Rating opens when the facilitator opens round 1." }
                    @else { "Round " (study.round) " is closed. Ratings are taken only while a round is open." }
                }
            }
        }
        @if let Some(h) = &hofstee {
            p {
                a href={ "/panel/" (study.id) "/hofstee" } { "Your Hofstee bounds" }
                @if h.is_some() { " (given; you may change them while the round is open)" } @else { " (not given yet)" }
            }
        }
        (views::scroll_box("Items and your ratings", html! {
            table class="panel-items" {
                caption class="hint" { "Only your own ratings are shown." }
                thead { tr {
                    th scope="col" { "Item" } th scope="col" { "Your rating" }
                    @if fb.is_some() { th scope="col" { "Panel median" } th scope="col" { "Observed" } }
                } }
                tbody {
                    @for (index, i) in items.iter().enumerate() {
                        tr {
                            td { a href={ "/panel/" (study.id) "/items/" (i.position) } { "Item " (i.position) } }
                            td {
                                @match mine.get(&i.position) {
                                    Some(m) => {
                                        (label_of(&study, i.max_points, m.value))
                                        @if m.carried { " " span class="hint" { "(round " (study.round.saturating_sub(1)) ")" } }
                                    }
                                    None => { span class="hint" { "not rated" } }
                                }
                            }
                            @if let Some(f) = &fb {
                                td { (f.spread(index).map(|s| fmt(s.median)).unwrap_or_else(|| "–".into())) }
                                td { (f.observed_text(index, study.part)) }
                            }
                        }
                    }
                }
            }
        }))
        @if let Some(f) = &fb {
            h2 { "Round " (f.round) " feedback" }
            p { "The panel's ratings are shown without names: each item's median above, and on each item's page its full spread." }
            (f.impact_line())
        }
    };
    Ok(views::page(&study.name, Some(&chrome(&me, &csrf)), body))
}

/// A rating as its choice is labelled.
fn label_of(study: &Study, max_points: u32, value: f64) -> String {
    let scale = study.scale(max_points);
    scale
        .choices()
        .into_iter()
        .find(|(v, _)| (v - value).abs() < 1e-6)
        .map_or_else(|| fmt(value), |(_, l)| l)
}
