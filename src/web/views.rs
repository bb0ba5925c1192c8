//! The page frame every page shares: landmarks, skip link, navigation and the stylesheet.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::auth::Role;
use crate::store::users::User;

/// What the header shows about who is signed in, and the token its logout form needs.
pub struct Chrome<'a> {
    pub user: Option<&'a User>,
    pub candidate: Option<&'a str>,
    pub csrf: &'a str,
}

/// The header of a staff member's page.
pub fn staff_chrome<'a>(user: &'a User, csrf: &'a str) -> Chrome<'a> {
    Chrome {
        user: Some(user),
        candidate: None,
        csrf,
    }
}

pub fn page(title: &str, chrome: Option<&Chrome>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · imh-exam" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/" { "imh-exam" }
                    @if let Some(c) = chrome {
                        nav aria-label="Main" {
                            ul {
                                @if let Some(user) = c.user {
                                    li { a href="/" { "Home" } }
                                    @if user.role == Role::Admin {
                                        li { a href="/admin/users" { "Staff accounts" } }
                                    }
                                    @if matches!(user.role, Role::Admin | Role::Proctor) {
                                        li { a href="/sittings" { "Sittings" } }
                                    }
                                    @if matches!(user.role, Role::Admin | Role::Committee) {
                                        li { a href="/scoring" { "Scoring" } }
                                        li { a href="/bank" { "Item bank" } }
                                    }
                                    @if user.role == Role::Rater {
                                        li { a href="/rate" { "Scoring queue" } }
                                    }
                                }
                            }
                        }
                        div class="who" {
                            @if let Some(user) = c.user {
                                span { (user.display_name) " (" (user.role.title()) ")" }
                            } @else if let Some(label) = c.candidate {
                                span { "Candidate: " (label) }
                            }
                            form method="post" action="/logout" {
                                (csrf_field(c.csrf))
                                button type="submit" class="link" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

/// The hidden field every form carries; checked by the CSRF layer on every POST.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An error message tied to a field by id, announced by screen readers.
pub fn field_error(id: &str, error: Option<&String>) -> Markup {
    html! {
        @if let Some(e) = error {
            p class="error" id=(id) role="alert" { (e) }
        }
    }
}

pub const CSS: &str = include_str!("assets/app.css");
pub const EXAM_JS: &str = include_str!("assets/exam.js");
pub const PROCTOR_JS: &str = include_str!("assets/proctor.js");

pub fn css_markup() -> PreEscaped<&'static str> {
    PreEscaped(CSS)
}
