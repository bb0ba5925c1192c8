//! Registering candidates for a sitting, one by one or from a CSV file (every row checked first,
//! all registered or none), and the access codes of each registration batch: a page, a CSV
//! download and printable slips, for whoever registered the batch and the administrators, until
//! they mark the codes handed out or the sitting closes (see `store::batches`).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Role;
use crate::exam::batch::{thousands, MAX_ROWS_PER_UPLOAD};
use crate::exam::form::Parts;
use crate::exam::registration::{parse_csv, CsvRow, RegistrationFields, RowError};
use crate::store::bank as bank_store;
use crate::store::batches::{self, Batch, BatchError, CodeToHandOut, Origin};
use crate::store::sittings::{self, Sitting};
use crate::store::users::User;

use super::proctor::{console, load_console, parts_label, when, Outcome};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Proctor;
use crate::web::session::CsrfToken;
use crate::web::time::local;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

/// The most errors a refused file's page lists; the rest are counted.
const ERRORS_LISTED: usize = 1_000;

/// A CSV cell that a spreadsheet will not run as a formula.
/// Who may read a batch's codes: whoever registered it, and the administrators.
fn may_read(me: &User, b: &Batch) -> bool {
    me.role == Role::Admin || b.created_by == me.username
}

/// The sitting's batches whose codes `me` may still hand out.
pub(super) async fn batches_for(
    state: &AppState,
    me: &User,
    sitting_id: i64,
) -> AppResult<Vec<Batch>> {
    Ok(batches::batches_to_hand_out(&state.db, sitting_id)
        .await?
        .into_iter()
        .filter(|b| may_read(me, b))
        .collect())
}

async fn readable_batch(state: &AppState, me: &User, id: i64) -> AppResult<(Batch, Sitting)> {
    let b = batches::batch(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_read(me, &b) {
        return Err(AppError::NotYours(format!(
            "The access codes of batch {id} are for {}, who registered it, and the administrators.",
            b.created_by
        )));
    }
    let sitting = sittings::sitting(&state.db, b.sitting_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((b, sitting))
}

/// The batch's codes in clear, or why they are no longer kept.
async fn codes_to_hand_out(state: &AppState, b: &Batch) -> AppResult<Vec<CodeToHandOut>> {
    if let Some(at) = b.codes_cleared_at {
        let by = b.codes_cleared_by.as_deref().unwrap_or("someone");
        let how = if by == "system" {
            format!(
                "were deleted from the server when the sitting closed, on {}",
                when(at)
            )
        } else {
            format!("were marked handed out by {by} on {}", when(at))
        };
        return Err(AppError::Gone(format!(
            "The access codes of batch {} {how}. The server keeps only their hashes, so they cannot be shown again.",
            b.id
        )));
    }
    Ok(batches::codes(&state.db, b.id).await?)
}

/// Links to a batch's codes: its page, the CSV and the slips.
pub fn batch_links(batch_id: i64) -> Markup {
    html! {
        p class="actions no-print" {
            a href={ "/batches/" (batch_id) "/codes.csv" } download { "Download these codes (CSV)" }
            a href={ "/batches/" (batch_id) "/slips" } { "Print a slip for each candidate" }
            a href={ "/batches/" (batch_id) } { "The batch's page" }
        }
    }
}

fn batch_page(
    me: &User,
    csrf: &str,
    sitting: &Sitting,
    b: &Batch,
    codes: &[CodeToHandOut],
    message: Option<&str>,
) -> Markup {
    views::page(
        &format!("Access codes, batch {}", b.id),
        Some(&chrome(me, csrf)),
        html! {
            h1 { "Access codes: batch " (b.id) }
            p { a href={ "/sittings/" (sitting.id) } { (sitting.name) } ", " (sitting.place) ", " (local(sitting.opens_at, &sitting.time_zone)) " to " (local(sitting.closes_at, &sitting.time_zone)) "." }
            @if let Some(m) = message { p class="notice" role="status" { (m) } }
            p { (thousands(codes.len())) " candidate(s), registered by " (b.created_by) " on " (local(b.created_at, &sitting.time_zone)) ". "
                "The codes are kept on the server, for " (b.created_by) " and the administrators only, until you mark them handed out or the sitting closes." }
            (batch_links(b.id))
            form method="post" action={ "/batches/" (b.id) "/handed-out" } {
                (csrf_field(csrf))
                p class="hint" id="handed-out-hint" { "When every candidate has their code, delete the codes from the server: after that they cannot be shown again (the server keeps only their hashes)." }
                button type="submit" aria-describedby="handed-out-hint" { "The codes are handed out: delete them" }
            }
            div class="table-wrap" role="region" aria-label="Access codes" tabindex="0" {
                table id="new-codes" {
                    caption { "Access codes" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Level" } th scope="col" { "Access code" } } }
                    tbody {
                        @for c in codes {
                            tr { td { (c.name) } td { (c.email) } td { (c.level) } td { code class="code" { (c.code) } } }
                        }
                    }
                }
            }
        },
    )
}

fn refused_page(me: &User, csrf: &str, sitting: &Sitting, errors: &[RowError]) -> Markup {
    views::page(
        "Nothing was registered",
        Some(&chrome(me, csrf)),
        html! {
            h1 { "Nothing was registered" }
            p { a href={ "/sittings/" (sitting.id) } { (sitting.name) } }
            div class="error" role="alert" id="csv-errors" {
                p { "The file was checked whole and nobody in it was registered. Fix these lines and send the file again:" }
                ul { @for e in errors.iter().take(ERRORS_LISTED) { li { (e) } } }
                @if errors.len() > ERRORS_LISTED {
                    p { "… and " (thousands(errors.len() - ERRORS_LISTED)) " more; the first " (thousands(ERRORS_LISTED)) " are listed." }
                }
            }
            (csv_form(csrf, sitting.id))
        },
    )
}

/// The CSV form, with the cap stated where the file is chosen.
pub(super) fn csv_form(csrf: &str, sitting_id: i64) -> Markup {
    html! {
        // Multipart, so the chosen file itself is sent (no script needed); the CSRF field
        // comes first, where the CSRF check looks for it.
        form method="post" action={ "/sittings/" (sitting_id) "/import" } enctype="multipart/form-data" {
            (csrf_field(csrf))
            p class="hint" id="csv-hint" { "Columns: name, email, organisation, level, parts (both, 1 or 2), time_multiplier, extra_breaks. The first row names the columns. At most " (thousands(MAX_ROWS_PER_UPLOAD)) " candidates per file: a larger file is refused whole. Every row is checked first; if any is wrong, nobody is registered. Choose the file, or paste its text." }
            label for="csv-file" { "CSV file" }
            input type="file" id="csv-file" name="file" accept=".csv,text/csv" aria-describedby="csv-hint";
            label for="csv" { "Or the CSV text" }
            textarea id="csv" name="csv" rows="6" aria-describedby="csv-hint" {}
            button type="submit" { "Register all" }
        }
    }
}

pub async fn register(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(fields): Form<RegistrationFields>,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let result = match fields.parse() {
        Err(errors) => Err(errors),
        Ok(new) => {
            let bps = bank_store::blueprints(&state.db).await?;
            let rows = [CsvRow {
                line: 1,
                registration: new,
            }];
            match batches::register_batch(
                &state.db,
                &sitting,
                &rows,
                &bps,
                &me.username,
                me.role == Role::Admin,
                Origin::Form,
            )
            .await
            {
                Ok(r) => Ok((rows[0].registration.clone(), r)),
                Err(BatchError::Rows(errors)) => Err(errors
                    .into_iter()
                    .map(|e| (e.field.unwrap_or("name"), e.message))
                    .collect::<BTreeMap<_, _>>()),
                Err(BatchError::Store(e)) => return Err(e.into()),
            }
        }
    };
    let (sitting, rows, events) = load_console(&state, id).await?;
    let batches = batches_for(&state, me, id).await?;
    let (status, out) = match result {
        Ok((new, r)) => (
            StatusCode::CREATED,
            Outcome {
                message: Some(format!("{} is registered. Give the candidate the access code, or print their slip; it is kept for you until you mark it handed out or the sitting closes.", new.name)),
                new_codes: r
                    .registered
                    .into_iter()
                    .map(|(_, code)| (new.name.clone(), new.email.clone(), code))
                    .collect(),
                new_batch: Some(r.batch_id),
                ..Outcome::default()
            },
        ),
        Err(reg_errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome {
                reg_form: fields,
                reg_errors,
                ..Outcome::default()
            },
        ),
    };
    Ok((
        status,
        console(me, &csrf, &sitting, &rows, &events, &batches, &out),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsvForm {
    #[serde(default)]
    pub csv: String,
}

/// The CSV a request sends: the chosen file of a `multipart/form-data` form (or, when no file
/// was chosen, its text box), or the `csv` field of a urlencoded form.
async fn csv_sent(state: &AppState, req: Request) -> AppResult<String> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<CsvForm>::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
        return Ok(form.csv);
    }
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("The upload could not be read: {e}"))
    };
    let mut parts = Multipart::from_request(req, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
    let (mut file, mut text) = (String::new(), String::new());
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        match field.name() {
            Some("file") => {
                let bytes = field.bytes().await.map_err(bad)?;
                file = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    AppError::BadRequest(
                        "CSV file: the file is not UTF-8 text. Save it from your spreadsheet as \"CSV UTF-8\" and choose it again.".into(),
                    )
                })?;
            }
            Some("csv") => text = field.text().await.map_err(bad)?,
            _ => {}
        }
    }
    // A byte-order mark, as spreadsheets write, is not part of the first column's name.
    let file = file
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(file);
    Ok(if file.trim().is_empty() { text } else { file })
}

/// A CSV file of registrations: every row checked (every error named by line and field), then
/// all registered in one transaction, or none.
pub async fn import_csv(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    req: Request,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let csv = csv_sent(&state, req).await?;
    let parsed = parse_csv(&csv);
    let bps = bank_store::blueprints(&state.db).await?;
    let by_admin = me.role == Role::Admin;
    let result = if parsed.errors.is_empty() {
        batches::register_batch(
            &state.db,
            &sitting,
            &parsed.rows,
            &bps,
            &me.username,
            by_admin,
            Origin::Csv,
        )
        .await
    } else {
        // The rows that parsed are checked too, so one reply names every problem.
        let mut errors = parsed.errors;
        errors
            .extend(batches::check_batch(&state.db, &sitting, &parsed.rows, &bps, by_admin).await?);
        errors.sort_by_key(|e| e.line);
        Err(BatchError::Rows(errors))
    };
    match result {
        Ok(r) => {
            let b = batches::batch(&state.db, r.batch_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let codes = batches::codes(&state.db, r.batch_id).await?;
            let message = format!(
                "{} candidate(s) registered. Download their codes or print their slips below.",
                thousands(r.registered.len())
            );
            Ok((
                StatusCode::CREATED,
                batch_page(me, &csrf, &sitting, &b, &codes, Some(&message)),
            )
                .into_response())
        }
        Err(BatchError::Rows(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            refused_page(me, &csrf, &sitting, &errors),
        )
            .into_response()),
        Err(BatchError::Store(e)) => Err(e.into()),
    }
}

pub async fn show_batch(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, sitting) = readable_batch(&state, me, id).await?;
    let codes = codes_to_hand_out(&state, &b).await?;
    Ok(batch_page(me, &csrf, &sitting, &b, &codes, None).into_response())
}

/// The batch's codes as CSV: name, email, level, code; every cell safe to open in a spreadsheet.
pub fn codes_csv_text(codes: &[CodeToHandOut]) -> String {
    let mut w = crate::csv_safe::Writer::new();
    w.write_record(["name", "email", "level", "code"]);
    for c in codes {
        w.write_record([&c.name, &c.email, &c.level, &c.code]);
    }
    w.into_string()
}

pub async fn codes_csv(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, _) = readable_batch(&state, me, id).await?;
    let codes = codes_to_hand_out(&state, &b).await?;
    Ok(super::stats::csv_response(
        &format!("access-codes-batch-{id}.csv"),
        codes_csv_text(&codes),
    ))
}

/// One slip per candidate, each printed on its own page: the sitting, the code and how to enter.
pub async fn slips(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (b, sitting) = readable_batch(&state, me, id).await?;
    let codes = codes_to_hand_out(&state, &b).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("this exam's server");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let enter = format!("{scheme}://{host}/enter");
    let remote = sitting.place.trim().eq_ignore_ascii_case("remote");
    let body = html! {
        div class="no-print" {
            h1 { "Slips: batch " (b.id) }
            p { (thousands(codes.len())) " slip(s) for " a href={ "/sittings/" (sitting.id) } { (sitting.name) } ". Print this page (your browser's Print command): each slip prints on a page of its own, without the site's header." }
            (batch_links(b.id))
        }
        @for c in &codes {
            section class="slip" aria-label={ "Slip for " (c.name) } {
                h2 { "Written exam, IMH-E®: your access code" }
                dl {
                    dt { "Candidate" } dd { (c.name) " (" (c.email) ")" }
                    dt { "Level" } dd { (c.level) ", " (parts_label(Parts { one: c.sits_part_one != 0, two: c.sits_part_two != 0 })) }
                    dt { "Sitting" } dd { (sitting.name) }
                    dt { "Place" } dd { (if remote { "remote: online, watched by a proctor" } else { sitting.place.as_str() }) }
                    dt { "Opens" } dd { (local(sitting.opens_at, &sitting.time_zone)) }
                    dt { "Closes" } dd { (local(sitting.closes_at, &sitting.time_zone)) }
                    @if sitting.time_zone != crate::web::time::DEFAULT_ZONE { dt { "UTC" } dd { (crate::web::time::utc_text(sitting.opens_at)) " to " (crate::web::time::utc_text(sitting.closes_at)) } }
                    dt { "Access code" } dd { span class="slip-code" { (c.code) } }
                }
                h3 { "How to enter" }
                ol {
                    li { "Have photo identification with you: the proctor checks it before admitting you." }
                    li { "Once the sitting opens, go to " strong { (enter) } " and type your access code. Capital letters, spaces and dashes do not matter." }
                    li { "Wait on the page that opens until the proctor admits you; then start each part. Each part is timed by the server; the exam is open in one browser at a time." }
                    li { "Keep this slip: the same code shows your results once they are released. Do not share it: it opens your exam." }
                }
            }
        }
    };
    Ok(views::page(
        &format!("Slips, batch {}", b.id),
        Some(&chrome(me, &csrf)),
        body,
    )
    .into_response())
}

/// The codes are handed out: the clear codes are deleted (audited).
pub async fn handed_out(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, _) = readable_batch(&state, me, id).await?;
    batches::mark_handed_out(&state.db, id, &me.username).await?;
    Ok(Redirect::to(&format!("/sittings/{}", b.sitting_id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_csv_quotes_cells_that_a_spreadsheet_would_run() {
        let row = |name: &str| CodeToHandOut {
            registration_id: 1,
            sits_part_one: 1,
            sits_part_two: 1,
            name: name.into(),
            email: "@x.org".into(),
            level: "III".into(),
            code: "ABCD-EFGH-JKLM".into(),
        };
        let text = codes_csv_text(&[row("=HYPERLINK(\"x\")"), row("Ana Ruiz")]);
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(text.contains("'@x.org"), "{text}");
        assert!(
            text.contains("Ana Ruiz,'@x.org,III,ABCD-EFGH-JKLM"),
            "{text}"
        );
    }
}
