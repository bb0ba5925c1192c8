//! The proctor's console with 200 candidates: one line each, filters, the live refresh, a void
//! behind its confirmation; registering from a chosen CSV file, and the access-code slips
//! printed one per page.

use imh_exam::store::absence;
use imh_exam::store::attempts::ClockAction;
use imh_exam::store::bank::pool;

use super::*;

const CANDIDATES: usize = 200;

/// A sitting in Detroit's time zone, open from an hour ago for eight hours.
async fn detroit_sitting(db: &Db) -> sittings::Sitting {
    let now = now_ms();
    let ids: Vec<String> = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    let id = sittings::create_sitting_in_zone(
        db,
        &NewSitting {
            name: "Detroit, two hundred",
            place: "Detroit",
            opens_at: now - HOUR,
            closes_at: now + 8 * HOUR,
            blueprints: &ids,
        },
        "America/Detroit",
        "proctor",
    )
    .await
    .unwrap();
    sittings::sitting(db, id).await.unwrap().unwrap()
}

/// What the candidates are doing: 200 registered; of them 40 in Part One (5 of those paused),
/// 10 absent, 100 admitted and not started, the rest waiting. Returns the ids of one running
/// candidate's attempt.
async fn two_hundred(db: &Db, sitting: &sittings::Sitting) -> i64 {
    let bps = blueprints(db).await.unwrap();
    let items = pool(db).await.unwrap();
    let now = now_ms();
    let mut running = 0;
    for i in 0..CANDIDATES {
        let (id, _) = sittings::register(
            db,
            sitting,
            &NewRegistration {
                name: format!("Candidate {i:03}"),
                email: format!("c{i:03}@example.org"),
                organisation: "Lakeside".into(),
                level: Level::III,
                parts: Parts::BOTH,
                multiplier: Multiplier::parse(if i % 20 == 0 { "1.5" } else { "1" }).unwrap(),
                extra_breaks: 0,
                retake_override: None,
            },
            &bps,
            "proctor",
            false,
        )
        .await
        .unwrap();
        match i {
            0..40 => {
                assert!(sittings::admit(db, id, "proctor").await.unwrap());
                let reg = sittings::registration(db, id).await.unwrap().unwrap();
                let bp = bps.iter().find(|b| b.id == reg.blueprint_id).unwrap();
                let a = attempts::start_part(db, sitting, &reg, bp, &items, 1, now)
                    .await
                    .unwrap();
                if i < 5 {
                    attempts::change_clock(db, a.id, ClockAction::Pause, now)
                        .await
                        .unwrap();
                } else {
                    running = a.id;
                }
            }
            40..50 => {
                absence::mark_absent(db, id, "proctor").await.unwrap();
            }
            50..150 => {
                assert!(sittings::admit(db, id, "proctor").await.unwrap());
            }
            _ => {}
        }
    }
    running
}

async fn rows_shown(c: &Client) -> u64 {
    c.execute(
        "return document.querySelectorAll('#console tbody tr').length",
        vec![],
    )
    .await
    .unwrap()
    .as_u64()
    .unwrap()
}

/// Follows the filter link whose text starts with `label`, and waits for its list.
async fn filter(c: &Client, label: &str, key: &str) {
    let xpath = format!(
        "//nav[@aria-label='Show candidates']//a[starts-with(normalize-space(), '{label} (')]"
    );
    c.find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no filter {label:?}: {e}"))
        .click()
        .await
        .unwrap();
    let wait = Wait::new(format!("the {label} filter"));
    loop {
        let url = c.current_url().await.unwrap();
        let ready = c
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if url.query() == Some(&format!("show={key}")) && ready == "complete" {
            return;
        }
        wait.tick(url).await;
    }
}

async fn the_console(
    c: Client,
    driver: String,
    base: String,
    db: Db,
    sitting: sittings::Sitting,
    running: i64,
) -> Vec<String> {
    let mut blocking = Vec::new();
    staff_signs_in(&c, &base, &db, "pat", Role::Proctor).await;
    let console = format!("/sittings/{}", sitting.id);
    go(&c, &base, &console).await;

    // 200 candidates, one line each: the page is a few screens, not a hundred.
    assert_eq!(rows_shown(&c).await, CANDIDATES as u64);
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    println!("the console with {CANDIDATES} candidates is {height} px tall at 1280 px");
    assert!(height < 15_000, "the console is {height} px tall");
    // The sitting's times are shown in Detroit's zone, UTC on hover.
    let opens = css(&c, "main > .console > p time").await;
    let title = opens.attr("title").await.unwrap().unwrap_or_default();
    assert!(title.starts_with("UTC: "), "{title}");
    let shown = opens.text().await.unwrap();
    assert!(
        shown.ends_with(" EST") || shown.ends_with(" EDT"),
        "{shown}"
    );
    blocking.extend(look(&c, "/sittings/{id} (console, 200 candidates)").await);

    // The filters: server-side links, each listing its own.
    filter(&c, "Paused", "paused").await;
    assert_eq!(rows_shown(&c).await, 5);
    let chips = c
        .execute(
            "return [...document.querySelectorAll('#console tbody td.status .chip:first-child')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        chips,
        json!(["paused", "paused", "paused", "paused", "paused"])
    );
    blocking.extend(look(&c, "/sittings/{id}?show=paused (console, filtered)").await);
    filter(&c, "Absent", "absent").await;
    assert_eq!(rows_shown(&c).await, 10);
    filter(&c, "Waiting", "waiting").await;
    assert_eq!(rows_shown(&c).await, 150);
    filter(&c, "In progress", "in-progress").await;
    assert_eq!(rows_shown(&c).await, 35);

    // The live refresh: a candidate paused elsewhere shows as paused on this page, unreloaded.
    attempts::change_clock(&db, running, ClockAction::Pause, now_ms())
        .await
        .unwrap();
    let reg_of_running = attempts::attempt(&db, running)
        .await
        .unwrap()
        .unwrap()
        .registration_id;
    let chip = format!("tr[data-registration='{reg_of_running}'] td.status .chip");
    let wait = Wait::new("the console's script to show the pause");
    loop {
        let word = css(&c, &chip).await.text().await.unwrap();
        if word == "paused" {
            break;
        }
        wait.tick(word).await;
    }
    attempts::change_clock(&db, running, ClockAction::Resume, now_ms())
        .await
        .unwrap();

    // A candidate's actions open in place; the void is apart, and leads to its confirmation.
    let row = format!("tr[data-registration='{reg_of_running}']");
    css(&c, &format!("{row} details.menu summary"))
        .await
        .click()
        .await
        .unwrap();
    let void_link = css(&c, &format!("{row} .danger-zone a.button.danger")).await;
    let href = void_link.attr("href").await.unwrap().unwrap();
    assert_eq!(href, format!("/attempts/{running}/void"));
    blocking.extend(look(&c, "/sittings/{id} (console, a candidate's actions open)").await);
    void_link.click().await.unwrap();
    wait_for_path(&c, &href).await;
    blocking.extend(look(&c, "/attempts/{id}/void (void: confirm)").await);
    // Sent without the box ticked: refused by the server, the error beside the box.
    css(&c, "#reason")
        .await
        .send_keys("left the room")
        .await
        .unwrap();
    css(&c, "form.void-form button.danger")
        .await
        .click()
        .await
        .unwrap();
    let wait = Wait::new("the void's confirmation error");
    while c.find(Locator::Css("#confirm-error")).await.is_err() {
        wait.tick("no #confirm-error").await;
    }
    let a = attempts::attempt(&db, running).await.unwrap().unwrap();
    assert!(a.voided_at.is_none(), "voided without its confirmation");
    blocking.extend(look(&c, "/attempts/{id}/void (void: not confirmed)").await);
    css(&c, "#confirm").await.click().await.unwrap();
    css(&c, "form.void-form button.danger")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(&c, &console).await;
    let a = attempts::attempt(&db, running).await.unwrap().unwrap();
    assert_eq!(a.void_reason.as_deref(), Some("left the room"));
    filter(&c, "Problems", "problems").await;
    let voided = css(&c, &format!("{row} td.status"))
        .await
        .text()
        .await
        .unwrap();
    assert!(voided.contains("voided"), "{voided}");

    // Registering from a chosen CSV file: the browser sends the file itself.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("late-arrivals.csv");
    std::fs::write(
        &file,
        "name,email,level\nAna Ruiz,ana@example.org,III\nBo Chen,bo@example.org,IV-Policy\nCy Diaz,cy@example.org,III\n",
    )
    .unwrap();
    go(&c, &base, &console).await;
    css(&c, "#csv-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    button(&c, "Register all").await.click().await.unwrap();
    wait_for_path(&c, &format!("{console}/import")).await;
    let page = css(&c, "main").await.text().await.unwrap();
    assert!(page.contains("3 candidate(s) registered"), "{page}");
    assert_eq!(
        sittings::registrations(&db, sitting.id)
            .await
            .unwrap()
            .len(),
        CANDIDATES + 3
    );
    blocking.extend(look(&c, "/sittings/{id}/import (registered from a file)").await);

    // The slips: one per candidate, each on a printed page of its own, the sitting's
    // instructions on each, no site header.
    let slips = css(&c, "main a[href$='/slips']").await;
    let slips_path = slips.attr("href").await.unwrap().unwrap();
    go(&c, &base, &slips_path).await;
    blocking.extend(look(&c, "/batches/{id}/slips (access-code slips)").await);
    print_media(&c, &driver, true).await;
    let printed = c
        .execute(
            r#"const slips = [...document.querySelectorAll('section.slip')];
               return {
                 slips: slips.length,
                 page_breaks: slips.filter(s => getComputedStyle(s).breakAfter === 'page').length,
                 header_shown: getComputedStyle(document.querySelector('header.top')).display !== 'none',
                 instructions: slips.filter(s => s.textContent.includes('How to enter')).length,
               };"#,
            vec![],
        )
        .await
        .unwrap();
    print_media(&c, &driver, false).await;
    assert_eq!(printed["slips"], 3, "{printed}");
    // Each slip but the last ends its page.
    assert_eq!(printed["page_breaks"], 2, "{printed}");
    assert_eq!(printed["instructions"], 3, "{printed}");
    assert_eq!(printed["header_shown"], false, "{printed}");
    let text = print_shot(&c, &driver, "/batches/{id}/slips (print)", "main").await;
    for name in ["Ana Ruiz", "Bo Chen", "Cy Diaz"] {
        assert_eq!(text.matches(name).count(), 1, "{name} on one slip: {text}");
    }
    blocking
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proctor_runs_a_sitting_of_two_hundred() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let sitting = detroit_sitting(&app.db).await;
    let running = two_hundred(&app.db, &sitting).await;
    in_browser(|c, driver| {
        the_console(
            c,
            driver,
            app.base.clone(),
            app.db.clone(),
            sitting,
            running,
        )
    })
    .await;
}
