//! Issue 14 below the pages: a study's creation (errors by field, its items and their scales,
//! its rounds), the role from the command line, and an older SQLite database admitting it.

use imh_exam::auth::Role;
use imh_exam::store::studies::{self, Method, NewStudy, RateError, Source};
use imh_exam::store::{audit, Db};

use crate::helpers::exam::import_sample;
use crate::helpers::{count, Engine};
use crate::on_both_engines;
async fn studies_are_created_with_their_items_and_scales(engine: Engine) {
    let t = crate::helpers::test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    crate::helpers::add_staff(db, "pan-one", Role::Panelist, "X").await;
    let new = |part: u8, method: Method, source: Source| NewStudy {
        name: "A study",
        blueprint_id: "level-iii",
        part,
        method,
        sitting_id: None,
        source,
        rounds_planned: 2,
    };
    // Errors name the form field at fault.
    for (bad, field) in [
        (
            NewStudy {
                name: " ",
                ..new(1, Method::Angoff, Source::Pool)
            },
            "name",
        ),
        (
            NewStudy {
                blueprint_id: "level-x",
                ..new(1, Method::Angoff, Source::Pool)
            },
            "blueprint",
        ),
        (new(2, Method::YesNo, Source::Questions), "method"),
        (new(1, Method::Angoff, Source::Form(1)), "sitting"),
        (new(2, Method::Angoff, Source::Pool), "source"),
        (
            NewStudy {
                rounds_planned: 0,
                ..new(1, Method::Angoff, Source::Pool)
            },
            "rounds",
        ),
        (
            NewStudy {
                sitting_id: Some(999),
                ..new(1, Method::Angoff, Source::Pool)
            },
            "sitting",
        ),
    ] {
        let e = studies::create(db, &bad, "chair").await.unwrap_err();
        assert_eq!(e.field(), field, "{e}");
    }
    // Part One: the blueprint's operational pool, each item worth 1, rated as probabilities.
    let one = studies::create(db, &new(1, Method::Angoff, Source::Pool), "chair")
        .await
        .unwrap();
    let items = studies::items(db, one).await.unwrap();
    let bp = imh_exam::store::bank::blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.id == "level-iii")
        .unwrap();
    let pool = imh_exam::store::bank::pool(db).await.unwrap();
    let operational: Vec<(String, u32)> = pool
        .operational(&bp)
        .iter()
        .map(|i| (i.id.clone(), i.version))
        .collect();
    assert_eq!(
        items
            .iter()
            .map(|i| (i.item_id.clone(), i.version))
            .collect::<Vec<_>>(),
        operational
    );
    assert!(items
        .iter()
        .enumerate()
        .all(|(k, i)| i.position == k as u32 + 1 && i.max_points == 1));
    assert!(matches!(items[0].body, imh_exam::bank::ItemBody::Mcq(_)));
    // Part Two: the questions, rated in whole points up to each question's top score.
    let two = studies::create(db, &new(2, Method::Angoff, Source::Questions), "chair")
        .await
        .unwrap();
    let questions = studies::items(db, two).await.unwrap();
    assert!(!questions.is_empty());
    let q = &questions[0];
    let imh_exam::bank::ItemBody::Open(open) = &q.body else {
        panic!("a Part Two study rates open questions: {q:?}")
    };
    assert_eq!(q.max_points, open.max_score);
    assert!(q.vignette.is_some());
    studies::add_panelist(db, two, "pan-one", "chair")
        .await
        .unwrap();
    studies::open_round(db, two, "chair").await.unwrap();
    let top = f64::from(open.max_score);
    assert_eq!(
        studies::rate(db, two, "pan-one", 1, top).await.unwrap(),
        top
    );
    assert!(matches!(
        studies::rate(db, two, "pan-one", 1, 1.5).await,
        Err(RateError::OffScale { .. })
    ));
    assert!(matches!(
        studies::rate(db, two, "pan-one", 1, top + 1.0).await,
        Err(RateError::OffScale { .. })
    ));
    // A yes/no study of Part One takes 0 or 1 only.
    let yesno = studies::create(db, &new(1, Method::YesNo, Source::Pool), "chair")
        .await
        .unwrap();
    studies::add_panelist(db, yesno, "pan-one", "chair")
        .await
        .unwrap();
    studies::open_round(db, yesno, "chair").await.unwrap();
    assert_eq!(
        studies::rate(db, yesno, "pan-one", 1, 1.0).await.unwrap(),
        1.0
    );
    assert!(studies::rate(db, yesno, "pan-one", 1, 0.5).await.is_err());
    // Rounds: only as planned, and a finished study takes nothing more.
    studies::close_round(db, yesno, "chair").await.unwrap();
    studies::open_round(db, yesno, "chair").await.unwrap();
    studies::close_round(db, yesno, "chair").await.unwrap();
    assert!(
        studies::open_round(db, yesno, "chair").await.is_err(),
        "two rounds were planned"
    );
    studies::finish(db, yesno, "chair").await.unwrap();
    assert!(studies::add_panelist(db, yesno, "pan-one", "chair")
        .await
        .is_err());
    let s = studies::study(db, yesno).await.unwrap().unwrap();
    assert_eq!(s.state(), "Finished");
    let log = audit::recent(db, 100).await.unwrap();
    for a in ["study.round_close", "study.finish"] {
        assert!(log.iter().any(|e| e.action == a), "{a}");
    }
}

async fn user_add_makes_a_panelist_from_the_command_line(engine: Engine) {
    use std::io::Write;
    let t = crate::helpers::test_db(engine).await;
    let mut child = crate::helpers::server::imh_exam()
        .args([
            "user",
            "add",
            "--username",
            "Expert.Two",
            "--name",
            "Dr Two",
            "--role",
            "panelist",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &t.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a strong passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said, "created expert.two (panelist)\n");
    let u = imh_exam::store::users::authenticate(&t.db, "expert.two", "a strong passphrase")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.role, Role::Panelist);
    // An unknown role is refused, naming the ones there are.
    let out = crate::helpers::server::imh_exam()
        .args([
            "user",
            "add",
            "--username",
            "x-y-z",
            "--name",
            "X",
            "--role",
            "expert",
        ])
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("committee or panelist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A SQLite database made before issue 14 keeps its accounts and everything that refers to
/// them when the users table is rebuilt to admit panelists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_sqlite_database_keeps_its_accounts_when_panelists_are_admitted() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("old.db").display());
    {
        let all = sqlx::migrate!("migrations/sqlite");
        let before: Vec<_> = all
            .migrations
            .iter()
            .filter(|m| m.version < 21)
            .cloned()
            .collect();
        let old = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(before),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        old.run(&mut conn).await.unwrap();
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at)
             VALUES (7, 'old-chair', 'Old Chair', 'committee', 'x', 1)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
             VALUES ('h', 7, 1, 9999999999999)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let refused = sqlx::query(
            "INSERT INTO users (username, display_name, role, password_hash, created_at)
             VALUES ('early', 'Early', 'panelist', 'x', 1)",
        )
        .execute(&mut conn)
        .await;
        assert!(refused.is_err(), "the old table refuses the role");
        conn.close().await.unwrap();
    }
    let db = Db::connect(&url).await.unwrap();
    let old = imh_exam::store::users::user_by_username(&db, "old-chair")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((old.id, old.role), (7, Role::Committee));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM sessions WHERE user_id = 7").await,
        1
    );
    let sessions: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'sessions'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(sessions.contains("REFERENCES users (id)"), "{sessions}");
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    crate::helpers::add_staff(&db, "new-expert", Role::Panelist, "X").await;
    // Foreign keys are on again: a session of nobody is refused.
    let mut tx = db.write().await.unwrap();
    let orphan = sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('o', 999, 1, 2)",
    )
    .execute(&mut *tx)
    .await;
    assert!(
        orphan.is_err(),
        "foreign keys are enforced after the rebuild"
    );
    drop(tx);
    // Opening it again changes nothing.
    db.close().await;
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM users").await, 2);
}

async fn a_study_of_one_candidates_form_rates_its_scored_items_in_order(engine: Engine) {
    let t = crate::helpers::test_db(engine).await;
    let db = &t.db;
    let open = crate::helpers::exam::OpenSitting::new(db).await;
    let seat = open.start_part_one(db, "form@example.org").await;
    let new = NewStudy {
        name: "One form",
        blueprint_id: "level-iii",
        part: 1,
        method: Method::Angoff,
        sitting_id: Some(open.sitting.id),
        source: Source::Form(seat.reg.id),
        rounds_planned: 2,
    };
    let id = studies::create(db, &new, "chair").await.unwrap();
    let items = studies::items(db, id).await.unwrap();
    let scored: Vec<(String, u32)> = seat
        .attempt
        .form
        .part_one
        .iter()
        .filter(|e| e.scored)
        .map(|e| (e.item_id.clone(), e.version))
        .collect();
    assert!(!scored.is_empty());
    assert_eq!(
        items
            .iter()
            .map(|i| (i.item_id.clone(), i.version))
            .collect::<Vec<_>>(),
        scored,
        "the form's scored items, pretest items left out, in the order shown"
    );
    let s = studies::study(db, id).await.unwrap().unwrap();
    assert_eq!(s.source, Source::Form(seat.reg.id));
    // Another blueprint's form, or a registration with no form, is refused by the items field.
    let e = studies::create(
        db,
        &NewStudy {
            blueprint_id: "level-iv-clinical",
            ..new.clone()
        },
        "chair",
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), "source", "{e}");
    let e = studies::create(
        db,
        &NewStudy {
            source: Source::Form(999_999),
            ..new.clone()
        },
        "chair",
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("registration 999999 has no Part One form"),
        "{e}"
    );
}

on_both_engines!(
    studies_are_created_with_their_items_and_scales,
    user_add_makes_a_panelist_from_the_command_line,
    a_study_of_one_candidates_form_rates_its_scored_items_in_order,
);
