//! The pages, a module per audience.

pub mod login;
pub mod staff;

use axum::routing::{get, post};
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(staff::home))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/enter", get(login::enter_form).post(login::enter))
        .route("/candidate", get(login::candidate_home))
        .route("/admin/users", get(staff::users).post(staff::add_user))
        .route("/bank", get(staff::bank))
}
