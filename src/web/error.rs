//! One error type for every handler: rendered as an HTML page, logged once if internal, and
//! never leaking internals to the browser.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};

use super::session::{CSRF_COOKIE, SESSION_COOKIE};
use super::views::{self, Chrome};
use super::AppState;
use crate::store::users::{self, Principal};

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

/// What an error page says, kept on the response so that [`frame_errors`] can show it inside the
/// visitor's own page frame, with a way back to where they were.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

/// Where an error page offers to take the visitor: the page they came from, or their home.
struct Back {
    href: String,
    label: &'static str,
}

fn render(title: &str, message: &str, chrome: Option<&Chrome>, back: &Back) -> Markup {
    views::page(
        title,
        chrome,
        html! {
            h1 { (title) }
            p class="notice bad" role="alert" { (message) }
            p { a class="button secondary" href=(back.href) { (back.label) } }
            (views::request_id_note())
        },
    )
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let home = Back {
        href: "/".into(),
        label: "Go to the start page",
    };
    let body = render(title, message, None, &home);
    let mut res = (status, [(header::CACHE_CONTROL, "no-store")], body).into_response();
    res.extensions_mut().insert(ErrorPage {
        title: title.into(),
        message: message.into(),
    });
    res
}

/// The page the visitor came from, when the browser says (same-origin `Referer`, which the
/// `Referrer-Policy: same-origin` header lets it send to this site only) and it is not the
/// page that failed.
fn came_from(headers: &HeaderMap, failed: &str) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let (their_host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let path = path.split('#').next().unwrap_or("/");
    (their_host.eq_ignore_ascii_case(host) && path != failed && !path.starts_with("//"))
        .then(|| path.to_string())
}

/// Shows every error page inside the normal page frame: the header with the visitor's name and
/// navigation (staff or candidate), and a link back to the page they came from, or else to
/// their own home. Pages without an [`ErrorPage`] pass through untouched.
pub async fn frame_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let csrf = jar.get(CSRF_COOKIE).map(|c| c.value().to_string());
    let failed = req.uri().path().to_string();
    let from = came_from(req.headers(), &failed);
    let mut res = next.run(req).await;
    let Some(err) = res.extensions_mut().remove::<ErrorPage>() else {
        return res;
    };
    let principal = match &session {
        Some(token) => users::session_principal(&state.db, token)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let csrf = csrf.unwrap_or_default();
    let (chrome, home) = match &principal {
        Some(Principal::Staff(u)) => (Some(views::staff_chrome(u, &csrf)), "/"),
        Some(Principal::Candidate { label, .. }) => (
            Some(Chrome {
                user: None,
                candidate: Some(label),
                csrf: &csrf,
            }),
            "/candidate",
        ),
        None => (None, "/"),
    };
    let back = match from {
        Some(href) => Back {
            href,
            label: "Go back to the page you came from",
        },
        None => Back {
            href: home.into(),
            label: if principal.is_some() {
                "Go to your home page"
            } else {
                "Go to the start page"
            },
        },
    };
    let body = render(&err.title, &err.message, chrome.as_ref(), &back);
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body.into_string()))
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
