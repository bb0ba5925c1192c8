//! Candidates' comments on items, on both engines: saved like an answer (the page's script, its
//! replayed queue, the plain form), refused with a reason when too long or not on the form, kept
//! on the hash chain that `audit verify` checks, through a kill -9; the committee reads them on
//! the key review and the item's statistics page (escaped, never who wrote them), downloads them
//! (audited) and cites them in a key change (stored and audited).

use std::sync::{Arc, Mutex};

use imh_exam::exam::comment;
use imh_exam::store::{attempts, comments};

use crate::helpers::exam::OpenSitting;
use crate::helpers::server::Server;
use crate::helpers::{between, count, spawn_app, test_db, Browser, Engine};
use crate::on_both_engines;

/// The status and JSON body of a save.
async fn sent(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn a_comment_is_saved_like_an_answer_and_reaches_the_key_review(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let s = OpenSitting::new(db).await;
    let seat = s.start_part_one(db, "ana@x.org").await;
    let a = &seat.attempt;
    let cand = app.browser();
    let token = cand.enter_as_candidate(&seat.code).await;
    let first = a.form.part_one[0].clone();
    let second = a.form.part_one[1].item_id.clone();
    let key = comment::key(&first.item_id);

    // The answer to question 1 (shown option 1), then a comment on it, as the script sends them.
    let (status, _) = sent(cand.save(&token, 1, &first.item_id, "1", 10).await).await;
    assert_eq!(status, 200);
    let chose = ((b'A' + first.option_order[1]) as char).to_string();
    let (status, body) = sent(
        cand.save(&token, 1, &key, "Options A and D both seem right.", 11)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["stored"].clone(),
            body["current"].clone(),
            body["paused"].clone()
        ),
        (true.into(), true.into(), false.into())
    );
    // The browser's queue replayed after a lost connection: the same save is stored once.
    let (status, body) = sent(
        cand.save(&token, 1, &key, "Options A and D both seem right.", 11)
            .await,
    )
    .await;
    assert_eq!((status, body["stored"].clone()), (200, false.into()));
    let sql = format!("SELECT COUNT(*) FROM response_events WHERE item_id = '{key}'");
    assert_eq!(count(db, &sql).await, 1);

    // Refused, with what is wrong, and the comment saved before kept.
    let (status, body) = sent(cand.save(&token, 1, &key, &"x".repeat(1_001), 12).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "A comment may hold at most 1,000 characters; this one has 1,001. It was not saved; the comment saved before is kept."
    );
    let (status, body) = sent(cand.save(&token, 1, &key, "bell\u{7}", 12).await).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("control character"),
        "{body}"
    );
    let (status, body) = sent(
        cand.save(&token, 1, "@comment:NOPE-0001", "hello", 12)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "NOPE-0001 is not a Part One question of your form; a comment is on one of them."
    );
    assert_eq!(
        attempts::answers(db, a.id).await.unwrap()[&key],
        "Options A and D both seem right."
    );

    // A newer comment replaces it for display; an older one arriving late is only logged.
    let newest =
        "Second thought: <script>alert(1)</script> the stem's \"at this point\" is unclear.";
    let (_, body) = sent(cand.save(&token, 1, &key, newest, 14).await).await;
    assert_eq!(body["current"], true);
    let (_, body) = sent(cand.save(&token, 1, &key, "stale draft", 13).await).await;
    assert_eq!(
        (body["stored"].clone(), body["current"].clone()),
        (true.into(), false.into())
    );
    assert_eq!(attempts::answers(db, a.id).await.unwrap()[&key], newest);

    // The question's page shows it back, escaped, in its open disclosure.
    let page = cand.get_text("/exam/1/item/1").await;
    assert!(page.contains("<details class=\"comment\" open>"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "never rendered as HTML");
    assert!(
        page.contains("<label for=\"comment\">Your comment on question 1</label>"),
        "{page}"
    );

    // Without the script: the question's own form carries the comment (CR LF as a browser
    // sends a text box's line breaks, stored as LF).
    let page = cand.get_text("/exam/1/item/2").await;
    assert!(
        page.contains("<details class=\"comment\">"),
        "closed while empty: {page}"
    );
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let res = cand
        .post_form(
            "/exam/1/item/2",
            "/exam/1/item/2",
            &[
                ("seq", &seq),
                ("comment", "=1+1 A typo in option C:\r\n\"teh\"."),
                ("go", "next"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let second_key = comment::key(&second);
    assert_eq!(
        attempts::answers(db, a.id).await.unwrap()[&second_key],
        "=1+1 A typo in option C:\n\"teh\"."
    );
    // A form whose comment is refused saves nothing at all, not even its answer.
    let page = cand.get_text("/exam/1/item/3").await;
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let res = cand
        .post_form(
            "/exam/1/item/3",
            "/exam/1/item/3",
            &[
                ("seq", &seq),
                ("choice", "0"),
                ("comment", &"y".repeat(1_500)),
                ("go", "next"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("at most 1,000 characters; this one has 1,500"));
    let third = &a.form.part_one[2].item_id;
    assert!(!attempts::answers(db, a.id)
        .await
        .unwrap()
        .contains_key(third));

    // Part One submitted; Part Two: a comment on a vignette by the form and by the script.
    let res = cand
        .post_form("/exam/1/review", "/exam/1/submit", &[("confirm", "yes")])
        .await;
    assert_eq!(res.status(), 303);
    let res = cand.post_form("/candidate", "/exam/2/start", &[]).await;
    assert_eq!(res.status(), 303);
    let two = attempts::attempts_of(db, seat.reg.id)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.part == 2)
        .unwrap();
    let v0 = two.form.part_two[0].vignette_id.clone();
    let v1 = two.form.part_two[1].vignette_id.clone();
    let page = cand.get_text("/exam/2/vignettes?v=1").await;
    assert!(
        page.contains(&format!(
            "<label for=\"c:{v0}\">Your comment on vignette 1</label>"
        )),
        "{page}"
    );
    let seq = between(&page, "name=\"seq\" value=\"", "\"").to_string();
    let res = cand
        .post_form(
            "/exam/2/vignettes?v=1",
            "/exam/2/vignettes",
            &[
                ("seq", &seq),
                ("shown", "1"),
                (
                    &format!("c:{v0}"),
                    "The baby's age differs between paragraphs one and three.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, _) = sent(
        cand.save(
            &token,
            2,
            &comment::key(&v1),
            "Which visit is the second one?",
            1,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    // A vignette's question, or a Part One item, is not a vignette.
    let q = &two.form.part_two[0].items[0].0;
    let (status, _) = sent(cand.save(&token, 2, &comment::key(q), "x", 2).await).await;
    assert_eq!(status, 422);
    let answers = attempts::answers(db, two.id).await.unwrap();
    assert_eq!(
        answers[&comment::key(&v0)],
        "The baby's age differs between paragraphs one and three."
    );

    // Every comment is on its attempt's chain, which holds.
    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!((checked, breaks.len()), (2, 0), "{breaks:?}");

    // The committee's key review lists the sitting's comments beside the item's figures:
    // the newest per candidate and question, escaped, what they chose, never who wrote them.
    let committee = app.as_role(imh_exam::auth::Role::Committee).await;
    let sid = s.sitting.id;
    let review = committee.get_text(&format!("/keys?sitting={sid}")).await;
    assert!(
        review.contains("4 comment(s) on 4 question(s) and vignette(s)"),
        "{review}"
    );
    assert!(
        review.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{review}"
    );
    assert!(!review.contains("<script>alert(1)"));
    assert!(
        !review.contains("stale draft") && !review.contains("both seem right"),
        "only the newest"
    );
    assert!(review.contains(&format!("Chose {chose}")), "{review}");
    assert!(review.contains("Which visit is the second one?"));
    for who in [
        seat.reg.name.as_str(),
        seat.reg.email.as_str(),
        seat.code.as_str(),
    ] {
        assert!(!review.contains(who), "the key review shows {who}");
    }
    // ... and the item's statistics page the comments on it.
    let stats = committee
        .get_text(&format!("/stats/{sid}/items/{}", first.item_id))
        .await;
    assert!(
        stats.contains("Candidates' comments in this sitting (1)"),
        "{stats}"
    );
    assert!(stats.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    // A key change cites comments: they are offered on the item's form, stored, audited and
    // listed with the decision.
    let form = committee
        .get_text(&format!("/keys?sitting={sid}&item={}", first.item_id))
        .await;
    let shown = comments::of_sitting(db, sid).await.unwrap();
    let on_first = shown.iter().find(|c| c.target == first.item_id).unwrap();
    let on_second = shown.iter().find(|c| c.target == second).unwrap();
    assert!(
        form.contains(&format!("value=\"{}\"", on_first.cite_id())),
        "{form}"
    );
    assert!(
        !form.contains(&format!("value=\"{}\"", on_second.cite_id())),
        "only the item's own"
    );
    let version = first.version.to_string();
    let sitting = sid.to_string();
    let change = |cite: String| {
        let (committee, item, version, sitting) = (
            committee.clone(),
            first.item_id.clone(),
            version.clone(),
            sitting.clone(),
        );
        async move {
            committee
                .post_form(
                    "/keys",
                    "/keys",
                    &[
                        ("item", item.as_str()),
                        ("version", version.as_str()),
                        ("rule", "dropped"),
                        ("reason", "Two defensible answers, as candidates said."),
                        ("sitting", sitting.as_str()),
                        ("cite", cite.as_str()),
                    ],
                )
                .await
        }
    };
    let res = change(on_second.cite_id()).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Comments cited: &quot;{}&quot; is not a comment on {} in the sitting listed.",
            on_second.cite_id(),
            first.item_id
        )),
        "{page}"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM key_changes").await,
        0,
        "nothing applied"
    );
    let res = change(on_first.cite_id()).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("The decision cites 1 candidate comment(s)."),
        "{page}"
    );
    assert!(
        page.contains("<q class=\"comment-text\">Second thought: &lt;script&gt;"),
        "{page}"
    );
    let stored: Vec<(i64, i64)> = sqlx::query_as("SELECT attempt_id, n FROM key_change_citations")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![(on_first.attempt_id, on_first.n)]);
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'key-change' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        detail.contains(&format!(
            "citing 1 candidate comment(s): {}",
            on_first.cite_id()
        )),
        "{detail}"
    );

    // The sitting's comments as CSV (a formula-like comment made harmless); the download is
    // audited.
    let res = committee.get(&format!("/scoring/{sid}/comments.csv")).await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("comment,part,on,chose,at_utc,text\n"),
        "{csv}"
    );
    assert_eq!(csv.matches(" UTC,").count(), 4, "{csv}");
    assert!(csv.contains("'=1+1 A typo"), "{csv}");
    assert!(!csv.contains(&seat.reg.name));
    let exported = count(
        db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'comments.export'",
    )
    .await;
    assert_eq!(exported, 1);

    // A comment changed in the database breaks its chain, and `audit verify` names where.
    sqlx::query("UPDATE response_events SET answer = 'edited' WHERE item_id = $1 AND seq = 14")
        .bind(&key)
        .execute(&db.writer)
        .await
        .unwrap();
    let (_, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].0, a.id);
}

/// The script's saves of comments, acknowledged, survive the server killed in their midst.
async fn acknowledged_comments_survive_a_kill(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let mut server = Server::start(&t.url).await;
    let mut people = Vec::new();
    for i in 0..4 {
        let seat = s.start_part_one(db, &format!("kc{i}@x.org")).await;
        let cand = Browser::for_server(&server.base);
        let token = cand.enter_as_candidate(&seat.code).await;
        people.push((seat.attempt, cand, token));
    }
    // Each acknowledged comment: (attempt, seq, item, text).
    type Ack = (i64, u64, String, String);
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (a, cand, token) in people.clone() {
        let acks = acks.clone();
        tasks.push(tokio::spawn(async move {
            for seq in 1..=10_000u64 {
                let item = a.form.part_one[seq as usize % 5].item_id.clone();
                let text = format!("Comment {seq}: option B of {item} reads oddly.");
                match cand
                    .try_save(&token, 1, &comment::key(&item), &text, seq)
                    .await
                {
                    Ok(r) if r.status() == 200 => {
                        acks.lock().unwrap().push((a.id, seq, item, text))
                    }
                    _ => break,
                }
            }
        }));
    }
    let acks = server.kill_mid_stream(tasks, &acks, 200).await;
    assert!(
        acks.len() > 20,
        "too few comments before the kill: {}",
        acks.len()
    );

    let _server = Server::start(&t.url).await;
    let mut lost = Vec::new();
    for (attempt, seq, item, text) in &acks {
        let stored: Option<(String, String)> = sqlx::query_as(
            "SELECT item_id, answer FROM response_events WHERE attempt_id = $1 AND seq = $2",
        )
        .bind(attempt)
        .bind(i64::try_from(*seq).unwrap())
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if stored != Some((comment::key(item), text.clone())) {
            lost.push((attempt, seq));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} lost: {lost:?}",
        lost.len(),
        acks.len()
    );
    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!((checked, breaks.len()), (4, 0), "{breaks:?}");
    // The committee reads, per candidate and question, the newest comment acknowledged (or one
    // stored after it whose answer the kill cut off).
    let shown = comments::of_sitting(db, s.sitting.id).await.unwrap();
    for (attempt, seq, item, _) in &acks {
        let c = shown
            .iter()
            .find(|c| c.attempt_id == *attempt && &c.target == item)
            .expect("a comment shown");
        let shown_seq: u64 = c.text["Comment ".len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(shown_seq >= *seq, "{c:?} older than acknowledged {seq}");
    }
}

on_both_engines!(
    a_comment_is_saved_like_an_answer_and_reaches_the_key_review,
    acknowledged_comments_survive_a_kill,
);
