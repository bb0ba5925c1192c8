//! Ratings, Hofstee bounds and item views: append-only rows, read back as each panelist's
//! current values. Blind while a round is open: only counts leave here for an open round.

use std::collections::BTreeMap;

use super::{HofsteePercent, Study};
use crate::stats::standard_setting::{angoff, AngoffCut, AngoffError};
use crate::store::{now_ms, Db, Result, StoreError};

/// Why a rating was not stored; the message names the form field (`rating`).
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("Rating: you are not on this study's panel.")]
    NotOnPanel,
    #[error("Rating: no round is open; ratings are taken only while a round is open.")]
    RoundClosed,
    #[error("Rating: the study has no item {0}.")]
    UnknownPosition(u32),
    #[error("Rating: {value} is not on this item's scale ({allowed}).")]
    OffScale { value: String, allowed: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RateError {
    fn from(e: sqlx::Error) -> Self {
        RateError::Store(e.into())
    }
}

/// Stores one rating of item `position` by `panelist` in the open round; returns the value as
/// the scale has it. Refused when the user is not on the panel, no round is open (checked in
/// the insert itself, so a round closed a moment before refuses it), the item is unknown or the
/// value is not on the item's scale.
pub async fn rate(
    db: &Db,
    study_id: i64,
    panelist: &str,
    position: u32,
    value: f64,
) -> Result<f64, RateError> {
    let study = super::panel_study(db, study_id, panelist)
        .await?
        .ok_or(RateError::NotOnPanel)?;
    let round = study.open_round().ok_or(RateError::RoundClosed)?;
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT max_points FROM study_items WHERE study_id = $1 AND position = $2",
    )
    .bind(study_id)
    .bind(i64::from(position))
    .fetch_optional(&db.pool)
    .await?;
    let max = max.ok_or(RateError::UnknownPosition(position))?;
    let scale = study.scale(u32::try_from(max).unwrap_or(0));
    let value = scale.snap(value).ok_or_else(|| RateError::OffScale {
        value: format!("{value}"),
        allowed: scale.describe(),
    })?;
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "INSERT INTO study_ratings (study_id, round, panelist, position, value, at_ms)
         SELECT s.id, s.round, $2, $3, $4, $5 FROM studies s
         WHERE s.id = $1 AND s.round = $6 AND s.round_open = 1 AND s.finished_at IS NULL
           AND EXISTS (SELECT 1 FROM study_panel p WHERE p.study_id = s.id AND p.username = $2)",
    )
    .bind(study_id)
    .bind(panelist)
    .bind(i64::from(position))
    .bind(value)
    .bind(now_ms())
    .bind(i64::from(round))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(RateError::RoundClosed);
    }
    tx.commit().await?;
    Ok(value)
}

/// One stored rating row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RatingRow {
    pub id: i64,
    pub round: i64,
    pub panelist: String,
    pub position: i64,
    pub value: f64,
    pub at_ms: i64,
}

/// Every rating row `panelist` gave in the study, oldest first (nothing is ever overwritten).
pub async fn rating_history(db: &Db, study_id: i64, panelist: &str) -> Result<Vec<RatingRow>> {
    Ok(sqlx::query_as(
        "SELECT id, round, panelist, position, value, at_ms FROM study_ratings
         WHERE study_id = $1 AND panelist = $2 ORDER BY id",
    )
    .bind(study_id)
    .bind(panelist)
    .fetch_all(&db.pool)
    .await?)
}

/// A panelist's current rating of one item in a round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MyRating {
    pub value: f64,
    /// True when it was given in an earlier round and left unchanged in this one.
    pub carried: bool,
}

/// Current ratings from rows in (round, id) order: the newest row of the newest round up to
/// `round` for each (panelist, position).
fn current(rows: &[RatingRow], round: u32) -> BTreeMap<(&str, u32), MyRating> {
    let mut out = BTreeMap::new();
    for r in rows.iter().filter(|r| r.round <= i64::from(round)) {
        if let Ok(pos) = u32::try_from(r.position) {
            out.insert(
                (r.panelist.as_str(), pos),
                MyRating {
                    value: r.value,
                    carried: r.round < i64::from(round),
                },
            );
        }
    }
    out
}

/// `panelist`'s current rating of each item in `round`, by position: their newest rating in
/// the round, or their current one of the round before when they have not changed it.
pub async fn my_ratings(
    db: &Db,
    study_id: i64,
    round: u32,
    panelist: &str,
) -> Result<BTreeMap<u32, MyRating>> {
    let rows: Vec<RatingRow> = sqlx::query_as(
        "SELECT id, round, panelist, position, value, at_ms FROM study_ratings
         WHERE study_id = $1 AND panelist = $2 AND round <= $3 ORDER BY round, id",
    )
    .bind(study_id)
    .bind(panelist)
    .bind(i64::from(round))
    .fetch_all(&db.pool)
    .await?;
    Ok(current(&rows, round)
        .into_iter()
        .map(|((_, pos), r)| (pos, r))
        .collect())
}

/// The panel's current ratings in one closed round: a panelist x item matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundMatrix {
    pub round: u32,
    /// The panel's members (usernames), sorted: names for the committee only.
    pub panelists: Vec<String>,
    pub positions: Vec<u32>,
    /// Each item's most points (1 for Part One).
    pub max: Vec<f64>,
    /// `values[panelist][item]`, `None` where the panelist gave no rating.
    pub values: Vec<Vec<Option<f64>>>,
}

impl RoundMatrix {
    /// The panelists who rated every item, with their ratings: the rows a cut is computed on.
    pub fn complete(&self) -> (Vec<&str>, Vec<Vec<f64>>) {
        self.panelists
            .iter()
            .zip(&self.values)
            .filter_map(|(p, row)| {
                row.iter()
                    .copied()
                    .collect::<Option<Vec<f64>>>()
                    .map(|r| (p.as_str(), r))
            })
            .unzip()
    }

    /// The panel's modified-Angoff cut (raw points) over the panelists who rated every item.
    pub fn angoff(&self) -> Result<AngoffCut, AngoffError> {
        angoff(&self.complete().1, &self.max)
    }

    /// Every rating the panel gave item `index` (0-based), without names.
    pub fn item_values(&self, index: usize) -> Vec<f64> {
        self.values
            .iter()
            .filter_map(|row| row.get(index).copied().flatten())
            .collect()
    }

    /// The study's most points: the sum of its items' maxima.
    pub fn total_max(&self) -> f64 {
        self.max.iter().sum()
    }
}

/// Why the panel's ratings of a round are not given out.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("round {0} is open: its ratings are blind until it closes")]
    Blind(u32),
    #[error("round {0} has not been held")]
    NotHeld(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MatrixError {
    fn from(e: sqlx::Error) -> Self {
        MatrixError::Store(e.into())
    }
}

/// The panel's ratings in `round`, only once it is closed (as the study stands in the
/// database, whatever `study` says). The panel is its members now (a
/// panelist taken off no longer counts); a rating left unchanged from the round before counts
/// in this one.
pub async fn round_ratings(db: &Db, study: &Study, round: u32) -> Result<RoundMatrix, MatrixError> {
    // The study as it stands now, not as the caller read it: a round opened since is blind.
    let held = super::study(db, study.id)
        .await?
        .ok_or(MatrixError::NotHeld(round))?;
    if round == 0 || round > held.round {
        return Err(MatrixError::NotHeld(round));
    }
    if round == held.round && held.round_open {
        return Err(MatrixError::Blind(round));
    }
    let items: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT position, max_points FROM study_items WHERE study_id = $1 ORDER BY position",
    )
    .bind(study.id)
    .fetch_all(&db.pool)
    .await?;
    let panelists: Vec<String> = sqlx::query_scalar(
        "SELECT username FROM study_panel WHERE study_id = $1 ORDER BY username",
    )
    .bind(study.id)
    .fetch_all(&db.pool)
    .await?;
    let rows: Vec<RatingRow> = sqlx::query_as(
        "SELECT id, round, panelist, position, value, at_ms FROM study_ratings
         WHERE study_id = $1 AND round <= $2 ORDER BY round, id",
    )
    .bind(study.id)
    .bind(i64::from(round))
    .fetch_all(&db.pool)
    .await?;
    let now = current(&rows, round);
    let positions: Vec<u32> = items
        .iter()
        .map(|(p, _)| u32::try_from(*p).unwrap_or(0))
        .collect();
    let values = panelists
        .iter()
        .map(|p| {
            positions
                .iter()
                .map(|pos| now.get(&(p.as_str(), *pos)).map(|r| r.value))
                .collect()
        })
        .collect();
    Ok(RoundMatrix {
        round,
        max: items.iter().map(|(_, m)| *m as f64).collect(),
        panelists,
        positions,
        values,
    })
}

/// One panel member's progress in the current round: counts only, never values.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub username: String,
    pub display_name: String,
    /// Items rated in this round.
    pub rated: i64,
    /// Items rated in this round or carried unchanged from the round before.
    pub current: i64,
    /// The study's items.
    pub items: i64,
    /// Whether they gave Hofstee bounds in this round.
    pub hofstee: bool,
}

/// Every panel member's progress in the study's current round.
pub async fn progress(db: &Db, study: &Study) -> Result<Vec<Progress>> {
    let round = i64::from(study.round);
    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT p.username, COALESCE(u.display_name, p.username),
            (SELECT COUNT(DISTINCT r.position) FROM study_ratings r
              WHERE r.study_id = p.study_id AND r.panelist = p.username AND r.round = $2),
            (SELECT COUNT(DISTINCT r.position) FROM study_ratings r
              WHERE r.study_id = p.study_id AND r.panelist = p.username AND r.round <= $2),
            (SELECT COUNT(*) FROM study_items i WHERE i.study_id = p.study_id),
            (SELECT COUNT(*) FROM study_hofstee h
              WHERE h.study_id = p.study_id AND h.panelist = p.username AND h.round = $2)
         FROM study_panel p LEFT JOIN users u ON u.username = p.username
         WHERE p.study_id = $1 ORDER BY p.username",
    )
    .bind(study.id)
    .bind(round)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(username, display_name, rated, current, items, hofstee)| Progress {
                username,
                display_name,
                rated,
                current,
                items,
                hofstee: hofstee > 0,
            },
        )
        .collect())
}

/// Logs that `panelist` opened item `position` of the study in `round`.
pub async fn log_view(
    db: &Db,
    study_id: i64,
    round: u32,
    panelist: &str,
    position: u32,
) -> Result<()> {
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO study_views (study_id, round, panelist, position, at_ms)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(study_id)
    .bind(i64::from(round))
    .bind(panelist)
    .bind(i64::from(position))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// One logged view of an item.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct View {
    pub round: i64,
    pub panelist: String,
    pub position: i64,
    pub at_ms: i64,
}

/// Every view `panelist` made of the study's items, oldest first.
pub async fn views_of(db: &Db, study_id: i64, panelist: &str) -> Result<Vec<View>> {
    Ok(sqlx::query_as(
        "SELECT round, panelist, position, at_ms FROM study_views
         WHERE study_id = $1 AND panelist = $2 ORDER BY id",
    )
    .bind(study_id)
    .bind(panelist)
    .fetch_all(&db.pool)
    .await?)
}

/// Why Hofstee bounds were not stored.
#[derive(Debug, thiserror::Error)]
pub enum HofsteeSaveError {
    #[error("you are not on this study's panel")]
    NotOnPanel,
    #[error("no round is open; Hofstee bounds are taken only while a round is open")]
    RoundClosed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for HofsteeSaveError {
    fn from(e: sqlx::Error) -> Self {
        HofsteeSaveError::Store(e.into())
    }
}

/// Stores `panelist`'s Hofstee bounds (checked by `HofsteePercent::parse`) in the open round.
pub async fn hofstee_save(
    db: &Db,
    study_id: i64,
    panelist: &str,
    b: &HofsteePercent,
) -> Result<(), HofsteeSaveError> {
    let study = super::panel_study(db, study_id, panelist)
        .await?
        .ok_or(HofsteeSaveError::NotOnPanel)?;
    let round = study.open_round().ok_or(HofsteeSaveError::RoundClosed)?;
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "INSERT INTO study_hofstee (study_id, round, panelist, cut_min, cut_max, fail_min,
             fail_max, at_ms)
         SELECT s.id, s.round, $2, $3, $4, $5, $6, $7 FROM studies s
         WHERE s.id = $1 AND s.round = $8 AND s.round_open = 1 AND s.finished_at IS NULL",
    )
    .bind(study_id)
    .bind(panelist)
    .bind(b.cut_min)
    .bind(b.cut_max)
    .bind(b.fail_min)
    .bind(b.fail_max)
    .bind(now_ms())
    .bind(i64::from(round))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(HofsteeSaveError::RoundClosed);
    }
    tx.commit().await?;
    Ok(())
}

type HofsteeRow = (String, f64, f64, f64, f64);

/// Each current panel member's newest Hofstee bounds in `round`, by username.
pub async fn hofstee_of(
    db: &Db,
    study_id: i64,
    round: u32,
) -> Result<Vec<(String, HofsteePercent)>> {
    let rows: Vec<HofsteeRow> = sqlx::query_as(
        "SELECT h.panelist, h.cut_min, h.cut_max, h.fail_min, h.fail_max FROM study_hofstee h
         JOIN study_panel p ON p.study_id = h.study_id AND p.username = h.panelist
         WHERE h.study_id = $1 AND h.round = $2 ORDER BY h.id",
    )
    .bind(study_id)
    .bind(i64::from(round))
    .fetch_all(&db.pool)
    .await?;
    let mut newest = BTreeMap::new();
    for (who, cut_min, cut_max, fail_min, fail_max) in rows {
        newest.insert(
            who,
            HofsteePercent {
                cut_min,
                cut_max,
                fail_min,
                fail_max,
            },
        );
    }
    Ok(newest.into_iter().collect())
}

/// `panelist`'s newest Hofstee bounds in `round`.
pub async fn my_hofstee(
    db: &Db,
    study_id: i64,
    round: u32,
    panelist: &str,
) -> Result<Option<HofsteePercent>> {
    let row: Option<HofsteeRow> = sqlx::query_as(
        "SELECT panelist, cut_min, cut_max, fail_min, fail_max FROM study_hofstee
         WHERE study_id = $1 AND round = $2 AND panelist = $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(study_id)
    .bind(i64::from(round))
    .bind(panelist)
    .fetch_optional(&db.pool)
    .await?;
    Ok(
        row.map(|(_, cut_min, cut_max, fail_min, fail_max)| HofsteePercent {
            cut_min,
            cut_max,
            fail_min,
            fail_max,
        }),
    )
}
