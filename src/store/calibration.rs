//! A sitting's Rasch calibration: the committee's explicit action, which reads the sitting's
//! submitted Part One (the same table as the item statistics), calibrates it off the async
//! runtime (`stats::rasch`), links it onto the scale of the items' earlier calibrations and
//! flags drift (`stats::rasch::link`), and stores every item's row with its audit record in
//! one transaction.

use std::collections::BTreeMap;

mod measures;
pub use measures::{
    form_spread, sitting_scale, BlueprintSpread, CutReference, PersonOnScale, SittingScale,
};

use crate::stats::rasch::{self, link, RaschResponses};

use super::analysis::{item_keys, part_one_forms};
use super::audit::{record_tx, Action};
use super::{now_ms, Db, Result, StoreError};

/// One item version's stored calibration in a sitting.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    pub item_version: i64,
    pub difficulty: Option<f64>,
    pub se: Option<f64>,
    pub infit: Option<f64>,
    pub outfit: Option<f64>,
    pub infit_z: Option<f64>,
    pub outfit_z: Option<f64>,
    pub presented: i64,
    pub correct: i64,
    pub excluded: Option<String>,
    pub earlier: Option<f64>,
    pub drifted: i64,
    pub computed_at: i64,
    pub computed_by: String,
}

/// What a calibration did, for the committee's message and the audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub items: usize,
    pub excluded: usize,
    pub persons: u64,
    /// The linking shift and the common items it used, when the sitting was linked.
    pub link: Option<(f64, usize)>,
    pub drifted: Vec<String>,
}

impl From<sqlx::Error> for CalibrateError {
    fn from(e: sqlx::Error) -> Self {
        CalibrateError::Store(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data cannot be calibrated (no submitted Part One, nothing between zero and full
    /// marks, items no one links): the statistics' own message.
    #[error("{0}")]
    Data(String),
}

/// The newest earlier linked difficulty of each item version, from other sittings, with its
/// standard error.
async fn earlier(db: &Db, sitting_id: i64) -> Result<BTreeMap<(String, i64), (f64, Option<f64>)>> {
    let rows: Vec<(String, i64, f64, Option<f64>)> = sqlx::query_as(
        "SELECT c.item_id, c.item_version, c.difficulty, c.se FROM calibrations c
         WHERE c.sitting_id <> $1 AND c.difficulty IS NOT NULL
           AND c.computed_at = (SELECT MAX(d.computed_at) FROM calibrations d
                                WHERE d.item_id = c.item_id AND d.item_version = c.item_version
                                  AND d.sitting_id <> $1 AND d.difficulty IS NOT NULL)",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(i, v, b, se)| ((i, v), (b, se)))
        .collect())
}

/// Calibrates the sitting's submitted Part One and stores it, replacing any earlier
/// calibration of this sitting, with its audit record.
pub async fn calibrate(
    db: &Db,
    sitting_id: i64,
    by: &str,
) -> std::result::Result<Summary, CalibrateError> {
    let table = part_one_forms(db, sitting_id).await?;
    let keys = item_keys(db).await?;
    let before = earlier(db, sitting_id).await?;
    // The items with a key, and each form's cells scored right or wrong.
    let columns: Vec<usize> = (0..table.items.len())
        .filter(|&i| keys.contains_key(&table.items[i]))
        .collect();
    let mut column = vec![None; table.items.len()];
    for (c, &i) in columns.iter().enumerate() {
        column[i] = Some(c);
    }
    let analysed = tokio::task::spawn_blocking(move || {
        let mut data = RaschResponses::new(columns.len()).map_err(|e| e.to_string())?;
        let mut row = vec![None; columns.len()];
        for f in &table.forms {
            row.fill(None);
            for &(i, chosen) in &f.cells {
                if let Some(c) = column[i as usize] {
                    let accepted = keys[&table.items[i as usize]].2;
                    row[c] = Some(chosen.is_some_and(|o| accepted & (1 << o) != 0));
                }
            }
            data.push(&row).map_err(|e| e.to_string())?;
        }
        let a = rasch::analyse(&data, &rasch::Options::default()).map_err(|e| e.to_string())?;
        let items: Vec<(String, u32)> = columns.iter().map(|&i| table.items[i].clone()).collect();
        Ok::<_, String>((items, a))
    })
    .await
    .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(format!("calibration failed: {e}"))))?
    .map_err(CalibrateError::Data)?;
    let (items, a) = analysed;
    let key = |(id, v): &(String, u32)| (id.clone(), i64::from(*v));
    // Link over the items calibrated here and before.
    let common: Vec<usize> = (0..items.len())
        .filter(|&i| {
            a.calibration.items[i].difficulty.is_some() && before.contains_key(&key(&items[i]))
        })
        .collect();
    let pairs: Vec<link::Pair> = common
        .iter()
        .map(|&i| {
            let now = &a.calibration.items[i];
            let (earlier, earlier_se) = before[&key(&items[i])];
            link::Pair {
                new: now.difficulty.unwrap_or(0.0),
                earlier,
                se: now.se.zip(earlier_se).map(|(x, y)| (x * x + y * y).sqrt()),
            }
        })
        .collect();
    let linked = link::mean_mean(&pairs);
    let shift = linked.as_ref().map_or(0.0, |l| l.shift);
    let mut drifted = vec![false; items.len()];
    if let Some(l) = &linked {
        for (k, &i) in common.iter().enumerate() {
            drifted[i] = l.drifted[k];
        }
    }
    let now = now_ms();
    let mut tx = db.write().await?;
    // The nullable numbers go as text, cast in the statement: sqlx 0.8's Any driver sends a
    // NULL double as a NULL float4 (any/arguments.rs swaps Real and Double), so on PostgreSQL
    // a statement first run with a NULL there refuses every later double ("incorrect binary
    // data format"). Rust writes the shortest text that reads back to the same double.
    sqlx::query("DELETE FROM calibrations WHERE sitting_id = $1")
        .bind(sitting_id)
        .execute(&mut *tx)
        .await?;
    for (i, item) in items.iter().enumerate() {
        let c = &a.calibration.items[i];
        let fit = a.fit[i].as_ref();
        sqlx::query(
            "INSERT INTO calibrations (sitting_id, item_id, item_version, difficulty, se, infit, outfit,
                 infit_z, outfit_z, presented, correct, excluded, earlier, drifted, computed_at, computed_by)
             VALUES ($1, $2, $3, CAST($4 AS DOUBLE PRECISION), CAST($5 AS DOUBLE PRECISION),
                 CAST($6 AS DOUBLE PRECISION), CAST($7 AS DOUBLE PRECISION),
                 CAST($8 AS DOUBLE PRECISION), CAST($9 AS DOUBLE PRECISION), $10, $11, $12,
                 CAST($13 AS DOUBLE PRECISION), $14, $15, $16)",
        )
        .bind(sitting_id)
        .bind(&item.0)
        .bind(i64::from(item.1))
        .bind(text(c.difficulty.map(|b| b + shift)))
        .bind(text(c.se))
        .bind(text(fit.map(|f| f.infit)))
        .bind(text(fit.map(|f| f.outfit)))
        .bind(text(fit.and_then(|f| f.infit_z)))
        .bind(text(fit.and_then(|f| f.outfit_z)))
        .bind(i64::try_from(c.presented).unwrap_or(i64::MAX))
        .bind(i64::try_from(c.correct).unwrap_or(i64::MAX))
        .bind(c.excluded.map(|e| e.as_str()))
        .bind(text(before.get(&key(item)).map(|e| e.0)))
        .bind(i64::from(drifted[i]))
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    let summary = Summary {
        items: items.len(),
        excluded: a
            .calibration
            .items
            .iter()
            .filter(|c| c.excluded.is_some())
            .count(),
        persons: a.calibration.persons_estimated,
        link: linked.as_ref().map(|l| (l.shift, l.anchors)),
        drifted: items
            .iter()
            .zip(&drifted)
            .filter(|(_, d)| **d)
            .map(|(k, _)| k.0.clone())
            .collect(),
    };
    let detail = format!(
        "sitting {sitting_id}: {} items ({} left out), {} candidates; {}; drifting: {}",
        summary.items,
        summary.excluded,
        summary.persons,
        match summary.link {
            Some((s, n)) => format!("linked by {s:+.3} logits over {n} items"),
            None => "on its own scale (too few items calibrated before)".into(),
        },
        if summary.drifted.is_empty() {
            "none".to_string()
        } else {
            summary.drifted.join(", ")
        }
    );
    record_tx(&mut tx, by, Action::Calibrate, &detail).await?;
    tx.commit().await?;
    Ok(summary)
}

fn text(x: Option<f64>) -> Option<String> {
    x.map(|v| v.to_string())
}

/// A sitting's stored calibration, by item.
pub async fn of_sitting(db: &Db, sitting_id: i64) -> Result<Vec<ItemRow>> {
    Ok(sqlx::query_as(
        "SELECT item_id, item_version, difficulty, se, infit, outfit, infit_z, outfit_z, presented,
                correct, excluded, earlier, drifted, computed_at, computed_by
         FROM calibrations WHERE sitting_id = $1 ORDER BY item_id, item_version",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The newest stored difficulty of every calibrated item version (linked onto one scale), by
/// (item, version): what live forms and equating read. An item left out of its newest
/// calibration keeps the newest one that estimated it. An item no calibration could estimate
/// because everyone (no one) presented with it answered correctly reads as −∞ (+∞): its
/// conditional ML estimate is infinite, P = 1 (0) at every ability (`stats::tcc`), so one very
/// easy item does not leave the whole pool uncalibrated. One pass over the rows (a few hundred
/// per sitting), oldest first, so a start of Part One does not grow with a quadratic query.
pub async fn latest_difficulties(db: &Db) -> Result<BTreeMap<(String, u32), f64>> {
    let rows: Vec<(String, i64, Option<f64>, Option<String>)> = sqlx::query_as(
        "SELECT item_id, item_version, difficulty, excluded FROM calibrations
         ORDER BY computed_at, sitting_id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut estimated = BTreeMap::new();
    let mut extreme = BTreeMap::new();
    for (item, version, b, excluded) in rows {
        let version = u32::try_from(version).map_err(|_| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!("the calibration of {item} has version {version}").into(),
            ))
        })?;
        match (b, excluded.as_deref()) {
            (Some(b), _) => {
                estimated.insert((item, version), b);
            }
            (None, Some("all_correct")) => {
                extreme.insert((item, version), f64::NEG_INFINITY);
            }
            (None, Some("none_correct")) => {
                extreme.insert((item, version), f64::INFINITY);
            }
            _ => {}
        }
    }
    for (key, b) in extreme {
        estimated.entry(key).or_insert(b);
    }
    Ok(estimated)
}
