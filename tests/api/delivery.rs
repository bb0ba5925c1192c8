//! Exam delivery below the web layer, on both engines: sittings, registration, entry with the
//! code, admission, starting a part, saves into the hash chain, the clock, submission.

use imh_exam::bank::Level;
use imh_exam::exam::clock::GRACE_MS;
use imh_exam::exam::form::Parts;
use imh_exam::store::attempts::{self, ClockAction, ClockChange, SaveError, StartError};
use imh_exam::store::sittings::{self, Entry, RegisterError};

use crate::helpers::exam::{OpenSitting, Seat};
use crate::helpers::{test_db, Engine};
use crate::on_both_engines;

// The fixtures that lived here, for abuse.rs, which imports them from here still.
pub use crate::helpers::exam::{admitted, candidate, import_sample, open_sitting};

const HOUR: i64 = 60 * 60 * 1000;
const MIN: i64 = 60 * 1000;

async fn the_whole_flow_below_the_web(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let OpenSitting {
        sitting,
        bps,
        pool,
        now,
    } = OpenSitting::new(db).await;

    let (reg_id, code) = sittings::register(
        db,
        &sitting,
        &candidate("ana@x.org", Level::III, Parts::BOTH, "1.5"),
        &bps,
        "proctor",
        false,
    )
    .await
    .unwrap();
    let reg = sittings::registration(db, reg_id).await.unwrap().unwrap();
    assert_eq!(reg.blueprint_id, "level-iii");

    // Entering: a browser opens, comes back, a second browser is refused until released.
    let Entry::Opened(token) = sittings::enter(db, &code.to_lowercase(), None)
        .await
        .unwrap()
    else {
        panic!("opened")
    };
    assert_eq!(
        sittings::enter(db, &code, Some(&token)).await.unwrap(),
        Entry::Continue
    );
    assert_eq!(
        sittings::enter(db, &code, None).await.unwrap(),
        Entry::InUse
    );
    let incidents = sittings::events(db, sitting.id).await.unwrap();
    assert_eq!(incidents[0].kind, "second-login");
    assert!(incidents[0].resolved_at.is_none());
    sittings::release_browser(db, reg_id, "proctor")
        .await
        .unwrap();
    // The second login is resolved, and the move is logged with it (one transaction).
    let events = sittings::events(db, sitting.id).await.unwrap();
    let second = events.iter().find(|e| e.kind == "second-login").unwrap();
    assert!(second.resolved_at.is_some());
    assert!(events.iter().any(|e| e.kind == "moved-browser"));
    assert!(matches!(
        sittings::enter(db, &code, None).await.unwrap(),
        Entry::Opened(_)
    ));
    assert_eq!(
        sittings::enter(db, "AAAA-AAAA-AAAA", None).await.unwrap(),
        Entry::Unknown
    );

    // Not before admission.
    let bp = bps.iter().find(|b| b.id == reg.blueprint_id).unwrap();
    let err = attempts::start_part(db, &sitting, &reg, bp, &pool, 1, now)
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::NotAdmitted), "{err}");
    assert!(sittings::admit(db, reg_id, "proctor").await.unwrap());
    let reg = sittings::registration(db, reg_id).await.unwrap().unwrap();

    let a = attempts::start_part(db, &sitting, &reg, bp, &pool, 1, now)
        .await
        .unwrap();
    a.form
        .conforms_to(
            bp,
            &pool,
            Parts {
                one: true,
                two: false,
            },
        )
        .unwrap();
    assert_eq!(a.form.part_one.len(), 65);
    // 90 minutes x 1.5.
    assert_eq!(a.clock.deadline(now), Some(now + 135 * MIN));
    // Starting again returns the same attempt; Part Two waits until Part One is submitted.
    assert_eq!(
        attempts::start_part(db, &sitting, &reg, bp, &pool, 1, now + 1)
            .await
            .unwrap()
            .id,
        a.id
    );
    assert!(matches!(
        attempts::start_part(db, &sitting, &reg, bp, &pool, 2, now)
            .await
            .unwrap_err(),
        StartError::OtherPartRunning
    ));

    let item = a.form.part_one[0].item_id.clone();
    let s1 = attempts::save(db, a.id, &item, "B", 10, now + MIN)
        .await
        .unwrap();
    assert!(s1.stored && s1.current);
    let retry = attempts::save(db, a.id, &item, "B", 10, now + MIN + 5)
        .await
        .unwrap();
    assert!(!retry.stored);
    assert_eq!(retry.head, s1.head, "a retry writes nothing");
    let newer = attempts::save(db, a.id, &item, "C", 12, now + 2 * MIN)
        .await
        .unwrap();
    assert!(newer.current);
    let late = attempts::save(db, a.id, &item, "A", 11, now + 3 * MIN)
        .await
        .unwrap();
    assert!(
        late.stored && !late.current,
        "an older save is logged but does not win"
    );
    attempts::save(db, a.id, &format!("@flag:{item}"), "1", 13, now + 3 * MIN)
        .await
        .unwrap();
    let answers = attempts::answers(db, a.id).await.unwrap();
    assert_eq!(answers[&item], "C");
    assert_eq!(answers[&format!("@flag:{item}")], "1");
    assert_eq!(attempts::last_seq(db, a.id).await.unwrap(), 13);

    // Pause for 10 minutes and add 5: the deadline moves by exactly 15 minutes.
    attempts::change_clock(db, a.id, ClockAction::Pause, now + 20 * MIN)
        .await
        .unwrap();
    attempts::change_clock(db, a.id, ClockAction::Resume, now + 30 * MIN)
        .await
        .unwrap();
    let ClockChange::Done(clock) =
        attempts::change_clock(db, a.id, ClockAction::AddMinutes(5), now + 31 * MIN)
            .await
            .unwrap()
    else {
        panic!("the clock changes")
    };
    assert_eq!(clock.deadline(now + 31 * MIN), Some(now + 150 * MIN));

    let receipt = attempts::submit(db, a.id, "candidate", now + 40 * MIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        receipt,
        attempts::attempt(db, a.id)
            .await
            .unwrap()
            .unwrap()
            .chain_head
    );
    assert!(attempts::submit(db, a.id, "candidate", now + 41 * MIN)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        attempts::save(db, a.id, &item, "D", 20, now + 42 * MIN)
            .await
            .unwrap_err(),
        SaveError::Submitted
    ));
    assert_eq!(
        attempts::answers(db, a.id).await.unwrap()[&item],
        "C",
        "nothing saved is lost"
    );
    // The answers as submitted are kept on the attempt, the same as the log's; an attempt
    // submitted before they were kept has them derived from the log, the same again.
    let from_log = attempts::answers(db, a.id).await.unwrap();
    let kept = attempts::submitted_answers_in_sitting(db, sitting.id, 1)
        .await
        .unwrap();
    assert_eq!(kept.get(&a.id), Some(&from_log));
    let stored: Option<String> =
        sqlx::query_scalar("SELECT final_answers FROM attempts WHERE id = $1")
            .bind(a.id)
            .fetch_one(&db.writer)
            .await
            .unwrap();
    assert!(stored.is_some_and(|s| s.contains(&item)));
    sqlx::query("UPDATE attempts SET final_answers = NULL WHERE id = $1")
        .bind(a.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let derived = attempts::submitted_answers_in_sitting(db, sitting.id, 1)
        .await
        .unwrap();
    assert_eq!(derived.get(&a.id), Some(&from_log));

    // Part Two now; its form presents three clinical vignettes.
    let two = attempts::start_part(db, &sitting, &reg, bp, &pool, 2, now + 50 * MIN)
        .await
        .unwrap();
    assert_eq!(two.form.part_two.len(), 3);
    assert!(two.form.part_one.is_empty());

    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!((checked, breaks.len()), (2, 0), "{breaks:?}");
}

async fn saves_after_the_deadline_are_refused_and_the_server_submits(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let (sitting, pool, now) = (&s.sitting, &s.pool, s.now);
    let new = candidate("bo@x.org", Level::IvPolicy, Parts::BOTH, "1");
    let Seat {
        reg, attempt: a, ..
    } = s.start(db, &new, 1).await;
    let bp = s.blueprint("level-iv-policy");
    let item = a.form.part_one[3].item_id.clone();
    let deadline = now + 90 * MIN;

    attempts::save(db, a.id, &item, "A", 1, deadline - 1)
        .await
        .unwrap();
    // Inside the grace a save that was on its way still counts.
    attempts::save(db, a.id, &item, "B", 2, deadline + GRACE_MS - 1)
        .await
        .unwrap();
    let err = attempts::save(db, a.id, &item, "C", 3, deadline + GRACE_MS)
        .await
        .unwrap_err();
    assert!(matches!(err, SaveError::Deadline));
    assert_eq!(
        err.to_string(),
        "the time for this part is over; answers saved before the deadline are kept"
    );

    // No browser needed: the server submits when the time and the grace are over.
    assert!(attempts::submit_expired(db, deadline + GRACE_MS - 1)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        attempts::submit_expired(db, deadline + GRACE_MS)
            .await
            .unwrap(),
        vec![a.id]
    );
    let done = attempts::attempt(db, a.id).await.unwrap().unwrap();
    assert_eq!(done.submitted_by.as_deref(), Some("server"));
    assert_eq!(attempts::answers(db, a.id).await.unwrap()[&item], "B");
    // A paused attempt is never submitted by the clock.
    let two = attempts::start_part(db, sitting, &reg, bp, pool, 2, deadline + GRACE_MS)
        .await
        .unwrap();
    attempts::change_clock(db, two.id, ClockAction::Pause, deadline + GRACE_MS + 1)
        .await
        .unwrap();
    assert!(attempts::submit_expired(db, deadline + 100 * HOUR)
        .await
        .unwrap()
        .is_empty());
}

async fn a_retake_waits_unless_an_admin_overrides(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let first = OpenSitting::new(db).await;
    let (bps, pool, now) = (&first.bps, &first.pool, first.now);
    let new = candidate("cy@x.org", Level::IvClinical, Parts::BOTH, "1");
    let a = first.start(db, &new, 2).await.attempt;
    let bp = first.blueprint("level-iv-clinical");
    attempts::submit(db, a.id, "candidate", now).await.unwrap();

    let second = open_sitting(db, now + 30 * 24 * HOUR).await;
    let retake = candidate(
        "cy@x.org",
        Level::IvClinical,
        Parts {
            one: false,
            two: true,
        },
        "1",
    );
    match sittings::register(db, &second, &retake, bps, "p", false).await {
        Err(RegisterError::Field("parts", msg)) => {
            assert!(msg.contains("sat Part Two on"), "{msg}");
            assert!(
                msg.contains("the waiting period of 365 days ends on"),
                "{msg}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Part One was never sat: no wait for it.
    let one = candidate(
        "cy@x.org",
        Level::IvClinical,
        Parts {
            one: true,
            two: false,
        },
        "1",
    );
    sittings::register(db, &second, &one, bps, "p", false)
        .await
        .unwrap();

    let third = open_sitting(db, now + 31 * 24 * HOUR).await;
    let mut overridden = retake.clone();
    overridden.retake_override = Some("Part Two voided by an exam-day outage".into());
    assert!(matches!(
        sittings::register(db, &third, &overridden, bps, "proctor", false).await,
        Err(RegisterError::Field("retake_override", _))
    ));
    sittings::register(db, &third, &overridden, bps, "admin", true)
        .await
        .unwrap();
    let audit = imh_exam::store::audit::recent(db, 5).await.unwrap();
    assert_eq!(audit[0].action, "registration.retake_override");
    assert!(audit[0].detail.contains("exam-day outage"));

    // The retake's form avoids the vignettes the candidate saw the first time.
    let reg3 = sittings::registrations(db, third.id)
        .await
        .unwrap()
        .remove(0);
    sittings::admit(db, reg3.id, "p").await.unwrap();
    let reg3 = sittings::registration(db, reg3.id).await.unwrap().unwrap();
    let again = attempts::start_part(db, &third, &reg3, bp, pool, 2, now + 31 * 24 * HOUR)
        .await
        .unwrap();
    let before: Vec<&String> = a.form.part_two.iter().map(|p| &p.vignette_id).collect();
    assert!(
        again
            .form
            .part_two
            .iter()
            .all(|p| !before.contains(&&p.vignette_id)),
        "{before:?}"
    );
}

async fn audit_verify_names_a_tampered_chain(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let now = s.now;
    let a = s.start_part_one(db, "dee@x.org").await.attempt;
    for (i, e) in a.form.part_one.iter().take(5).enumerate() {
        attempts::save(db, a.id, &e.item_id, "A", i as u64 + 1, now + i as i64)
            .await
            .unwrap();
    }
    assert!(attempts::verify_chains(db).await.unwrap().1.is_empty());
    sqlx::query("UPDATE response_events SET answer = 'D' WHERE attempt_id = $1 AND n = 2")
        .bind(a.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let (_, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(
        breaks,
        vec![(
            a.id,
            "event 2: its content does not match its hash".to_string()
        )]
    );
}

/// Saves that arrive together are committed together (one batch): each chain still links every
/// save once, in arrival order; a retry in the same batch writes nothing; the newest sequence
/// number of each item wins, whatever order the saves arrived in.
async fn saves_arriving_together_keep_every_chain_whole(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let now = s.now;
    let mut forms = Vec::new();
    for email in ["p1@x.org", "p2@x.org", "p3@x.org"] {
        forms.push(s.start_part_one(db, email).await.attempt);
    }
    // Per attempt: sequence numbers 1..=40 over five items, three of them sent twice, all in a
    // scrambled order and all at once.
    let mut set = tokio::task::JoinSet::new();
    for a in &forms {
        let mut order: Vec<u64> = (1..=40).chain([3, 7, 20]).collect();
        order.sort_by_key(|s| (s * 7919 + a.id as u64) % 43);
        for seq in order {
            let db = db.clone();
            let (id, item) = (a.id, a.form.part_one[(seq % 5) as usize].item_id.clone());
            let answer = ["A", "B", "C", "D"][(seq % 4) as usize];
            set.spawn(async move {
                let saved = attempts::save(&db, id, &item, answer, seq, now + 1000)
                    .await
                    .unwrap();
                (id, seq, saved)
            });
        }
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.push(r.unwrap());
    }
    for a in &forms {
        let mine: Vec<_> = results.iter().filter(|(id, _, _)| *id == a.id).collect();
        assert_eq!(mine.len(), 43);
        assert_eq!(
            mine.iter().filter(|(_, _, s)| s.stored).count(),
            40,
            "each sequence number stored once"
        );
        for seq in [3, 7, 20] {
            assert_eq!(
                mine.iter()
                    .filter(|(_, s, saved)| *s == seq && !saved.stored)
                    .count(),
                1,
                "the second save of {seq} is a retry"
            );
        }
        // The highest sequence number of each item is its answer (36..=40 cover the five items).
        let answers = attempts::answers(db, a.id).await.unwrap();
        for seq in 36..=40u64 {
            let item = &a.form.part_one[(seq % 5) as usize].item_id;
            assert_eq!(answers[item], ["A", "B", "C", "D"][(seq % 4) as usize]);
            assert!(mine
                .iter()
                .any(|(_, s, saved)| *s == seq && saved.stored && saved.current));
        }
        assert_eq!(attempts::last_seq(db, a.id).await.unwrap(), 40);
    }
    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(checked, 3);
    assert!(breaks.is_empty(), "{breaks:?}");
}

on_both_engines!(
    saves_arriving_together_keep_every_chain_whole,
    the_whole_flow_below_the_web,
    saves_after_the_deadline_are_refused_and_the_server_submits,
    a_retake_waits_unless_an_admin_overrides,
    audit_verify_names_a_tampered_chain,
);
