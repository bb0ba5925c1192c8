//! Two-factor sign-in's storage: each person's sealed TOTP secret and the last step accepted,
//! their recovery codes (hashes only), and sign-ins waiting for their second step. Every change
//! that matters is audited in its own transaction.

use std::collections::BTreeSet;

use crate::auth;
use crate::two_factor::Sealed;

use super::audit::{self, Action};
use super::users::{self, User};
use super::{now_ms, Db, Result};

/// How long a sign-in may wait between the password and the second step: long enough to find
/// the phone, or to set up an app when the role requires it.
pub const PENDING_MS: i64 = 15 * 60 * 1000;

/// A person's two-factor record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactor {
    pub sealed: Sealed,
    pub created_at: i64,
    /// When the first code was accepted; `None` while enrolment waits for it.
    pub enabled_at: Option<i64>,
    /// The last time step a code was accepted for.
    pub last_step: Option<i64>,
}

impl TwoFactor {
    pub fn enabled(&self) -> bool {
        self.enabled_at.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    secret_sealed: String,
    created_at: i64,
    enabled_at: Option<i64>,
    last_step: Option<i64>,
}

impl From<Row> for TwoFactor {
    fn from(r: Row) -> Self {
        TwoFactor {
            sealed: Sealed(r.secret_sealed),
            created_at: r.created_at,
            enabled_at: r.enabled_at,
            last_step: r.last_step,
        }
    }
}

/// `user_id`'s record, enabled or waiting for its first code.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Option<TwoFactor>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT secret_sealed, created_at, enabled_at, last_step FROM two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(TwoFactor::from))
}

/// The ids of everyone whose two-factor sign-in is on.
pub async fn enabled_users(db: &Db) -> Result<BTreeSet<i64>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT user_id FROM two_factor WHERE enabled_at IS NOT NULL")
            .fetch_all(&db.pool)
            .await?;
    Ok(ids.into_iter().collect())
}

/// Starts enrolment with `sealed` unless a record exists already (enabled, or waiting: the
/// secret shown before is shown again, so a reloaded page keeps the QR code already scanned);
/// returns the record that stands.
pub async fn begin_enrolment(db: &Db, user_id: i64, sealed: &Sealed) -> Result<TwoFactor> {
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO two_factor (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(&sealed.0)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let row: Row = sqlx::query_as(
        "SELECT secret_sealed, created_at, enabled_at, last_step FROM two_factor WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Turns two-factor sign-in on for `user` with the secret `sealed` (the one their first code
/// was checked against), at time step `step`, with new recovery codes (their hashes). False
/// when there is nothing to turn on: already on, reset meanwhile, or another secret.
pub async fn confirm_enrolment(
    db: &Db,
    user: &User,
    sealed: &Sealed,
    step: i64,
    recovery_hashes: &[String],
) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.write().await?;
    let changed = sqlx::query(
        "UPDATE two_factor SET enabled_at = $1, last_step = $2
         WHERE user_id = $3 AND secret_sealed = $4 AND enabled_at IS NULL",
    )
    .bind(now)
    .bind(step)
    .bind(user.id)
    .bind(&sealed.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    insert_recovery_codes(&mut tx, user.id, recovery_hashes, now).await?;
    audit::record_tx(&mut tx, &user.username, Action::TwoFactorEnrol, "").await?;
    tx.commit().await?;
    Ok(true)
}

async fn insert_recovery_codes(
    tx: &mut super::WriteTx,
    user_id: i64,
    hashes: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records that a code for `step` was accepted, if no code for that step or a later one was
/// before: one statement, so two servers given the same code at once accept it once.
pub async fn accept_step(db: &Db, user_id: i64, step: i64) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE two_factor SET last_step = $1
         WHERE user_id = $2 AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $1)",
    )
    .bind(step)
    .bind(user_id)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Uses up `user`'s recovery code with hash `hash`, if it is theirs and unused (audited).
pub async fn use_recovery_code(db: &Db, user: &User, hash: &str) -> Result<bool> {
    let mut tx = db.write().await?;
    let changed = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now_ms())
    .bind(user.id)
    .bind(hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    let left = unused_codes(&mut tx, user.id).await?;
    audit::record_tx(
        &mut tx,
        &user.username,
        Action::TwoFactorRecoveryUsed,
        &format!("{left} left"),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn unused_codes(tx: &mut super::WriteTx, user_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// How many of `user_id`'s recovery codes are still unused.
pub async fn recovery_codes_left(db: &Db, user_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?)
}

/// Replaces `user`'s recovery codes with new ones (their hashes), if their two-factor sign-in
/// is on; audited.
pub async fn replace_recovery_codes(db: &Db, user: &User, hashes: &[String]) -> Result<bool> {
    let mut tx = db.write().await?;
    let on: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL",
    )
    .bind(user.id)
    .fetch_optional(&mut *tx)
    .await?;
    if on.is_none() {
        return Ok(false);
    }
    insert_recovery_codes(&mut tx, user.id, hashes, now_ms()).await?;
    audit::record_tx(
        &mut tx,
        &user.username,
        Action::TwoFactorRecoveryCodes,
        &format!("{} new codes", hashes.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Removes `target`'s two-factor sign-in (secret and recovery codes) and ends their sessions
/// and half-done sign-ins, recorded as done by `actor` for `reason`. False when they had none.
pub async fn reset(db: &Db, actor: &str, target: &User, reason: &str) -> Result<bool> {
    let mut tx = db.write().await?;
    let removed = sqlx::query("DELETE FROM two_factor WHERE user_id = $1")
        .bind(target.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Ok(false);
    }
    for table in ["recovery_codes", "sessions", "pending_sign_ins"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(target.id)
            .execute(&mut *tx)
            .await?;
    }
    audit::record_tx(
        &mut tx,
        actor,
        Action::TwoFactorReset,
        &format!("{}: {}", target.username, reason),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A sign-in whose password was right, waiting for its second step.
#[derive(Debug, Clone)]
pub struct Pending {
    pub user: User,
    /// Where to go once signed in (a path on this site, checked when the password was).
    pub next: String,
}

/// Opens a half-done sign-in for `user_id`; returns its token, for a cookie. Expired ones are
/// deleted on the way.
pub async fn open_pending(db: &Db, user_id: i64, next: &str) -> Result<String> {
    let token = auth::random_token();
    let now = now_ms();
    let mut tx = db.write().await?;
    sqlx::query("DELETE FROM pending_sign_ins WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO pending_sign_ins (token_hash, user_id, next, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(auth::sha256_hex(&token))
    .bind(user_id)
    .bind(next)
    .bind(now)
    .bind(now + PENDING_MS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The half-done sign-in behind `token`, if it has not expired and its account is not disabled.
pub async fn pending(db: &Db, token: &str) -> Result<Option<Pending>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT user_id, next FROM pending_sign_ins WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(auth::sha256_hex(token))
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    let Some((user_id, next)) = row else {
        return Ok(None);
    };
    Ok(users::user_by_id(db, user_id)
        .await?
        .filter(|u| !u.disabled)
        .map(|user| Pending { user, next }))
}

pub async fn close_pending(db: &Db, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM pending_sign_ins WHERE token_hash = $1")
        .bind(auth::sha256_hex(token))
        .execute(&db.writer)
        .await?;
    Ok(())
}
