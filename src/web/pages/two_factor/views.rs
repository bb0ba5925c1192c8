//! Two-factor sign-in's pages: setting it up (QR code and the key as text), the code and
//! recovery-code steps of signing in, the recovery codes shown once, and the account page.

use maud::{html, Markup, PreEscaped};

use crate::store::users::User;
use crate::two_factor::{Secret, DIGITS, RECOVERY_CODES, STEP_SECS};
use crate::web::views::{self, csrf_field, field_error, Chrome};

/// The field a 6-digit code is typed into: numeric keyboard on phones, and the browser or
/// password manager may offer a code it holds (`one-time-code`).
fn code_input(error: Option<&String>, error_id: &str) -> Markup {
    html! {
        label for="code" { "6-digit code" }
        p class="hint" id="code-hint" { "From your authenticator app. Spaces do not matter." }
        input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
            spellcheck="false" maxlength="20" required autofocus
            aria-invalid=[error.map(|_| "true")]
            aria-describedby=(match error { Some(_) => format!("code-hint {error_id}"), None => "code-hint".to_string() });
    }
}

/// The QR code of `url` as inline SVG, named for screen readers (the key is written out below
/// it for anyone who cannot scan it).
fn qr_code(url: &str) -> Markup {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) else {
        return html! { p class="notice" { "The QR code could not be drawn: type the key below into your app." } };
    };
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML declaration first, which has no place inside HTML.
    let image = image.find("<svg").map_or(image.as_str(), |at| &image[at..]);
    html! {
        div class="qr" role="img" aria-label="QR code to scan with your authenticator app. The same key is written out below." {
            (PreEscaped(image))
        }
    }
}

/// Setting up: the app, the QR code (or the key typed by hand), then the first code.
pub fn enrol_page(
    chrome: Option<&Chrome>,
    csrf: &str,
    action: &str,
    user: &User,
    secret: &Secret,
    required: bool,
    error: Option<&String>,
) -> Markup {
    views::page(
        "Set up two-factor sign-in",
        chrome,
        html! {
            h1 { "Set up two-factor sign-in" }
            @if required {
                p class="notice" { "Your role (" (user.role.title()) ") needs a second step when you sign in: a code from an app on your phone. Set it up now to continue." }
            } @else {
                p { "After your password, you will also type a code from an app on your phone, so a stolen password alone is not enough to sign in as you." }
            }
            ol class="steps" {
                li {
                    p { "Open an authenticator app on your phone (any app for time-based codes, such as the one your organisation recommends) and add an account." }
                }
                li {
                    p { "Scan this QR code with it:" }
                    (qr_code(&secret.otpauth_url(&user.username)))
                    p { "Or, if you cannot scan it, type this key into the app:" }
                    p { code class="secret" id="secret" { (secret.base32_grouped()) } }
                    p class="hint" { "Time-based, " (DIGITS) " digits, a new code every " (STEP_SECS) " seconds. The key is for your app only: do not write it down or share it." }
                }
                li {
                    p { "Type the code the app now shows, to check that it works:" }
                    form method="post" action=(action) {
                        (csrf_field(csrf))
                        (field_error("code-error", error))
                        (code_input(error, "code-error"))
                        button type="submit" { "Turn on two-factor sign-in" }
                    }
                }
            }
            @if chrome.is_none() { (cancel(csrf)) }
        },
    )
}

/// A way out of a sign-in half done: signing out forgets it.
fn cancel(csrf: &str) -> Markup {
    html! {
        form method="post" action="/logout" class="cancel" {
            (csrf_field(csrf))
            button type="submit" class="link" { "Cancel and sign out" }
        }
    }
}

/// The second step of signing in: the code from the app.
pub fn code_page(csrf: &str, user: &User, error: Option<&String>) -> Markup {
    views::page(
        "Two-factor sign-in",
        None,
        html! {
            h1 { "Two-factor sign-in" }
            p { "Your password was right, " (user.display_name) ". Now type the code your authenticator app shows for imh-exam." }
            form method="post" action="/login/two-factor" {
                (csrf_field(csrf))
                (field_error("code-error", error))
                (code_input(error, "code-error"))
                button type="submit" { "Sign in" }
            }
            p { a href="/login/two-factor/recovery" { "Use a recovery code instead" } " (if you do not have your phone)." }
            (cancel(csrf))
        },
    )
}

/// The second step with a recovery code instead.
pub fn recovery_page(csrf: &str, error: Option<&String>) -> Markup {
    views::page(
        "Sign in with a recovery code",
        None,
        html! {
            h1 { "Sign in with a recovery code" }
            p { "Type one of the recovery codes you were given when you set up two-factor sign-in. Each code works once." }
            form method="post" action="/login/two-factor/recovery" {
                (csrf_field(csrf))
                (field_error("recovery-error", error))
                label for="recovery" { "Recovery code" }
                p class="hint" id="recovery-hint" { "16 letters and digits, like ABCD-EFGH-JKLM-NPQR. Capitals and dashes do not matter." }
                input type="text" id="recovery" name="recovery" autocomplete="off" autocapitalize="characters"
                    spellcheck="false" maxlength="64" required autofocus
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=(match error { Some(_) => "recovery-hint recovery-error", None => "recovery-hint" });
                button type="submit" { "Sign in" }
            }
            p { a href="/login/two-factor" { "Use a code from your app instead" } }
            p class="hint" { "No codes left, or lost them? An administrator can reset your two-factor sign-in." }
            (cancel(csrf))
        },
    )
}

/// New recovery codes, shown this once.
pub fn codes_page(chrome: Option<&Chrome>, codes: &[String], next: &str, enrolled: bool) -> Markup {
    views::page(
        "Your recovery codes",
        chrome,
        html! {
            h1 { "Your recovery codes" }
            @if enrolled {
                p class="notice ok" role="status" { "Two-factor sign-in is on." }
            } @else {
                p class="notice ok" role="status" { "New recovery codes made: the old ones no longer work." }
            }
            p { "If you lose your phone, each of these codes signs you in once instead of a code from the app. "
                strong { "Write them down or print them now and keep them somewhere safe: they are not shown again." } }
            ol class="recovery-codes" aria-label="Recovery codes" {
                @for code in codes { li { code { (code) } } }
            }
            p { a class="button" href=(next) { "I have kept them: continue" } }
        },
    )
}

/// The account page when two-factor sign-in is on.
pub fn account_page(chrome: &Chrome, csrf: &str, since: &str, left: i64, required: bool) -> Markup {
    views::page(
        "Two-factor sign-in",
        Some(chrome),
        html! {
            h1 { "Two-factor sign-in" }
            p class="notice ok" { "On since " (since) "." @if required { " Your role requires it." } }
            h2 { "Recovery codes" }
            p { "You have " strong { (left) " of " (RECOVERY_CODES) } " recovery codes left." }
            form method="post" action="/account/two-factor/recovery-codes" {
                (csrf_field(csrf))
                p class="hint" id="regenerate-hint" { "New codes replace all the old ones, used or not." }
                button type="submit" class="secondary" aria-describedby="regenerate-hint" { "Make new recovery codes" }
            }
            h2 { "Lost your phone?" }
            p { "Sign in with a recovery code, then ask an administrator to reset your two-factor sign-in and set it up again on your new phone." }
        },
    )
}

/// When the server has no key to keep secrets with.
pub fn unavailable_page(chrome: &Chrome) -> Markup {
    views::page(
        "Two-factor sign-in",
        Some(chrome),
        html! {
            h1 { "Two-factor sign-in" }
            p class="notice" { "Two-factor sign-in cannot be turned on yet: this server has no key to keep the secrets with. An administrator of the server starts it with "
                code { "--two-factor-key-file FILE" } "." }
        },
    )
}

/// An administrator's confirmation before removing someone's two-factor sign-in.
pub fn reset_page(
    chrome: &Chrome,
    csrf: &str,
    target: &User,
    on: bool,
    reason: &str,
    error: Option<&String>,
) -> Markup {
    views::page(
        "Reset two-factor sign-in",
        Some(chrome),
        html! {
            h1 { "Reset two-factor sign-in of " (target.display_name) }
            @if on {
                p { "For when " (target.display_name) " (" (target.username) ") has lost their phone and their recovery codes. Their app and recovery codes stop working, and their open sessions end. They sign in with their password alone, and set two-factor sign-in up again (at once, if their role requires it)." }
                p { "The reset is recorded in the audit log with your name and the reason." }
                form method="post" action=(format!("/admin/users/{}/two-factor", target.id)) {
                    (csrf_field(csrf))
                    label for="reason" { "Reason" }
                    p class="hint" id="reason-hint" { "For example: lost phone, identity checked by video call." }
                    (field_error("reason-error", error))
                    input type="text" id="reason" name="reason" value=(reason) required maxlength="500"
                        aria-invalid=[error.map(|_| "true")]
                        aria-describedby=(match error { Some(_) => "reason-hint reason-error", None => "reason-hint" });
                    button type="submit" class="danger" { "Reset two-factor sign-in" }
                }
            } @else {
                p { (target.display_name) " (" (target.username) ") has not set up two-factor sign-in: there is nothing to reset." }
            }
            p { a href="/admin/users" { "Back to staff accounts" } }
        },
    )
}

/// Done: what happens next for the person whose sign-in was reset.
pub fn reset_done_page(chrome: &Chrome, target: &User) -> Markup {
    views::page(
        "Two-factor sign-in reset",
        Some(chrome),
        html! {
            h1 { "Two-factor sign-in reset" }
            p class="notice ok" role="status" { "The two-factor sign-in of " (target.display_name) " (" (target.username) ") was removed and their sessions ended. The reset is in the audit log." }
            p { a href="/admin/users" { "Back to staff accounts" } }
        },
    )
}
