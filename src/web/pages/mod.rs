//! The pages, a module per audience.

pub mod appeals;
pub mod committee;
mod decision;
pub mod dif;
pub mod exam;
pub mod item_stats;
pub mod keys;
pub mod login;
pub mod panel;
pub mod proctor;
pub mod rasch;
pub mod rater;
mod raters_model;
mod read_behind;
pub mod registration;
pub mod report;
pub mod results;
pub mod staff;
pub mod stats;
pub mod studies;
pub mod two_factor;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(staff::home))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/enter", get(login::enter_form).post(login::enter))
        .route("/candidate", get(exam::home))
        .route("/candidate/about", post(exam::save_about))
        .route("/candidate/appeal", post(exam::request_appeal))
        .route("/exam/{part}/start", post(exam::start))
        .route("/exam/{part}", get(exam::part))
        .route(
            "/exam/1/item/{pos}",
            get(exam::item_page).post(exam::save_item),
        )
        .route(
            "/exam/2/vignettes",
            get(exam::vignettes_page).post(exam::save_vignettes),
        )
        .route("/exam/{part}/review", get(exam::review))
        .route("/exam/{part}/break", post(exam::take_break))
        .route("/exam/{part}/end-break", post(exam::end_break))
        .route("/exam/{part}/submit", post(exam::submit))
        .route("/exam/{part}/receipt", get(exam::receipt_page))
        .route("/exam/api/save", post(exam::api_save))
        .route("/exam/api/event", post(exam::api_event))
        .route("/exam/api/clock/{part}", get(exam::api_clock))
        .route("/exam/api/status", get(exam::api_status))
        .route("/sittings", get(proctor::list).post(proctor::create))
        .route("/sittings/{id}", get(proctor::show))
        .route("/sittings/{id}/live", get(proctor::live))
        .route("/sittings/{id}/register", post(registration::register))
        // The CSRF layer has read the body already, within the upload limit (`web::is_upload`).
        .route(
            "/sittings/{id}/import",
            post(registration::import_csv).layer(DefaultBodyLimit::disable()),
        )
        .route("/batches/{id}", get(registration::show_batch))
        .route("/batches/{id}/codes.csv", get(registration::codes_csv))
        .route("/batches/{id}/slips", get(registration::slips))
        .route("/batches/{id}/handed-out", post(registration::handed_out))
        .route("/sittings/{id}/pause-all", post(proctor::pause_all))
        .route("/sittings/{id}/resume-all", post(proctor::resume_all))
        .route("/sittings/{id}/incident", post(proctor::incident))
        .route("/registrations/{id}/admit", post(proctor::admit))
        .route("/registrations/{id}/absent", post(proctor::absent))
        .route("/registrations/{id}/release", post(proctor::release))
        .route("/attempts/{id}/pause", post(proctor::pause))
        .route("/attempts/{id}/resume", post(proctor::resume))
        .route("/attempts/{id}/add-time", post(proctor::add_time))
        .route(
            "/attempts/{id}/void",
            get(proctor::confirm_void).post(proctor::void),
        )
        .route("/admin/users", get(staff::users).post(staff::add_user))
        .route("/bank", get(staff::bank))
        .route("/rate", get(rater::queue))
        .route("/rate/conflicts", post(rater::declare_conflict))
        .route("/rate/{code}", get(rater::desk).post(rater::rate))
        .route("/scoring", get(committee::list))
        .route("/scoring/{id}", get(committee::show))
        .route("/scoring/{id}/assign", post(committee::assign))
        .route("/scoring/{id}/withdraw", post(committee::withdraw))
        .route("/scoring/{id}/validity", post(committee::validity))
        .route("/scoring/{id}/qualifying", post(committee::qualifying))
        .route("/scoring/{id}/read-behind", get(read_behind::list))
        .route(
            "/scoring/{id}/read-behind/{assignment}",
            get(read_behind::show).post(read_behind::decide),
        )
        .route("/scoring/{id}/results", get(results::results_page))
        .route("/scoring/{id}/results.csv", get(results::results_csv))
        .route("/scoring/{id}/comments.csv", get(keys::comments_csv))
        .route("/scoring/{id}/appeals", get(appeals::appeals_page))
        .route("/scoring/{id}/appeals.csv", get(appeals::appeals_csv))
        .route("/scoring/{id}/appeals/{appeal}/start", post(appeals::start))
        .route(
            "/scoring/{id}/appeals/{appeal}/decide",
            post(appeals::decide),
        )
        .route("/scoring/{id}/results/compute", post(results::compute))
        .route("/scoring/{id}/release", post(results::release))
        .route("/scoring/{id}/pass-on", post(results::change_pass_on))
        .route(
            "/scoring/responses/{id}/feedback",
            get(committee::feedback_page).post(committee::save_feedback),
        )
        .route("/keys", get(keys::keys).post(keys::change_key))
        .route("/stats/{id}/agreement", get(stats::agreement_page))
        .route("/stats/{id}/items", get(item_stats::items_page))
        .route("/stats/{id}/items/{item}", get(item_stats::item_page))
        .route("/stats/{id}/dif", get(dif::dif_page))
        .route("/stats/{id}/rasch", get(rasch::rasch_page))
        .route("/stats/{id}/calibrate", post(rasch::calibrate))
        .route("/stats/{id}/report", get(report::report_page))
        .merge(studies::routes())
        .merge(two_factor::routes())
        .route("/panel", get(panel::home))
        .route("/panel/{id}", get(panel::study_page))
        .route(
            "/panel/{id}/items/{position}",
            get(panel::item_page).post(panel::rate),
        )
        .route(
            "/panel/{id}/hofstee",
            get(panel::hofstee_page).post(panel::hofstee_save),
        )
}
