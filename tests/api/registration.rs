//! Registration in batches and absent candidates, on both engines: a CSV file registers all or
//! none, within its cap; a batch's codes download as CSV and print as slips for whoever
//! registered it; a candidate who never came is absent, never blocks the release and may
//! register again without a waiting period.

use imh_exam::auth::Role;
use imh_exam::bank::Level;
use imh_exam::exam::form::Parts;
use imh_exam::store::bank::blueprints;
use imh_exam::store::results;
use imh_exam::store::sittings::{self, NewSitting};
use imh_exam::store::{audit, now_ms, Db};

use crate::helpers::exam::{
    admitted, candidate, import_sample, open_sitting, registered, OpenSitting,
};
use crate::helpers::{count, spawn_app, test_db, Browser, Engine};
use crate::on_both_engines;
use crate::scoring::{rate_everything, sat_sitting};

const HOUR: i64 = 60 * 60 * 1000;

/// A CSV of `n` Level III candidates, `c{i}@example.org`.
fn csv_of(n: usize) -> String {
    let mut s = String::from("name,email,level\n");
    for i in 0..n {
        s.push_str(&format!("Candidate {i},c{i}@example.org,III\n"));
    }
    s
}

async fn rows_in(db: &Db, table: &str) -> i64 {
    count(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

/// How many registrations, access codes and audit records there are.
async fn counts(db: &Db) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in ["registrations", "access_codes", "audit_log"] {
        out.push((table, rows_in(db, table).await));
    }
    out
}

/// Nothing of a registration was written: no registration, no code, no batch.
async fn assert_nothing_registered(db: &Db) {
    for table in [
        "registrations",
        "access_codes",
        "registration_batches",
        "batch_codes",
    ] {
        assert_eq!(rows_in(db, table).await, 0, "{table} is empty");
    }
}

/// The access codes a page shows, in order.
fn codes_on(html: &str) -> Vec<String> {
    html.split("<code class=\"code\">")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_string())
        .collect()
}

/// Who marked a registration absent, if anyone.
async fn absent_by(db: &Db, registration_id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT absent_by FROM registrations WHERE id = $1")
        .bind(registration_id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn import(b: &Browser, sitting_id: i64, csv: &str) -> (u16, String) {
    let res = b
        .post_form(
            "/sittings",
            &format!("/sittings/{sitting_id}/import"),
            &[("csv", csv)],
        )
        .await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn a_40000_row_csv_with_one_bad_row_near_the_end_registers_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let OpenSitting { sitting, bps, .. } = OpenSitting::new(&app.db).await;
    // Someone is registered already; the file's row 39,990 names them again. The row is well
    // formed: only the sitting knows it is wrong.
    registered(
        &app.db,
        &sitting,
        &candidate("taken@example.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    let proctor = app.as_role(Role::Proctor).await;
    let before = counts(&app.db).await;
    let csv = csv_of(40_000).replace("c39990@example.org", "taken@example.org");
    let (status, html) = import(&proctor, sitting.id, &csv).await;
    assert_eq!(status, 422, "{}", &html[..html.len().min(2000)]);
    // Row 39,990 is on line 39,992 (the header is line 1).
    assert!(
        html.contains(
            "line 39992: email: taken@example.org is already registered for this sitting"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "line 10002: the file has 40,000 candidates; one upload registers at most 10,000"
        ),
        "{html}"
    );
    assert!(html.contains("Nothing was registered"));
    assert_eq!(counts(&app.db).await, before, "nothing was written");
    assert_eq!(
        rows_in(&app.db, "registration_batches").await,
        1,
        "only taken@'s"
    );
}

async fn a_10000_row_csv_registers_every_row_in_one_batch_with_working_codes(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let sitting = open_sitting(&app.db, now_ms()).await;
    let proctor = app.as_role(Role::Proctor).await;
    let (status, html) = import(&proctor, sitting.id, &csv_of(10_000)).await;
    assert_eq!(status, 201, "{}", &html[..html.len().min(2000)]);
    assert_eq!(
        sittings::registrations(&app.db, sitting.id)
            .await
            .unwrap()
            .len(),
        10_000
    );
    let batch: i64 = sqlx::query_scalar("SELECT id FROM registration_batches")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    // The reply offers the batch's codes for download and printing, not just once on screen.
    assert!(html.contains(&format!("href=\"/batches/{batch}/codes.csv\"")));
    assert!(html.contains(&format!("href=\"/batches/{batch}/slips\"")));
    let codes = codes_on(&html);
    assert_eq!(codes.len(), 10_000);
    let csv = proctor
        .get_text(&format!("/batches/{batch}/codes.csv"))
        .await;
    assert_eq!(csv.lines().count(), 10_001);
    // A couple of the codes open the exam at /enter, each for its own candidate.
    for i in [0, 9_999] {
        let b = app.browser();
        let res = b.enter(&codes[i]).await;
        assert_eq!(res.headers()["location"], "/candidate", "code {i}");
        let home = b.get_text("/candidate").await;
        assert!(home.contains(&format!("Welcome, Candidate {i}")), "{home}");
    }
    // One audit record for the file.
    let imports = count(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'registration.import'",
    )
    .await;
    assert_eq!(imports, 1);
}

async fn a_csv_over_the_cap_is_refused_before_anything_is_written(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let sitting = open_sitting(&app.db, now_ms()).await;
    let proctor = app.as_role(Role::Proctor).await;
    // The cap is stated where the file is chosen.
    let console = proctor.get_text(&format!("/sittings/{}", sitting.id)).await;
    assert!(
        console.contains("At most 10,000 candidates per file"),
        "{console}"
    );
    let (status, html) = import(&proctor, sitting.id, &csv_of(10_001)).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("line 10002: the file has 10,001 candidates; one upload registers at most 10,000, so nothing was registered: split the file into files of at most 10,000 rows"),
        "{html}"
    );
    assert_nothing_registered(&app.db).await;
}

async fn a_batchs_codes_download_and_print_only_for_who_registered_it(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let sitting = open_sitting(&app.db, now_ms()).await;
    let proctor = app.as_role(Role::Proctor).await;
    let csv = "name,email,level\n\
               \"=HYPERLINK(\"\"http://x.example\"\",\"\"open\"\")\",-2+3@example.org,III\n\
               @SUM(1+1),sum@example.org,IV-Policy\n\
               Ana Ruiz,ana@example.org,III\n";
    let (status, html) = import(&proctor, sitting.id, csv).await;
    assert_eq!(status, 201, "{html}");
    let batch: i64 = sqlx::query_scalar("SELECT id FROM registration_batches")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let codes = codes_on(&html);
    assert_eq!(codes.len(), 3);

    // The CSV: name, email, level, code; no cell a spreadsheet would run as a formula.
    let res = proctor.get(&format!("/batches/{batch}/codes.csv")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        vec!["name", "email", "level", "code"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "unsafe cell {cell:?}"
        );
    }
    assert_eq!(rows[0][0], "'=HYPERLINK(\"http://x.example\",\"open\")");
    assert_eq!(rows[0][1], "'-2+3@example.org");
    assert_eq!(rows[1][0], "'@SUM(1+1)");
    assert_eq!(rows[1][2], "IV-Policy");
    assert_eq!(
        rows[2],
        vec![
            "Ana Ruiz".to_string(),
            "ana@example.org".into(),
            "III".into(),
            codes[2].clone()
        ]
    );

    // The slips: one per candidate, with the sitting, the code and how to enter.
    let slips = proctor.get_text(&format!("/batches/{batch}/slips")).await;
    assert_eq!(
        slips.matches("<section class=\"slip\"").count(),
        3,
        "{slips}"
    );
    for c in &codes {
        assert!(slips.contains(c.as_str()), "{c}");
    }
    for text in [
        "Spring window",
        "remote",
        "Opens",
        "Closes",
        "/enter",
        "photo identification",
        "Ana Ruiz",
    ] {
        assert!(slips.contains(text), "{text} on the slips");
    }
    // Printed, each slip takes a page of its own.
    let css = proctor.get_text("/assets/app.css").await;
    assert!(css.contains("@media print"));
    assert!(css.contains(".slip { border: 0; margin: 0; padding: 0; break-after: page;"));

    // Another proctor may not read them; an administrator may.
    let other = app.as_role(Role::Proctor).await;
    for path in ["", "/codes.csv", "/slips"] {
        let res = other.get(&format!("/batches/{batch}{path}")).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(!res.text().await.unwrap().contains(&codes[0]));
    }
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(
        admin
            .get(&format!("/batches/{batch}/codes.csv"))
            .await
            .status(),
        200
    );

    // Marked handed out: the clear codes are gone (audited); the codes still open the exam.
    let res = proctor
        .post_form(
            &format!("/batches/{batch}"),
            &format!("/batches/{batch}/handed-out"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(rows_in(&app.db, "batch_codes").await, 0);
    let res = proctor.get(&format!("/batches/{batch}/codes.csv")).await;
    assert_eq!(res.status(), 410);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("were marked handed out by"));
    let entries = audit::recent(&app.db, 5).await.unwrap();
    assert_eq!(entries[0].action, "registration.codes_handed_out");
    let cand = app.browser();
    let res = cand.enter(&codes[2]).await;
    assert_eq!(res.headers()["location"], "/candidate");
}

async fn an_absent_candidate_is_not_taken_never_blocks_release_and_may_register_again(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let f = sat_sitting(db).await;
    let bps = blueprints(db).await.unwrap();
    let (dee_id, dee_code) = registered(
        db,
        &f.sitting,
        &candidate("dee@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    rate_everything(db, f.sitting.id, 3).await;
    let proctor = app.as_role(Role::Proctor).await;
    let console = format!("/sittings/{}", f.sitting.id);

    // Someone who started a part came: they cannot be marked absent.
    let ana = f.regs[0].id;
    let res = proctor
        .post_form(&console, &format!("/registrations/{ana}/absent"), &[])
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("has started a part, so they came"));
    assert_eq!(absent_by(db, ana).await, None);

    let res = proctor
        .post_form(&console, &format!("/registrations/{dee_id}/absent"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(absent_by(db, dee_id).await, proctor_name(db).await);
    let entry = audit::recent(db, 1).await.unwrap().remove(0);
    assert_eq!(entry.action, "candidate.absent");
    assert!(entry.detail.contains("dee@x.org"), "{}", entry.detail);
    // The console shows them apart, with no way to mark them twice.
    let page = proctor.get_text(&console).await;
    let row = &page[page
        .find(&format!("data-registration=\"{dee_id}\""))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("class=\"absent\""), "{row}");
    assert!(
        row.contains("<td class=\"status\"><span class=\"chip\">absent</span></td>"),
        "{row}"
    );
    assert!(!row.contains("/absent\""), "{row}");

    // Release is not blocked; the absent parts are "not taken", not failed.
    let committee = app.as_role(Role::Committee).await;
    let scoring = format!("/scoring/{}", f.sitting.id);
    let res = committee
        .post_form(
            &format!("{scoring}/results"),
            &format!("{scoring}/release"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let lines = results::stored(db, f.sitting.id).await.unwrap().lines;
    let line = lines
        .iter()
        .find(|l| l.registration.email == "dee@x.org")
        .unwrap();
    assert_eq!(line.exam_passed, None);
    let csv = committee.get_text(&format!("{scoring}/results.csv")).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let heads: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let dee_row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| r.iter().any(|c| c == "dee@x.org"))
        .unwrap();
    let cell = |name: &str| dee_row[heads.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(cell("part_one_passed"), "not taken (absent)");
    assert_eq!(cell("part_two_passed"), "not taken (absent)");
    assert_eq!(cell("exam_passed"), "");
    let page = committee.get_text(&format!("{scoring}/results")).await;
    assert!(page.contains("not taken (absent)"), "{page}");
    // The candidate's own page says so too.
    let cand = app.browser();
    cand.enter(&dee_code).await;
    let home = cand.get_text("/candidate").await;
    assert!(home.contains("You were marked absent"), "{home}");
    assert!(
        home.contains(r#"<span class="chip">not taken</span>"#),
        "{home}"
    );
    assert!(
        home.contains("this part is not taken, not failed"),
        "{home}"
    );
    assert!(!home.contains("not passed"), "{home}");

    // Dee may register for the next sitting at once; Ana, who sat, waits.
    let next = sittings::create_sitting(
        db,
        &NewSitting {
            name: "Next window",
            place: "remote",
            opens_at: now_ms() + 24 * HOUR,
            closes_at: now_ms() + 32 * HOUR,
            blueprints: &f.sitting.blueprints,
        },
        "p",
    )
    .await
    .unwrap();
    let next = sittings::sitting(db, next).await.unwrap().unwrap();
    registered(
        db,
        &next,
        &candidate("dee@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    assert!(matches!(
        sittings::register(
            db,
            &next,
            &candidate("ana@x.org", Level::III, Parts::BOTH, "1"),
            &bps,
            "p",
            false
        )
        .await,
        Err(sittings::RegisterError::Field("parts", _))
    ));
}

/// The username of the one proctor account the test made.
async fn proctor_name(db: &Db) -> Option<String> {
    sqlx::query_scalar("SELECT username FROM users WHERE role = 'proctor'")
        .fetch_optional(&db.pool)
        .await
        .unwrap()
}

/// A sitting that opened two hours ago and closed an hour ago.
async fn closed_sitting(db: &Db) -> sittings::Sitting {
    let all: Vec<String> = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    let now = now_ms();
    let id = sittings::create_sitting(
        db,
        &NewSitting {
            name: "Past window",
            place: "Lakeside Hall",
            opens_at: now - 2 * HOUR,
            closes_at: now - HOUR,
            blueprints: &all,
        },
        "p",
    )
    .await
    .unwrap();
    sittings::sitting(db, id).await.unwrap().unwrap()
}

async fn the_sittings_close_marks_never_admitted_candidates_absent(engine: Engine) {
    // The server's tick closes the sitting.
    let app = spawn_app(engine).await;
    let db = &app.db;
    let OpenSitting { sitting, bps, .. } = OpenSitting::new(db).await;
    let (came, _) = admitted(
        db,
        &sitting,
        &candidate("came@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    let (never, _) = registered(
        db,
        &sitting,
        &candidate("never@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    assert_eq!(rows_in(db, "batch_codes").await, 2);
    // Its closing time passes.
    sqlx::query("UPDATE sittings SET closes_at = $1 WHERE id = $2")
        .bind(now_ms() - HOUR)
        .bind(sitting.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let mut marked = None;
    for _ in 0..200 {
        marked = absent_by(db, never).await;
        if marked.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        marked.as_deref(),
        Some("system"),
        "the server's tick closes the sitting and marks them absent"
    );
    assert_eq!(
        absent_by(db, came.id).await,
        None,
        "the admitted candidate came"
    );
    let close: Vec<_> = audit::recent(db, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sitting.close")
        .collect();
    assert_eq!(close.len(), 1);
    assert!(
        close[0].detail.contains("1 never admitted, marked absent"),
        "{}",
        close[0].detail
    );
    // The codes kept for handing out are deleted with the close.
    assert_eq!(rows_in(db, "batch_codes").await, 0);
    // Neither blocks the release: one was absent, the other never started before the close.
    assert_eq!(
        results::release(db, sitting.id, "committee").await.unwrap(),
        Ok(2)
    );
    let csv = results::results_csv(&results::stored(db, sitting.id).await.unwrap().lines);
    let line = |email: &str| csv.lines().find(|l| l.contains(email)).unwrap().to_string();
    let (never_line, came_line) = (line("never@x.org"), line("came@x.org"));
    assert_eq!(
        never_line.matches(",not taken (absent),").count(),
        2,
        "{never_line}"
    );
    assert_eq!(came_line.matches(",not taken,").count(), 2, "{came_line}");

    // Without the tick (no server), release closes the sitting first.
    let t = test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    let sitting = closed_sitting(db).await;
    let bps = blueprints(db).await.unwrap();
    let (never, _) = registered(
        db,
        &sitting,
        &candidate("never@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    assert_eq!(
        results::release(db, sitting.id, "committee").await.unwrap(),
        Ok(1)
    );
    assert_eq!(absent_by(db, never).await.as_deref(), Some("system"));
}

on_both_engines!(
    a_40000_row_csv_with_one_bad_row_near_the_end_registers_nothing,
    a_10000_row_csv_registers_every_row_in_one_batch_with_working_codes,
    a_csv_over_the_cap_is_refused_before_anything_is_written,
    a_batchs_codes_download_and_print_only_for_who_registered_it,
    an_absent_candidate_is_not_taken_never_blocks_release_and_may_register_again,
    the_sittings_close_marks_never_admitted_candidates_absent,
);
