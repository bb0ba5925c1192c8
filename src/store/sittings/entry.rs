//! Candidates' entry with their access code: one browser at a time, its session, and when it was
//! last heard from.

use crate::auth;
use crate::store::{now_ms, users, Db, Result};

use super::events::log_event;
use super::registrations::registration_by_code;

/// What entering with an access code led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A new browser session for the registration: set this token as the cookie.
    Opened(String),
    /// This browser already holds the registration.
    Continue,
    Unknown,
    /// Another browser holds the registration; an incident was logged for the proctor.
    InUse,
}

/// A candidate enters with their code. One browser holds a registration at a time: a second
/// browser is refused (and the proctor told) until the proctor moves the attempt to it.
pub async fn enter(db: &Db, typed: &str, current_token: Option<&str>) -> Result<Entry> {
    let code = auth::normalise_access_code(typed);
    let code_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM access_codes WHERE code_hash = $1")
            .bind(auth::sha256_hex(&code))
            .fetch_optional(&db.pool)
            .await?;
    let Some(code_id) = code_id else {
        return Ok(Entry::Unknown);
    };
    let Some(reg) = registration_by_code(db, code_id).await? else {
        return Ok(Entry::Unknown);
    };
    let now = now_ms();
    if let Some(active) = &reg.active_session {
        if current_token.is_some_and(|t| auth::sha256_hex(t) == *active) {
            return Ok(Entry::Continue);
        }
        let alive: Option<i64> = sqlx::query_scalar(
            "SELECT expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(active)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
        if alive.is_some() {
            log_event(
                db,
                reg.sitting_id,
                Some(reg.id),
                "second-login",
                "the access code was entered in a second browser and refused",
                "system",
            )
            .await?;
            return Ok(Entry::InUse);
        }
    }
    let token = auth::random_token();
    let hash = auth::sha256_hex(&token);
    let mut tx = db.write().await?;
    // Conditional: of two browsers racing, one wins.
    let claimed = sqlx::query(
        "UPDATE registrations SET active_session = $1 WHERE id = $2 AND (active_session IS NULL OR active_session = $3)",
    )
    .bind(&hash)
    .bind(reg.id)
    .bind(reg.active_session.as_deref().unwrap_or(""))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(Entry::InUse);
    }
    if let Some(old) = &reg.active_session {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE access_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(code_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, access_code_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&hash)
    .bind(code_id)
    .bind(now)
    .bind(now + users::CANDIDATE_SESSION_MS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Entry::Opened(token))
}

/// Notes that the candidate's browser was heard from just now.
pub async fn touch(db: &Db, registration_id: i64) -> Result<()> {
    sqlx::query("UPDATE registrations SET last_seen_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(registration_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// When each registration of a sitting was last heard from, by registration id.
pub async fn last_seen(db: &Db, sitting_id: i64) -> Result<std::collections::BTreeMap<i64, i64>> {
    let rows: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, last_seen_at FROM registrations WHERE sitting_id = $1")
            .bind(sitting_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, t)| t.map(|t| (id, t)))
        .collect())
}

/// For a candidate's session (SHA-256 of its token): (registration id, the session that holds
/// the registration, blueprint id), in one query: the hot path of every save.
pub async fn candidate_for_session(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(i64, Option<String>, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.active_session, r.blueprint_id FROM sessions s
         JOIN registrations r ON r.access_code_id = s.access_code_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?)
}
