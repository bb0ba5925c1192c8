//! Registration batches: a CSV file's candidates (or one form's) registered all or none, in one
//! transaction of multi-row INSERTs, and the batch's access codes kept in clear only until they
//! are handed out.
//!
//! Access codes are stored as SHA-256 (`access_codes.code_hash`): a code carries 60 random bits,
//! so a fast hash cannot be searched backwards, and a batch of 10,000 hashes in milliseconds.
//! So that the codes can be downloaded (CSV) and printed (slips) after the registration, each
//! batch's codes are also kept in clear in `batch_codes`, readable only by whoever registered
//! the batch and by administrators, until they mark the codes handed out or the sitting closes;
//! then the clear codes are deleted and only the hashes remain.

use std::collections::{BTreeMap, BTreeSet};

use crate::auth;
use crate::bank::Blueprint;
use crate::exam::batch::{self, BatchRules};
use crate::exam::registration::{CsvRow, RowError};

use super::sittings::Sitting;
use super::{audit, now_ms, Db, Result, StoreError};

/// Rows per INSERT: 500 registrations are 7,000 bound values, well under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Rows that cannot be registered, each named by line and field; nothing was written.
    #[error("{} row(s) cannot be registered", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BatchError {
    fn from(e: sqlx::Error) -> Self {
        BatchError::Store(StoreError::Sqlx(e))
    }
}

/// Where a batch came from, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The registration form: one candidate.
    Form,
    /// A CSV file.
    Csv,
}

/// A batch just registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub batch_id: i64,
    /// (registration id, access code in clear), in the order of the rows.
    pub registered: Vec<(i64, String)>,
}

/// `($1, $2, $3), ($4, $5, $6)`: placeholders for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let vals: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", vals.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads what the rows are checked against: the emails already registered for the sitting and
/// when each of the rows' emails last sat each part (a submitted attempt not voided).
async fn rules_data(
    db: &Db,
    sitting_id: i64,
    rows: &[CsvRow],
) -> Result<(BTreeSet<String>, BTreeMap<(String, u8), i64>)> {
    let registered: Vec<String> =
        sqlx::query_scalar("SELECT email FROM registrations WHERE sitting_id = $1")
            .bind(sitting_id)
            .fetch_all(&db.pool)
            .await?;
    let emails: BTreeSet<&str> = rows.iter().map(|r| r.registration.email.as_str()).collect();
    let emails: Vec<&str> = emails.into_iter().collect();
    let mut last_sat = BTreeMap::new();
    for chunk in emails.chunks(CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT r.email, a.part, MAX(a.submitted_at) FROM attempts a
             JOIN registrations r ON r.id = a.registration_id
             WHERE r.email IN ({}) AND a.submitted_at IS NOT NULL AND a.voided_at IS NULL
             GROUP BY r.email, a.part",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, i64, i64)>(&sql);
        for e in chunk {
            q = q.bind(*e);
        }
        for (email, part, at) in q.fetch_all(&db.pool).await? {
            let part = u8::try_from(part).map_err(|_| {
                StoreError::Sqlx(sqlx::Error::Decode(format!("attempt part {part}").into()))
            })?;
            last_sat.insert((email, part), at);
        }
    }
    Ok((registered.into_iter().collect(), last_sat))
}

fn offered<'a>(sitting: &Sitting, blueprints: &'a [Blueprint]) -> Vec<&'a Blueprint> {
    blueprints
        .iter()
        .filter(|b| sitting.blueprints.contains(&b.id))
        .collect()
}

/// Checks rows against the sitting without writing: every problem, by line and field, but not
/// their number (the file's parser counts the rows that did not parse too). For reporting
/// alongside a file's parse errors; `register_batch` checks everything itself.
pub async fn check_batch(
    db: &Db,
    sitting: &Sitting,
    rows: &[CsvRow],
    blueprints: &[Blueprint],
    by_admin: bool,
) -> Result<Vec<RowError>> {
    let (registered, last_sat) = rules_data(db, sitting.id, rows).await?;
    let rules = BatchRules {
        offered: offered(sitting, blueprints),
        opens_at: sitting.opens_at,
        registered: &registered,
        last_sat: &last_sat,
        by_admin,
    };
    Ok(batch::check_rows(rows, &rules).err().unwrap_or_default())
}

/// Registers every row or none: checks them all first (see `exam::batch`), then writes the
/// batch, its access codes (hashed, and in clear for handing out), its registrations and the
/// audit records in one transaction.
pub async fn register_batch(
    db: &Db,
    sitting: &Sitting,
    rows: &[CsvRow],
    blueprints: &[Blueprint],
    by: &str,
    by_admin: bool,
    origin: Origin,
) -> Result<Registered, BatchError> {
    if rows.is_empty() {
        return Err(BatchError::Rows(vec![RowError {
            line: 2,
            field: None,
            message: "the file has no candidates".into(),
        }]));
    }
    let (registered, last_sat) = rules_data(db, sitting.id, rows).await?;
    let rules = BatchRules {
        offered: offered(sitting, blueprints),
        opens_at: sitting.opens_at,
        registered: &registered,
        last_sat: &last_sat,
        by_admin,
    };
    let chosen = batch::check_batch(rows, &rules).map_err(BatchError::Rows)?;
    let codes: Vec<String> = rows.iter().map(|_| auth::new_access_code()).collect();
    // Through the writer: on SQLite the one write connection, so the batch does not race the
    // exam's saves for the lock; on PostgreSQL the pool.
    let mut tx = db.write().await?;
    match write_batch(&mut tx, sitting, rows, &chosen, &codes, by, origin).await {
        Ok(ids) => {
            tx.commit().await?;
            let batch_id = ids.0;
            Ok(Registered {
                batch_id,
                registered: ids.1.into_iter().zip(codes).collect(),
            })
        }
        Err(BatchError::Store(StoreError::Sqlx(e))) if super::is_unique_violation(&e) => {
            // Someone registered one of these emails meanwhile: name the lines.
            drop(tx);
            let errors = check_batch(db, sitting, rows, blueprints, by_admin).await?;
            if errors.is_empty() {
                Err(BatchError::Store(StoreError::Sqlx(e)))
            } else {
                Err(BatchError::Rows(errors))
            }
        }
        Err(e) => Err(e),
    }
}

/// The writes of a checked batch; returns the batch id and the registration ids in row order.
async fn write_batch(
    tx: &mut super::WriteTx,
    sitting: &Sitting,
    rows: &[CsvRow],
    chosen: &[&Blueprint],
    codes: &[String],
    by: &str,
    origin: Origin,
) -> Result<(i64, Vec<i64>), BatchError> {
    let now = now_ms();
    let batch_id: i64 = sqlx::query_scalar(
        "INSERT INTO registration_batches (sitting_id, candidates, created_by, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(sitting.id)
    .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let hashes: Vec<String> = codes.iter().map(|c| auth::sha256_hex(c)).collect();
    let mut code_ids: BTreeMap<String, i64> = BTreeMap::new();
    for (chunk, hash_chunk) in rows.chunks(CHUNK).zip(hashes.chunks(CHUNK)) {
        let sql = format!(
            "INSERT INTO access_codes (code_hash, label, created_at) VALUES {} RETURNING id, code_hash",
            placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for (row, hash) in chunk.iter().zip(hash_chunk) {
            q = q.bind(hash).bind(&row.registration.name).bind(now);
        }
        for (id, hash) in q.fetch_all(&mut **tx).await? {
            code_ids.insert(hash, id);
        }
    }
    let mut reg_ids: BTreeMap<String, i64> = BTreeMap::new();
    let items: Vec<(&CsvRow, &&Blueprint, &String)> = rows
        .iter()
        .zip(chosen)
        .zip(&hashes)
        .map(|((r, b), h)| (r, b, h))
        .collect();
    for chunk in items.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO registrations (sitting_id, access_code_id, name, email, organisation, level,
                blueprint_id, sits_part_one, sits_part_two, multiplier_permille, extra_breaks,
                retake_override, created_at, batch_id)
             VALUES {} RETURNING id, email",
            placeholders(chunk.len(), 14)
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql);
        for (row, bp, hash) in chunk {
            let new = &row.registration;
            q = q
                .bind(sitting.id)
                .bind(code_ids[hash.as_str()])
                .bind(&new.name)
                .bind(&new.email)
                .bind(&new.organisation)
                .bind(new.level.code())
                .bind(&bp.id)
                .bind(i64::from(new.parts.one))
                .bind(i64::from(new.parts.two))
                .bind(i64::from(new.multiplier.permille()))
                .bind(i64::from(new.extra_breaks))
                .bind(new.retake_override.as_deref())
                .bind(now)
                .bind(batch_id);
        }
        for (id, email) in q.fetch_all(&mut **tx).await? {
            reg_ids.insert(email, id);
        }
    }
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| reg_ids[&r.registration.email])
        .collect();
    let pairs: Vec<(&i64, &String)> = ids.iter().zip(codes).collect();
    for chunk in pairs.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO batch_codes (registration_id, batch_id, code) VALUES {}",
            placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, code) in chunk {
            q = q.bind(**id).bind(batch_id).bind(code.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    let (action, detail) = match origin {
        Origin::Form => (
            audit::Action::RegistrationAdd,
            format!(
                "sitting {}: {} (registration {}, batch {batch_id})",
                sitting.id, rows[0].registration.name, ids[0]
            ),
        ),
        Origin::Csv => (
            audit::Action::RegistrationImport,
            format!(
                "sitting {}: batch {batch_id}, {} registered from a CSV file",
                sitting.id,
                rows.len()
            ),
        ),
    };
    audit::record_tx(tx, by, action, &detail).await?;
    for (row, id) in rows.iter().zip(&ids) {
        if let Some(reason) = &row.registration.retake_override {
            audit::record_tx(
                tx,
                by,
                audit::Action::RetakeOverride,
                &format!("registration {id} ({}): {reason}", row.registration.email),
            )
            .await?;
        }
    }
    Ok((batch_id, ids))
}

/// A batch as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub sitting_id: i64,
    pub candidates: i64,
    pub created_by: String,
    pub created_at: i64,
    pub codes_cleared_at: Option<i64>,
    pub codes_cleared_by: Option<String>,
}

const BATCH_COLUMNS: &str =
    "id, sitting_id, candidates, created_by, created_at, codes_cleared_at, codes_cleared_by";

pub async fn batch(db: &Db, id: i64) -> Result<Option<Batch>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BATCH_COLUMNS} FROM registration_batches WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// A sitting's batches whose codes are still kept for handing out, newest first.
pub async fn batches_to_hand_out(db: &Db, sitting_id: i64) -> Result<Vec<Batch>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {BATCH_COLUMNS} FROM registration_batches
         WHERE sitting_id = $1 AND codes_cleared_at IS NULL ORDER BY id DESC"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?)
}

/// One candidate's access code as kept for handing out.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeToHandOut {
    pub registration_id: i64,
    pub name: String,
    pub email: String,
    pub level: String,
    pub sits_part_one: i64,
    pub sits_part_two: i64,
    pub code: String,
}

/// The batch's codes in clear, in the order they were registered; empty once handed out.
pub async fn codes(db: &Db, batch_id: i64) -> Result<Vec<CodeToHandOut>> {
    Ok(sqlx::query_as(
        "SELECT r.id AS registration_id, r.name, r.email, r.level, r.sits_part_one, r.sits_part_two, c.code
         FROM batch_codes c JOIN registrations r ON r.id = c.registration_id
         WHERE c.batch_id = $1 ORDER BY r.id",
    )
    .bind(batch_id)
    .fetch_all(&db.pool)
    .await?)
}

/// The registering staff member (or an administrator) has handed the codes out: the clear codes
/// are deleted, audited. False when they were deleted already.
pub async fn mark_handed_out(db: &Db, batch_id: i64, by: &str) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "UPDATE registration_batches SET codes_cleared_at = $1, codes_cleared_by = $2
         WHERE id = $3 AND codes_cleared_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(batch_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let deleted = sqlx::query("DELETE FROM batch_codes WHERE batch_id = $1")
        .bind(batch_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    audit::record_tx(
        &mut tx,
        by,
        super::audit::Action::CodesHandedOut,
        &format!(
            "batch {batch_id}: {deleted} access code(s) handed out; the clear codes are deleted"
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes every clear code of a sitting's batches (the sitting has closed); returns how many.
pub(super) async fn clear_sitting_codes(
    tx: &mut super::WriteTx,
    sitting_id: i64,
    now: i64,
) -> Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM batch_codes WHERE batch_id IN
            (SELECT id FROM registration_batches WHERE sitting_id = $1)",
    )
    .bind(sitting_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE registration_batches SET codes_cleared_at = $1, codes_cleared_by = 'system'
         WHERE sitting_id = $2 AND codes_cleared_at IS NULL",
    )
    .bind(now)
    .bind(sitting_id)
    .execute(&mut **tx)
    .await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_every_value() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
