//! Staff pages: the role-aware home page, staff accounts (admin) and the bank overview
//! (committee and admin).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, Role, Username};
use crate::store::bank as bank_store;
use crate::store::two_factor as two_factor_store;
use crate::store::users::{self, AddUserError, NewUser, Principal, User};

use crate::web::error::AppResult;
use crate::web::roles::{Admin, Committee};
use crate::web::session::{CsrfToken, Visitor};
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

pub async fn home(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let user = match &visitor.principal {
        None => return Ok(Redirect::to("/login").into_response()),
        Some(Principal::Candidate { .. }) => return Ok(Redirect::to("/candidate").into_response()),
        Some(Principal::Staff(u)) => u,
    };
    // A panelist's home is their studies, and nothing else.
    let studies = match user.role {
        Role::Panelist => Some(super::panel::my_studies(&state.db, user).await?),
        _ => None,
    };
    let body = html! {
        h1 { "Welcome, " (user.display_name) }
        p class="hint" { "Signed in as " (user.role.title()) "." }
        @match user.role {
            Role::Admin => {
                h2 { "Administration" }
                ul {
                    li { a href="/admin/users" { "Staff accounts" } ": add proctors, raters, committee members and panelists." }
                    li { a href="/bank" { "Item bank" } ": what is imported, by domain, kind and status." }
                    li { a href="/scoring" { "Scoring and results" } }
                }
            }
            Role::Proctor => {
                h2 { "Proctoring" }
                p { "Sittings you proctor are listed here once they are scheduled: admit candidates, watch the sitting, pause, add time and log incidents." }
                p { "No sittings are scheduled for you." }
            }
            Role::Rater => {
                h2 { "Scoring" }
                p { "Open responses assigned to you, known only by a code, to score against the rubric." }
                p { a href="/rate" { "Your scoring queue" } }
            }
            Role::Committee => {
                h2 { "Exam committee" }
                ul {
                    li { a href="/scoring" { "Scoring and results" } ": assign raters, calibration, results and their release." }
                    li { a href="/keys" { "Key review" } ": change a key, accept two, or drop an item, and rescore." }
                    li { a href="/bank" { "Item bank" } ": items by domain, kind and status." }
                    li { a href="/panel" { "My panels" } ": standard-setting studies whose panel you sit on." }
                }
            }
            Role::Panelist => {
                h2 { "Standard-setting studies" }
                @if let Some(list) = &studies { (list) }
            }
        }
        h2 { "Your account" }
        p { a href="/account/two-factor" { "Two-factor sign-in" } ": a code from your phone after your password." }
    };
    Ok(views::page("Home", Some(&chrome(user, &csrf)), body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub password: String,
}

type Errors = BTreeMap<&'static str, String>;

fn users_page(
    me: &User,
    csrf: &str,
    (all, two_factor): (&[User], &BTreeSet<i64>),
    form: &UserForm,
    errors: &Errors,
    created: Option<&str>,
) -> Markup {
    views::page(
        "Staff accounts",
        Some(&chrome(me, csrf)),
        html! {
            h1 { "Staff accounts" }
            @if let Some(name) = created {
                p class="notice" role="status" { "Account " (name) " created." }
            }
            (views::scroll_box("Staff accounts", html! {
            table {
                caption class="hint" { (all.len()) " accounts" }
                thead { tr { th scope="col" { "Username" } th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Organisation" } th scope="col" { "Two-factor sign-in" } } }
                tbody {
                    @for u in all {
                        tr {
                            td { (u.username) } td { (u.display_name) } td { (u.role.title()) } td { (u.organisation) }
                            td {
                                @if two_factor.contains(&u.id) {
                                    "On"
                                    @if u.id != me.id {
                                        " · " a href=(format!("/admin/users/{}/two-factor", u.id)) aria-label=(format!("Reset the two-factor sign-in of {}", u.username)) { "Reset" }
                                    }
                                } @else { "Off" }
                            }
                        }
                    }
                }
            }
            }))
            h2 { "Add a staff account" }
            form method="post" action="/admin/users" novalidate {
                (csrf_field(csrf))
                label for="username" { "Username" }
                input type="text" id="username" name="username" value=(form.username) required
                    aria-invalid=[errors.contains_key("username").then_some("true")]
                    aria-describedby=[errors.contains_key("username").then_some("username-error")];
                (field_error("username-error", errors.get("username")))
                label for="display_name" { "Full name" }
                input type="text" id="display_name" name="display_name" value=(form.display_name) required
                    aria-describedby=[errors.contains_key("display_name").then_some("display_name-error")];
                (field_error("display_name-error", errors.get("display_name")))
                label for="role" { "Role" }
                select id="role" name="role" required
                    aria-invalid=[errors.contains_key("role").then_some("true")]
                    aria-describedby=[errors.contains_key("role").then_some("role-error")] {
                    // No role is taken for granted: an administrator by default was one slip
                    // away from giving a rater the keys.
                    option value="" selected[form.role.is_empty()] { "Choose a role" }
                    @for r in Role::ALL {
                        option value=(r.code()) selected[form.role == r.code()] { (r.title()) }
                    }
                }
                (field_error("role-error", errors.get("role")))
                label for="organisation" { "Organisation" }
                p class="hint" id="organisation-hint" { "Raters are never given responses from their own organisation's candidates." }
                input type="text" id="organisation" name="organisation" value=(form.organisation) aria-describedby="organisation-hint";
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="new-password" required
                    aria-describedby=[errors.contains_key("password").then_some("password-error")];
                (field_error("password-error", errors.get("password")))
                button type="submit" { "Add account" }
            }
        },
    )
}

pub async fn users(
    State(state): State<AppState>,
    Admin(ref me): Admin,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let all = users::list_users(&state.db).await?;
    let two_factor = two_factor_store::enabled_users(&state.db).await?;
    Ok(users_page(
        me,
        &csrf,
        (&all, &two_factor),
        &UserForm::default(),
        &Errors::new(),
        None,
    ))
}

pub async fn add_user(
    State(state): State<AppState>,
    Admin(ref me): Admin,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<UserForm>,
) -> AppResult<Response> {
    let mut errors = Errors::new();
    let username = Username::parse(&form.username)
        .map_err(|e| errors.insert("username", e))
        .ok();
    if form.display_name.trim().is_empty() {
        errors.insert("display_name", "Give the person's full name.".into());
    }
    let role = if form.role.trim().is_empty() {
        errors.insert(
            "role",
            "Role: choose what this person will do (administrator, proctor, rater, committee member or panelist).".into(),
        );
        None
    } else {
        form.role
            .parse::<Role>()
            .map_err(|e| errors.insert("role", e))
            .ok()
    };
    if let Err(e) = auth::check_password_strength(&form.password) {
        errors.insert("password", e);
    }
    if let (true, Some(username), Some(role)) = (errors.is_empty(), &username, role) {
        match users::add_user(
            &state.db,
            NewUser {
                username,
                display_name: form.display_name.trim(),
                role,
                organisation: form.organisation.trim(),
                password: &form.password,
                added_by: &me.username,
            },
        )
        .await
        {
            Ok(_) => {
                let all = users::list_users(&state.db).await?;
                let two_factor = two_factor_store::enabled_users(&state.db).await?;
                let page = users_page(
                    me,
                    &csrf,
                    (&all, &two_factor),
                    &UserForm::default(),
                    &errors,
                    Some(username.as_str()),
                );
                return Ok((StatusCode::CREATED, page).into_response());
            }
            Err(AddUserError::Exists(name)) => {
                errors.insert("username", format!("The username \"{name}\" is taken."));
            }
            Err(AddUserError::Store(e)) => return Err(e.into()),
        }
    }
    let all = users::list_users(&state.db).await?;
    let two_factor = two_factor_store::enabled_users(&state.db).await?;
    let form = UserForm {
        password: String::new(),
        ..form
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        users_page(me, &csrf, (&all, &two_factor), &form, &errors, None),
    )
        .into_response())
}

pub async fn bank(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Markup> {
    let counts = bank_store::current_counts(&state.db).await?;
    let notice = bank_store::latest_notice(&state.db).await?;
    let lint = bank_store::latest_lint(&state.db).await?;
    let statuses = ["operational", "pretest", "draft", "retired"];
    let mut rows: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for (domain, kind, status, n) in counts {
        rows.entry((domain, kind)).or_default().insert(status, n);
    }
    Ok(views::page(
        "Item bank",
        Some(&chrome(me, &csrf)),
        html! {
            h1 { "Item bank" }
            @if let Some(n) = notice { p class="notice" { (n) } }
            @if rows.is_empty() {
                p { "No bank has been imported yet. Run " code { "imh-exam bank import item-bank" } "." }
            } @else {
                (views::scroll_box("Items in the bank", html! {
                table {
                    caption { "Newest version of every item, by domain, kind and status" }
                    thead { tr {
                        th scope="col" { "Domain" } th scope="col" { "Kind" }
                        @for s in statuses { th scope="col" class="n" { (s) } }
                    } }
                    tbody {
                        @for ((domain, kind), by_status) in &rows {
                            tr {
                                th scope="row" { (domain) } td { (kind) }
                                @for s in statuses { td class="n" { (by_status.get(s).copied().unwrap_or(0)) } }
                            }
                        }
                    }
                }
                }))
            }
            @if let Some(l) = &lint { (lint_summary(l)) }
        },
    ))
}

/// What `bank lint` found in the newest import: the summary, warnings per rule, and each
/// warning (in a disclosure: a revised bank has none).
fn lint_summary(l: &bank_store::StoredLint) -> Markup {
    html! {
        section aria-labelledby="lint-title" {
            h2 id="lint-title" { "Item-writing lint" }
            p { (l.summary) }
            p class="hint" { "From the import of " code { (l.source) } " by " (l.imported_by) ". Rules, why they matter and how to fix them: docs/item-writing.md; run " code { "imh-exam bank lint" } " on the bank's files." }
            (views::scroll_box("Lint warnings per rule", html! {
                table {
                    caption { "Warnings per rule" }
                    thead { tr { th scope="col" { "Rule" } th scope="col" { "Looks for" } th scope="col" class="n" { "Warnings" } } }
                    tbody {
                        @for (rule, about, n) in &l.counts {
                            tr { th scope="row" { code { (rule) } } td { (about) } td class="n" { (n) } }
                        }
                    }
                }
            }))
            @if !l.warnings.is_empty() {
                details {
                    summary { "Every warning (" (l.warnings.len()) ")" }
                    ul class="lint-warnings" {
                        @for w in &l.warnings { li { code { (w) } } }
                    }
                }
            }
        }
    }
}
