//! The candidate takes the exam; the proctor opens the console.

use super::*;

// ----- the flow ----------------------------------------------------------------------------------

/// Takes the exam in the browser; returns the serious and critical axe violations found on the
/// way, so the flow finishes before they are reported.
async fn take_the_exam(
    c: Client,
    driver: String,
    base: String,
    db: Db,
    reg_id: i64,
    code: String,
) -> Vec<String> {
    let mut blocking = Vec::new();

    // Entering with the access code, typed as a person would (lower case is fine).
    go(&c, &base, "/enter").await;
    css(&c, "#code")
        .await
        .send_keys(&code.to_lowercase())
        .await
        .unwrap();
    submit(&c).await;
    wait_for_path(&c, "/candidate").await;
    blocking.extend(look(&c, "/candidate (candidate home)").await);

    // Part One, question 1: choose an option by its label, then flag it; the script saves both.
    button(&c, "Start Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/item/1").await;
    let a = attempts::attempts_of(&db, reg_id).await.unwrap().remove(0);
    assert_eq!(a.part, 1);
    let canonical = |pos: usize, shown: usize| {
        let e = &a.form.part_one[pos];
        (
            e.item_id.clone(),
            ((b'A' + e.option_order[shown]) as char).to_string(),
        )
    };
    let (first, first_answer) = canonical(0, 1);
    css(&c, "label[for='opt-1']").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &first, &first_answer).await;
    css(&c, "#flag").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &format!("@flag:{first}"), "1").await;
    blocking.extend(look(&c, "/exam/1/item/1 (Part One question)").await);

    // Question 2, reached through the form's own button.
    button(&c, "Save and go to the next question")
        .await
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/exam/1/item/2").await;
    let (second, second_answer) = canonical(1, 3);
    css(&c, "label[for='opt-3']").await.click().await.unwrap();
    wait_saved(&c, &db, a.id, &second, &second_answer).await;

    // A reload mid-exam shows both answers and the flag, as the server now renders them.
    go(&c, &base, "/exam/1/item/2").await;
    assert_eq!(
        checked(&c, "opt-3").await,
        (true, true),
        "question 2's answer after a reload"
    );
    go(&c, &base, "/exam/1/item/1").await;
    assert_eq!(
        checked(&c, "opt-1").await,
        (true, true),
        "question 1's answer"
    );
    assert_eq!(checked(&c, "flag").await, (true, true), "question 1's flag");

    // The network drops: a changed answer waits in the browser, the page says so plainly, and
    // the server still has the old answer; when the network returns, the edit is sent.
    set_offline(&c, &driver, true).await;
    let (_, changed_answer) = canonical(0, 2);
    css(&c, "label[for='opt-2']").await.click().await.unwrap();
    let wait = Wait::new("the page to say it is offline");
    loop {
        let status = css(&c, "#save-status").await.text().await.unwrap();
        if status.contains("You are offline") {
            break;
        }
        wait.tick(status).await;
    }
    let queued = c
        .execute(
            "return JSON.parse(localStorage.getItem(arguments[0]))",
            vec![json!(format!("imh-exam-queue-{}", a.id))],
        )
        .await
        .unwrap();
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{queued}");
    assert_eq!(
        attempts::answers(&db, a.id).await.unwrap()[&first],
        first_answer,
        "nothing reached the server while offline"
    );
    set_offline(&c, &driver, false).await;
    wait_saved(&c, &db, a.id, &first, &changed_answer).await;

    // Review, confirm, submit; the receipt is the fingerprint of the stored chain.
    go(&c, &base, "/exam/1/review").await;
    let review = css(&c, "main").await.text().await.unwrap();
    assert!(
        review.contains(&format!(
            "2 of {} questions answered",
            a.form.part_one.len()
        )),
        "{review}"
    );
    blocking.extend(look(&c, "/exam/1/review (Part One review)").await);
    let confirm = css(&c, "#confirm").await;
    confirm.click().await.unwrap();
    assert!(confirm.is_selected().await.unwrap(), "the box is ticked");
    button(&c, "Submit Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/receipt").await;
    let shown = css(&c, "#receipt").await.text().await.unwrap();
    let stored = attempts::attempt(&db, a.id).await.unwrap().unwrap();
    assert!(stored.submitted_at.is_some(), "Part One is submitted");
    assert_eq!(shown, receipt(&stored.chain_head), "the receipt code");
    println!("Part One submitted; receipt {shown}");

    // Part Two starts only now, from the candidate's home page.
    go(&c, &base, "/candidate").await;
    button(&c, "Start Part Two").await.click().await.unwrap();
    wait_for_path(&c, "/exam/2/vignettes").await;
    blocking.extend(look(&c, "/exam/2/vignettes (Part Two vignettes)").await);
    // Typing saves the text; the character count, a polite live region, follows once typing
    // pauses, counting as the server does (é is one character).
    let area = css(&c, "textarea").await;
    let item = area.attr("data-item").await.unwrap().unwrap();
    assert_eq!(
        area.attr("maxlength").await.unwrap().as_deref(),
        Some("6000")
    );
    area.send_keys("Hello é").await.unwrap();
    let two = attempts::attempts_of(&db, reg_id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.part == 2)
        .unwrap();
    wait_saved(&c, &db, two.id, &item, "Hello é").await;
    let count = css(&c, &format!("#cc-{item}")).await.text().await.unwrap();
    assert_eq!(count, "7 of 6,000 characters");

    // The proctor's side of the same sitting: the list of sittings and the live console.
    let sitting_id = sittings::registration(&db, reg_id)
        .await
        .unwrap()
        .unwrap()
        .sitting_id;
    blocking.extend(proctor_console(&c, &base, &db, sitting_id).await);
    blocking
}

/// A proctor logs in and opens the sitting's console, which shows the candidate; axe checks the
/// staff pages the proctor works in.
async fn proctor_console(c: &Client, base: &str, db: &Db, sitting_id: i64) -> Vec<String> {
    staff_signs_in(c, base, db, "pat", Role::Proctor).await;
    let mut blocking = Vec::new();
    go(c, base, "/sittings").await;
    blocking.extend(look(c, "/sittings (proctor: sittings)").await);
    go(c, base, &format!("/sittings/{sitting_id}")).await;
    let console = css(c, "main").await.text().await.unwrap();
    assert!(console.contains("Ana Ruiz"), "{console}");
    blocking.extend(look(c, "/sittings/{id} (proctor console)").await);
    blocking
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_takes_the_exam_in_headless_chromium() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let (reg_id, code) = admitted_candidate(&app.db).await;

    in_browser(|c, driver| {
        take_the_exam(c, driver, app.base.clone(), app.db.clone(), reg_id, code)
    })
    .await;
}
