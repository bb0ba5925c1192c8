//! The rater scores by keyboard alone.

use super::*;

// ----- the rater ---------------------------------------------------------------------------------

/// A sitting whose one candidate has submitted Part Two (two vignettes answered), a rater who
/// holds both responses, and that rater's username.
async fn responses_to_rate(db: &Db) -> (i64, String) {
    let now = now_ms();
    let bps = blueprints(db).await.unwrap();
    let sitting = open_sitting(db, "Rating window").await;
    let (reg_id, _) = sittings::register(
        db,
        &sitting,
        &NewRegistration {
            name: "Bo Lind".into(),
            email: "bo@example.org".into(),
            organisation: "Hillview".into(),
            level: Level::III,
            parts: Parts {
                one: false,
                two: true,
            },
            multiplier: Multiplier::parse("1").unwrap(),
            extra_breaks: 0,
            retake_override: None,
        },
        &bps,
        "proctor",
        false,
    )
    .await
    .unwrap();
    sittings::admit(db, reg_id, "proctor").await.unwrap();
    let reg = sittings::registration(db, reg_id).await.unwrap().unwrap();
    let bp = bps.iter().find(|b| b.id == "level-iii").unwrap();
    let pool = imh_exam::store::bank::pool(db).await.unwrap();
    let a = attempts::start_part(db, &sitting, &reg, bp, &pool, 2, now)
        .await
        .unwrap();
    let mut chosen: Vec<&str> = a.form.part_two[..2]
        .iter()
        .map(|v| v.vignette_id.as_str())
        .collect();
    chosen.sort();
    attempts::save(db, a.id, "@choice", &chosen.join(","), 1, now + 1000)
        .await
        .unwrap();
    let mut seq = 1;
    for v in &a.form.part_two[..2] {
        for (item, _) in &v.items {
            seq += 1;
            attempts::save(
                db,
                a.id,
                item,
                "I would start by wondering with the parent what the baby might be feeling.",
                seq,
                now + 2000,
            )
            .await
            .unwrap();
        }
    }
    attempts::submit(db, a.id, "candidate", now + 3000)
        .await
        .unwrap()
        .unwrap();
    let rater = add_user(
        db,
        NewUser {
            username: &Username::parse("rita").unwrap(),
            display_name: "Rita Rater",
            role: Role::Rater,
            organisation: "Eastfield",
            password: "a long rater password",
            added_by: "test",
        },
    )
    .await
    .unwrap();
    ratings::assign_sitting(db, sitting.id, &Default::default(), "committee")
        .await
        .unwrap();
    // Two vignettes of three questions: six responses, each vignette's on one page.
    assert_eq!(ratings::queue(db, rater).await.unwrap().len(), 6);
    (rater, "rita".into())
}

/// The rater logs in, opens the queue and scores both responses with the keyboard alone:
/// Tab, arrow keys, typing and Enter. Returns the serious and critical axe violations.
async fn rate_by_keyboard(c: Client, base: String, db: Db, rater: i64) -> Vec<String> {
    let mut blocking = Vec::new();
    go(&c, &base, "/login").await;
    tab_to(&c, "el.id === 'username'", "the username field").await;
    keys(&c, "rita").await;
    keys(&c, &Key::Tab).await;
    keys(&c, "a long rater password").await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, "/").await;
    go(&c, &base, "/rate").await;
    blocking.extend(look(&c, "/rate (rater: queue)").await);
    tab_to(
        &c,
        "el.tagName === 'A' && el.textContent.includes('Score the next response')",
        "the next response link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    let queue = ratings::queue(&db, rater).await.unwrap();
    for (i, entry) in queue.iter().enumerate() {
        wait_for_path(&c, &format!("/rate/{}", entry.code)).await;
        if i == 0 {
            blocking.extend(look(&c, "/rate/{code} (rater: the desk)").await);
            // Submitting without a score: the error is shown in the form, next to the scores,
            // and the focus is on the score (not at the top of a reloaded page).
            tab_to(
                &c,
                "el.tagName === 'BUTTON' && el.value === 'submit'",
                "the submit button",
            )
            .await;
            keys(&c, &Key::Enter).await;
            let wait = Wait::new("the desk's error for a missing score");
            loop {
                let shown = c.execute(ERROR_PLACE, vec![]).await.unwrap_or(Value::Null);
                if shown.is_object() {
                    assert_eq!(
                        shown["inForm"], true,
                        "the error is inside the form: {shown}"
                    );
                    assert_eq!(
                        shown["focusOnScore"], true,
                        "the focus is on the score: {shown}"
                    );
                    assert_eq!(shown["inView"], true, "the error is in view: {shown}");
                    assert_eq!(
                        shown["describes"], true,
                        "the score group is described by the error: {shown}"
                    );
                    break;
                }
                wait.tick(shown).await;
            }
            blocking.extend(look(&c, "/rate/{code} (rater: the desk, a missing score)").await);
            // From the top of the page, the skip link takes the keyboard to the top of the
            // form, and from there the score is at most 3 Tabs away.
            go(&c, &base, &format!("/rate/{}", entry.code)).await;
            tab_to(
                &c,
                "el.classList.contains('skip-to-score')",
                "the skip-to-score link",
            )
            .await;
            keys(&c, &Key::Enter).await;
            let at_top = c
                .execute(
                    "return document.activeElement.id.startsWith('score-title-')",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                at_top, true,
                "the skip link focuses the top of the score form"
            );
            let tabs = tab_to(&c, "el.name === 'score'", "the score").await;
            assert!(
                tabs <= 3,
                "{tabs} Tabs from the top of the form to the score"
            );
        }
        // Into the score group, then two steps right: 0 → 1 → 2.
        tab_to(&c, "el.name === 'score'", "the score").await;
        keys(&c, &Key::Right).await;
        keys(&c, &Key::Right).await;
        let checked = c
            .execute(
                "return document.querySelector('input[name=score]:checked')?.value",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(checked, "2", "arrow keys choose the score");
        tab_to(&c, "el.name === 'feedback'", "the feedback").await;
        keys(&c, &format!("Keyboard feedback {i}.")).await;
        tab_to(&c, "el.name === 'note'", "the note").await;
        keys(&c, "Scored by keyboard.").await;
        tab_to(
            &c,
            "el.tagName === 'BUTTON' && el.value === 'submit'",
            "the submit button",
        )
        .await;
        keys(&c, &Key::Enter).await;
    }
    wait_for_path(&c, "/rate").await;
    let after = ratings::queue(&db, rater).await.unwrap();
    assert!(after
        .iter()
        .all(|e| e.state == ratings::ReadingState::Final));
    for (i, entry) in queue.iter().enumerate() {
        let d = ratings::desk(&db, rater, &entry.code)
            .await
            .unwrap()
            .unwrap();
        let mine = d.mine.unwrap();
        assert_eq!(mine.score, Some(2));
        assert_eq!(mine.feedback, format!("Keyboard feedback {i}."));
        assert!(mine.is_final);
    }
    blocking
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rater_scores_two_responses_by_keyboard_alone() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let (rater, _) = responses_to_rate(&app.db).await;
    in_browser(|c, _| rate_by_keyboard(c, app.base.clone(), app.db.clone(), rater)).await;
}

/// Where the desk's error is, once shown: inside the form, in view, describing the score group,
/// with the focus on a score; `null` until the error is on the page.
const ERROR_PLACE: &str = r#"
const err = document.querySelector('form.rate .field-error');
if (!err || document.readyState !== 'complete') return null;
const r = err.getBoundingClientRect();
const group = err.closest('fieldset');
const el = document.activeElement;
return {
  inForm: !!err.closest('form.rate'),
  inView: r.top >= 0 && r.bottom <= window.innerHeight,
  describes: !!group && (group.getAttribute('aria-describedby') || '').split(' ').includes(err.id),
  focusOnScore: !!el && el.name === 'score' && el.closest('form') === err.closest('form'),
};
"#;
