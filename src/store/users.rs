//! Staff accounts, candidates' access codes and browser sessions.

use crate::auth::{self, Role, Username};

use super::{is_unique_violation, now_ms, Db, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub organisation: String,
    pub password_hash: String,
    pub disabled: bool,
}

type UserRow = (i64, String, String, String, String, String, i64);

fn user_from_row(r: UserRow) -> Result<User> {
    let role =
        r.3.parse::<Role>()
            .map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
    Ok(User {
        id: r.0,
        username: r.1,
        display_name: r.2,
        role,
        organisation: r.4,
        password_hash: r.5,
        disabled: r.6 != 0,
    })
}

const USER_COLUMNS: &str =
    "id, username, display_name, role, organisation, password_hash, disabled";

#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a user named \"{0}\" already exists")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AddUserError {
    fn from(e: sqlx::Error) -> Self {
        AddUserError::Store(StoreError::Sqlx(e))
    }
}

pub struct NewUser<'a> {
    pub username: &'a Username,
    pub display_name: &'a str,
    pub role: Role,
    pub organisation: &'a str,
    pub password: &'a str,
    /// Who adds the account (for the audit record, written in the same transaction).
    pub added_by: &'a str,
}

pub async fn add_user(db: &Db, new: NewUser<'_>) -> Result<i64, AddUserError> {
    let hash = auth::hash_password(new.password);
    let mut tx = db.write().await?;
    let res = sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (username, display_name, role, organisation, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(new.username.as_str())
    .bind(new.display_name)
    .bind(new.role.code())
    .bind(new.organisation)
    .bind(hash)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await;
    let id = match res {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AddUserError::Exists(new.username.as_str().into()))
        }
        Err(e) => return Err(e.into()),
    };
    super::audit::record_tx(
        &mut tx,
        new.added_by,
        super::audit::Action::UserAdd,
        &format!("{} as {}", new.username.as_str(), new.role),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_password(db: &Db, user_id: i64, password: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(auth::hash_password(password))
        .bind(user_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

pub async fn user_by_username(db: &Db, username: &str) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
    ))
    .bind(username.trim().to_ascii_lowercase())
    .fetch_optional(&db.pool)
    .await?;
    row.map(user_from_row).transpose()
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>> {
    let row: Option<UserRow> =
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(user_from_row).transpose()
}

pub async fn list_users(db: &Db) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY role, username"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(user_from_row).collect()
}

/// Checks a login. `None` for an unknown user, a wrong password or a disabled account alike.
/// For the command line and tests: the web's sign-in goes through `web::limits`, which bounds
/// how many of these argon2 checks run at once.
pub async fn authenticate(db: &Db, username: &str, password: &str) -> Result<Option<User>> {
    let user = user_by_username(db, username).await?;
    let hash = user.as_ref().map_or_else(
        || auth::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    Ok(user.filter(|u| ok && !u.disabled))
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Staff(User),
    Candidate { access_code_id: i64, label: String },
}

/// How long a session lasts: a working day for staff, longer than any sitting for candidates.
pub const STAFF_SESSION_MS: i64 = 12 * 60 * 60 * 1000;
pub const CANDIDATE_SESSION_MS: i64 = 8 * 60 * 60 * 1000;

/// Opens a session for a staff member and returns its token (for the cookie).
pub async fn open_staff_session(db: &Db, user: &User) -> Result<String> {
    let token = auth::random_token();
    let now = now_ms();
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(auth::sha256_hex(&token))
    .bind(user.id)
    .bind(now)
    .bind(now + STAFF_SESSION_MS)
    .execute(&mut *tx)
    .await?;
    super::audit::record_tx(&mut tx, &user.username, super::audit::Action::Login, "").await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn close_session(db: &Db, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(auth::sha256_hex(token))
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The principal behind a session token, if the session exists and has not expired.
pub async fn session_principal(db: &Db, token: &str) -> Result<Option<Principal>> {
    let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT user_id, access_code_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(auth::sha256_hex(token))
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some((Some(user_id), _)) => {
            let row: Option<UserRow> =
                sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(user_id)
                    .fetch_optional(&db.pool)
                    .await?;
            Ok(row
                .map(user_from_row)
                .transpose()?
                .filter(|u| !u.disabled)
                .map(Principal::Staff))
        }
        Some((None, Some(code_id))) => {
            let label: Option<String> =
                sqlx::query_scalar("SELECT label FROM access_codes WHERE id = $1")
                    .bind(code_id)
                    .fetch_optional(&db.pool)
                    .await?;
            Ok(label.map(|label| Principal::Candidate {
                access_code_id: code_id,
                label,
            }))
        }
        _ => Ok(None),
    }
}

pub async fn purge_expired_sessions(db: &Db) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_ms())
        .execute(&db.writer)
        .await?
        .rows_affected())
}

/// Failed sign-ins one client may make at one account within `LOGIN_WINDOW_MS` before that
/// client must wait to try that account again.
pub const LOGIN_ATTEMPTS: i64 = 5;
/// Failed sign-ins one client may make at any accounts within the window before it must wait.
pub const LOGIN_CLIENT_ATTEMPTS: i64 = 20;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The account as failures key it: never the name as typed, which may be a password.
fn account_key(username: &Username) -> String {
    auth::sha256_hex(username.as_str())
}

/// The `n`th most recent failure in the window (1 = the latest) by `client`, at `account` or,
/// without one, at any account.
async fn nth_failure(
    db: &Db,
    client: &str,
    account: Option<&str>,
    n: i64,
    since: i64,
) -> Result<Option<i64>> {
    let filter = if account.is_some() {
        " AND account = $3"
    } else {
        ""
    };
    let sql = format!(
        "SELECT at FROM login_failures WHERE client = $1 AND at > $2{filter}
         ORDER BY at DESC LIMIT 1 OFFSET {}",
        n - 1
    );
    let mut query = sqlx::query_scalar(&sql).bind(client).bind(since);
    if let Some(account) = account {
        query = query.bind(account);
    }
    Ok(query.fetch_optional(&db.pool).await?)
}

/// When `client` may next try to sign in as `username`, if it has failed too often lately:
/// at that account, or at accounts overall. Other clients are not affected.
pub async fn login_backoff(
    db: &Db,
    client: &str,
    username: &Username,
    now: i64,
) -> Result<Option<i64>> {
    let since = now - LOGIN_WINDOW_MS;
    let account = account_key(username);
    let at_account = nth_failure(db, client, Some(&account), LOGIN_ATTEMPTS, since).await?;
    let at_any = nth_failure(db, client, None, LOGIN_CLIENT_ATTEMPTS, since).await?;
    Ok(at_account
        .into_iter()
        .chain(at_any)
        .max()
        .map(|at| at + LOGIN_WINDOW_MS))
}

/// How often a server deletes the failures past their window: they count no more once old
/// (every read filters by time), so the purge only bounds the table.
const PURGE_EVERY_MS: i64 = 60_000;

/// Records a failed sign-in, and (at most once a minute) deletes failures too old to count,
/// in one transaction: a flood of bad sign-ins costs the writer one commit each, not two, so
/// the candidates' saves queued behind it wait less.
pub async fn record_login_failure(
    db: &Db,
    client: &str,
    username: &Username,
    now: i64,
) -> Result<()> {
    use std::sync::atomic::Ordering;
    let last = db.failures_purged_at.load(Ordering::Relaxed);
    let purge = now - last >= PURGE_EVERY_MS
        && db
            .failures_purged_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
    let mut tx = db.write().await?;
    if purge {
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(now - LOGIN_WINDOW_MS)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO login_failures (client, account, at) VALUES ($1, $2, $3)")
        .bind(client)
        .bind(account_key(username))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A successful sign-in forgets this client's failures at that account.
pub async fn clear_login_failures(db: &Db, client: &str, username: &Username) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE client = $1 AND account = $2")
        .bind(client)
        .bind(account_key(username))
        .execute(&db.writer)
        .await?;
    Ok(())
}
