//! The whole exam over HTTP, on both engines: schedule, register, admit, start, save, flag,
//! review, submit; refusals before admission, after submission and after the deadline; pause
//! and added time; the server submitting with no browser; one browser at a time.

use imh_exam::auth::Role;
use imh_exam::bank::ItemBody;
use imh_exam::exam::chain::receipt;
use imh_exam::store::{attempts, bank as bank_store, now_ms, sittings};

use crate::helpers::exam::{admitted, candidate, import_sample, OpenSitting};
use crate::helpers::{between, csrf_of, spawn_app, Browser, Engine, TestApp};
use crate::on_both_engines;

fn local(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap();
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]"
    ))
    .unwrap()
}

/// A proctor schedules a sitting over HTTP and registers one candidate; returns the sitting
/// id, the registration id and the access code.
async fn schedule_and_register(
    app: &TestApp,
    proctor: &Browser,
    email: &str,
    level: &str,
) -> (i64, i64, String) {
    let now = now_ms();
    let mut fields = vec![
        ("name", "Autumn window".to_string()),
        ("place", "remote".to_string()),
        ("opens_at", local(now - 3_600_000)),
        ("closes_at", local(now + 8 * 3_600_000)),
    ];
    for bp in [
        "level-iii",
        "level-iv-clinical",
        "level-iv-policy",
        "level-iv-research-faculty",
    ] {
        fields.push(("blueprint", bp.to_string()));
    }
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = proctor.post_form("/sittings", "/sittings", &f).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let sitting_id: i64 = location.trim_start_matches("/sittings/").parse().unwrap();

    let res = proctor
        .post_form(
            &location,
            &format!("{location}/register"),
            &[
                ("name", "Ana Ruiz"),
                ("email", email),
                ("organisation", "Lakeside"),
                ("level", level),
                ("parts", "both"),
                ("time_multiplier", "1.5"),
                ("extra_breaks", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let code = between(
        between(&html, "id=\"new-codes\"", "</table>"),
        "<code class=\"code\">",
        "</code>",
    )
    .to_string();
    let regs = sittings::registrations(&app.db, sitting_id).await.unwrap();
    (sitting_id, regs[0].id, code)
}

async fn the_whole_exam_over_http(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;
    let (sitting_id, reg_id, code) =
        schedule_and_register(&app, &proctor, "ana@example.org", "III").await;

    let cand = app.browser();
    let res = cand.enter(&code).await;
    assert_eq!(res.headers()["location"], "/candidate");
    assert!(cand
        .get_text("/candidate")
        .await
        .contains("Your proctor will check your identity"));
    // Refused before admission.
    let res = cand.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("the proctor has not admitted you yet"));

    let console = format!("/sittings/{sitting_id}");
    let res = proctor
        .post_form(&console, &format!("/registrations/{reg_id}/admit"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(proctor.get_text(&console).await.contains("admitted"));

    let home = cand.get_text("/candidate").await;
    assert!(home.contains("135 minutes"), "90 minutes x 1.5: {home}");
    let res = cand.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.headers()["location"], "/exam/1");

    // Question 1: answer and flag it through the no-script form.
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("question 1 of 65"));
    let a = attempts::attempts_of(&app.db, reg_id)
        .await
        .unwrap()
        .remove(0);
    let first = &a.form.part_one[0];
    let stored = bank_store::item_version(&app.db, &first.item_id, first.version)
        .await
        .unwrap()
        .unwrap();
    let ItemBody::Mcq(mcq) = &stored.body else {
        panic!("mcq")
    };
    // The first 20 characters (not bytes: a cut inside a multi-byte character would panic).
    let start = |t: &str, n: usize| t.chars().take(n).collect::<String>();
    let option = start(&mcq.options[0].text, 20);
    assert!(page.contains(&option.replace('"', "&quot;")) || page.contains(&option));
    assert!(
        !page.contains(&start(&mcq.rationale, 40)),
        "the rationale must never reach the candidate"
    );
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let res = cand
        .post_form(
            "/exam/1/item/1",
            "/exam/1/item/1",
            &[
                ("seq", &seq),
                ("choice", "2"),
                ("flag", "1"),
                ("go", "next"),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/exam/1/item/2");
    let answers = attempts::answers(&app.db, a.id).await.unwrap();
    let canonical = ((b'A' + first.option_order[2]) as char).to_string();
    assert_eq!(
        answers[&first.item_id], canonical,
        "the shown option maps back to the canonical letter"
    );
    assert_eq!(answers[&format!("@flag:{}", first.item_id)], "1");
    // The page shows it back as chosen and flagged.
    let again = cand.get_text("/exam/1/item/1").await;
    assert!(
        again.contains("id=\"opt-2\" value=\"2\" checked"),
        "{again}"
    );

    // Question 2 through the script's API; a retry is not stored twice.
    let token = csrf_of(&again);
    let second = a.form.part_one[1].item_id.clone();
    let save = |value: &'static str, seq: u64| cand.save(&token, 1, &second, value, seq);
    let r: serde_json::Value = save("0", 9_000_000_000_000_000).await.json().await.unwrap();
    assert_eq!(r["stored"], true);
    assert!(r["remaining_ms"].as_i64().unwrap() > 130 * 60_000);
    let r: serde_json::Value = save("0", 9_000_000_000_000_000).await.json().await.unwrap();
    assert_eq!(r["stored"], false);
    // Without the token the API refuses like any form.
    let body = serde_json::json!({"part": 1, "item": second, "value": "0", "seq": 9_000_000_000_000_000u64});
    let res = cand
        .client
        .post(cand.url("/exam/api/save"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let review = cand.get_text("/exam/1/review").await;
    assert!(review.contains("2 of 65 questions answered"), "{review}");
    assert!(
        review.contains("Flagged for review: <a href=\"/exam/1/item/1\">1</a>"),
        "{review}"
    );

    // Submitting needs the confirmation.
    let res = cand
        .post_form("/exam/1/review", "/exam/1/submit", &[])
        .await;
    assert_eq!(res.status(), 400);
    let res = cand
        .post_form("/exam/1/review", "/exam/1/submit", &[("confirm", "yes")])
        .await;
    assert_eq!(res.headers()["location"], "/exam/1/receipt");
    let page = cand.get_text("/exam/1/receipt").await;
    let head = attempts::attempt(&app.db, a.id)
        .await
        .unwrap()
        .unwrap()
        .chain_head;
    assert!(page.contains(&receipt(&head)), "{page}");

    // After submission a save is refused with a reason, and nothing changes.
    let res = save("3", 9_000_000_000_000_001).await;
    assert_eq!(res.status(), 409);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        err["error"],
        "this part has been submitted; answers can no longer change."
    );
    assert!(proctor
        .get_text(&console)
        .await
        .contains("submitted Part One"));
}

async fn part_two_choice_pause_added_time_and_the_deadline(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;
    let (sitting_id, reg_id, code) =
        schedule_and_register(&app, &proctor, "bo@example.org", "IV-Clinical").await;
    sittings::admit(&app.db, reg_id, "p").await.unwrap();
    let cand = app.browser();
    cand.enter(&code).await;
    let res = cand.post_form("/candidate", "/exam/2/start", &[]).await;
    assert_eq!(res.headers()["location"], "/exam/2");

    let page = cand.get_text("/exam/2/vignettes").await;
    assert!(page.contains("answer 2 of these 3 vignettes"), "{page}");
    assert!(page.contains("choose exactly 2 to answer"));
    let a = attempts::attempts_of(&app.db, reg_id)
        .await
        .unwrap()
        .remove(0);
    let v: Vec<String> = a
        .form
        .part_two
        .iter()
        .map(|p| p.vignette_id.clone())
        .collect();
    let item0 = a.form.part_two[0].items[0].0.clone();
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    // Three chosen of two: refused, with the writing kept.
    let res = cand
        .post_form(
            "/exam/2/vignettes",
            "/exam/2/vignettes",
            &[
                ("seq", &seq),
                ("choose", &v[0]),
                ("choose", &v[1]),
                ("choose", &v[2]),
                (&format!("r:{item0}"), "I notice the baby turns away."),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Part Two asks you to answer 2"));
    assert_eq!(
        attempts::answers(&app.db, a.id).await.unwrap()[&item0],
        "I notice the baby turns away."
    );
    let page = cand.get_text("/exam/2/vignettes").await;
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let res = cand
        .post_form(
            "/exam/2/vignettes",
            "/exam/2/vignettes",
            &[
                ("seq", &seq),
                ("choose", &v[0]),
                ("choose", &v[2]),
                ("go", "review"),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/exam/2/review");
    let mut chosen = [v[0].clone(), v[2].clone()];
    chosen.sort();
    assert_eq!(
        attempts::answers(&app.db, a.id).await.unwrap()["@choice"],
        chosen.join(",")
    );
    assert!(cand
        .get_text("/exam/2/review")
        .await
        .contains("You have chosen 2 of the 2 vignettes"));

    // The proctor pauses, then adds ten minutes: the deadline moves by exactly that.
    let console = format!("/sittings/{sitting_id}");
    let before = attempts::attempt(&app.db, a.id)
        .await
        .unwrap()
        .unwrap()
        .clock;
    proctor
        .post_form(&console, &format!("/attempts/{}/pause", a.id), &[])
        .await;
    let clock: serde_json::Value = cand.get("/exam/api/clock/2").await.json().await.unwrap();
    assert_eq!(clock["paused"], true);
    proctor
        .post_form(&console, &format!("/attempts/{}/resume", a.id), &[])
        .await;
    proctor
        .post_form(
            &console,
            &format!("/attempts/{}/add-time", a.id),
            &[("minutes", "10")],
        )
        .await;
    let after = attempts::attempt(&app.db, a.id)
        .await
        .unwrap()
        .unwrap()
        .clock;
    let now = now_ms();
    assert_eq!(
        after.deadline(now).unwrap() - before.deadline(now).unwrap(),
        10 * 60_000 + after.paused_ms,
        "added time plus time paused"
    );
    let audit = imh_exam::store::audit::recent(&app.db, 3).await.unwrap();
    assert_eq!(audit[0].action, "attempt.add_time");

    // The time runs out: saves are refused, and the server submits with no browser asking.
    sqlx::query("UPDATE attempts SET started_at = started_at - $1 WHERE id = $2")
        .bind(after.allowed_ms() + after.paused_ms + 10_000)
        .bind(a.id)
        .execute(&app.db.writer)
        .await
        .unwrap();
    let token = cand.candidate_token().await;
    let res = cand.save(&token, 2, &item0, "more", u64::MAX / 4).await;
    assert_eq!(res.status(), 409);
    let mut submitted = None;
    for _ in 0..50 {
        submitted = attempts::attempt(&app.db, a.id)
            .await
            .unwrap()
            .unwrap()
            .submitted_by;
        if submitted.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(submitted.as_deref(), Some("server"));
    assert!(cand
        .get_text("/exam/2/receipt")
        .await
        .contains("the server submitted your answers"));
    assert_eq!(
        attempts::answers(&app.db, a.id).await.unwrap()[&item0],
        "I notice the baby turns away."
    );
}

async fn one_browser_at_a_time(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;
    let (sitting_id, reg_id, code) =
        schedule_and_register(&app, &proctor, "cy@example.org", "IV-Policy").await;
    // The console's live view: every page the candidate opens counts as being heard from.
    let live = format!("/sittings/{sitting_id}/live");
    let rows: serde_json::Value = proctor.get(&live).await.json().await.unwrap();
    assert_eq!(rows[0]["connection"], "not yet seen");
    assert_eq!(rows[0]["status"], "waiting for admission");
    let first = app.browser();
    first.enter(&code).await;
    assert_eq!(first.get("/candidate").await.status(), 200);
    let rows: serde_json::Value = proctor.get(&live).await.json().await.unwrap();
    assert_eq!(rows[0]["connection"], "online");
    // Being heard from is written down at most every few seconds, not on every page view:
    // a page costs the saves' writer nothing in between.
    let seen = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT last_seen_at FROM registrations WHERE id = $1")
            .bind(reg_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let before = seen().await;
    assert!(before.is_some());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..5 {
        assert_eq!(first.get("/candidate").await.status(), 200);
    }
    assert_eq!(seen().await, before, "page views wrote last_seen_at again");
    assert_eq!(
        first.get(&live).await.status(),
        303,
        "candidates do not see the console"
    );

    // The save path caches sessions briefly; the proctor's move must still take effect at
    // once. Fill the cache with this browser's session first.
    let token = first.candidate_token().await;
    let api_save = || first.save(&token, 1, "TF-0001", "0", 1);
    assert_eq!(api_save().await.status(), 404, "no part started yet");
    let second = app.browser();
    let res = second.enter(&code).await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("already open in another browser"));
    let console = format!("/sittings/{sitting_id}");
    assert!(proctor.get_text(&console).await.contains("second-login"));

    proctor
        .post_form(&console, &format!("/registrations/{reg_id}/release"), &[])
        .await;
    let res = second.enter(&code).await;
    assert_eq!(res.headers()["location"], "/candidate");
    assert_eq!(second.get("/candidate").await.status(), 200);
    // The first browser's saves are refused at once, cached session or not.
    assert_eq!(api_save().await.status(), 401);
    // The first browser no longer reaches the exam.
    let res = first.get("/candidate").await;
    assert!(
        res.status() == 303 || res.status() == 400,
        "{}",
        res.status()
    );
}

async fn csv_registration_names_bad_lines_and_registers_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;
    let (sitting_id, _, _) =
        schedule_and_register(&app, &proctor, "first@example.org", "III").await;
    let console = format!("/sittings/{sitting_id}");
    let bad = "name,email,level,parts,time_multiplier\nEve Stone,eve@example.org,III,both,1\nFay Moss,fay@example,IV-Policy,2,\n";
    let res = proctor
        .post_form(&console, &format!("{console}/import"), &[("csv", bad)])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("line 3: email: &quot;fay@example&quot; is not an email address"));
    assert_eq!(
        sittings::registrations(&app.db, sitting_id)
            .await
            .unwrap()
            .len(),
        1
    );

    let good = "name,email,level,parts,time_multiplier\nEve Stone,eve@example.org,III,both,1\nFay Moss,fay@example.org,IV-Policy,2,2.0\n";
    let res = proctor
        .post_form(&console, &format!("{console}/import"), &[("csv", good)])
        .await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    assert_eq!(
        between(&html, "id=\"new-codes\"", "</table>")
            .matches("<code class=\"code\">")
            .count(),
        2
    );
    let regs = sittings::registrations(&app.db, sitting_id).await.unwrap();
    assert_eq!(regs.len(), 3);
    let fay = regs.iter().find(|r| r.email == "fay@example.org").unwrap();
    assert_eq!(
        (fay.parts.one, fay.parts.two, fay.multiplier.permille()),
        (false, true, 2000)
    );
}

async fn an_approved_break_stops_the_clock_and_is_counted(engine: Engine) {
    let app = spawn_app(engine).await;
    let OpenSitting { sitting, bps, .. } = OpenSitting::new(&app.db).await;
    let mut new = candidate(
        "dee@example.org",
        imh_exam::bank::Level::III,
        imh_exam::exam::form::Parts::BOTH,
        "1",
    );
    new.extra_breaks = 1;
    let (reg, code) = admitted(&app.db, &sitting, &new, &bps).await;
    let reg_id = reg.id;
    let proctor = app.as_role(Role::Proctor).await;
    let cand = app.browser();
    cand.enter(&code).await;
    cand.post_form("/candidate", "/exam/1/start", &[]).await;
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(
        page.contains("Take a break (1 approved break left)"),
        "{page}"
    );

    let res = cand.post_form("/exam/1/item/1", "/exam/1/break", &[]).await;
    assert_eq!(res.headers()["location"], "/exam/1");
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("You are on a break"), "{page}");
    let clock: serde_json::Value = cand.get("/exam/api/clock/1").await.json().await.unwrap();
    assert_eq!(clock["paused"], true);
    let live: serde_json::Value = proctor
        .get(&format!("/sittings/{}/live", sitting.id))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        live[0]["status"].as_str().unwrap().contains("on a break"),
        "{live}"
    );
    // While the clock is stopped a save waits (423) rather than counting.
    let a = attempts::attempts_of(&app.db, reg_id)
        .await
        .unwrap()
        .remove(0);
    let token = csrf_of(&page);
    let item = &a.form.part_one[0].item_id;
    let res = cand.save(&token, 1, item, "1", 9_000_000_000_000_000).await;
    assert_eq!(res.status(), 423);

    let res = cand
        .post_form("/exam/1/item/1", "/exam/1/end-break", &[])
        .await;
    assert_eq!(res.headers()["location"], "/exam/1");
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("question 1 of 65"));
    assert!(!page.contains("Take a break"), "the one break is used");
    let res = cand.post_form("/exam/1/item/1", "/exam/1/break", &[]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("no approved break left"));

    // A proctor's pause is not the candidate's to end.
    proctor
        .post_form(
            &format!("/sittings/{}", sitting.id),
            &format!("/attempts/{}/pause", a.id),
            &[],
        )
        .await;
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("Your proctor has paused your exam"), "{page}");
    cand.post_form("/exam/1/item/1", "/exam/1/end-break", &[])
        .await;
    let clock: serde_json::Value = cand.get("/exam/api/clock/1").await.json().await.unwrap();
    assert_eq!(clock["paused"], true);
    let events = sittings::events(&app.db, sitting.id).await.unwrap();
    assert!(
        events.iter().any(|e| e.kind == "break-start")
            && events.iter().any(|e| e.kind == "break-end")
    );
}

on_both_engines!(
    an_approved_break_stops_the_clock_and_is_counted,
    the_whole_exam_over_http,
    part_two_choice_pause_added_time_and_the_deadline,
    one_browser_at_a_time,
    csv_registration_names_bad_lines_and_registers_nothing,
);
