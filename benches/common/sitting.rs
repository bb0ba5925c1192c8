//! A sitting of the sample bank with admitted candidates who entered through the real server
//! and started Part One: what the load harness and the page bench drive.

use std::time::Duration;

use imh_exam::bank::{Blueprint, Level};
use imh_exam::exam::clock::Multiplier;
use imh_exam::exam::form::{Parts, Pool};
use imh_exam::exam::registration::NewRegistration;
use imh_exam::store::bank::{blueprints, import_dir, pool};
use imh_exam::store::sittings::{self, NewSitting, Sitting};
use imh_exam::store::{attempts, now_ms, Db};

use super::csrf_of;

/// The sample bank imported and one open sitting, before the server starts.
pub struct Prepared {
    pub db: Db,
    pub sitting: Sitting,
    blueprints: Vec<Blueprint>,
    pool: Pool,
    registered: std::sync::atomic::AtomicUsize,
}

/// One simulated candidate: a browser with its session, its attempt and the items of its form.
pub struct Candidate {
    pub client: reqwest::Client,
    pub token: String,
    pub attempt_id: i64,
    pub items: Vec<String>,
}

impl Prepared {
    /// The sample bank and a sitting open for a day, on the database at `url`.
    pub async fn new(url: &str) -> Prepared {
        let db = Db::connect(url).await.expect("database");
        import_dir(
            &db,
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank"),
            "bench",
        )
        .await
        .unwrap();
        let blueprints = blueprints(&db).await.unwrap();
        let pool = pool(&db).await.unwrap();
        let ids: Vec<String> = blueprints.iter().map(|b| b.id.clone()).collect();
        let now = now_ms();
        let sitting_id = sittings::create_sitting(
            &db,
            &NewSitting {
                name: "bench",
                place: "remote",
                opens_at: now - 60_000,
                closes_at: now + 86_400_000,
                blueprints: &ids,
            },
            "bench",
        )
        .await
        .unwrap();
        let sitting = sittings::sitting(&db, sitting_id).await.unwrap().unwrap();
        Prepared {
            db,
            sitting,
            blueprints,
            pool,
            registered: Default::default(),
        }
    }

    /// `n` more Level III candidates, registered, admitted and with Part One started, each
    /// entered with their code through the server at `base` in a browser of its own and on
    /// their first question page. Two
    /// candidates share a loopback address (a client of its own to the per-client limits).
    pub async fn candidates(&self, base: &str, n: usize) -> Vec<Candidate> {
        let bp = self
            .blueprints
            .iter()
            .find(|b| b.level == Level::III)
            .unwrap();
        let now = now_ms();
        let mut people = Vec::new();
        for _ in 0..n {
            let i = self
                .registered
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let new = NewRegistration {
                name: format!("Bench Candidate {i}"),
                email: format!("bench{i}@example.org"),
                organisation: "Bench".into(),
                level: Level::III,
                parts: Parts::BOTH,
                multiplier: Multiplier::STANDARD,
                extra_breaks: 0,
                retake_override: None,
            };
            let (reg_id, code) = sittings::register(
                &self.db,
                &self.sitting,
                &new,
                &self.blueprints,
                "bench",
                false,
            )
            .await
            .unwrap();
            sittings::admit(&self.db, reg_id, "bench").await.unwrap();
            let reg = sittings::registration(&self.db, reg_id)
                .await
                .unwrap()
                .unwrap();
            let a = attempts::start_part(&self.db, &self.sitting, &reg, bp, &self.pool, 1, now)
                .await
                .unwrap();
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(std::net::IpAddr::from([127, 0, 1, (i / 2 % 250 + 1) as u8]))
                // A request the server never answers counts as failed (status 0), not a hung
                // harness.
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            let page = client
                .get(format!("{base}/enter"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let res = client
                .post(format!("{base}/enter"))
                .form(&[("code", code.as_str()), ("csrf", &csrf_of(&page))])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303, "entering with the code");
            // The question page, where the exam's script runs and saves from.
            let page = client
                .get(format!("{base}/exam/1/item/1"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            people.push(Candidate {
                client,
                token: csrf_of(&page),
                attempt_id: a.id,
                items: a.form.part_one.iter().map(|e| e.item_id.clone()).collect(),
            });
        }
        people
    }
}

impl Candidate {
    /// Saves answer number `seq` (to the items in turn) as the exam page does; its status,
    /// 0 when no answer came.
    pub async fn save(&self, base: &str, seq: u64) -> u16 {
        let item = &self.items[(seq as usize) % self.items.len()];
        let res = self
            .client
            .post(format!("{base}/exam/api/save"))
            .header("x-csrf-token", &self.token)
            .json(&serde_json::json!({"part": 1, "item": item, "value": (seq % 4).to_string(), "seq": seq}))
            .send()
            .await;
        let status = res.as_ref().map_or(0, |r| r.status().as_u16());
        if let Ok(r) = res {
            let _ = r.bytes().await;
        }
        status
    }
}
