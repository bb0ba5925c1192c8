//! A candidate comments on a question by keyboard alone (the disclosure opened by Enter, the
//! text typed, saved by the page's script, the characters counted), offline too, and on a
//! vignette; the committee reads the comments on the key review and the item's statistics. Every
//! comment page is looked at (axe-core, a 390 px phone).

use super::*;

/// From the top of the page, by Tab and Enter alone: opens the comment disclosure and puts the
/// focus in its text box.
async fn open_comment_by_keyboard(c: &Client) -> usize {
    eval(
        c,
        "document.activeElement.blur(); window.scrollTo(0, 0); return 0",
    )
    .await;
    let tabs = tab_to(
        c,
        "el.matches('details.comment > summary')",
        "the comment disclosure",
    )
    .await;
    keys(c, &Key::Enter).await;
    wait_js(
        c,
        "document.querySelector('details.comment').open",
        json!(true),
        "the disclosure open",
    )
    .await;
    tabs + tab_to(
        c,
        "el.matches('details.comment textarea')",
        "the comment's text box",
    )
    .await
}

async fn comments_by_keyboard(
    c: Client,
    driver: String,
    base: String,
    db: Db,
    reg_id: i64,
    code: String,
) -> Vec<String> {
    let mut found = Vec::new();
    go(&c, &base, "/enter").await;
    css(&c, "#code").await.send_keys(&code).await.unwrap();
    submit(&c).await;
    wait_for_path(&c, "/candidate").await;
    button(&c, "Start Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/item/1").await;
    let a = attempts::attempts_of(&db, reg_id).await.unwrap().remove(0);
    let item = a.form.part_one[0].item_id.clone();
    let key = format!("@comment:{item}");

    // The comment, by keyboard alone: Tab to "Comment on this question", Enter, Tab, type.
    let tabs = open_comment_by_keyboard(&c).await;
    println!("the comment's text box reached in {tabs} Tabs");
    let first = "Options A and D both seem right.";
    keys(&c, first).await;
    wait_saved(&c, &db, a.id, &key, first).await;
    let count = eval(
        &c,
        &format!("return document.getElementById('cc-{key}').textContent"),
    )
    .await;
    assert_eq!(count, json!("32 of 1,000 characters"));
    // The text box is labelled and described by the help and the count.
    let described = eval(&c, "const t = document.getElementById('comment'); return [t.labels[0].textContent, t.getAttribute('aria-describedby')]").await;
    assert_eq!(
        described,
        json!([
            "Your comment on question 1",
            format!("help-comment cc-{key}")
        ])
    );
    found.extend(look(&c, "/exam/1/item/1 (a comment, by keyboard)").await);

    // Offline, the edit waits in the browser and goes when the network returns.
    set_offline(&c, &driver, true).await;
    let more = " The stem's \"at this point\" is unclear.";
    keys(&c, more).await;
    let wait = Wait::new("the page to say it is offline");
    loop {
        let status = css(&c, "#save-status").await.text().await.unwrap();
        if status.contains("You are offline") {
            break;
        }
        wait.tick(status).await;
    }
    assert_eq!(
        attempts::answers(&db, a.id).await.unwrap()[&key],
        first,
        "nothing sent while offline"
    );
    set_offline(&c, &driver, false).await;
    let both = format!("{first}{more}");
    wait_saved(&c, &db, a.id, &key, &both).await;

    // After a reload the comment is there, its disclosure open, as the server renders it.
    go(&c, &base, "/exam/1/item/1").await;
    let after = eval(&c, "return [document.querySelector('details.comment').open, document.getElementById('comment').value]").await;
    assert_eq!(after, json!([true, both]));

    // Part One submitted; a comment on a vignette the same way.
    go(&c, &base, "/exam/1/review").await;
    css(&c, "#confirm").await.click().await.unwrap();
    button(&c, "Submit Part One").await.click().await.unwrap();
    wait_for_path(&c, "/exam/1/receipt").await;
    go(&c, &base, "/candidate").await;
    button(&c, "Start Part Two").await.click().await.unwrap();
    wait_for_path(&c, "/exam/2/vignettes").await;
    let two = attempts::attempts_of(&db, reg_id)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.part == 2)
        .unwrap();
    let vignette = two.form.part_two[0].vignette_id.clone();
    open_comment_by_keyboard(&c).await;
    let on_vignette = "The baby's age differs between paragraphs one and three.";
    keys(&c, on_vignette).await;
    wait_saved(
        &c,
        &db,
        two.id,
        &format!("@comment:{vignette}"),
        on_vignette,
    )
    .await;
    found.extend(look(&c, "/exam/2/vignettes (a comment on a vignette)").await);

    // The committee reads them: on the key review, with the item's form to cite them, and on
    // the item's statistics page.
    let sitting = sittings::registration(&db, reg_id)
        .await
        .unwrap()
        .unwrap()
        .sitting_id;
    staff_signs_in(&c, &base, &db, "cora", Role::Committee).await;
    c.goto(&format!("{base}/keys?sitting={sitting}"))
        .await
        .unwrap();
    wait_for_path(&c, "/keys").await;
    let main = css(&c, "main").await.text().await.unwrap();
    assert!(main.contains(&both) && main.contains(on_vignette), "{main}");
    assert!(!main.contains("Ana Ruiz"), "never who wrote it");
    found.extend(look(&c, "/keys?sitting (candidates' comments)").await);
    c.goto(&format!("{base}/keys?sitting={sitting}&item={item}#change"))
        .await
        .unwrap();
    wait_for_path(&c, "/keys").await;
    assert_eq!(
        eval(
            &c,
            "return document.querySelectorAll('input[name=cite]').length"
        )
        .await,
        json!(1)
    );
    found.extend(look(&c, "/keys?sitting&item (citing comments)").await);
    go(&c, &base, &format!("/stats/{sitting}/items/{item}")).await;
    let main = css(&c, "main").await.text().await.unwrap();
    assert!(
        main.contains("Candidates' comments in this sitting (1)"),
        "{main}"
    );
    found.extend(look(&c, "/stats/{id}/items/{item} (with comments)").await);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_comments_on_a_question_by_keyboard_alone() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let (reg_id, code) = admitted_candidate(&app.db).await;
    in_browser(|c, driver| {
        comments_by_keyboard(c, driver, app.base.clone(), app.db.clone(), reg_id, code)
    })
    .await;
}
