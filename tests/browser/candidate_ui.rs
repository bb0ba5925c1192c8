//! The candidate's screens as a person uses them: the display tools and strike-outs by keyboard
//! alone (kept after a reload), the timer's warnings at 10, 5 and 1 minute told through live
//! regions, no focus loss counted for reloads and navigations in a foreground tab, and every
//! candidate page looked at (waiting, paused, break, question, review, Part Two, receipt, the
//! score report, and its print).

use super::*;

/// Registers and admits a Level III candidate for both parts with a time multiplier and
/// approved breaks; returns the sitting, the registration id and the access code.
async fn seated(
    db: &Db,
    multiplier: &str,
    breaks: u32,
    admit: bool,
) -> (sittings::Sitting, i64, String) {
    let bps = blueprints(db).await.unwrap();
    let sitting = open_sitting(db, "Screens window").await;
    let (reg_id, code) = sittings::register(
        db,
        &sitting,
        &NewRegistration {
            name: "Bea Okafor".into(),
            email: "bea@example.org".into(),
            organisation: "Lakeside".into(),
            level: Level::III,
            parts: Parts::BOTH,
            multiplier: Multiplier::parse(multiplier).unwrap(),
            extra_breaks: breaks,
            retake_override: None,
        },
        &bps,
        "proctor",
        false,
    )
    .await
    .unwrap();
    if admit {
        assert!(sittings::admit(db, reg_id, "proctor").await.unwrap());
    }
    (sitting, reg_id, code)
}

/// Enters with the access code, as a person types it.
async fn enter(c: &Client, base: &str, code: &str) {
    go(c, base, "/enter").await;
    css(c, "#code").await.send_keys(code).await.unwrap();
    submit(c).await;
    wait_for_path(c, "/candidate").await;
}

/// Starts a part from the candidate's home page and waits for its first page.
async fn start(c: &Client, part: u8) {
    let name = if part == 1 { "Part One" } else { "Part Two" };
    button(c, &format!("Start {name}"))
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(
        c,
        if part == 1 {
            "/exam/1/item/1"
        } else {
            "/exam/2/vignettes"
        },
    )
    .await;
}

async fn attempt_of(db: &Db, reg_id: i64, part: u8) -> attempts::Attempt {
    attempts::attempts_of(db, reg_id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.part == part)
        .expect("the part is started")
}

/// Presses a key on whatever has the focus.
async fn press(c: &Client, key: Key) {
    keys(c, &key).await;
}

// ----- keyboard: text size, contrast, strike-out ----------------------------------------------

async fn tools_by_keyboard(c: Client, base: String, db: Db) -> Vec<String> {
    let mut found = Vec::new();
    let (_, reg_id, code) = seated(&db, "1", 0, true).await;
    enter(&c, &base, &code).await;
    start(&c, 1).await;
    let a = attempt_of(&db, reg_id, 1).await;
    let item = a.form.part_one[0].item_id.clone();
    // Option C as shown, and the letter it is stored under.
    let stored_c = ((b'A' + a.form.part_one[0].option_order[2]) as char).to_string();

    // Text size 150%, from the top of the page by Tab and Enter only.
    eval(
        &c,
        "document.activeElement.blur(); window.scrollTo(0, 0); return 0",
    )
    .await;
    let tabs = tab_to(
        &c,
        "el.matches('#tools button[data-size=\"150\"]')",
        "the 150% button",
    )
    .await;
    println!("150% text reached in {tabs} Tabs");
    press(&c, Key::Enter).await;
    wait_js(
        &c,
        "getComputedStyle(document.documentElement).fontSize",
        json!("24px"),
        "the text at 150%",
    )
    .await;
    wait_saved(&c, &db, a.id, "@pref:size", "150").await;

    // High contrast, by Space on its button.
    tab_to(&c, "el.id === 'contrast'", "the contrast button").await;
    press(&c, Key::Space).await;
    wait_js(
        &c,
        "getComputedStyle(document.body).backgroundColor",
        json!("rgb(0, 0, 0)"),
        "the high-contrast background",
    )
    .await;
    assert_eq!(
        css(&c, "#contrast")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    wait_saved(&c, &db, a.id, "@pref:contrast", "high").await;

    // Strike out option C: Tab to its button, Enter.
    tab_to(
        &c,
        "el.matches('button.strike') && el.closest('.option').querySelector('#opt-2')",
        "option C's strike-out",
    )
    .await;
    press(&c, Key::Enter).await;
    wait_saved(&c, &db, a.id, &format!("@strike:{item}"), &stored_c).await;
    assert_eq!(
        eval(
            &c,
            "return document.getElementById('opt-2').closest('.option').classList.contains('struck')"
        )
        .await,
        json!(true)
    );
    // The struck option can still be chosen, by the arrow keys on the radios.
    found.extend(look(&c, "/exam/1/item/1 (tools: 150%, high contrast, C struck)").await);

    // After a reload, everything is as the candidate left it, rendered by the server.
    go(&c, &base, "/exam/1/item/1").await;
    let after = eval(
        &c,
        "return [getComputedStyle(document.documentElement).fontSize, \
                 getComputedStyle(document.body).backgroundColor, \
                 document.getElementById('opt-2').closest('.option').classList.contains('struck'), \
                 document.querySelector('#tools button[data-size=\"150\"]').getAttribute('aria-pressed'), \
                 document.getElementById('contrast').getAttribute('aria-pressed'), \
                 document.querySelector('#opt-2 ~ button.strike').getAttribute('aria-pressed')]",
    )
    .await;
    assert_eq!(
        after,
        json!(["24px", "rgb(0, 0, 0)", true, "true", "true", "true"]),
        "after a reload"
    );

    // Back to standard: 100% and contrast off, by keyboard; the strike-out undone.
    tab_to(&c, "el.matches('#tools button[data-size=\"100\"]')", "100%").await;
    press(&c, Key::Enter).await;
    tab_to(&c, "el.id === 'contrast'", "the contrast button").await;
    press(&c, Key::Enter).await;
    wait_saved(&c, &db, a.id, "@pref:contrast", "standard").await;
    wait_saved(&c, &db, a.id, "@pref:size", "100").await;
    let answers = attempts::answers(&db, a.id).await.unwrap();
    assert!(
        !answers.contains_key(&item),
        "tools and strike-outs are not answers"
    );
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_sets_text_size_contrast_and_strikes_out_by_keyboard() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| tools_by_keyboard(c, app.base.clone(), app.db.clone())).await;
}

// ----- the timer's warnings ---------------------------------------------------------------------

/// The warnings' live regions and the timer, read in one go.
const WARNINGS: &str = "return [document.getElementById('timer').textContent, \
    document.getElementById('time-warning').textContent, \
    document.getElementById('time-warning-urgent').textContent]";

async fn wait_warning(c: &Client, region: &str, text: &str) {
    let wait = Wait::new(format!("{region} to say {text:?}"));
    loop {
        let got = eval(c, WARNINGS).await;
        let at = if region == "#time-warning" { 1 } else { 2 };
        if got[at].as_str().is_some_and(|s| s.starts_with(text)) {
            println!("warned at {}: {got}", got[0]);
            return;
        }
        wait.tick(got).await;
    }
}

async fn timer_warnings(c: Client, base: String, db: Db) -> Vec<String> {
    let mut found = Vec::new();
    // 90 minutes × 1.002: ten seconds past the hour and a half, so that once the proctor takes
    // 80 minutes back the clock crosses 10:00 a few seconds after the page loads.
    let (_, reg_id, code) = seated(&db, "1.002", 0, true).await;
    enter(&c, &base, &code).await;
    start(&c, 1).await;
    let a = attempt_of(&db, reg_id, 1).await;
    let take =
        |m: i64| attempts::change_clock(&db, a.id, attempts::ClockAction::AddMinutes(m), now_ms());
    assert!(matches!(
        take(-80).await.unwrap(),
        attempts::ClockChange::Done(_)
    ));
    go(&c, &base, "/exam/1/item/1").await;
    let (polite, urgent) = (
        css(&c, "#time-warning").await,
        css(&c, "#time-warning-urgent").await,
    );
    assert_eq!(
        polite.attr("aria-live").await.unwrap().as_deref(),
        Some("polite")
    );
    assert_eq!(
        urgent.attr("aria-live").await.unwrap().as_deref(),
        Some("assertive")
    );
    let first = eval(&c, WARNINGS).await;
    println!("just loaded: {first}");
    if first[0].as_str().is_some_and(|t| t > "0:10:00") {
        assert_eq!(first[1], "", "no warning above ten minutes");
    }
    wait_warning(&c, "#time-warning", "10 minutes left").await;
    assert!(polite.is_displayed().await.unwrap(), "the warning is shown");
    found.extend(look(&c, "/exam/1/item/1 (10 minutes left)").await);

    // The proctor takes five more minutes: the next save tells the page, and the clock
    // crosses five minutes.
    take(-5).await.unwrap();
    css(&c, "label[for='opt-0']").await.click().await.unwrap();
    wait_warning(&c, "#time-warning", "5 minutes left").await;

    // And four more: the next page carries the new time, and one minute is told assertively.
    take(-4).await.unwrap();
    button(&c, "Save and go to the next question")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/exam/1/item/2").await;
    wait_warning(&c, "#time-warning-urgent", "1 minute left").await;
    let shown = eval(&c, WARNINGS).await;
    assert!(
        shown[0]
            .as_str()
            .is_some_and(|t| t.starts_with("0:00:") || t == "0:01:00"),
        "{shown}"
    );
    assert!(css(&c, "#time-warning-urgent")
        .await
        .is_displayed()
        .await
        .unwrap());
    found.extend(look(&c, "/exam/1/item/2 (1 minute left)").await);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_warns_through_live_regions_at_10_5_and_1_minutes() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| timer_warnings(c, app.base.clone(), app.db.clone())).await;
}

// ----- focus loss ---------------------------------------------------------------------------------

async fn focus_losses(db: &Db, sitting_id: i64, reg_id: i64) -> (usize, i64) {
    let listed = sittings::events(db, sitting_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.registration_id == Some(reg_id) && e.kind == "focus-lost")
        .count();
    let counted: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(browser_events), 0) AS BIGINT) FROM attempts WHERE registration_id = $1",
    )
    .bind(reg_id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    (listed, counted)
}

async fn reloads(c: Client, base: String, db: Db) -> Vec<String> {
    let (sitting, reg_id, code) = seated(&db, "1", 0, true).await;
    enter(&c, &base, &code).await;
    start(&c, 1).await;
    for round in 0..5 {
        // A reload, then a navigation through the form, then a link.
        c.refresh().await.unwrap();
        wait_for_path(&c, &format!("/exam/1/item/{}", round + 1)).await;
        button(&c, "Save and go to the next question")
            .await
            .click()
            .await
            .unwrap();
        wait_for_path(&c, &format!("/exam/1/item/{}", round + 2)).await;
        go(&c, &base, "/exam/1/review").await;
        go(&c, &base, &format!("/exam/1/item/{}", round + 2)).await;
    }
    // A copy is reported as it happens: once it is stored, anything a page sent before it
    // would have been too.
    eval(&c, "document.dispatchEvent(new Event('copy')); return 0").await;
    let wait = Wait::new("the copy event to be stored");
    loop {
        let events = sittings::events(&db, sitting.id).await.unwrap();
        if events.iter().any(|e| e.kind == "copy") {
            break;
        }
        wait.tick(events.len()).await;
    }
    // The loss timer (1.5 s) of any page left has long lapsed by the time all this is done;
    // one more page load and a look make sure.
    go(&c, &base, "/exam/1/review").await;
    let (listed, counted) = focus_losses(&db, sitting.id, reg_id).await;
    assert_eq!(listed, 0, "focus-lost events listed for a foreground tab");
    assert_eq!(counted, 1, "only the copy was counted");
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_focus_loss_is_counted_across_reloads_and_navigations() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| reloads(c, app.base.clone(), app.db.clone())).await;
}

// ----- every candidate page, looked at --------------------------------------------------------

async fn every_page(c: Client, driver: String, base: String, db: Db) -> Vec<String> {
    let mut found = Vec::new();
    let (sitting, reg_id, code) = seated(&db, "1", 1, false).await;

    // Waiting: no reload; the page moves on by itself once admitted, focus left where it was.
    enter(&c, &base, &code).await;
    found.extend(look(&c, "/candidate (waiting to be admitted)").await);
    let check = css(&c, "a.button.secondary").await;
    assert_eq!(check.text().await.unwrap(), "Check again");
    sittings::admit(&db, reg_id, "proctor").await.unwrap();
    let wait = Wait::new("the waiting page to move on after admission");
    loop {
        if c.find(Locator::XPath(
            "//main//button[normalize-space()='Start Part One']",
        ))
        .await
        .is_ok()
        {
            break;
        }
        wait.tick("still waiting").await;
    }
    found.extend(look(&c, "/candidate (admitted)").await);

    // A question, then the paused page (the proctor pauses), which goes back by itself.
    start(&c, 1).await;
    let a = attempt_of(&db, reg_id, 1).await;
    attempts::change_clock(&db, a.id, attempts::ClockAction::Pause, now_ms())
        .await
        .unwrap();
    go(&c, &base, "/exam/1/item/1").await;
    assert!(css(&c, "h1").await.text().await.unwrap().contains("paused"));
    found.extend(look(&c, "/exam/1/item/1 (paused by the proctor)").await);
    attempts::change_clock(&db, a.id, attempts::ClockAction::Resume, now_ms())
        .await
        .unwrap();
    wait_heading(&c, "Part One, question").await;

    // A break, taken by the candidate.
    button(&c, "Take a break (1 approved break left)")
        .await
        .click()
        .await
        .unwrap();
    // The break page has the question's own address: wait for its heading, not the path.
    wait_heading(&c, "You are on a break").await;
    found.extend(look(&c, "/exam/1/item/1 (on a break)").await);
    button(&c, "End my break and go back to Part One")
        .await
        .click()
        .await
        .unwrap();
    wait_heading(&c, "Part One, question").await;

    // The review with its live timer, the receipt.
    go(&c, &base, "/exam/1/review").await;
    let t1 = css(&c, "#timer").await.text().await.unwrap();
    let wait = Wait::new("the review page's timer to count down");
    loop {
        let t2 = css(&c, "#timer").await.text().await.unwrap();
        if t2 != t1 {
            assert!(t2.split(':').count() == 3, "h:mm:ss: {t2}");
            break;
        }
        wait.tick(t2).await;
    }
    found.extend(look(&c, "/exam/1/review (review with the timer)").await);
    css(&c, "#confirm").await.click().await.unwrap();
    button(&c, "Submit Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/receipt").await;
    found.extend(look(&c, "/exam/1/receipt (receipt)").await);

    // Part Two: a vignette beside its answers; a third choice is refused with a message.
    go(&c, &base, "/candidate").await;
    start(&c, 2).await;
    for i in 0..3 {
        css(&c, &format!("label[for='choose-{i}']"))
            .await
            .click()
            .await
            .unwrap();
    }
    let message = css(&c, "#choice-message").await.text().await.unwrap();
    assert!(
        message.starts_with("You may answer only 2 vignettes"),
        "{message}"
    );
    assert!(!css(&c, "#choose-2").await.is_selected().await.unwrap());
    assert!(
        !css(&c, "#not-chosen").await.is_displayed().await.unwrap(),
        "the vignette shown is chosen now: no notice that it is not"
    );
    found.extend(look(&c, "/exam/2/vignettes (Part Two, a third choice refused)").await);
    // Side by side on a wide screen: the vignette's column is left of the answers'.
    let side = eval(
        &c,
        "const v = document.querySelector('.vignette-pair .vignette').getBoundingClientRect(); \
         const a = document.querySelector('.vignette-pair .answers').getBoundingClientRect(); \
         return v.right <= a.left && Math.abs(v.top - a.top) < 5",
    )
    .await;
    assert_eq!(
        side,
        json!(true),
        "the vignette beside its answers at 1280 px"
    );
    button(&c, "Read vignette 2").await.click().await.unwrap();
    wait_for_path(&c, "/exam/2/vignettes").await;
    // The path does not change: read the title in one script call until the new page holds it
    // (an element found on the old page goes stale as the new one loads).
    let wait = Wait::new("vignette 2's page");
    loop {
        let title = c
            .execute(
                "return document.readyState === 'complete' \
                 ? (document.querySelector('#v-title')?.textContent || '') : ''",
                vec![],
            )
            .await
            .unwrap_or(Value::Null);
        if title
            .as_str()
            .is_some_and(|t| t.starts_with("Vignette 2: "))
        {
            break;
        }
        wait.tick(title).await;
    }
    go(&c, &base, "/exam/2/review").await;
    found.extend(look(&c, "/exam/2/review (Part Two review)").await);
    let _ = (driver, sitting);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_candidate_page_is_looked_at() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, driver| every_page(c, driver, app.base.clone(), app.db.clone())).await;
}

// ----- the score report and its print -------------------------------------------------------

async fn score_report(c: Client, driver: String, base: String, db: Db, reg_id: i64) -> Vec<String> {
    let mut found = Vec::new();
    // The demo's candidates' codes are not kept: give this one a known code.
    let code = "REPORT-CODE-0001";
    let mut tx = db.write().await.unwrap();
    sqlx::query(
        "UPDATE access_codes SET code_hash = $1
         WHERE id = (SELECT access_code_id FROM registrations WHERE id = $2)",
    )
    .bind(imh_exam::auth::sha256_hex(
        &imh_exam::auth::normalise_access_code(code),
    ))
    .bind(reg_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    enter(&c, &base, code).await;
    let main = css(&c, "main").await.text().await.unwrap();
    assert!(main.contains("Your results"), "{main}");
    assert!(main.contains("The pass mark is"), "{main}");
    assert!(!main.contains("Each part is started"), "{main}");
    found.extend(look(&c, "/candidate (score report)").await);
    let printed = print_shot(&c, &driver, "score report", "main").await;
    println!("printed:\n{printed}");
    assert!(printed.contains("Your results"), "{printed}");
    assert!(printed.contains("The pass mark is"), "{printed}");
    assert!(printed.contains("By competency domain"), "{printed}");
    for absent in [
        "Save my answers",
        "Optional: about you",
        "Sign out",
        "Your receipts",
    ] {
        assert!(!printed.contains(absent), "{absent:?} printed: {printed}");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_score_report_is_looked_at_and_prints_cleanly() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let mut raters = Vec::new();
    for (i, severity) in [0.0, 0.3, -0.3, 0.1].into_iter().enumerate() {
        let username = Username::parse(&format!("rater{i}")).unwrap();
        let id = add_user(
            &app.db,
            NewUser {
                username: &username,
                display_name: "A rater",
                role: Role::Rater,
                organisation: &format!("Organisation {i}"),
                password: "a long rater password",
                added_by: "test",
            },
        )
        .await
        .unwrap();
        raters.push((id, severity));
    }
    let sitting = imh_exam::demo::completed_sitting(&app.db, 12, &raters)
        .await
        .unwrap();
    let reg_id = sittings::registrations(&app.db, sitting).await.unwrap()[0].id;
    in_browser(|c, driver| score_report(c, driver, app.base.clone(), app.db.clone(), reg_id)).await;
}
