//! The candidate's pages as the server renders them, on both engines: no page reloads itself
//! (no `http-equiv`), every exam page carries the live timer (h:mm:ss, with the remaining time
//! at render and the script that counts it down and warns), the display tools and strike-outs
//! are saved with the attempt and rendered back, the waiting page's status endpoint, and the
//! score report's wording when both parts fail or one passes, with the pass marks and no heading
//! that repeats itself.

use imh_exam::bank::Level;
use imh_exam::exam::form::Parts;
use imh_exam::store::attempts::{self, ClockAction};
use imh_exam::store::{now_ms, results, sittings};

use crate::helpers::exam::{candidate, registered, OpenSitting};
use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;
use crate::scoring::{rate_everything, sat_sitting};

/// The text of every `<h1>`..`<h6>` of a page, tags inside removed.
fn headings(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<h") {
        let after = &rest[start + 2..];
        let level = after.chars().next().unwrap_or('x');
        if !('1'..='6').contains(&level) {
            rest = after;
            continue;
        }
        let close = format!("</h{level}>");
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(end) = after.find(&close) else { break };
        let inner = &after[open_end + 1..end];
        let mut text = String::new();
        let mut in_tag = false;
        for ch in inner.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        out.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
        rest = &after[end..];
    }
    out
}

/// No heading says the same thing twice ("Part One: Part One: multiple choice").
fn assert_no_repeated_heading(page: &str, html: &str) {
    for h in headings(html) {
        let parts: Vec<&str> = h.split(": ").map(str::trim).collect();
        for (i, a) in parts.iter().enumerate() {
            for b in &parts[i + 1..] {
                assert!(
                    !(b.starts_with(a) || a.starts_with(b)),
                    "{page}: the heading {h:?} repeats {a:?}"
                );
            }
        }
    }
}

fn assert_no_refresh(page: &str, html: &str) {
    assert!(
        !html.to_lowercase().contains("http-equiv"),
        "{page} reloads itself: {html}"
    );
}

/// The timer as rendered: its remaining milliseconds and its text, which must be h:mm:ss.
fn assert_live_timer(page: &str, html: &str) -> i64 {
    assert!(
        html.contains("src=\"/assets/exam.js\""),
        "{page} has no script: {html}"
    );
    let ms: i64 = crate::helpers::between(html, "data-remaining-ms=\"", "\"")
        .parse()
        .unwrap();
    let span = crate::helpers::between(html, "id=\"timer\"", "</span>");
    let shown = span[span.rfind('>').unwrap() + 1..].to_string();
    let parts: Vec<&str> = shown.split(':').collect();
    assert!(
        parts.len() == 3
            && parts[1].len() == 2
            && parts[2].len() == 2
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())),
        "{page}: the timer shows {shown:?}, not h:mm:ss"
    );
    let secs = ms / 1000;
    assert_eq!(
        shown,
        format!("{}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60),
        "{page}: the shown time is the remaining time"
    );
    assert!(
        html.contains("id=\"time-warning\" class=\"time-warning\" aria-live=\"polite\"")
            && html.contains(
                "id=\"time-warning-urgent\" class=\"time-warning\" aria-live=\"assertive\""
            ),
        "{page}: the warnings' live regions"
    );
    ms
}

async fn every_exam_page_has_the_live_timer_and_none_reloads_itself(engine: Engine) {
    let app = spawn_app(engine).await;
    let s = OpenSitting::new(&app.db).await;
    let new = candidate("wait@example.org", Level::III, Parts::BOTH, "1");
    let (reg_id, code) = registered(&app.db, &s.sitting, &new, &s.bps).await;
    let cand = app.browser();
    let token = cand.enter_as_candidate(&code).await;

    // Waiting: no refresh, a "Check again" link, the script, and the status it polls.
    let home = cand.get_text("/candidate").await;
    assert_no_refresh("the waiting page", &home);
    assert!(home.contains(">Check again</a>"), "{home}");
    assert!(home.contains("src=\"/assets/exam.js\""), "{home}");
    let status: serde_json::Value = cand.get("/exam/api/status").await.json().await.unwrap();
    assert_eq!(status["admitted"], false, "{status}");
    sittings::admit(&app.db, reg_id, "proctor").await.unwrap();
    let status: serde_json::Value = cand.get("/exam/api/status").await.json().await.unwrap();
    assert_eq!(status["admitted"], true, "{status}");
    let home = cand.get_text("/candidate").await;
    assert_no_refresh("the candidate's home", &home);
    assert_no_repeated_heading("the candidate's home", &home);
    assert!(home.contains(">Part One: multiple choice</h2>"), "{home}");

    // Part One's question and review pages: the timer, in h:mm:ss, and the script.
    let res = cand.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.status(), 303);
    let page = cand.get_text("/exam/1/item/1").await;
    assert_no_refresh("a question", &page);
    let ms = assert_live_timer("a question", &page);
    assert!(ms > 89 * 60_000 && ms <= 90 * 60_000, "{ms}");
    assert!(
        page.contains("legend>Question 1: choose one answer</legend>"),
        "{page}"
    );
    let review = cand.get_text("/exam/1/review").await;
    assert_no_refresh("the review", &review);
    assert_live_timer("the review", &review);
    assert_no_repeated_heading("the review", &review);

    // The tools and a strike-out, saved as '@' keys, rendered back; bad values refused.
    let a = attempts::attempts_of(&app.db, reg_id)
        .await
        .unwrap()
        .remove(0);
    let item = a.form.part_one[0].item_id.clone();
    let ok = [
        ("@pref:size", "150"),
        ("@pref:contrast", "high"),
        (&*format!("@strike:{item}"), "AC"),
    ];
    for (i, (key, value)) in ok.iter().enumerate() {
        let res = cand.save(&token, 1, key, value, 10 + i as u64).await;
        assert_eq!(
            res.status(),
            200,
            "{key}={value}: {}",
            res.text().await.unwrap()
        );
    }
    for (key, value) in [
        ("@pref:size", "300"),
        ("@pref:colour", "red"),
        (&*format!("@strike:{item}"), "AA"),
        (&*format!("@strike:{item}"), "E"),
        ("@strike:NOT-AN-ITEM", "A"),
    ] {
        let res = cand.save(&token, 1, key, value, 20).await;
        assert_eq!(res.status(), 422, "{key}={value} was taken");
    }
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(
        page.contains("data-size=\"150\" data-contrast=\"high\""),
        "the saved display choices: {page}"
    );
    let struck = page.matches("class=\"option choice struck\"").count();
    assert_eq!(struck, 2, "two options struck out: {page}");
    // Scoring reads each scored entry's own item id (`scoring::key::score_part_one`): the
    // '@' keys are stored beside the answers, and the question itself stays unanswered.
    let answers = attempts::answers(&app.db, a.id).await.unwrap();
    assert_eq!(answers[&format!("@strike:{item}")], "AC");
    assert_eq!(answers["@pref:size"], "150");
    assert!(
        !answers.contains_key(&item),
        "a strike-out is not an answer"
    );

    // Paused: the paused page, live timer (stopped), no refresh, a way to check again.
    assert!(matches!(
        attempts::change_clock(&app.db, a.id, ClockAction::Pause, now_ms())
            .await
            .unwrap(),
        attempts::ClockChange::Done(_)
    ));
    let paused = cand.get_text("/exam/1/item/1").await;
    assert!(
        paused.contains("Your proctor has paused your exam"),
        "{paused}"
    );
    assert_no_refresh("the paused page", &paused);
    assert_live_timer("the paused page", &paused);
    assert!(paused.contains("data-paused=\"true\""), "{paused}");
    assert!(paused.contains(">Check again</a>"), "{paused}");
    attempts::change_clock(&app.db, a.id, ClockAction::Resume, now_ms())
        .await
        .unwrap();

    let res = cand
        .post_form("/exam/1/review", "/exam/1/submit", &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), 303);

    // Part Two: one vignette beside its answers, with the timer.
    let res = cand.post_form("/candidate", "/exam/2/start", &[]).await;
    assert_eq!(res.status(), 303);
    let page = cand.get_text("/exam/2/vignettes").await;
    assert_no_refresh("Part Two", &page);
    assert_live_timer("Part Two", &page);
    assert_no_repeated_heading("Part Two", &page);
    assert_eq!(page.matches("class=\"vignette-pair\"").count(), 1, "{page}");
    let second = cand.get_text("/exam/2/vignettes?v=2").await;
    assert!(second.contains("id=\"v-title\">Vignette 2: "), "{second}");
    let review = cand.get_text("/exam/2/review").await;
    assert_live_timer("Part Two's review", &review);
}

async fn the_score_report_says_what_passed_and_shows_the_pass_marks(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    // Every Part Two response scored 2 of 3: 12 of 18, under the pass mark, for everyone.
    rate_everything(&app.db, f.sitting.id, 2).await;
    assert!(results::release(&app.db, f.sitting.id, "committee")
        .await
        .unwrap()
        .is_ok());

    // Ana: Part One 60 of 60 (passed), Part Two not passed.
    let ana = app.browser();
    ana.enter(&f.codes[0]).await;
    let home = ana.get_text("/candidate").await;
    assert!(
        home.contains("You passed Part One: multiple choice, and that result stands. You did not pass Part Two: clinical vignettes, which you may retake."),
        "{home}"
    );
    assert!(
        home.contains("The pass mark is 48 of 60 points (80%)."),
        "{home}"
    );
    assert!(
        home.contains("The pass mark is 14.4 of 18 points (80%)."),
        "{home}"
    );
    assert!(
        !home.contains("Each part is started, timed"),
        "start instructions: {home}"
    );
    assert!(!home.contains("Start Part"), "{home}");
    assert_no_refresh("Ana's report", &home);
    assert_no_repeated_heading("Ana's report", &home);

    // Ben: Part One 40 of 60 and Part Two 12 of 18: neither passed, and nothing "stands".
    let ben = app.browser();
    ben.enter(&f.codes[1]).await;
    let home = ben.get_text("/candidate").await;
    assert!(
        home.contains("you did not pass either part (Part One: multiple choice and Part Two: clinical vignettes). Both may be retaken."),
        "{home}"
    );
    assert!(!home.contains("stands"), "{home}");
    assert!(!home.contains("the part you passed"), "{home}");
    assert!(
        home.contains("Your score: 40 of 60 points (66.7%)."),
        "{home}"
    );
    assert!(
        home.contains("The pass mark is 48 of 60 points (80%)."),
        "{home}"
    );
    assert!(!home.contains("Each part is started, timed"), "{home}");
    assert_no_repeated_heading("Ben's report", &home);
}

on_both_engines!(
    every_exam_page_has_the_live_timer_and_none_reloads_itself,
    the_score_report_says_what_passed_and_shows_the_pass_marks,
);
