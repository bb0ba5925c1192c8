//! The fixture most scoring tests start from: a sitting whose three candidates took and
//! submitted both parts (each leaving a comment on a question and a vignette), and the reads of
//! its responses and rater assignments.

use imh_exam::auth::Role;
use imh_exam::bank::{ItemBody, Level};
use imh_exam::exam::comment;
use imh_exam::exam::form::Parts;
use imh_exam::store::attempts;
use imh_exam::store::bank::item_version;
use imh_exam::store::ratings;
use imh_exam::store::sittings::{Registration, Sitting};
use imh_exam::store::Db;

use super::add_staff;
use super::exam::{candidate, OpenSitting, Seat};

pub struct Fixture {
    pub sitting: Sitting,
    /// Ana (Lakeside), Ben (Hillview), Cy (Riverside), in that order.
    pub regs: Vec<Registration>,
    /// rater1 (Lakeside), rater2 (Northgate, declared a conflict with Ben), rater3, rater4.
    pub raters: Vec<i64>,
    /// Part One answered right, per candidate.
    pub right: Vec<usize>,
    /// The candidates' access codes.
    pub codes: Vec<String>,
}

/// A sitting whose three candidates have taken and submitted both parts: Part One with a given
/// number of keyed answers (60, 40 and 50 of 60), Part Two answering the first two vignettes.
pub async fn sat_sitting(db: &Db) -> Fixture {
    sat_sitting_by(
        db,
        [
            ("Candidate ana@x.org", "ana@x.org", "Lakeside"),
            ("Candidate ben@x.org", "ben@x.org", "Hillview"),
            ("Candidate cy@x.org", "cy@x.org", "Riverside"),
        ],
    )
    .await
}

/// `sat_sitting` with the three candidates' (name, email, organisation) given.
pub async fn sat_sitting_by(db: &Db, people: [(&str, &str, &str); 3]) -> Fixture {
    let s = OpenSitting::new(db).await;
    let (sitting, pool, now) = (&s.sitting, &s.pool, s.now);
    let bp = s.blueprint("level-iii");
    let raters = vec![
        add_staff(db, "rater1", Role::Rater, "Lakeside").await,
        add_staff(db, "rater2", Role::Rater, "Northgate").await,
        add_staff(db, "rater3", Role::Rater, "Eastfield").await,
        add_staff(db, "rater4", Role::Rater, "Westbrook").await,
    ];
    ratings::declare_conflict(db, raters[1], " Ben@X.org ", "rater2")
        .await
        .unwrap();
    let mut regs = Vec::new();
    let mut codes = Vec::new();
    let right = vec![60, 40, 50];
    for (i, (name, email, org)) in people.into_iter().enumerate() {
        let mut new = candidate(email, Level::III, Parts::BOTH, "1");
        new.name = name.into();
        new.organisation = org.into();
        let Seat {
            reg,
            code,
            attempt: a,
        } = s.start(db, &new, 1).await;
        codes.push(code);
        let mut seq = 0;
        let mut scored_seen = 0;
        for e in &a.form.part_one {
            let item = item_version(db, &e.item_id, e.version)
                .await
                .unwrap()
                .unwrap();
            let ItemBody::Mcq(m) = item.body else {
                panic!()
            };
            let answer = if !e.scored || scored_seen < right[i] {
                m.key
            } else {
                // A wrong answer: the first option that is not the key.
                m.options.iter().find(|o| o.letter != m.key).unwrap().letter
            };
            scored_seen += usize::from(e.scored);
            seq += 1;
            attempts::save(db, a.id, &e.item_id, &answer.to_string(), seq, now + 1000)
                .await
                .unwrap();
        }
        // Each candidate comments on their first question and first vignette: the committee
        // may read the comments, raters never (the leak test looks for them).
        let on = comment::key(&a.form.part_one[0].item_id);
        attempts::save(db, a.id, &on, &leak_comment(email, 1), seq + 1, now + 1000)
            .await
            .unwrap();
        attempts::submit(db, a.id, "candidate", now + 2000)
            .await
            .unwrap()
            .unwrap();
        let reg = imh_exam::store::sittings::registration(db, reg.id)
            .await
            .unwrap()
            .unwrap();
        take_part_two_commenting(
            db,
            (sitting, &reg, bp, pool),
            now + 3000,
            "My answer: I would begin with the relationship.",
            Some(&leak_comment(email, 2)),
        )
        .await;
        regs.push(reg);
    }
    Fixture {
        sitting: sitting.clone(),
        regs,
        raters,
        right,
        codes,
    }
}

/// Starts Part Two, chooses the first two vignettes, writes `text` for every item presented
/// (what is written for the vignette not chosen is set aside) and submits.
pub async fn take_part_two(
    db: &Db,
    sitting: &Sitting,
    reg: &Registration,
    bp: &imh_exam::bank::Blueprint,
    pool: &imh_exam::exam::form::Pool,
    now: i64,
    text: &str,
) {
    take_part_two_commenting(db, (sitting, reg, bp, pool), now, text, None).await;
}

/// A candidate's comment in `sat_sitting`, on Part `part`: words no rater may ever see.
pub fn leak_comment(email: &str, part: u8) -> String {
    format!("LEAK-COMMENT part {part} by {email}: the key seems wrong")
}

/// `take_part_two`, with a comment on the first vignette if one is given.
pub async fn take_part_two_commenting(
    db: &Db,
    (sitting, reg, bp, pool): (
        &Sitting,
        &Registration,
        &imh_exam::bank::Blueprint,
        &imh_exam::exam::form::Pool,
    ),
    now: i64,
    text: &str,
    comment_text: Option<&str>,
) {
    let b = attempts::start_part(db, sitting, reg, bp, pool, 2, now)
        .await
        .unwrap();
    let mut chosen: Vec<&str> = b.form.part_two[..2]
        .iter()
        .map(|v| v.vignette_id.as_str())
        .collect();
    chosen.sort();
    attempts::save(db, b.id, "@choice", &chosen.join(","), 1, now + 1000)
        .await
        .unwrap();
    let mut seq = 1;
    for v in &b.form.part_two {
        for (item, _) in &v.items {
            seq += 1;
            attempts::save(db, b.id, item, &format!("{text} ({item})"), seq, now + 2000)
                .await
                .unwrap();
        }
    }
    if let Some(c) = comment_text {
        let on = comment::key(&b.form.part_two[0].vignette_id);
        attempts::save(db, b.id, &on, c, seq + 1, now + 2000)
            .await
            .unwrap();
    }
    attempts::submit(db, b.id, "candidate", now + 3000)
        .await
        .unwrap()
        .unwrap();
}

/// (response id, code, attempt's registration) of every candidate response of the sitting.
pub async fn responses(db: &Db, sitting_id: i64) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "SELECT r.id, r.code, a.registration_id FROM responses r JOIN attempts a ON a.id = r.attempt_id
         WHERE r.sitting_id = $1 ORDER BY r.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Active assignments: (response id, rater id, reading).
pub async fn assignments(db: &Db) -> Vec<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT response_id, rater_id, reading FROM assignments WHERE withdrawn_at IS NULL ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}
