//! The proctor's console over HTTP, on both engines: a CSV file uploaded as a browser sends it
//! without script (multipart), its codes as a CSV download, a sitting's time zone checked and
//! its times shown in it, the console's filters, and a void that needs its confirmation.

use imh_exam::auth::Role;
use imh_exam::store::{attempts, sittings};

use crate::helpers::exam::OpenSitting;
use crate::helpers::{between, csrf_of, spawn_app, Browser, Engine};
use crate::on_both_engines;

const BOUNDARY: &str = "----imh-exam-test-boundary-7d3a";

/// A `multipart/form-data` body as a browser sends a form: each (name, file name, text) part in
/// order, a file name making the part a file.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, file, text) in parts {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        match file {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
            )),
            None => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            )),
        }
        body.push_str(text);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

async fn post_multipart(b: &Browser, action: &str, body: Vec<u8>) -> reqwest::Response {
    b.client
        .post(b.url(action))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn a_csv_file_uploads_without_script_and_its_codes_download(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = OpenSitting::new(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;
    let console = format!("/sittings/{}", f.sitting.id);
    let page = proctor.get_text(&console).await;
    // The form sends the file itself: multipart, with a named file input.
    let form = between(&page, "/import\"", "</form>");
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form.contains("type=\"file\""), "{form}");
    assert!(form.contains("name=\"file\""), "{form}");
    let token = csrf_of(&page);
    let file = "name,email,level\nAna Ruiz,ana@example.org,III\nBo Chen,bo@example.org,IV-Policy\nCy Diaz,cy@example.org,III\n";

    // Without the CSRF field the upload is refused, and nobody is registered.
    let res = post_multipart(
        &proctor,
        &format!("{console}/import"),
        multipart(&[("file", Some("c.csv"), file), ("csv", None, "")]),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert!(sittings::registrations(&app.db, f.sitting.id)
        .await
        .unwrap()
        .is_empty());

    // The chosen file, with the text box left empty (a spreadsheet's byte-order mark too).
    let with_bom = format!("\u{feff}{file}");
    let res = post_multipart(
        &proctor,
        &format!("{console}/import"),
        multipart(&[
            ("csrf", None, &token),
            ("file", Some("candidates.csv"), &with_bom),
            ("csv", None, ""),
        ]),
    )
    .await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert_eq!(status, 201, "{html}");
    let regs = sittings::registrations(&app.db, f.sitting.id)
        .await
        .unwrap();
    let names: Vec<&str> = regs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for n in ["Ana Ruiz", "Bo Chen", "Cy Diaz"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let batch: i64 = sqlx::query_scalar("SELECT id FROM registration_batches")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(html.contains(&format!("href=\"/batches/{batch}/codes.csv\"")));
    assert!(html.contains(&format!("href=\"/batches/{batch}/slips\"")));

    // The codes as CSV: text/csv, one row per candidate, each code opening that candidate.
    let res = proctor.get(&format!("/batches/{batch}/codes.csv")).await;
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    let bo = rows.iter().find(|r| r[0] == "Bo Chen").expect("Bo's row");
    assert_eq!(bo[1], "bo@example.org");
    let cand = app.browser();
    let res = cand.enter(&bo[3]).await;
    assert_eq!(res.headers()["location"], "/candidate");
    assert!(cand
        .get_text("/candidate")
        .await
        .contains("Welcome, Bo Chen"));

    // The slips: one per candidate, with the sitting's instructions.
    let slips = proctor.get_text(&format!("/batches/{batch}/slips")).await;
    assert_eq!(slips.matches("<section class=\"slip\"").count(), 3);
    assert!(slips.contains("How to enter"));

    // Pasted text still works when no file is chosen (and the urlencoded form too).
    let res = post_multipart(
        &proctor,
        &format!("{console}/import"),
        multipart(&[
            ("csrf", None, &token),
            ("file", Some(""), ""),
            (
                "csv",
                None,
                "name,email,level\nDee Ek,dee@example.org,III\n",
            ),
        ]),
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = proctor
        .post_form(
            &console,
            &format!("{console}/import"),
            &[("csv", "name,email,level\nEd Fox,ed@example.org,III\n")],
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        sittings::registrations(&app.db, f.sitting.id)
            .await
            .unwrap()
            .len(),
        5
    );
}

/// The sitting form's fields, for a sitting opening at `opens` and closing at `closes`
/// (datetime-local values) in `zone`.
fn sitting_form<'a>(zone: &'a str, opens: &'a str, closes: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Detroit evening"),
        ("place", "Detroit"),
        ("time_zone", zone),
        ("opens_at", opens),
        ("closes_at", closes),
        ("blueprint", "level-iii"),
    ]
}

async fn a_sittings_time_zone_is_checked_and_its_times_shown_in_it(engine: Engine) {
    let app = spawn_app(engine).await;
    crate::helpers::exam::import_sample(&app.db).await;
    let proctor = app.as_role(Role::Proctor).await;

    // A zone that does not exist: refused, the error beside the field and naming it.
    let res = proctor
        .post_form(
            "/sittings",
            "/sittings",
            &sitting_form("Mars/Olympus", "2026-11-23T09:00", "2026-11-23T17:00"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    let error = between(&html, "id=\"time_zone-error\"", "</p>");
    assert!(error.contains("Time zone:"), "{error}");
    assert!(error.contains("Mars/Olympus"), "{error}");
    assert!(
        html.contains("aria-describedby=\"time_zone-hint time_zone-error\""),
        "{html}"
    );
    assert!(sittings::list_sittings(&app.db).await.unwrap().is_empty());

    // America/Detroit (written in any case): the times are read in it, 09:00 EST = 14:00 UTC.
    let res = proctor
        .post_form(
            "/sittings",
            "/sittings",
            &sitting_form("america/detroit", "2026-11-23T09:00", "2026-11-23T17:00"),
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let s = sittings::list_sittings(&app.db).await.unwrap().remove(0);
    assert_eq!(s.time_zone, "America/Detroit");
    assert_eq!(s.opens_at, 1_795_442_400_000, "2026-11-23 14:00 UTC");
    assert_eq!(s.closes_at - s.opens_at, 8 * 3_600_000);

    // Shown in the zone, the UTC instant in `datetime` and the UTC time on hover.
    let opens = "<time datetime=\"2026-11-23T14:00:00Z\" title=\"UTC: 2026-11-23 14:00 UTC\">2026-11-23 09:00 EST</time>";
    let console = proctor.get_text(&format!("/sittings/{}", s.id)).await;
    assert!(console.contains(opens), "{console}");
    assert!(console.contains("(times in America/Detroit)"), "{console}");
    let list = proctor.get_text("/sittings").await;
    assert!(list.contains(opens), "{list}");

    // Left empty, the zone is UTC.
    let res = proctor
        .post_form(
            "/sittings",
            "/sittings",
            &sitting_form("", "2026-11-24T09:00", "2026-11-24T17:00"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let utc = sittings::list_sittings(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id != s.id)
        .unwrap();
    assert_eq!(utc.time_zone, "UTC");
    assert_eq!(utc.opens_at, 1_795_510_800_000, "2026-11-24 09:00 UTC");
}

async fn the_console_filters_and_a_void_needs_its_confirmation(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = OpenSitting::new(&app.db).await;
    let running = f.start_part_one(&app.db, "run@example.org").await;
    let paused = f.start_part_one(&app.db, "held@example.org").await;
    attempts::change_clock(
        &app.db,
        paused.attempt.id,
        attempts::ClockAction::Pause,
        f.now,
    )
    .await
    .unwrap();
    let proctor = app.as_role(Role::Proctor).await;
    let console = format!("/sittings/{}", f.sitting.id);
    let rows_on = |html: &str| -> Vec<i64> {
        html.split("data-registration=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect()
    };
    let all = proctor.get_text(&console).await;
    assert_eq!(rows_on(&all).len(), 2);
    assert!(all.contains("Paused (1)"), "{all}");
    assert!(all.contains("In progress (1)"), "{all}");
    let only_paused = proctor.get_text(&format!("{console}?show=paused")).await;
    assert_eq!(rows_on(&only_paused), vec![paused.reg.id]);
    assert!(only_paused.contains("aria-current=\"page\">Paused (1)"));
    assert!(only_paused.contains("<span class=\"chip warn\">paused</span>"));
    let only_running = proctor
        .get_text(&format!("{console}?show=in-progress"))
        .await;
    assert_eq!(rows_on(&only_running), vec![running.reg.id]);
    assert!(
        only_running.contains("in Part One, 0 of "),
        "{only_running}"
    );
    assert!(rows_on(&proctor.get_text(&format!("{console}?show=absent")).await).is_empty());

    // The console links to the void's own page; the void is refused without its confirmation.
    let void = format!("/attempts/{}/void", running.attempt.id);
    assert!(all.contains(&format!("href=\"{void}\"")), "{all}");
    let page = proctor.get_text(&void).await;
    assert!(page.contains("name=\"confirm\""), "{page}");
    let res = proctor
        .post_form(&void, &void, &[("reason", "left the room")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"confirm-error\""), "{html}");
    assert!(
        html.contains("value=\"left the room\""),
        "the reason is kept"
    );
    let a = attempts::attempt(&app.db, running.attempt.id)
        .await
        .unwrap()
        .unwrap();
    assert!(a.voided_at.is_none(), "voided without confirmation");
    let res = proctor
        .post_form(&void, &void, &[("reason", ""), ("confirm", "void")])
        .await;
    assert_eq!(res.status(), 422, "a reason is still needed");
    let res = proctor
        .post_form(
            &void,
            &void,
            &[("reason", "left the room"), ("confirm", "void")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let a = attempts::attempt(&app.db, running.attempt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.void_reason.as_deref(), Some("left the room"));
    let problems = proctor.get_text(&format!("{console}?show=problems")).await;
    assert!(rows_on(&problems).contains(&running.reg.id), "{problems}");
    assert!(problems.contains("<span class=\"chip bad\">voided</span>"));
}

on_both_engines!(
    a_csv_file_uploads_without_script_and_its_codes_download,
    a_sittings_time_zone_is_checked_and_its_times_shown_in_it,
    the_console_filters_and_a_void_needs_its_confirmation,
);
