//! The demo's standard-setting study: a completed two-round modified-Angoff study of the
//! Level III blueprint's Part One pool on the demo's completed sitting, with five simulated
//! panelists, so the study's pages show real numbers from the first run.
//!
//! A panelist's round-1 rating of an item is the sitting's observed p-value plus their own
//! leniency and noise, on the 0.05 scale. The leniencies lie below zero on average: the panel
//! rates a minimally competent candidate, who does less well than the average one. In round 2,
//! having seen the panel's spread and the observed values, each moves halfway toward the mean of
//! the panel's round-1 ratings and the observed value. Each gives Hofstee bounds around their
//! own round-2 cut. All of it is drawn from a fixed seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::auth::{Role, Username};
use crate::store::studies::{self, HofsteePercent, Method, NewStudy, Source};
use crate::store::users::{self, AddUserError, NewUser};
use crate::store::Db;

use super::normal;

/// The name the demo's study is found by, so a restarted demo does not make it twice.
pub const DEMO_STUDY: &str = "Demo: Level III Part One standard (two-round Angoff)";

/// The five simulated panelists: (username, name, leniency).
pub const PANELISTS: [(&str, &str, f64); 5] = [
    ("panel1", "Paula Panelist", -0.10),
    ("panel2", "Pedro Panelist", -0.18),
    ("panel3", "Pam Panelist", -0.05),
    ("panel4", "Petra Panelist", -0.14),
    ("panel5", "Piet Panelist", 0.02),
];

/// The blueprint the study rates.
const BLUEPRINT: &str = "level-iii";

const MCC: &str = "A practitioner who has just met the Level III standard: they hold the baby and the \
parent in mind together, name their own reactions and take them to reflective supervision, and know \
the core developmental milestones, though they may be unsure at the edges of the field.\n\n\
They pass on an ordinary day, not on their best one.";

/// A value on the 0.05 scale between 0 and 1.
fn on_scale(x: f64) -> f64 {
    ((x.clamp(0.0, 1.0) * 20.0).round() / 20.0).clamp(0.0, 1.0)
}

/// Creates the completed study on `sitting` unless it exists; returns its id. Panelist
/// accounts that do not exist are made (`panel1` with `panel1_password`, the others with random
/// passwords: they stand for people who rated, not for anyone signing in).
pub async fn completed_study(db: &Db, sitting: i64, panel1_password: &str) -> anyhow::Result<i64> {
    if let Some(s) = studies::list(db)
        .await?
        .into_iter()
        .find(|s| s.name == DEMO_STUDY)
    {
        return Ok(s.id);
    }
    for (i, (username, name, _)) in PANELISTS.iter().enumerate() {
        let password = if i == 0 {
            panel1_password.to_string()
        } else {
            crate::auth::random_password()
        };
        let username = Username::parse(username).map_err(anyhow::Error::msg)?;
        match users::add_user(
            db,
            NewUser {
                username: &username,
                display_name: name,
                role: Role::Panelist,
                organisation: "Demo Association",
                password: &password,
                added_by: "demo",
            },
        )
        .await
        {
            Ok(_) | Err(AddUserError::Exists(_)) => {}
            Err(AddUserError::Store(e)) => return Err(e.into()),
        }
    }
    let id = studies::create(
        db,
        &NewStudy {
            name: DEMO_STUDY,
            blueprint_id: BLUEPRINT,
            part: 1,
            method: Method::Angoff,
            sitting_id: Some(sitting),
            source: Source::Pool,
            rounds_planned: 2,
        },
        "demo",
    )
    .await?;
    studies::set_mcc(db, id, MCC, "demo").await?;
    for (username, _, _) in PANELISTS {
        studies::add_panelist(db, id, username, "demo").await?;
    }
    let study = studies::study(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the study just made is missing"))?;
    let observed = studies::observed(db, &study).await?;
    let known: Vec<f64> = observed.items.iter().filter_map(|o| o.value).collect();
    let overall = if known.is_empty() {
        0.7
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    // An item no candidate met is rated as if it were of average difficulty.
    let p: Vec<f64> = observed
        .items
        .iter()
        .map(|o| o.value.unwrap_or(overall))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(14);

    studies::open_round(db, id, "demo").await?;
    let mut round_one = vec![vec![0.0; p.len()]; PANELISTS.len()];
    for (j, (username, _, leniency)) in PANELISTS.iter().enumerate() {
        for (i, o) in observed.items.iter().enumerate() {
            let r = on_scale(p[i] + leniency + 0.08 * normal(&mut rng));
            round_one[j][i] = studies::rate(db, id, username, o.position, r).await?;
        }
    }
    studies::close_round(db, id, "demo").await?;

    studies::open_round(db, id, "demo").await?;
    let means: Vec<f64> = (0..p.len())
        .map(|i| round_one.iter().map(|row| row[i]).sum::<f64>() / PANELISTS.len() as f64)
        .collect();
    for (j, (username, _, _)) in PANELISTS.iter().enumerate() {
        let mut cut = 0.0;
        for (i, o) in observed.items.iter().enumerate() {
            let before = round_one[j][i];
            let toward = 0.5 * means[i] + 0.5 * p[i];
            let r = on_scale(before + 0.5 * (toward - before) + 0.03 * normal(&mut rng));
            // A rating the feedback did not move is saved again half the time, and otherwise
            // carried over from round 1 unchanged, as a panelist who skips an item leaves it.
            if (r - before).abs() > 1e-9 || rng.gen_bool(0.5) {
                studies::rate(db, id, username, o.position, r).await?;
                cut += r;
            } else {
                cut += before;
            }
        }
        let cut_percent = 100.0 * cut / p.len().max(1) as f64;
        let low = (cut_percent - 5.0 - 5.0 * rng.gen::<f64>())
            .clamp(0.0, 95.0)
            .round();
        let high = (cut_percent + 5.0 + 5.0 * rng.gen::<f64>())
            .clamp(low + 1.0, 100.0)
            .round();
        let fail_min = (5.0 + 10.0 * rng.gen::<f64>()).round();
        let fail_max = (fail_min + 15.0 + 15.0 * rng.gen::<f64>()).round();
        let bounds = HofsteePercent::parse(
            &low.to_string(),
            &high.to_string(),
            &fail_min.to_string(),
            &fail_max.to_string(),
        )
        .map_err(|e| anyhow::anyhow!("demo Hofstee bounds: {e:?}"))?;
        studies::hofstee_save(db, id, username, &bounds).await?;
    }
    studies::close_round(db, id, "demo").await?;
    studies::finish(db, id, "demo").await?;
    Ok(id)
}
