//! What one candidate may store (issue 9, findings 8 and 14), on both engines: an open response
//! over its blueprint's length, the saves and browser events one attempt may add, a page post
//! repeating a field, and a break past its maximum.

use std::time::{Duration, Instant};

use imh_exam::bank::Level;
use imh_exam::config::Config;
use imh_exam::exam::clock::GRACE_MS;
use imh_exam::exam::form::Parts;
use imh_exam::exam::limits::{MAX_LISTED_BROWSER_EVENTS, MAX_SAVES_PER_ATTEMPT};
use imh_exam::store::attempts::{self, Attempt};
use imh_exam::store::{now_ms, sittings};

use crate::helpers::exam::{admitted, candidate, OpenSitting};
use crate::helpers::{between, csrf_of, spawn_app_with, test_db, Browser, Engine, TestApp};
use crate::on_both_engines;

const MIN: i64 = 60_000;

/// A server (with the event beacon's per-client rate as high as a test needs), a sitting, and
/// a candidate at `level` who has entered and started `part`.
struct Started {
    app: TestApp,
    cand: Browser,
    token: String,
    sitting_id: i64,
    attempt: Attempt,
}

async fn started(engine: Engine, level: Level, part: u8, extra_breaks: u32) -> Started {
    let config = Config {
        client_burst: 10_000,
        client_per_minute: 100_000,
        ..Config::default()
    };
    let app = spawn_app_with(test_db(engine).await, config).await;
    let OpenSitting { sitting, bps, .. } = OpenSitting::new(&app.db).await;
    let mut new = candidate("caps@example.org", level, Parts::BOTH, "1");
    new.extra_breaks = extra_breaks;
    let (reg, code) = admitted(&app.db, &sitting, &new, &bps).await;
    let cand = app.browser();
    let res = cand.enter(&code).await;
    assert_eq!(res.status(), 303);
    let res = cand
        .post_form("/candidate", &format!("/exam/{part}/start"), &[])
        .await;
    assert_eq!(res.headers()["location"], &format!("/exam/{part}"));
    let token = cand.candidate_token().await;
    let attempt = attempts::attempts_of(&app.db, reg.id)
        .await
        .unwrap()
        .remove(0);
    Started {
        app,
        cand,
        token,
        sitting_id: sitting.id,
        attempt,
    }
}

async fn api_save(s: &Started, part: u8, item: &str, value: &str, seq: u64) -> reqwest::Response {
    s.cand.save(&s.token, part, item, value, seq).await
}

async fn events_of(s: &Started) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM response_events WHERE attempt_id = $1")
        .bind(s.attempt.id)
        .fetch_one(&s.app.db.pool)
        .await
        .unwrap()
}

async fn an_overlong_response_is_refused_with_the_limit_named(engine: Engine) {
    let s = started(engine, Level::III, 2, 0).await;
    let item = s.attempt.form.part_two[0].items[0].0.clone();
    assert_eq!(s.attempt.max_response_chars, 6_000, "from the blueprint");

    // The page states the limit, script or not.
    let page = s.cand.get_text("/exam/2/vignettes").await;
    assert!(page.contains("maxlength=\"6000\""), "{page}");
    assert!(page.contains("0 of 6,000 characters"), "{page}");

    let res = api_save(&s, 2, &item, "I notice the baby turns away.", 1).await;
    assert_eq!(res.status(), 200);
    // Exactly the limit, counted in characters: 6,000 emoji are 24,000 bytes and are taken.
    let full = "👶".repeat(6_000);
    assert_eq!(api_save(&s, 2, &item, &full, 2).await.status(), 200);
    // One more character is refused, with the limit named; the text saved before stands.
    let res = api_save(&s, 2, &item, &format!("{full}!"), 3).await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "A response may hold at most 6,000 characters; this one has 6,001. It was not saved; the text saved before is kept."
    );
    assert_eq!(
        attempts::answers(&s.app.db, s.attempt.id).await.unwrap()[&item],
        full
    );
    let page = s.cand.get_text("/exam/2/vignettes").await;
    assert!(page.contains("6,000 of 6,000 characters"));

    // The form without the script: refused with the page's error, nothing saved.
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let long = "a".repeat(6_001);
    let res = s
        .cand
        .post_form(
            "/exam/2/vignettes",
            "/exam/2/vignettes",
            &[("seq", &seq), (&format!("r:{item}"), &long)],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("A response may hold at most 6,000 characters; this one has 6,001."));
    assert_eq!(
        attempts::answers(&s.app.db, s.attempt.id).await.unwrap()[&item],
        full
    );
    // A browser sends line breaks as CR LF: 6,000 of them are 6,000 characters, not 12,000.
    let lines = "\r\n".repeat(6_000);
    let res = s
        .cand
        .post_form(
            "/exam/2/vignettes",
            "/exam/2/vignettes",
            &[("seq", &seq), (&format!("r:{item}"), &lines)],
        )
        .await;
    assert_eq!(res.status(), 303);

    // An item key or value past any bound is refused before anything else is done with it.
    let res = api_save(&s, 2, &"X".repeat(101), "text", 10).await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "item: must be from 1 to 100 bytes, found 101."
    );
}

async fn the_saves_of_one_attempt_are_capped(engine: Engine) {
    let s = started(engine, Level::III, 1, 0).await;
    let item = s.attempt.form.part_one[0].item_id.clone();
    // The cap's worth of saves, straight to the store (group-committed, so quickly), then one
    // more through the API.
    let mut saves = tokio::task::JoinSet::new();
    for seq in 1..=MAX_SAVES_PER_ATTEMPT as u64 {
        let (db, item, id) = (s.app.db.clone(), item.clone(), s.attempt.id);
        let answer = ["A", "B"][usize::try_from(seq % 2).unwrap()];
        saves.spawn(async move { attempts::save(&db, id, &item, answer, seq, now_ms()).await });
    }
    while let Some(r) = saves.join_next().await {
        assert!(r.unwrap().unwrap().stored);
    }
    assert_eq!(events_of(&s).await, MAX_SAVES_PER_ATTEMPT);
    let res = api_save(&s, 1, &item, "2", MAX_SAVES_PER_ATTEMPT as u64 + 1).await;
    assert_eq!(res.status(), 409);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "this part has reached its limit of 20,000 saves; the answers saved so far are kept. Tell your proctor."
    );
    assert_eq!(events_of(&s).await, MAX_SAVES_PER_ATTEMPT);
    // A retry of a save already stored is still acknowledged (nothing new is written).
    let res = api_save(&s, 1, &item, "0", 7).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["stored"], false);
    // And the chain of exactly the cap's events verifies.
    let (_, breaks) = attempts::verify_chains(&s.app.db).await.unwrap();
    assert!(breaks.is_empty(), "{breaks:?}");
}

async fn browser_events_past_the_cap_are_counted_not_listed(engine: Engine) {
    let s = started(engine, Level::III, 1, 0).await;
    let proctor = s.app.as_role(imh_exam::auth::Role::Proctor).await;
    let console = format!("/sittings/{}", s.sitting_id);
    let event = |kind: &'static str| {
        s.cand
            .client
            .post(s.cand.url("/exam/api/event"))
            .header("x-csrf-token", &s.token)
            .json(&serde_json::json!({ "kind": kind, "detail": "" }))
            .send()
    };
    let cap = MAX_LISTED_BROWSER_EVENTS;
    for i in 0..cap + 10 {
        let kind = if i % 2 == 0 {
            "focus-lost"
        } else {
            "focus-back"
        };
        assert_eq!(event(kind).await.unwrap().status(), 204);
    }
    let at_cap = proctor.get_text(&console).await;
    assert!(
        at_cap.contains("10 more browser events not listed (the first 500 of each part are)."),
        "{at_cap}"
    );
    for _ in 0..300 {
        assert_eq!(event("paste").await.unwrap().status(), 204);
    }
    let after = proctor.get_text(&console).await;
    assert!(after.contains("310 more browser events not listed"));
    // The console does not grow with the events past the cap (a digit of the count at most).
    assert!(
        after.len() <= at_cap.len() + 8,
        "the console grew from {} to {} bytes",
        at_cap.len(),
        after.len()
    );
    let listed = sittings::events(&s.app.db, s.sitting_id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.actor == "browser")
        .count();
    assert_eq!(i64::try_from(listed).unwrap(), cap);
    let counted: i64 = sqlx::query_scalar("SELECT browser_events FROM attempts WHERE id = $1")
        .bind(s.attempt.id)
        .fetch_one(&s.app.db.pool)
        .await
        .unwrap();
    assert_eq!(counted, cap + 310);
    let live: serde_json::Value = proctor
        .get(&format!("{console}/live"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live[0]["unlisted_events"], 310);
}

async fn a_page_post_repeating_a_field_writes_at_most_one_event_per_item(engine: Engine) {
    let s = started(engine, Level::III, 2, 0).await;
    let items: Vec<String> = s
        .attempt
        .form
        .part_two
        .iter()
        .flat_map(|p| p.items.iter().map(|(id, _)| id.clone()))
        .collect();
    let page = s.cand.get_text("/exam/2/vignettes").await;
    let csrf = csrf_of(&page);
    let key = format!("r:{}", items[0]);
    let mut form: Vec<(String, String)> =
        vec![("csrf".into(), csrf.clone()), ("seq".into(), "1".into())];
    for i in 0..2_000 {
        form.push((key.clone(), format!("version {i}")));
    }
    let res = s
        .cand
        .client
        .post(s.cand.url("/exam/2/vignettes"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(&format!(
            "The form sent the response to {} more than once. Nothing was saved",
            items[0]
        )),
        "{text}"
    );
    assert_eq!(events_of(&s).await, 0);

    // Every item once: one event per item.
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf), ("seq".into(), "1".into())];
    for id in &items {
        form.push((format!("r:{id}"), format!("An answer to {id}")));
    }
    let res = s
        .cand
        .client
        .post(s.cand.url("/exam/2/vignettes"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(events_of(&s).await, i64::try_from(items.len()).unwrap());
}

/// Waits (bounded) for the server's once-a-second sweep to make `done` true.
async fn swept(s: &Started, done: impl Fn(&Attempt) -> bool) -> Attempt {
    let start = Instant::now();
    loop {
        let a = attempts::attempt(&s.app.db, s.attempt.id)
            .await
            .unwrap()
            .unwrap();
        if done(&a) {
            return a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the sweep never came: clock {:?}, paused by {:?}, submitted {:?}",
            a.clock,
            a.paused_by,
            a.submitted_at
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_break_past_its_maximum_resumes_and_the_deadline_submits(engine: Engine) {
    let s = started(engine, Level::III, 1, 1).await;
    assert_eq!(s.attempt.break_max_ms, 15 * MIN, "from the blueprint");
    let res = s
        .cand
        .post_form("/exam/1/item/1", "/exam/1/break", &[])
        .await;
    assert_eq!(res.status(), 303);
    let page = s.cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("You are on a break"), "{page}");
    assert!(page.contains("A break lasts at most 15 minutes"), "{page}");

    // As if the break began 20 minutes ago: it ended by itself 5 minutes ago, at start + 15.
    let started_break = now_ms() - 20 * MIN;
    sqlx::query("UPDATE attempts SET paused_since = $1 WHERE id = $2")
        .bind(started_break)
        .bind(s.attempt.id)
        .execute(&s.app.db.writer)
        .await
        .unwrap();
    let a = swept(&s, |a| !a.clock.is_paused()).await;
    assert_eq!(a.clock.paused_ms, 15 * MIN, "charged from start + maximum");
    assert_eq!(a.paused_by, None);
    let events = sittings::events(&s.app.db, s.sitting_id).await.unwrap();
    let ended = events
        .iter()
        .find(|e| e.kind == "break-end")
        .expect("the break's end is logged");
    assert_eq!(ended.actor, "server");
    assert_eq!(ended.at, started_break + 15 * MIN);
    assert!(
        ended.detail.contains("15-minute maximum"),
        "{}",
        ended.detail
    );
    // The candidate is back at the questions, and saves count again.
    let page = s.cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("question 1 of 65"), "{page}");
    let item = a.form.part_one[0].item_id.clone();
    assert_eq!(api_save(&s, 1, &item, "1", 1).await.status(), 200);

    // The deadline still submits the part.
    // (The break's 15 minutes count as paused, so the start moves back past them too.)
    sqlx::query("UPDATE attempts SET started_at = $1 WHERE id = $2")
        .bind(now_ms() - a.clock.allowed_ms() - a.clock.paused_ms - GRACE_MS - 10_000)
        .bind(s.attempt.id)
        .execute(&s.app.db.writer)
        .await
        .unwrap();
    let a = swept(&s, |a| a.submitted_at.is_some()).await;
    assert_eq!(a.submitted_by.as_deref(), Some("server"));
}

/// A candidate who never comes back from a break is submitted at their deadline in one sweep,
/// while a proctor's pause, however long, has no maximum.
async fn a_forgotten_break_is_submitted_and_a_proctors_pause_is_not(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let now = s.now;
    let mut ids = Vec::new();
    for (email, action) in [
        ("away@x.org", attempts::ClockAction::StartBreak),
        ("held@x.org", attempts::ClockAction::Pause),
    ] {
        let mut new = candidate(email, Level::III, Parts::BOTH, "1");
        new.extra_breaks = 1;
        let a = s.start(db, &new, 1).await.attempt;
        attempts::change_clock(db, a.id, action, now).await.unwrap();
        // Started four hours ago, stopped 80 minutes in and never resumed.
        sqlx::query("UPDATE attempts SET started_at = $1, paused_since = $2 WHERE id = $3")
            .bind(now - 240 * MIN)
            .bind(now - 160 * MIN)
            .bind(a.id)
            .execute(&db.writer)
            .await
            .unwrap();
        ids.push(a.id);
    }
    let submitted = attempts::submit_expired(db, now).await.unwrap();
    assert_eq!(submitted, vec![ids[0]]);
    let away = attempts::attempt(db, ids[0]).await.unwrap().unwrap();
    // 90 minutes allowed + the 15-minute break: due 105 minutes after the start.
    assert_eq!(away.submitted_at, Some(now - 240 * MIN + 105 * MIN));
    assert_eq!(away.submitted_by.as_deref(), Some("server"));
    let held = attempts::attempt(db, ids[1]).await.unwrap().unwrap();
    assert!(held.is_open() && held.clock.is_paused_at(now));
    assert_eq!(held.paused_by.as_deref(), Some("proctor"));
}

on_both_engines!(
    an_overlong_response_is_refused_with_the_limit_named,
    the_saves_of_one_attempt_are_capped,
    browser_events_past_the_cap_are_counted_not_listed,
    a_page_post_repeating_a_field_writes_at_most_one_event_per_item,
    a_break_past_its_maximum_resumes_and_the_deadline_submits,
    a_forgotten_break_is_submitted_and_a_proctors_pause_is_not,
);
