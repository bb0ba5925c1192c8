//! One candidate's line on the console: what it says (status chip, part and progress, time
//! left, when last heard from) and its actions menu, for the page and the live refresh alike.

use super::*;

/// One row of the console.
pub(in crate::web::pages) struct Row {
    pub(in crate::web::pages) reg: Registration,
    pub(in crate::web::pages) attempts: Vec<Attempt>,
    pub(in crate::web::pages) answered: usize,
    pub(in crate::web::pages) focus_losses: usize,
    /// Browser events counted past the limit of those listed one by one.
    pub(in crate::web::pages) unlisted_events: i64,
    /// Last time the browser was heard from: a save, the clock, an event.
    pub(in crate::web::pages) last_seen: Option<i64>,
}

/// How recently the candidate's browser was heard from.
pub(super) fn connection(row: &Row, now: i64) -> String {
    match heard(row) {
        None => "not yet seen".into(),
        Some(t) if now - t < 30_000 => "online".into(),
        Some(t) => format!("not heard from for {}", minutes_seconds(now - t)),
    }
}

pub(super) fn last_save(row: &Row, now: i64) -> String {
    match row
        .attempts
        .iter()
        .find(|a| a.is_open())
        .and_then(|a| a.last_save_at)
    {
        Some(t) => format!("{} ago", minutes_seconds(now - t)),
        None => "—".into(),
    }
}

pub(super) fn status(row: &Row, now: i64) -> String {
    if let Some(a) = row.attempts.iter().find(|a| a.is_open()) {
        let paused = if a.on_break() {
            ", on a break"
        } else if a.clock.is_paused() {
            ", paused"
        } else {
            ""
        };
        return format!(
            "in Part {}{paused}, {} left",
            if a.part == 1 { "One" } else { "Two" },
            minutes_seconds(a.clock.remaining_ms(now))
        );
    }
    if row.attempts.iter().any(|a| a.voided_at.is_some()) {
        return "voided".into();
    }
    let done: Vec<&str> = row
        .attempts
        .iter()
        .filter(|a| a.submitted_at.is_some())
        .map(|a| if a.part == 1 { "Part One" } else { "Part Two" })
        .collect();
    if !done.is_empty() {
        return format!("submitted {}", done.join(" and "));
    }
    if row.reg.absent_at.is_some() {
        "absent".into()
    } else if row.reg.admitted_at.is_some() {
        "admitted".into()
    } else {
        "waiting for admission".into()
    }
}

/// What one row says, for the page and for the live refresh alike.
pub(super) struct RowView {
    /// The filter this row falls under (never `All` or `Problems`).
    pub(in crate::web::pages) state: Filter,
    /// The status chip: its word and its colour class.
    pub(in crate::web::pages) chip: &'static str,
    pub(in crate::web::pages) chip_class: &'static str,
    /// The part and progress in words: "in Part One, 23 of 60 answered".
    pub(in crate::web::pages) progress: String,
    pub(in crate::web::pages) time_left: String,
    pub(in crate::web::pages) seen: String,
    /// Why the row needs a look, in words; empty when all is well.
    pub(in crate::web::pages) problems: Vec<String>,
}

/// A candidate whose part is open is a problem once their browser is silent this long.
pub(super) const SILENT_MS: i64 = 60_000;

pub(super) fn part_name(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

/// How much of `a` is answered: "23 of 60 answered" in Part One (its questions are counted),
/// "3 answers written" in Part Two (the candidate chooses its vignettes).
pub(super) fn answered_words(a: &Attempt, answered: usize) -> String {
    if a.part == 1 {
        format!("{answered} of {} answered", a.form.part_one.len())
    } else if answered == 1 {
        "1 answer written".into()
    } else {
        format!("{answered} answers written")
    }
}

pub(super) fn view(row: &Row, now: i64) -> RowView {
    let open = row.attempts.iter().find(|a| a.is_open());
    // The attempt the answered count is of: the open one, else the last.
    let counted = open.or(row.attempts.last());
    let answered = |a: &Attempt| {
        if counted.is_some_and(|c| c.id == a.id) {
            format!(", {}", answered_words(a, row.answered))
        } else {
            String::new()
        }
    };
    let sits = |part: u8| {
        if part == 1 {
            row.reg.parts.one
        } else {
            row.reg.parts.two
        }
    };
    let mut problems = Vec::new();
    if row.focus_losses > 0 {
        problems.push(format!(
            "the exam page lost focus {} time(s)",
            row.focus_losses
        ));
    }
    if row.unlisted_events > 0 {
        problems.push(format!(
            "{} more browser events than are listed",
            row.unlisted_events
        ));
    }
    let (state, chip, chip_class, progress) = if let Some(a) = open {
        let silent = heard(row).is_none_or(|t| now - t > SILENT_MS);
        if silent {
            problems.push(format!(
                "{} is open but the browser is silent",
                part_name(a.part)
            ));
        }
        let (state, chip, class) = if a.on_break() {
            (Filter::Paused, "on a break", "warn")
        } else if a.clock.is_paused() {
            (Filter::Paused, "paused", "warn")
        } else {
            (Filter::InProgress, "in progress", "info")
        };
        (
            state,
            chip,
            class,
            format!("in {}{}", part_name(a.part), answered(a)),
        )
    } else if let Some(a) = row.attempts.iter().find(|a| a.voided_at.is_some()) {
        problems.push(format!(
            "{} voided: {}",
            part_name(a.part),
            a.void_reason.as_deref().unwrap_or("no reason given")
        ));
        (
            Filter::Submitted,
            "voided",
            "bad",
            format!("{} voided", part_name(a.part)),
        )
    } else if let Some(last) = row.attempts.iter().rev().find(|a| a.submitted_at.is_some()) {
        let done: Vec<&str> = row
            .attempts
            .iter()
            .filter(|a| a.submitted_at.is_some())
            .map(|a| part_name(a.part))
            .collect();
        let more = (1..=2u8).any(|p| sits(p) && !row.attempts.iter().any(|a| a.part == p));
        let progress = format!("submitted {}{}", done.join(" and "), answered(last));
        if more {
            (Filter::InProgress, "between parts", "info", progress)
        } else {
            (Filter::Submitted, "submitted", "ok", progress)
        }
    } else if row.reg.absent_at.is_some() {
        (Filter::Absent, "absent", "", "did not come".to_string())
    } else if row.reg.admitted_at.is_some() {
        (
            Filter::Waiting,
            "admitted",
            "info",
            "admitted, not started".to_string(),
        )
    } else {
        (
            Filter::Waiting,
            "waiting",
            "",
            "waiting for admission".to_string(),
        )
    };
    let time_left = match open {
        Some(a) => minutes_seconds(a.clock.remaining_ms(now)),
        None => "—".into(),
    };
    RowView {
        state,
        chip,
        chip_class,
        progress,
        time_left,
        seen: connection(row, now),
        problems,
    }
}

/// When the candidate's browser was last heard from: a save, the clock, an event.
pub(super) fn heard(row: &Row) -> Option<i64> {
    row.attempts
        .iter()
        .filter_map(|a| a.last_save_at)
        .chain(row.last_seen)
        .max()
}

/// One candidate's line: who, a status chip, the part and progress, the clock, and the
/// actions in a menu that opens without script, the void set apart behind its own page.
pub(super) fn candidate_row(csrf: &str, row: &Row, v: &RowView, closed: bool) -> Markup {
    let open = row.attempts.iter().find(|a| a.is_open());
    let name = &row.reg.name;
    html! {
        tr data-registration=(row.reg.id) data-state=(v.state.key())
            class=[row.reg.absent_at.is_some().then_some("absent")] {
            th scope="row" { (name) }
            td class="status" {
                span class={ "chip" @if !v.chip_class.is_empty() { " " (v.chip_class) } } { (v.chip) }
                @if !v.problems.is_empty() { " " span class="chip bad problem" { "problem" } }
            }
            td class="progress" { (v.progress) }
            td class="n time-left" { (v.time_left) }
            td class="connection" { (v.seen) }
            td class="n focus" { (row.focus_losses) }
            td class="menu-cell" {
                details class="menu" {
                    summary { "Actions" span class="sr-only" { " for " (name) } }
                    div class="menu-body" {
                        p class="small" {
                            (row.reg.email) br;
                            "Level " (row.reg.level) ", " (parts_label(row.reg.parts))
                            @if row.reg.multiplier.permille() != 1000 { ", time ×" (row.reg.multiplier) }
                            @if row.reg.extra_breaks > 0 { ", " (row.reg.extra_breaks) " extra break(s)" }
                        }
                        @if !v.problems.is_empty() {
                            ul class="problems small" { @for p in &v.problems { li { (p) } } }
                        }
                        @if row.reg.admitted_at.is_none() && !closed {
                            form method="post" action={ "/registrations/" (row.reg.id) "/admit" } {
                                (csrf_field(csrf))
                                button type="submit" class="small" aria-label={ "Admit " (name) } {
                                    (if row.reg.absent_at.is_some() { "Admit (came after all)" } else { "Admit" })
                                }
                            }
                        }
                        @if let Some(a) = open {
                            form method="post" action={ "/attempts/" (a.id) (if a.clock.is_paused() { "/resume" } else { "/pause" }) } {
                                (csrf_field(csrf))
                                button type="submit" class="secondary small" {
                                    (if a.clock.is_paused() { "Resume " } else { "Pause " }) (part_name(a.part))
                                    span class="sr-only" { " for " (name) }
                                }
                            }
                            form method="post" action={ "/attempts/" (a.id) "/add-time" } class="add-time" {
                                (csrf_field(csrf))
                                label for={ "min-" (a.id) } { "Minutes to add" }
                                input type="number" id={ "min-" (a.id) } name="minutes" min="-60" max="240" value="5";
                                button type="submit" class="secondary small" { "Add time" span class="sr-only" { " for " (name) } }
                            }
                        }
                        @if row.reg.active_session.is_some() {
                            form method="post" action={ "/registrations/" (row.reg.id) "/release" } {
                                (csrf_field(csrf))
                                button type="submit" class="secondary small" { "Move to a new browser" span class="sr-only" { ": " (name) } }
                            }
                        }
                        @if row.reg.absent_at.is_none() && row.attempts.is_empty() {
                            form method="post" action={ "/registrations/" (row.reg.id) "/absent" } {
                                (csrf_field(csrf))
                                button type="submit" class="secondary small" aria-label={ "Mark " (name) " absent" } { "Mark absent" }
                            }
                        }
                        @if let Some(a) = open {
                            div class="danger-zone" {
                                a class="button danger small" href={ "/attempts/" (a.id) "/void" } {
                                    "Void " (part_name(a.part)) "…" span class="sr-only" { " for " (name) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
