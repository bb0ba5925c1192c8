//! The Hofstee form: in the final round each panelist gives the lowest and highest acceptable
//! cut (percent correct) and the lowest and highest acceptable failure rate (percent of
//! candidates). Four fields, each error named by its field.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::studies::{self, HofsteePercent, HofsteeSaveError, Study};
use crate::store::users::User;
use crate::web::error::AppResult;
use crate::web::roles::OnPanel;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct HofsteeForm {
    #[serde(default)]
    pub cut_min: String,
    #[serde(default)]
    pub cut_max: String,
    #[serde(default)]
    pub fail_min: String,
    #[serde(default)]
    pub fail_max: String,
}

type Errors = BTreeMap<&'static str, String>;

/// The four fields: (name, label, hint).
const FIELDS: [(&str, &str, &str); 4] = [
    (
        "cut_min",
        "Lowest acceptable cut (percent correct)",
        "The lowest pass mark you would accept, even if the exam proved hard.",
    ),
    (
        "cut_max",
        "Highest acceptable cut (percent correct)",
        "The highest pass mark you would accept, even if the exam proved easy.",
    ),
    (
        "fail_min",
        "Lowest acceptable failure rate (percent of candidates)",
        "The fewest candidates you would accept failing.",
    ),
    (
        "fail_max",
        "Highest acceptable failure rate (percent of candidates)",
        "The most candidates you would accept failing.",
    ),
];

fn page(me: &User, csrf: &str, study: &Study, form: &HofsteeForm, errors: &Errors) -> Markup {
    let value = |name: &str| match name {
        "cut_min" => form.cut_min.as_str(),
        "cut_max" => form.cut_max.as_str(),
        "fail_min" => form.fail_min.as_str(),
        _ => form.fail_max.as_str(),
    };
    // The first field in error takes the focus, so the keyboard lands where the fix is.
    let first_error = FIELDS.iter().map(|f| f.0).find(|f| errors.contains_key(f));
    views::page(
        &format!("Hofstee bounds · {}", study.name),
        Some(&chrome(me, csrf)),
        html! {
            p class="hint" { a href={ "/panel/" (study.id) } { (study.name) } }
            h1 { "Your Hofstee bounds" }
            p { "Hofstee's method sets the pass mark where the sitting's results meet the panel's bounds: "
                "give the range of pass marks and of failure rates you would accept for this exam." }
            @if let Some(e) = errors.get("round") { p class="field-error" role="alert" { (e) } }
            @if !study.final_round_open() {
                p role="status" class="notice" { "Hofstee bounds are given while the final round is open." }
            } @else {
                @if !errors.is_empty() {
                    p class="error" role="alert" { "Check the " (errors.len()) " field" @if errors.len() > 1 { "s" } " marked below." }
                }
                form method="post" action={ "/panel/" (study.id) "/hofstee" } novalidate class="hofstee" {
                    (csrf_field(csrf))
                    @for (name, label, hint) in FIELDS {
                        @let err_id = format!("{name}-error");
                        @let hint_id = format!("{name}-hint");
                        @let described = if errors.contains_key(name) { format!("{hint_id} {err_id}") } else { hint_id.clone() };
                        label for=(name) { (label) }
                        p class="hint" id=(hint_id) { (hint) }
                        input type="text" inputmode="decimal" id=(name) name=(name) value=(value(name)) required
                            autocomplete="off"
                            aria-invalid=[errors.contains_key(name).then_some("true")]
                            aria-describedby=(described)
                            autofocus[first_error == Some(name)];
                        (field_error(&err_id, errors.get(name)))
                    }
                    div class="actions" { button type="submit" { "Save my bounds" } }
                }
            }
        },
    )
}

/// `GET /panel/{id}/hofstee`, prefilled with my newest bounds of the round.
pub async fn hofstee_page(
    State(state): State<AppState>,
    OnPanel { user: me, study }: OnPanel,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let mine = match study.open_round() {
        Some(r) => studies::my_hofstee(&state.db, study.id, r, &me.username).await?,
        None => None,
    };
    let form = mine.map_or_else(HofsteeForm::default, |b| HofsteeForm {
        cut_min: num(b.cut_min),
        cut_max: num(b.cut_max),
        fail_min: num(b.fail_min),
        fail_max: num(b.fail_max),
    });
    Ok(page(&me, &csrf, &study, &form, &Errors::new()))
}

fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `POST /panel/{id}/hofstee`.
pub async fn hofstee_save(
    State(state): State<AppState>,
    OnPanel { user: me, study }: OnPanel,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<HofsteeForm>,
) -> AppResult<Response> {
    let mut errors = Errors::new();
    if !study.final_round_open() {
        errors.insert(
            "round",
            "Hofstee bounds are taken only while the final round is open.".into(),
        );
    } else {
        match HofsteePercent::parse(&form.cut_min, &form.cut_max, &form.fail_min, &form.fail_max) {
            Err(e) => errors = e,
            Ok(b) => match studies::hofstee_save(&state.db, study.id, &me.username, &b).await {
                Ok(()) => return Ok(Redirect::to(&format!("/panel/{}", study.id)).into_response()),
                Err(HofsteeSaveError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    errors.insert("round", e.to_string());
                }
            },
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        page(&me, &csrf, &study, &form, &errors),
    )
        .into_response())
}
