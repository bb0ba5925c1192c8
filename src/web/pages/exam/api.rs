//! The page script's JSON API: saves (the hot path), browser events and the clock. It answers
//! JSON with a status the script acts on, never a redirect or an HTML page.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};

use crate::auth;
use crate::exam::comment;
use crate::exam::form::Form;
use crate::exam::limits;
use crate::store::attempts::{self, SaveError};
use crate::store::sittings::{self, BrowserEvent};
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::{Candidate, PartNo};
use crate::web::session::SESSION_COOKIE;
use crate::web::AppState;

use super::part_one::mcq_answer;
use super::part_two::{check_choice, check_open_item};
use super::valid_pref;

/// What the save path needs of an attempt, read from the database once per server process.
pub struct OpenForm {
    pub form: Arc<Form>,
    /// The longest open response the part takes, in characters (from its blueprint).
    pub max_response_chars: usize,
}

/// A save from the page's script.
#[derive(Debug, Deserialize)]
pub struct ApiSave {
    pub part: u8,
    pub item: String,
    /// For Part One: the shown option position ("" clears); for Part Two: the text; for a
    /// flag `@flag:ID`: "1" or "0"; for `@choice`: comma-separated vignette ids; for a comment
    /// `@comment:ID` (a Part One question or a Part Two vignette): its text.
    pub value: String,
    pub seq: u64,
}

#[derive(Debug, Serialize)]
pub struct ApiSaved {
    pub stored: bool,
    pub current: bool,
    pub remaining_ms: i64,
    pub paused: bool,
}

#[derive(Debug, Serialize)]
pub struct ApiError {
    pub error: String,
    /// The request's id (as in its `x-request-id` header), for the candidate to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

fn api_error(status: StatusCode, msg: impl Into<String>) -> Response {
    let request_id = crate::web::observe::current().map(|id| id.to_string());
    let body = ApiError {
        error: msg.into(),
        request_id,
    };
    (status, Json(body)).into_response()
}

pub async fn api_save(
    State(state): State<AppState>,
    jar: CookieJar,
    body: Result<Json<ApiSave>, axum::extract::rejection::JsonRejection>,
) -> Response {
    // The hot path: one query from the session to the registration, the form from memory.
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| auth::sha256_hex(c.value())) else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    let cached = state
        .sessions
        .get(&token)
        .filter(|c| c.at.elapsed() < crate::web::SESSION_CACHE);
    let (reg_id, active, blueprint_id) = match cached {
        Some(c) => (c.registration, c.active, c.blueprint),
        None => match sittings::candidate_for_session(&state.db, &token).await {
            Ok(Some((reg, active, blueprint))) => {
                state.sessions.insert(
                    token.clone(),
                    crate::web::CachedSession {
                        at: std::time::Instant::now(),
                        registration: reg,
                        active: active.clone(),
                        blueprint: blueprint.clone(),
                    },
                );
                (reg, active, blueprint)
            }
            Ok(None) => {
                return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.")
            }
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    if active.as_deref() != Some(token.as_str()) {
        return api_error(
            StatusCode::CONFLICT,
            "Your exam has been moved to another browser by your proctor. Ask your proctor if this is unexpected.",
        );
    }
    // The body is read only once the candidate is known.
    let s = match body {
        Ok(Json(s)) => s,
        Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()),
    };
    if let Err(e) = limits::check_save_size(&s.item, &s.value) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    if !matches!(s.part, 1 | 2) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, "part: must be 1 or 2.");
    }
    if !(1..=attempts::MAX_SEQ).contains(&s.seq) {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("seq: must be from 1 to {}.", attempts::MAX_SEQ),
        );
    }
    let cached = state.attempt_ids.get(&(reg_id, s.part));
    let attempt = match cached {
        Some(id) => id,
        None => match attempts::attempt_id(&state.db, reg_id, s.part).await {
            Ok(Some(id)) => {
                state.attempt_ids.insert((reg_id, s.part), id);
                id
            }
            Ok(None) => return api_error(StatusCode::NOT_FOUND, "This part has not been started."),
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    crate::web::observe::record_attempt(attempt);
    let open = match cached_form(&state, attempt).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let form = &open.form;
    let value = if s.part == 1 && !s.item.starts_with('@') {
        match mcq_answer(form, &s.item, &s.value) {
            Ok(v) => v,
            Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    } else {
        s.value.clone()
    };
    let valid = if let Some(key) = s.item.strip_prefix("@pref:") {
        // The candidate's display choices: never scored (scoring reads only the form's items).
        valid_pref(key, &value)
            .then_some(())
            .ok_or_else(|| AppError::BadRequest("not a display preference".into()))
    } else if let Some(item) = s.item.strip_prefix("@strike:") {
        // Options struck out on a Part One question: canonical letters, each once.
        let options = form
            .part_one
            .iter()
            .find(|e| e.item_id == item)
            .map(|e| e.option_order.len());
        let letters_ok = |n: usize| {
            let mut seen = BTreeSet::new();
            value
                .bytes()
                .all(|b| b.is_ascii_uppercase() && usize::from(b - b'A') < n && seen.insert(b))
        };
        (s.part == 1 && options.is_some_and(letters_ok))
            .then_some(())
            .ok_or_else(|| AppError::BadRequest("not a strike-out of this form".into()))
    } else if let Some(flagged) = s.item.strip_prefix("@flag:") {
        (form.part_one.iter().any(|e| e.item_id == flagged) && matches!(value.as_str(), "0" | "1"))
            .then_some(())
            .ok_or_else(|| AppError::BadRequest("not a flag of this form".into()))
    } else if let Some(target) = comment::target_of(&s.item) {
        // A comment on a question or a vignette: saved like an answer, never scored.
        comment::check(form, s.part, target, &value)
            .map_err(|e| AppError::BadRequest(e.to_string()))
    } else if s.item == "@choice" {
        let bps = bank_store::blueprints(&state.db).await.unwrap_or_default();
        let k = bps
            .iter()
            .find(|b| b.id == blueprint_id)
            .map_or(0, |b| b.part_two.answer) as usize;
        let chosen: BTreeSet<String> = value
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        check_choice(form, &chosen, k).map(|_| ())
    } else if s.part == 2 {
        check_open_item(form, &s.item, &value, open.max_response_chars)
    } else if form.part_one.iter().any(|e| e.item_id == s.item) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{} is not on your form",
            s.item
        )))
    };
    if let Err(e) = valid {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    }
    let value = if s.item == "@choice" {
        let chosen: BTreeSet<&str> = value.split(',').filter(|v| !v.is_empty()).collect();
        chosen.into_iter().collect::<Vec<_>>().join(",")
    } else {
        value
    };
    match attempts::save(&state.db, attempt, &s.item, &value, s.seq, now_ms()).await {
        Ok(saved) => Json(ApiSaved {
            stored: saved.stored,
            current: saved.current,
            remaining_ms: saved.remaining_ms,
            paused: saved.paused,
        })
        .into_response(),
        // Not stored (the database refused the write: a full disk, say). The script keeps the
        // save and sends it again; nothing acknowledged is at risk.
        Err(SaveError::Store(e)) => {
            tracing::error!(error = %e, attempt, "a save could not be stored");
            let mut res = api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server could not store this answer just now. It is kept in this browser and will be sent again.",
            );
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("5"),
            );
            res
        }
        // Not final: the script keeps the save and sends it again once the clock runs.
        Err(SaveError::Paused) => api_error(StatusCode::LOCKED, format!("{}.", SaveError::Paused)),
        Err(e) => api_error(StatusCode::CONFLICT, format!("{e}.")),
    }
}

/// An attempt's form and limits, read from the database once per server process.
async fn cached_form(state: &AppState, attempt: i64) -> AppResult<Arc<OpenForm>> {
    if let Some(f) = state.forms.get(&attempt) {
        return Ok(f);
    }
    let a = attempts::attempt(&state.db, attempt)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = Arc::new(OpenForm {
        form: a.form,
        max_response_chars: a.max_response_chars,
    });
    state.forms.insert(attempt, form.clone());
    Ok(form)
}

#[derive(Debug, Deserialize)]
pub struct ApiEvent {
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

/// Leaving the tab, copy and paste: recorded for the proctor, never blocked.
pub async fn api_event(
    State(state): State<AppState>,
    candidate: Result<Candidate, AppError>,
    body: Result<Json<ApiEvent>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Candidate { reg, .. }) = candidate else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    let e = match body {
        Ok(Json(e)) => e,
        Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()),
    };
    if !matches!(
        e.kind.as_str(),
        "focus-lost" | "focus-back" | "copy" | "paste" | "offline" | "online"
    ) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown event");
    }
    let detail: String = e.detail.chars().take(200).collect();
    // Counted always; listed one by one only up to the part's limit (the console stays small).
    match sittings::log_browser_event(&state.db, reg.sitting_id, reg.id, &e.kind, &detail).await {
        // Before any part starts there is nothing to report against (the page's script runs
        // only on a part's pages): not stored, so it cannot grow anything either.
        Ok(BrowserEvent::Listed | BrowserEvent::Counted | BrowserEvent::NoPart) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => AppError::from(err).into_response(),
    }
}

/// The script's clock: what remains, from the server.
pub async fn api_clock(
    State(state): State<AppState>,
    candidate: Result<Candidate, AppError>,
    PartNo(part): PartNo,
) -> Response {
    let Ok(Candidate { reg, .. }) = candidate else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    match attempts::attempts_of(&state.db, reg.id).await {
        Ok(all) => match all.into_iter().find(|a| a.part == part) {
            Some(a) => Json(serde_json::json!({
                "remaining_ms": a.clock.remaining_ms(now_ms()),
                "paused": a.clock.is_paused_at(now_ms()),
                "open": a.is_open(),
            }))
            .into_response(),
            None => api_error(StatusCode::NOT_FOUND, "This part has not been started."),
        },
        Err(e) => AppError::from(e).into_response(),
    }
}

/// What the waiting page's script asks: whether the candidate may go on (admitted), so the
/// page moves on by itself without reloading every few seconds.
pub async fn api_status(candidate: Result<Candidate, AppError>) -> Response {
    let Ok(Candidate { reg, .. }) = candidate else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    Json(serde_json::json!({
        "admitted": reg.admitted_at.is_some(),
        "absent": reg.absent_at.is_some(),
    }))
    .into_response()
}
