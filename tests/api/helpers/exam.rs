//! Exam fixtures below the web: the sample bank, an open sitting, candidates registered,
//! admitted and started, and the saves a soak test sends and then looks for.

use imh_exam::bank::{Blueprint, Level};
use imh_exam::exam::clock::Multiplier;
use imh_exam::exam::form::{Parts, Pool};
use imh_exam::exam::registration::NewRegistration;
use imh_exam::store::attempts::{self, Attempt};
use imh_exam::store::bank::{blueprints, import_dir, pool};
use imh_exam::store::sittings::{self, NewSitting, Registration, Sitting};
use imh_exam::store::{now_ms, Db};

use super::{repo, Browser};

const HOUR: i64 = 60 * 60 * 1000;

pub async fn import_sample(db: &Db) {
    import_dir(db, &repo().join("item-bank"), "test")
        .await
        .unwrap();
}

pub async fn open_sitting(db: &Db, now: i64) -> Sitting {
    let all: Vec<String> = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(all.len(), 4);
    let id = sittings::create_sitting(
        db,
        &NewSitting {
            name: "Spring window",
            place: "remote",
            opens_at: now - HOUR,
            closes_at: now + 8 * HOUR,
            blueprints: &all,
        },
        "proctor",
    )
    .await
    .unwrap();
    sittings::sitting(db, id).await.unwrap().unwrap()
}

/// Registers `new` for `sitting` (not admitted); returns the registration's id and its code.
pub async fn registered(
    db: &Db,
    sitting: &Sitting,
    new: &NewRegistration,
    bps: &[Blueprint],
) -> (i64, String) {
    sittings::register(db, sitting, new, bps, "p", false)
        .await
        .unwrap()
}

/// Registers `new` for `sitting` and admits them; returns the registration and its code.
pub async fn admitted(
    db: &Db,
    sitting: &Sitting,
    new: &NewRegistration,
    bps: &[Blueprint],
) -> (Registration, String) {
    let (id, code) = registered(db, sitting, new, bps).await;
    sittings::admit(db, id, "p").await.unwrap();
    (sittings::registration(db, id).await.unwrap().unwrap(), code)
}

pub fn candidate(email: &str, level: Level, parts: Parts, multiplier: &str) -> NewRegistration {
    NewRegistration {
        name: format!("Candidate {email}"),
        email: email.into(),
        organisation: "Lakeside".into(),
        level,
        parts,
        multiplier: Multiplier::parse(multiplier).unwrap(),
        extra_breaks: 0,
        retake_override: None,
    }
}

/// The sample bank imported and a sitting open since an hour before `now`, with the blueprints
/// and the item pool that registering and starting a part need.
pub struct OpenSitting {
    pub sitting: Sitting,
    pub bps: Vec<Blueprint>,
    pub pool: Pool,
    /// The instant the sitting was opened around; parts are started at it.
    pub now: i64,
}

/// A candidate registered, admitted and started on one part.
pub struct Seat {
    pub reg: Registration,
    pub code: String,
    pub attempt: Attempt,
}

impl OpenSitting {
    pub async fn new(db: &Db) -> OpenSitting {
        import_sample(db).await;
        let now = now_ms();
        let sitting = open_sitting(db, now).await;
        OpenSitting {
            sitting,
            bps: blueprints(db).await.unwrap(),
            pool: pool(db).await.unwrap(),
            now,
        }
    }

    pub fn blueprint(&self, id: &str) -> &Blueprint {
        self.bps.iter().find(|b| b.id == id).unwrap()
    }

    /// Registers and admits `new`, then starts their `part` at `now`.
    pub async fn start(&self, db: &Db, new: &NewRegistration, part: u8) -> Seat {
        let (reg, code) = admitted(db, &self.sitting, new, &self.bps).await;
        let bp = self.blueprint(&reg.blueprint_id);
        let attempt = attempts::start_part(db, &self.sitting, &reg, bp, &self.pool, part, self.now)
            .await
            .unwrap();
        Seat { reg, code, attempt }
    }

    /// A Level III candidate `email`, both parts at normal time, started on Part One.
    pub async fn start_part_one(&self, db: &Db, email: &str) -> Seat {
        let new = candidate(email, Level::III, Parts::BOTH, "1");
        self.start(db, &new, 1).await
    }
}

/// One save of a soak test: the `seq`-th save of an attempt answers its Part One question
/// `seq` mod n with the option shown `seq` mod 4.
#[derive(Debug, Clone)]
pub struct SoakSave {
    pub attempt: i64,
    pub item: String,
    pub seq: u64,
    /// The option's place on the candidate's screen.
    shown: usize,
    /// The letter it is stored as, the form's shuffle undone.
    canonical: String,
}

impl SoakSave {
    pub fn nth(a: &Attempt, seq: u64) -> SoakSave {
        let entry = &a.form.part_one[(seq as usize) % a.form.part_one.len()];
        let shown = (seq as usize) % 4;
        SoakSave {
            attempt: a.id,
            item: entry.item_id.clone(),
            seq,
            shown,
            canonical: ((b'A' + entry.option_order[shown]) as char).to_string(),
        }
    }

    /// Sends it as the exam page's script does; an error if the server is gone.
    pub async fn send(&self, cand: &Browser, token: &str) -> reqwest::Result<reqwest::Response> {
        cand.try_save(token, 1, &self.item, &self.shown.to_string(), self.seq)
            .await
    }
}

/// Every save the server acknowledged is stored, under its sequence number, as sent.
pub async fn assert_all_stored(db: &Db, acknowledged: &[SoakSave]) {
    let mut lost = Vec::new();
    for save in acknowledged {
        let stored: Option<(String, String)> = sqlx::query_as(
            "SELECT item_id, answer FROM response_events WHERE attempt_id = $1 AND seq = $2",
        )
        .bind(save.attempt)
        .bind(i64::try_from(save.seq).unwrap())
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if stored != Some((save.item.clone(), save.canonical.clone())) {
            lost.push((save.attempt, save.seq));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged saves lost, e.g. {:?}",
        lost.len(),
        acknowledged.len(),
        &lost[..lost.len().min(5)]
    );
}
