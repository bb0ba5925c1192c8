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
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
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
                                        li { a href="/studies" { "Studies" } }
                                        li { a href="/bank" { "Item bank" } }
                                    }
                                    @if user.role == Role::Rater {
                                        li { a href="/rate" { "Scoring queue" } }
                                    }
                                    @if matches!(user.role, Role::Panelist | Role::Committee) {
                                        li { a href="/panel" { "My panels" } }
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

/// A wide table (or anything wide) that scrolls sideways in its own box on a narrow screen
/// instead of widening the page; the box takes the keyboard focus so it can be scrolled
/// without a mouse, and is named for screen readers by `label`.
pub fn scroll_box(label: &str, inner: Markup) -> Markup {
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label=(label) { (inner) }
    }
}

/// An error message tied to a field by id, announced by screen readers.
pub fn field_error(id: &str, error: Option<&String>) -> Markup {
    html! {
        @if let Some(e) = error {
            p class="error" id=(id) role="alert" { (e) }
        }
    }
}

/// Under an error: the request's id, for the person to quote when they report it (the same id
/// is in the `x-request-id` header and in the server's log line for the request).
pub fn request_id_note() -> Markup {
    html! {
        @if let Some(id) = super::observe::current() {
            p class="hint request-id" {
                "If you report this, quote the request id "
                code { (id.as_str()) } "."
            }
        }
    }
}

/// The stylesheet: the design system, then each audience's rules, then printing.
pub const CSS: &str = concat!(
    include_str!("assets/css/base.css"),
    include_str!("assets/css/exam.css"),
    include_str!("assets/css/desk.css"),
    include_str!("assets/css/console.css"),
    include_str!("assets/css/committee.css"),
    include_str!("assets/css/studies.css"),
    include_str!("assets/css/panel.css"),
    include_str!("assets/css/account.css"),
    include_str!("assets/css/print.css"),
);
/// The site's icon: the brand's initials on its accent colour.
pub const ICON_SVG: &str = include_str!("assets/icon.svg");
pub const EXAM_JS: &str = include_str!("assets/exam.js");
pub const PROCTOR_JS: &str = include_str!("assets/proctor.js");

pub fn css_markup() -> PreEscaped<&'static str> {
    PreEscaped(CSS)
}

#[cfg(test)]
mod tests {
    use super::CSS;

    /// A colour token's value in the stylesheet's `:root`, as sRGB bytes.
    fn token(name: &str) -> [u8; 3] {
        let at = CSS
            .find(&format!("--{name}:"))
            .unwrap_or_else(|| panic!("no --{name} in the stylesheet"));
        let hex = CSS[at..].split_once('#').unwrap().1;
        let hex = &hex[..6];
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        [byte(0), byte(2), byte(4)]
    }

    /// WCAG 2.1's relative luminance and contrast ratio.
    fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let lum = |c: [u8; 3]| {
            let lin = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn contrast_ratio_matches_wcag_examples() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        // #767676 on white is the classic lightest grey that passes 4.5:1.
        assert!((contrast([0x76; 3], [255; 3]) - 4.54).abs() < 0.01);
    }

    #[test]
    fn every_text_colour_reads_on_its_background() {
        let text = [
            ("ink", "paper"),
            ("muted", "paper"),
            ("muted", "quiet-soft"),
            ("accent", "paper"),
            ("accent", "accent-soft"),
            ("accent-dark", "accent-soft"),
            ("paper", "accent"),
            ("paper", "bad"),
            ("ok", "ok-soft"),
            ("warn", "warn-soft"),
            ("bad", "bad-soft"),
            ("bad", "paper"),
            ("ink", "warn-soft"),
        ];
        for (fg, bg) in text {
            let r = contrast(token(fg), token(bg));
            assert!(r >= 4.5, "--{fg} on --{bg} is {r:.2}:1, under 4.5:1");
        }
        // Non-text: a control's border and the focus ring against the page (WCAG 1.4.11).
        for (fg, bg) in [
            ("control", "paper"),
            ("focus", "paper"),
            ("focus", "accent-soft"),
        ] {
            let r = contrast(token(fg), token(bg));
            assert!(r >= 3.0, "--{fg} on --{bg} is {r:.2}:1, under 3:1");
        }
    }
}
