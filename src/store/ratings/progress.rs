//! How the reading goes, for the committee: each rater's work and calibration on validity
//! responses, and the sitting's responses at a glance.

use std::collections::BTreeMap;

use crate::scoring::Calibration;
use crate::store::bank::blueprints;
use crate::store::{Db, Result};

/// Per rater, for the committee: work held and done, and calibration on validity responses.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterStatus {
    pub rater_id: i64,
    pub username: String,
    pub display_name: String,
    pub assigned: u32,
    pub done: u32,
    pub calibration: Calibration,
    pub flagged: bool,
}

/// The raters' work and calibration in a sitting. The standard is the strictest of the
/// sitting's blueprints.
pub async fn rater_status(
    db: &Db,
    sitting_id: i64,
    blueprint_ids: &[String],
) -> Result<Vec<RaterStatus>> {
    let rules = blueprints(db)
        .await?
        .into_iter()
        .filter(|b| blueprint_ids.contains(&b.id))
        .map(|b| b.part_two.rating)
        .max_by_key(|r| (r.calibration_min_percent, r.calibration_min_count))
        .unwrap_or_default();
    let rows: Vec<StatusRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, s.id,
                (SELECT t.final FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1),
                (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1),
                r.expert_score
         FROM assignments s JOIN users u ON u.id = s.rater_id JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND s.withdrawn_at IS NULL AND r.qualifying_set IS NULL
         ORDER BY u.username, s.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<i64, RaterStatus> = BTreeMap::new();
    for (id, username, display_name, _, fin, score, expert) in rows {
        let st = out.entry(id).or_insert_with(|| RaterStatus {
            rater_id: id,
            username,
            display_name,
            assigned: 0,
            done: 0,
            calibration: Calibration::default(),
            flagged: false,
        });
        st.assigned += 1;
        if fin == Some(1) {
            st.done += 1;
            if let (Some(s), Some(e)) = (score, expert) {
                st.calibration
                    .add(u32::try_from(s).unwrap_or(0), u32::try_from(e).unwrap_or(0));
            }
        }
    }
    let mut out: Vec<RaterStatus> = out.into_values().collect();
    for r in &mut out {
        r.flagged = r.calibration.flagged(&rules);
    }
    Ok(out)
}

/// (rater, username, display name, assignment, final?, score, expert score).
type StatusRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A sitting's responses at a glance, for the committee.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub responses: u32,
    pub blank: u32,
    pub settled: u32,
    pub awaiting_third: u32,
    pub validity: u32,
}

pub async fn progress(db: &Db, sitting_id: i64) -> Result<Progress> {
    let rows: Vec<(Option<i64>, String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT r.expert_score, r.body, r.settled_at,
                (SELECT COUNT(*) FROM assignments s WHERE s.response_id = r.id AND s.reading = 3 AND s.withdrawn_at IS NULL)
         FROM responses r WHERE r.sitting_id = $1 AND r.qualifying_set IS NULL",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut p = Progress::default();
    for (expert, body, settled, thirds) in rows {
        if expert.is_some() {
            p.validity += 1;
            continue;
        }
        p.responses += 1;
        p.blank += u32::from(body.is_empty());
        p.settled += u32::from(settled.is_some());
        p.awaiting_third += u32::from(settled.is_none() && thirds > 0);
    }
    Ok(p)
}
