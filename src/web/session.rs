//! Cookie sessions and CSRF protection.
//!
//! The session cookie holds a random token; the database holds only its SHA-256. Every
//! request gets a CSRF token in its own cookie (double submit): every form carries it in a
//! hidden `csrf` field (or, for scripts, an `x-csrf-token` header), and the layer below refuses
//! any POST, PUT, PATCH or DELETE whose token does not match, before a handler runs.

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth;
use crate::store::users::{self, Principal, User};

use super::error::AppError;
use super::AppState;

pub const SESSION_COOKIE: &str = "imh_session";
pub const CSRF_COOKIE: &str = "imh_csrf";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of this request, for forms to render.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("csrf layer not installed")))
    }
}

pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build((name, "")).path("/").build();
    c.make_removal();
    c
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The text of the part named `name` in a `multipart/form-data` body (a form with a file; its
/// CSRF field comes first, so the file after it is not searched).
fn multipart_field(body: &[u8], content_type: &str, name: &str) -> Option<String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("\r\n--{boundary}");
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    // The body starts with the first delimiter (without its CRLF): make every one alike.
    let mut rest = body.strip_prefix(&delimiter.as_bytes()[2..])?;
    let wanted = format!(" name=\"{name}\"");
    while let Some(part) = rest.strip_prefix(b"\r\n") {
        let head_end = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..head_end]).ok()?;
        let value = &part[head_end + 4..];
        let end = find(value, delimiter.as_bytes())?;
        let named = head.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("content-disposition:") && l.contains(&wanted)
        });
        if named {
            return String::from_utf8(value[..end].to_vec()).ok();
        }
        rest = &value[end + delimiter.len()..];
    }
    None
}

/// The most of a refused body read (and thrown away) so that its sender, a browser or a
/// script slightly over a limit, reads the answer instead of a reset connection. A larger
/// declared body is not read at all: the answer goes out at once and the connection closes.
pub const DRAIN_LIMIT: u64 = 1024 * 1024;

/// Answers a request whose body will not be used, after `REFUSAL_PAUSE`: a body declared
/// within `DRAIN_LIMIT` is read frame by frame and dropped (never buffered) before the answer;
/// any other is left unread and the connection closed after the answer.
async fn refuse_unread(body: Body, declared: Option<u64>, answer: Response) -> Response {
    use http_body_util::BodyExt;
    tokio::time::sleep(super::limits::REFUSAL_PAUSE).await;
    match declared {
        Some(0) => answer,
        Some(n) if n <= DRAIN_LIMIT => {
            let mut body = body;
            let mut seen = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                seen += frame.data_ref().map_or(0, |d| d.len() as u64);
                if seen > DRAIN_LIMIT {
                    return closing(answer);
                }
            }
            answer
        }
        _ => closing(answer),
    }
}

/// The body's length as its head declares it (None: not declared, or not a number).
fn declared_length(headers: &header::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The answer, with the connection closed after it (its request's body was left unread).
fn closing(mut answer: Response) -> Response {
    answer.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    answer
}

/// What a body over its route's limit is told.
fn too_large(path: &str, limit: usize) -> AppError {
    if super::is_upload(path) {
        AppError::TooLarge(format!(
            "The file is larger than {}, the most one upload may send. One upload registers at most {} candidates: split the file and send each part. Nothing was registered.",
            size_words(limit),
            crate::exam::batch::thousands(crate::exam::batch::MAX_ROWS_PER_UPLOAD)
        ))
    } else {
        AppError::TooLarge(format!(
            "The request is larger than this server accepts at {path} ({}). Nothing was changed.",
            size_words(limit)
        ))
    }
}

/// `2 MiB`, `32 KiB`, `900 bytes`: a limit as a person reads it (rounded down).
pub fn size_words(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Issues a CSRF cookie to browsers without one and checks the token on unsafe methods.
pub async fn csrf_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let existing = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64);
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let (mut req, token) = if unsafe_method {
        let Some(expected) = existing.clone() else {
            // No token cookie: refused from the head alone, like a wrong token below, so a
            // flood of large bodies without one is never read.
            let declared = declared_length(req.headers());
            return refuse_unread(req.into_body(), declared, AppError::Csrf.into_response()).await;
        };
        let header_token = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (parts, body) = req.into_parts();
        let limit = super::body_limit_for(&state.config, parts.uri.path());
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.starts_with("multipart/form-data");
        // Refused from the head alone, before the body is used: a token that can only come
        // from the header and is missing or wrong, or a declared length over the limit.
        let declared = declared_length(&parts.headers);
        let token_ok = |sent: &str| constant_time_eq(sent.as_bytes(), expected.as_bytes());
        match &header_token {
            Some(sent) if !token_ok(sent) => {
                return refuse_unread(body, declared, AppError::Csrf.into_response()).await
            }
            None if !is_form => {
                return refuse_unread(body, declared, AppError::Csrf.into_response()).await
            }
            _ => {}
        }
        if declared.is_some_and(|n| n > limit as u64) {
            let answer = too_large(parts.uri.path(), limit).into_response();
            return refuse_unread(body, declared, answer).await;
        }
        let Ok(bytes) = to_bytes(body, limit).await else {
            // Sent without a length and found too long: the rest is never read.
            return closing(too_large(parts.uri.path(), limit).into_response());
        };
        if header_token.is_none() {
            let sent = if content_type.starts_with("multipart/form-data") {
                multipart_field(&bytes, &content_type, CSRF_FIELD)
            } else {
                form_field(&bytes, CSRF_FIELD)
            };
            match sent {
                Some(sent) if token_ok(&sent) => {}
                _ => return AppError::Csrf.into_response(),
            }
        }
        (Request::from_parts(parts, Body::from(bytes)), expected)
    } else {
        let token = existing.clone().unwrap_or_else(auth::random_token);
        (req, token)
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    if existing.is_none() {
        let c = cookie(CSRF_COOKIE, token, state.config.secure_cookies);
        if let Ok(v) = c.to_string().parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Who is asking: a staff member, a candidate, or nobody.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub principal: Option<Principal>,
    /// SHA-256 of the session token, to tell this browser's session from another's.
    pub session_hash: Option<String>,
    /// The path asked for, to come back to after logging in.
    pub path: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let (principal, session_hash) = match jar.get(SESSION_COOKIE) {
            Some(c) => (
                users::session_principal(&state.db, c.value()).await?,
                Some(auth::sha256_hex(c.value())),
            ),
            None => (None, None),
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        Ok(Visitor {
            principal,
            session_hash,
            path,
        })
    }
}

impl Visitor {
    pub fn staff(&self) -> Option<&User> {
        match &self.principal {
            Some(Principal::Staff(u)) => Some(u),
            _ => None,
        }
    }
}
