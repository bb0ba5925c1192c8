//! Which Part One form a candidate gets, for `attempts::start_part` and `bulk::Forms` alike:
//! where the pool is calibrated, a fair form (`exam::fair::assemble_fair`: its expected percent
//! at the cut within the blueprint's `form_tolerance` of the target), else a plain draw; and
//! under `[part_one] forms = "one"`, the sitting's one form of the blueprint, drawn by the first
//! start and kept in `sitting_forms`, so every candidate and a restarted server get the same.
//!
//! "Calibrated" is the bank's newest stored difficulty of each item version
//! (`calibration::latest_difficulties`): a pool is calibrated when every operational item
//! version of the blueprint has one. Formulas: `docs/statistics.md`, "Fair forms and equating".

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::{Blueprint, FormsPolicy};
use crate::exam::fair::{assemble_fair, Difficulties, FairError};
use crate::exam::form::{assemble, Form, FormError, History, Parts, Pool};

use super::{now_ms, Db, Result, StoreError};

/// The newest difficulty of every calibrated item version.
pub type ByVersion = BTreeMap<(String, u32), f64>;

/// The difficulties of the pool's own item versions, by item id: what `assemble_fair` reads.
pub fn pool_difficulties(pool: &Pool, by_version: &ByVersion) -> Difficulties {
    pool.items
        .iter()
        .filter_map(|i| {
            by_version
                .get(&(i.id.clone(), i.version))
                .map(|b| (i.id.clone(), *b))
        })
        .collect()
}

/// Draws a form: Part One fair where the pool is calibrated, plainly otherwise (and Part Two
/// always plainly). Deterministic from `seed`; the form's own `seed` is the try kept.
pub fn draw(
    bp: &Blueprint,
    pool: &Pool,
    history: &History,
    parts: Parts,
    seed: u64,
    difficulties: &Difficulties,
) -> std::result::Result<Form, FormError> {
    if parts.one && !difficulties.0.is_empty() {
        match assemble_fair(bp, pool, history, parts, seed, difficulties) {
            Ok(fair) => return Ok(fair.form),
            Err(FairError::Form(e)) => return Err(e),
            // Not every operational item is calibrated yet: the plain draw, as before.
            Err(FairError::Uncalibrated { .. } | FairError::EmptyPool(_)) => {}
        }
    }
    assemble(bp, pool, history, parts, seed)
}

/// The seed of a sitting's one form of a blueprint: from the sitting and the blueprint, so
/// the same sitting draws the same form wherever it is drawn.
pub fn sitting_seed(sitting_id: i64, blueprint_id: &str) -> u64 {
    let h = crate::auth::sha256_hex(&format!("sitting-form:{sitting_id}:{blueprint_id}"));
    u64::from_str_radix(&h[..16], 16).expect("sha256 hex digits")
}

/// The sitting's one Part One form of `bp`, drawn without anyone's history but with every
/// item's exposure so far (the least used first, as for anyone).
pub fn draw_sitting_form(
    bp: &Blueprint,
    pool: &Pool,
    exposure: &BTreeMap<String, u32>,
    sitting_id: i64,
    difficulties: &Difficulties,
) -> std::result::Result<Form, FormError> {
    let history = History {
        seen: BTreeSet::new(),
        exposure: exposure.clone(),
    };
    let parts = Parts {
        one: true,
        two: false,
    };
    draw(
        bp,
        pool,
        &history,
        parts,
        sitting_seed(sitting_id, &bp.id),
        difficulties,
    )
}

async fn kept(db: &Db, sitting_id: i64, blueprint_id: &str) -> Result<Option<Form>> {
    let form: Option<String> = sqlx::query_scalar(
        "SELECT form FROM sitting_forms WHERE sitting_id = $1 AND blueprint_id = $2",
    )
    .bind(sitting_id)
    .bind(blueprint_id)
    .fetch_optional(&db.pool)
    .await?;
    form.map(|f| parse(&f, sitting_id, blueprint_id))
        .transpose()
}

fn parse(form: &str, sitting_id: i64, blueprint_id: &str) -> Result<Form> {
    serde_json::from_str(form).map_err(|e| {
        StoreError::Sqlx(sqlx::Error::Decode(
            format!("sitting {sitting_id}'s form of {blueprint_id}: {e}").into(),
        ))
    })
}

/// The sitting's one Part One form of `bp` (`forms = "one"`): the kept one, or drawn now and
/// kept. Two first starts at once keep one form: the second insert does nothing and both read
/// the row that stands.
pub async fn sitting_form(
    db: &Db,
    sitting_id: i64,
    bp: &Blueprint,
    pool: &Pool,
    exposure: &BTreeMap<String, u32>,
    difficulties: &Difficulties,
) -> Result<std::result::Result<Form, FormError>> {
    if let Some(form) = kept(db, sitting_id, &bp.id).await? {
        return Ok(Ok(form));
    }
    let form = match draw_sitting_form(bp, pool, exposure, sitting_id, difficulties) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO sitting_forms (sitting_id, blueprint_id, seed, form, drawn_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sitting_id, blueprint_id) DO NOTHING",
    )
    .bind(sitting_id)
    .bind(&bp.id)
    // Stored as the same 64 bits, as attempts store theirs.
    .bind(form.seed as i64)
    .bind(serde_json::to_string(&form).expect("a form serialises"))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let stored: String = sqlx::query_scalar(
        "SELECT form FROM sitting_forms WHERE sitting_id = $1 AND blueprint_id = $2",
    )
    .bind(sitting_id)
    .bind(&bp.id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(parse(&stored, sitting_id, &bp.id)?))
}

/// Whether `bp` gives everyone in a sitting one Part One form.
pub fn one_form(bp: &Blueprint) -> bool {
    bp.part_one.forms == FormsPolicy::One
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitting_seeds_differ_by_sitting_and_blueprint_and_stay_put() {
        assert_eq!(sitting_seed(3, "level-iii"), sitting_seed(3, "level-iii"));
        assert_ne!(sitting_seed(3, "level-iii"), sitting_seed(4, "level-iii"));
        assert_ne!(sitting_seed(3, "level-iii"), sitting_seed(3, "level-iv"));
    }
}
