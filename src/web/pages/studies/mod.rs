//! The committee's standard-setting pages (issue 14): the studies (`list`), a study's
//! facilitation (`facilitate`: the minimally competent candidate, the panel, the rounds, blind
//! progress while a round is open, the feedback and impact after one), its results (`results`:
//! the cut on every scale, each panelist's cut, consistency and misplacement, Hofstee, the cut
//! adjusted by k standard errors, and the adopt form) and the adopted pass mark's page with the
//! released sittings' preview and decisions (`adoption`). The committee's extractor guards
//! every route; panelists have their own pages (`pages::panel`).

pub mod adoption;
pub mod facilitate;
pub mod figures;
pub mod list;
pub mod results;

use axum::routing::{get, post};
use axum::Router;

use crate::store::studies::{self, Study};
use crate::web::error::{AppError, AppResult};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/studies", get(list::list).post(list::create))
        .route("/studies/{id}", get(facilitate::show))
        .route("/studies/{id}/mcc", post(facilitate::mcc))
        .route("/studies/{id}/panel", post(facilitate::panel))
        .route("/studies/{id}/round", post(facilitate::round))
        .route("/studies/{id}/results", get(results::show))
        .route("/studies/{id}/adopt", post(results::adopt))
        .route("/pass-marks/{change}", get(adoption::show))
        .route(
            "/pass-marks/{change}/sittings/{sitting}",
            post(adoption::decide),
        )
}

/// The study, or 404.
pub(super) async fn the_study(state: &AppState, id: i64) -> AppResult<Study> {
    studies::study(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// "Part One" or "Part Two".
pub fn part_name(part: u8) -> &'static str {
    adoption::part_name(part)
}

/// A share as a percent with one decimal ("63.9%"), or a dash without one.
pub fn share_text(share: Option<f64>) -> String {
    share.map_or_else(|| "–".into(), |s| format!("{:.1}%", 100.0 * s))
}

/// A number with two decimals, or a dash.
pub fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.2}"))
}
