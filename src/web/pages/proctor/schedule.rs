//! The sittings list, and scheduling a sitting.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::bank as bank_store;
use crate::store::sittings::{self, NewSitting, Sitting};
use crate::store::users::User;

use crate::web::error::AppResult;
use crate::web::roles::Proctor;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

use crate::web::time::{self as clock, DEFAULT_ZONE};

#[derive(Debug, Default, Deserialize)]
pub struct SittingForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub opens_at: String,
    #[serde(default)]
    pub closes_at: String,
    /// Comma-separated ids; the form sends one `blueprint` checkbox per blueprint, collected
    /// by the handler from the raw body.
    #[serde(default)]
    pub blueprints: String,
    /// An IANA name such as `America/Detroit`; empty is UTC. The opening and closing times are
    /// read in it, and every page shows the sitting's times in it.
    #[serde(default)]
    pub time_zone: String,
}

fn sittings_page(
    me: &User,
    csrf: &str,
    all: &[Sitting],
    blueprints: &[(String, String)],
    form: &SittingForm,
    errors: &BTreeMap<&'static str, String>,
) -> Markup {
    views::page(
        "Sittings",
        Some(&chrome(me, csrf)),
        html! {
            h1 { "Sittings" }
            @if all.is_empty() { p { "No sitting is scheduled yet." } }
            @else {
                div class="table-wrap" role="region" aria-label="Sittings" tabindex="0" {
                table {
                    thead { tr { th scope="col" { "Sitting" } th scope="col" { "Place" } th scope="col" { "Opens" } th scope="col" { "Closes" } th scope="col" { "Time zone" } } }
                    tbody {
                        @for s in all {
                            tr {
                                td { a href={ "/sittings/" (s.id) } { (s.name) } }
                                td { (s.place) }
                                td { (clock::local(s.opens_at, &s.time_zone)) }
                                td { (clock::local(s.closes_at, &s.time_zone)) }
                                td { (s.time_zone) }
                            }
                        }
                    }
                }
                }
            }
            h2 { "Schedule a sitting" }
            form method="post" action="/sittings" novalidate {
                (csrf_field(csrf))
                label for="name" { "Name" }
                input type="text" id="name" name="name" value=(form.name) required aria-describedby=[errors.contains_key("name").then_some("name-error")];
                (field_error("name-error", errors.get("name")))
                label for="place" { "Place" }
                p class="hint" id="place-hint" { "An address, or \"remote\" for a virtually proctored sitting." }
                input type="text" id="place" name="place" value=(form.place) aria-describedby="place-hint";
                label for="time_zone" { "Time zone" }
                p class="hint" id="time_zone-hint" { "The sitting's times are entered and shown in this zone (each page shows UTC on hover). An IANA name such as America/Detroit, Europe/Madrid or Asia/Kolkata; UTC if left empty." }
                input type="text" id="time_zone" name="time_zone" value=(form.time_zone) placeholder=(DEFAULT_ZONE) autocomplete="off" spellcheck="false"
                    aria-describedby={ "time_zone-hint" @if errors.contains_key("time_zone") { " time_zone-error" } }
                    aria-invalid=[errors.contains_key("time_zone").then_some("true")];
                (field_error("time_zone-error", errors.get("time_zone")))
                label for="opens_at" { "Opens (in the sitting's time zone)" }
                input type="datetime-local" id="opens_at" name="opens_at" value=(form.opens_at) required aria-describedby=[errors.contains_key("opens_at").then_some("opens_at-error")];
                (field_error("opens_at-error", errors.get("opens_at")))
                label for="closes_at" { "Closes (in the sitting's time zone)" }
                input type="datetime-local" id="closes_at" name="closes_at" value=(form.closes_at) required aria-describedby=[errors.contains_key("closes_at").then_some("closes_at-error")];
                (field_error("closes_at-error", errors.get("closes_at")))
                fieldset {
                    legend { "Blueprints offered (a candidate's level picks one)" }
                    @for (id, name) in blueprints {
                        label class="check" {
                            input type="checkbox" name="blueprint" value=(id) checked[form.blueprints.is_empty() || form.blueprints.split(',').any(|b| b == id)];
                            " " (name)
                        }
                    }
                    (field_error("blueprints-error", errors.get("blueprints")))
                }
                button type="submit" { "Schedule" }
            }
        },
    )
}

async fn blueprint_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(bank_store::blueprints(&state.db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let all = sittings::list_sittings(&state.db).await?;
    let bps = blueprint_names(&state).await?;
    Ok(sittings_page(
        me,
        &csrf,
        &all,
        &bps,
        &SittingForm::default(),
        &BTreeMap::new(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "blueprint")
        .map(|(_, v)| v.clone())
        .collect();
    let form = SittingForm {
        name: get("name"),
        place: get("place"),
        opens_at: get("opens_at"),
        closes_at: get("closes_at"),
        blueprints: chosen.join(","),
        time_zone: get("time_zone"),
    };
    let bps = blueprint_names(&state).await?;
    let mut errors = BTreeMap::new();
    if form.name.trim().is_empty() {
        errors.insert(
            "name",
            "give the sitting a name, e.g. \"Spring 2027, remote\"".to_string(),
        );
    }
    // Times are read in the zone given; a wrong zone is named, and the times read in UTC
    // meanwhile so their own errors show too.
    let zone = match clock::zone(&form.time_zone) {
        Ok((_, canonical)) => canonical,
        Err(e) => {
            errors.insert("time_zone", format!("Time zone: {e}"));
            DEFAULT_ZONE.to_string()
        }
    };
    let opens = clock::parse_local(&form.opens_at, &zone)
        .map_err(|e| errors.insert("opens_at", e))
        .ok();
    let closes = clock::parse_local(&form.closes_at, &zone)
        .map_err(|e| errors.insert("closes_at", e))
        .ok();
    if let (Some(o), Some(c)) = (opens, closes) {
        if c <= o {
            errors.insert("closes_at", "the sitting must close after it opens".into());
        }
    }
    if chosen.is_empty() {
        errors.insert("blueprints", "offer at least one blueprint".into());
    }
    if let Some(bad) = chosen.iter().find(|c| !bps.iter().any(|(id, _)| id == *c)) {
        errors.insert("blueprints", format!("there is no blueprint \"{bad}\""));
    }
    if !errors.is_empty() {
        let all = sittings::list_sittings(&state.db).await?;
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            sittings_page(me, &csrf, &all, &bps, &form, &errors),
        )
            .into_response());
    }
    let place = if form.place.trim().is_empty() {
        "remote"
    } else {
        form.place.trim()
    };
    let id = sittings::create_sitting_in_zone(
        &state.db,
        &NewSitting {
            name: form.name.trim(),
            place,
            opens_at: opens.expect("checked"),
            closes_at: closes.expect("checked"),
            blueprints: &chosen,
        },
        &zone,
        &me.username,
    )
    .await?;
    Ok(Redirect::to(&format!("/sittings/{id}")).into_response())
}
