//! One error type for every handler: rendered as an HTML page, logged once if internal, and
//! never leaking internals to the browser.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::views;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in: send the browser to the login page, then back.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("this page is for {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    /// Signed in with a role that may, but this thing is someone else's: the message says whose.
    #[error("{0}")]
    NotYours(String),
    /// No longer there, and why.
    #[error("{0}")]
    Gone(String),
    /// The request's body is larger than the route accepts: the message says how large it may be.
    #[error("{0}")]
    TooLarge(String),
    #[error("the form's security token is missing or out of date")]
    Csrf,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = views::page(
        title,
        None,
        html! {
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Go to the start page" } }
        },
    );
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::LoginRequired { next } if next == "/enter" => Redirect::to("/enter").into_response(),
            AppError::LoginRequired { next } => {
                let target = if next.starts_with('/') && !next.starts_with("//") {
                    format!("/login?next={}", urlencode(&next))
                } else {
                    "/login".to_string()
                };
                Redirect::to(&target).into_response()
            }
            AppError::Forbidden(who) => page(
                StatusCode::FORBIDDEN,
                "Not allowed",
                &format!("This page is for {who}. You are signed in with another role."),
            ),
            AppError::NotFound => page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no page at this address.",
            ),
            AppError::BadRequest(msg) => page(StatusCode::BAD_REQUEST, "Cannot do that", &msg),
            AppError::NotYours(msg) => page(StatusCode::FORBIDDEN, "Not allowed", &msg),
            AppError::Gone(msg) => page(StatusCode::GONE, "No longer kept", &msg),
            AppError::TooLarge(msg) => page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", &msg),
            AppError::Csrf => page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form was not sent from this site or its security token is out of date. Nothing was changed. Go back, reload the page and send it again.",
            ),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not finish this request. Nothing you saved before is lost. Try again in a moment; if it keeps happening, tell your proctor or administrator.",
                )
            }
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
