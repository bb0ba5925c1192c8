//! Key review (`/keys`): change an item's key, accept two, or drop it, and rescore; beside it a
//! sitting's candidate comments with each item's figures (`comments`), which a key change can
//! cite, and the decisions on which Part One score decides.

mod comments;

pub(crate) use comments::comment_list;
pub use comments::comments_csv;

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::exam::comment;
use crate::store::comments::{self as comment_store, Cited};
use crate::store::results::{self, PassOnChange};
use crate::store::users::User;
use crate::store::{bank as bank_store, sittings};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use comments::Review;

/// The key change's form, as sent: `cite` may come several times (one per comment cited).
#[derive(Debug, Default)]
struct KeyForm {
    item: String,
    version: String,
    rule: String,
    reason: String,
    sitting: String,
    cite: Vec<String>,
}

impl KeyForm {
    fn parse(body: &[u8]) -> KeyForm {
        let mut f = KeyForm::default();
        for (k, v) in form_urlencoded::parse(body).into_owned() {
            match k.as_str() {
                "item" => f.item = v,
                "version" => f.version = v,
                "rule" => f.rule = v,
                "reason" => f.reason = v,
                "sitting" => f.sitting = v,
                "cite" => f.cite.push(v),
                _ => {}
            }
        }
        f
    }
}

/// Which sitting's comments the page shows, and which item's key the form is for.
#[derive(Debug, Default, Deserialize)]
pub struct KeysQuery {
    #[serde(default)]
    pub sitting: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
}

#[derive(sqlx::FromRow)]
struct KeyChangeRow {
    id: i64,
    item_id: String,
    item_version: i64,
    rule: String,
    reason: String,
    changed_by: String,
}

/// The key decisions (with the comments each cites) and the pass-mark decisions, newest first.
struct History {
    keys: Vec<KeyChangeRow>,
    cited: BTreeMap<i64, Vec<Cited>>,
    pass_on: Vec<PassOnChange>,
}

async fn key_history(state: &AppState) -> AppResult<History> {
    Ok(History {
        keys: sqlx::query_as(
            "SELECT id, item_id, item_version, rule, reason, changed_by FROM key_changes ORDER BY id DESC",
        )
        .fetch_all(&state.db.pool)
        .await?,
        cited: comment_store::citations(&state.db).await?,
        pass_on: results::pass_on_changes(&state.db).await?,
    })
}

/// What the form shows: the item's id and version, and a reason already written (after an
/// error).
#[derive(Default)]
struct Prefill {
    item: String,
    version: u32,
    rule: String,
    reason: String,
    cited: BTreeSet<String>,
}

fn keys_page(
    me: &User,
    csrf: &str,
    history: &History,
    review: &Review,
    prefill: &Prefill,
    outcome: Option<Markup>,
) -> Markup {
    views::page(
        "Key review",
        Some(&chrome(me, csrf)),
        html! {
            h1 { "Key review" }
            @if let Some(o) = outcome { (o) }
            p { "Change an item's key, accept two keys, or drop the item from scoring. Every attempt that carried the item is rescored, and the audit log keeps the reason and each candidate's result before and after." }
            (comments::section(review))
            h2 id="change" { "Change a key" }
            form method="post" action="/keys" {
                (csrf_field(csrf))
                label for="item" { "Item id" }
                input type="text" id="item" name="item" required value=(prefill.item);
                label for="version" { "Version" }
                input type="number" id="version" name="version" min="1" value=(prefill.version.max(1)) required;
                label for="rule" { "New key" }
                p class="hint" id="rule-hint" { "A letter (B), letters joined by | when several are right (B|D), or the word dropped." }
                input type="text" id="rule" name="rule" required aria-describedby="rule-hint" value=(prefill.rule);
                label for="reason" { "Reason" }
                textarea id="reason" name="reason" rows="3" required { (prefill.reason) }
                (comments::cite_fields(review, &prefill.cited))
                button type="submit" { "Apply and rescore" }
            }
            h2 { "Decisions so far" }
            div class="table-wrap" role="region" tabindex="0" aria-label="Key decisions so far" { table {
                thead { tr { th scope="col" { "Item" } th scope="col" { "Version" } th scope="col" { "Key" } th scope="col" { "Reason" } th scope="col" { "Comments cited" } th scope="col" { "By" } } }
                tbody {
                    @for k in &history.keys {
                        tr {
                            td { (k.item_id) } td { (k.item_version) } td { (k.rule) } td { (k.reason) }
                            td {
                                @match history.cited.get(&k.id) {
                                    Some(cited) => {
                                        ul class="cited" { @for c in cited { li { q class="comment-text" { (c.text) } } } }
                                    }
                                    None => { "none" }
                                }
                            }
                            td { (k.changed_by) }
                        }
                    }
                }
            } }
            h2 id="pass-on-decisions" { "Which Part One score decides" }
            p { "The committee's decisions, per sitting, on whether Part One's pass mark applies to raw or equated scores; made on a sitting's results page. The newest of a sitting applies; without one, each blueprint's own policy does." }
            @if history.pass_on.is_empty() { p { "None so far." } }
            @else {
                table id="pass-on-history" {
                    thead { tr { th scope="col" { "Sitting" } th scope="col" { "Pass mark applies to" } th scope="col" { "Reason" } th scope="col" { "By" } th scope="col" { "When" } } }
                    tbody {
                        @for c in &history.pass_on {
                            tr {
                                td { a href={ "/scoring/" (c.sitting_id) "/results" } { (c.sitting_name) } }
                                td { (c.pass_on) } td { (c.reason) } td { (c.changed_by) }
                                td { (super::proctor::when(c.changed_at)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A sitting named in the address or the form: its id, or nothing when the field is empty.
fn sitting_field(value: Option<&str>) -> AppResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            AppError::BadRequest(format!("Sitting: \"{v}\" is not a sitting's number."))
        }),
    }
}

pub async fn keys(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<KeysQuery>,
) -> AppResult<Response> {
    let sitting = sitting_field(q.sitting.as_deref())?;
    let item = q.item.as_deref().map(str::trim).filter(|i| !i.is_empty());
    let review = Review::load(&state, sitting, item).await?;
    let prefill = Prefill {
        item: item.unwrap_or_default().to_string(),
        version: review.version_of(item.unwrap_or_default()),
        ..Prefill::default()
    };
    let history = key_history(&state).await?;
    Ok(keys_page(me, &csrf, &history, &review, &prefill, None).into_response())
}

pub async fn change_key(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let f = KeyForm::parse(&body);
    let mut errors = Vec::new();
    let version: Option<u32> = f.version.trim().parse().ok();
    let item = match version {
        Some(v) => bank_store::item_version(&state.db, f.item.trim(), v).await?,
        None => {
            errors.push(format!("Version: \"{}\" is not a whole number.", f.version));
            None
        }
    };
    let letters: Option<BTreeSet<char>> = match &item {
        Some(i) => match &i.body {
            ItemBody::Mcq(m) => Some(m.options.iter().map(|o| o.letter).collect()),
            ItemBody::Open(_) => {
                errors.push(format!(
                    "Item: {} is an open item; it has no key.",
                    f.item.trim()
                ));
                None
            }
        },
        None if version.is_some() => {
            errors.push(format!(
                "Item: {} version {} is not in the bank.",
                f.item.trim(),
                f.version.trim()
            ));
            None
        }
        None => None,
    };
    let rule = results::parse_rule(&f.rule);
    match (&rule, &letters) {
        (None, _) => errors.push(format!(
            "New key: \"{}\" is not a letter, letters joined by |, or dropped.",
            f.rule
        )),
        (Some(crate::scoring::key::KeyRule::Accept(keys)), Some(letters)) => {
            if let Some(bad) = keys.iter().find(|k| !letters.contains(k)) {
                errors.push(format!("New key: {bad} is not an option of this item."));
            }
        }
        _ => {}
    }
    if f.reason.trim().is_empty() {
        errors.push("Reason: say why the key changes; it is kept in the audit log.".into());
    }
    // The comments cited: each a comment on this item in the sitting whose comments the form
    // listed.
    let sitting = sitting_field(Some(&f.sitting))?;
    let review = Review::load(&state, sitting, Some(f.item.trim())).await?;
    let mut cited = Vec::new();
    for c in &f.cite {
        match comment::parse_cite_id(c).filter(|id| review.on_item(*id)) {
            Some(id) => cited.push(id),
            None => errors.push(format!(
                "Comments cited: \"{c}\" is not a comment on {} in the sitting listed.",
                f.item.trim()
            )),
        }
    }
    if !errors.is_empty() {
        let history = key_history(&state).await?;
        let outcome = html! { div class="error" role="alert" { @for e in &errors { p { (e) } } } };
        let prefill = Prefill {
            item: f.item.trim().to_string(),
            version: version.unwrap_or(1),
            rule: f.rule.clone(),
            reason: f.reason.clone(),
            cited: f.cite.iter().cloned().collect(),
        };
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            keys_page(me, &csrf, &history, &review, &prefill, Some(outcome)),
        )
            .into_response());
    }
    let (rule, version) = (rule.expect("checked"), version.expect("checked"));
    let rescored = results::change_key(
        &state.db,
        f.item.trim(),
        version,
        &rule,
        &f.reason,
        &cited,
        &me.username,
    )
    .await?;
    let history = key_history(&state).await?;
    let changed = rescored
        .iter()
        .filter(|r| r.before.map(|b| b.1) != Some(r.after.1))
        .count();
    let outcome = html! {
        p class="notice" role="status" {
            (f.item.trim()) " is now scored as " (rule.describe()) ". " (rescored.len()) " result(s) rescored; "
            (changed) " changed between pass and fail."
            @if !cited.is_empty() { " The decision cites " (cited.len()) " candidate comment(s)." }
        }
    };
    let review = Review::load(&state, sitting, None).await?;
    Ok(keys_page(
        me,
        &csrf,
        &history,
        &review,
        &Prefill::default(),
        Some(outcome),
    )
    .into_response())
}

/// A sitting that exists, or not found.
async fn the_sitting(state: &AppState, id: i64) -> AppResult<sittings::Sitting> {
    sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}
