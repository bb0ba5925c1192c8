//! `GET /studies`: every standard-setting study with where it stands, and the "New study" form
//! (name, blueprint, part, method, sitting, items source, rounds); `POST /studies` creates one.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::bank as bank_store;
use crate::store::sittings;
use crate::store::studies::{self, CreateError, Method, NewStudy, Source};
use crate::web::error::AppResult;
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field, field_error, scroll_box, staff_chrome as chrome};
use crate::web::AppState;

use super::part_name;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewStudyForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub blueprint: String,
    #[serde(default)]
    pub part: String,
    #[serde(default)]
    pub method: String,
    /// A sitting's id, or empty for none.
    #[serde(default)]
    pub sitting: String,
    /// "pool", "form" or "questions".
    #[serde(default)]
    pub source: String,
    /// The registration whose form is rated, for `source = form`.
    #[serde(default)]
    pub registration: String,
    #[serde(default)]
    pub rounds: String,
}

type Errors = BTreeMap<&'static str, String>;

fn described(errors: &Errors, field: &'static str) -> Option<String> {
    errors.contains_key(field).then(|| format!("{field}-error"))
}

async fn page(
    state: &AppState,
    csrf: &str,
    f: &NewStudyForm,
    errors: &Errors,
) -> AppResult<Markup> {
    let all = studies::list(&state.db).await?;
    let bps = bank_store::blueprints(&state.db).await?;
    let sittings = sittings::list_sittings(&state.db).await?;
    let checked = |field: &str, v: &str, default: bool| {
        if field.is_empty() {
            default
        } else {
            field == v
        }
    };
    Ok(html! {
        h1 { "Standard-setting studies" }
        p { "A panel of subject-matter experts rates a blueprint's Part One items (the probability that a minimally competent candidate answers correctly, or yes/no) or Part Two questions (the points such a candidate would score), over rounds with feedback between them. The committee reads the panel's cut here and may adopt it as the blueprint's pass mark." }
        @if all.is_empty() {
            p id="no-studies" { "No study yet." }
        } @else {
            (scroll_box("Studies", html! {
                table class="stats" id="studies" {
                    caption { "Studies, newest first" }
                    thead { tr {
                        th scope="col" { "Study" } th scope="col" { "Blueprint" } th scope="col" { "Part" }
                        th scope="col" { "Method" } th scope="col" { "State" } th scope="col" { "Results" }
                    } }
                    tbody {
                        @for s in &all {
                            tr {
                                td { a href={ "/studies/" (s.id) } { (s.name) } }
                                td { (s.blueprint_id) }
                                td { (part_name(s.part)) }
                                td { (s.method.title()) }
                                td { (s.state()) }
                                td { a href={ "/studies/" (s.id) "/results" } { "Results of " (s.name) } }
                            }
                        }
                    }
                }
            }))
        }
        h2 id="new" { "New study" }
        form method="post" action="/studies" class="stack" novalidate {
            (csrf_field(csrf))
            @if !errors.is_empty() {
                div class="error" role="alert" id="form-errors" {
                    p { "The study was not created:" }
                    ul { @for e in errors.values() { li { (e) } } }
                }
            }
            label for="name" { "Name" }
            (field_error("name-error", errors.get("name")))
            input id="name" name="name" value=(f.name) required aria-describedby=[described(errors, "name")];
            label for="blueprint" { "Blueprint" }
            (field_error("blueprint-error", errors.get("blueprint")))
            select id="blueprint" name="blueprint" aria-describedby=[described(errors, "blueprint")] {
                @for b in &bps {
                    option value=(b.id) selected[f.blueprint == b.id] { (b.name) }
                }
            }
            fieldset aria-describedby=[described(errors, "part")] {
                legend { "Part" }
                (field_error("part-error", errors.get("part")))
                @for (v, label) in [("1", "Part One: multiple-choice items"), ("2", "Part Two: open questions")] {
                    div class="option" {
                        input type="radio" name="part" id={ "part-" (v) } value=(v) checked[checked(&f.part, v, v == "1")];
                        label for={ "part-" (v) } { (label) }
                    }
                }
            }
            fieldset aria-describedby=[described(errors, "method")] {
                legend { "Method" }
                (field_error("method-error", errors.get("method")))
                @for (v, label) in [("angoff", "Modified Angoff: a probability (Part One) or expected points (Part Two)"), ("yesno", "Yes/No (Part One only)")] {
                    div class="option" {
                        input type="radio" name="method" id={ "method-" (v) } value=(v) checked[checked(&f.method, v, v == "angoff")];
                        label for={ "method-" (v) } { (label) }
                    }
                }
            }
            label for="sitting" { "Sitting whose data gives the observed difficulty and the impact" }
            (field_error("sitting-error", errors.get("sitting")))
            select id="sitting" name="sitting" aria-describedby=[described(errors, "sitting")] {
                option value="" selected[f.sitting.is_empty()] { "None" }
                @for s in &sittings {
                    option value=(s.id) selected[f.sitting == s.id.to_string()] { (s.name) }
                }
            }
            fieldset aria-describedby=[described(errors, "source")] {
                legend { "Items" }
                (field_error("source-error", errors.get("source")))
                @for (v, label) in [("pool", "Part One: the blueprint's operational pool"), ("form", "Part One: one candidate's form in the sitting"), ("questions", "Part Two: its open questions")] {
                    div class="option" {
                        input type="radio" name="source" id={ "source-" (v) } value=(v) checked[checked(&f.source, v, v == "pool")];
                        label for={ "source-" (v) } { (label) }
                    }
                }
                label for="registration" { "Registration number (for one candidate's form)" }
                input id="registration" name="registration" inputmode="numeric" value=(f.registration);
            }
            label for="rounds" { "Rounds planned" }
            (field_error("rounds-error", errors.get("rounds")))
            input id="rounds" name="rounds" type="number" min="1" max="5" value=(if f.rounds.is_empty() { "2" } else { &f.rounds }) aria-describedby=[described(errors, "rounds")];
            button type="submit" { "Create the study" }
        }
    })
}

pub async fn list(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let body = page(&state, &csrf, &NewStudyForm::default(), &Errors::new()).await?;
    Ok(views::page("Studies", Some(&chrome(me, &csrf)), body).into_response())
}

/// The form's fields parsed, or every error by field.
fn parse(f: &NewStudyForm) -> Result<(u8, Method, Option<i64>, Source, u32), Errors> {
    let mut errors = Errors::new();
    let part = match f.part.trim() {
        "1" => Some(1u8),
        "2" => Some(2),
        other => {
            errors.insert(
                "part",
                format!(
                    "Part: \"{}\" is neither 1 nor 2.",
                    crate::auth::loggable(other)
                ),
            );
            None
        }
    };
    let method = Method::parse(&f.method);
    if method.is_none() {
        errors.insert(
            "method",
            format!(
                "Method: \"{}\" is neither angoff nor yesno.",
                crate::auth::loggable(f.method.trim())
            ),
        );
    }
    let sitting = match f.sitting.trim() {
        "" => Some(None),
        s => match s.parse::<i64>() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                errors.insert(
                    "sitting",
                    format!(
                        "Sitting: \"{}\" is not a sitting.",
                        crate::auth::loggable(s)
                    ),
                );
                None
            }
        },
    };
    let source = match f.source.trim() {
        "pool" => Some(Source::Pool),
        "questions" => Some(Source::Questions),
        "form" => match f.registration.trim().parse::<i64>() {
            Ok(reg) => Some(Source::Form(reg)),
            Err(_) => {
                errors.insert(
                    "source",
                    "Items: give the registration number whose form the panel rates.".into(),
                );
                None
            }
        },
        other => {
            errors.insert(
                "source",
                format!(
                    "Items: \"{}\" is not pool, form or questions.",
                    crate::auth::loggable(other)
                ),
            );
            None
        }
    };
    let rounds = match f.rounds.trim().parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.insert("rounds", "Rounds: plan 1 to 5 rounds.".into());
            None
        }
    };
    match (part, method, sitting, source, rounds) {
        (Some(p), Some(m), Some(s), Some(src), Some(r)) if errors.is_empty() => {
            Ok((p, m, s, src, r))
        }
        _ => Err(errors),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Form(f): Form<NewStudyForm>,
) -> AppResult<Response> {
    let mut errors = Errors::new();
    if f.name.trim().is_empty() {
        errors.insert("name", CreateError::Name.to_string());
    }
    match parse(&f) {
        Ok((part, method, sitting_id, source, rounds_planned)) if errors.is_empty() => {
            let new = NewStudy {
                name: &f.name,
                blueprint_id: f.blueprint.trim(),
                part,
                method,
                sitting_id,
                source,
                rounds_planned,
            };
            match studies::create(&state.db, &new, &me.username).await {
                Ok(id) => return Ok(Redirect::to(&format!("/studies/{id}")).into_response()),
                Err(CreateError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    errors.insert(e.field(), e.to_string());
                }
            }
        }
        Ok(_) => {}
        Err(e) => errors.extend(e),
    }
    let body = page(&state, &csrf, &f, &errors).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page("Studies", Some(&chrome(me, &csrf)), body),
    )
        .into_response())
}
