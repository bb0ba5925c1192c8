//! A study's changes of state, each audited in its own transaction: its panel, the description
//! of the minimally competent candidate, its rounds and its end.

use super::{study, Study};
use crate::auth::Role;
use crate::store::audit::{self, Action};
use crate::store::{now_ms, Db, StoreError};

/// Why a panel or round change was refused; each is a sentence for the page.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("there is no study {0}")]
    NoStudy(i64),
    #[error("Username: there is no staff account \"{0}\".")]
    NoUser(String),
    #[error("Username: \"{0}\" is a {1}; a panel is of panelists and committee members.")]
    NotPanelRole(String, &'static str),
    #[error("Username: \"{0}\" is on the panel already.")]
    OnPanel(String),
    #[error("the study is finished")]
    Finished,
    #[error("{0}")]
    Round(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        ChangeError::Store(e.into())
    }
}

async fn existing(db: &Db, id: i64) -> Result<Study, ChangeError> {
    let s = study(db, id).await?.ok_or(ChangeError::NoStudy(id))?;
    if s.finished_at.is_some() {
        return Err(ChangeError::Finished);
    }
    Ok(s)
}

/// Puts `username` (a panelist or a committee member) on the study's panel, audited.
pub async fn add_panelist(db: &Db, id: i64, username: &str, by: &str) -> Result<(), ChangeError> {
    existing(db, id).await?;
    let user = crate::store::users::user_by_username(db, username)
        .await?
        .ok_or_else(|| ChangeError::NoUser(crate::auth::loggable(username.trim())))?;
    if !matches!(user.role, Role::Panelist | Role::Committee) {
        return Err(ChangeError::NotPanelRole(user.username, user.role.title()));
    }
    let mut tx = db.write().await?;
    let res = sqlx::query(
        "INSERT INTO study_panel (study_id, username, added_by, added_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(&user.username)
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match res {
        Err(e) if crate::store::is_unique_violation(&e) => {
            return Err(ChangeError::OnPanel(user.username))
        }
        other => other?,
    };
    audit::record_tx(
        &mut tx,
        by,
        Action::StudyPanelAdd,
        &format!("study {id}: {}", user.username),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `username` off the panel, audited; their ratings are kept but no longer count (the
/// panel's matrix is of its members). Returns whether they were on it.
pub async fn remove_panelist(
    db: &Db,
    id: i64,
    username: &str,
    by: &str,
) -> Result<bool, ChangeError> {
    existing(db, id).await?;
    let mut tx = db.write().await?;
    let n = sqlx::query("DELETE FROM study_panel WHERE study_id = $1 AND username = $2")
        .bind(id)
        .bind(username)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n > 0 {
        audit::record_tx(
            &mut tx,
            by,
            Action::StudyPanelRemove,
            &format!("study {id}: {username}"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// Rewrites the description of the minimally competent candidate, audited.
pub async fn set_mcc(db: &Db, id: i64, text: &str, by: &str) -> Result<(), ChangeError> {
    existing(db, id).await?;
    let mut tx = db.write().await?;
    sqlx::query("UPDATE studies SET mcc = $1 WHERE id = $2")
        .bind(text.trim())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record_tx(
        &mut tx,
        by,
        Action::StudyMcc,
        &format!("study {id}: {} characters", text.trim().chars().count()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Opens the next round (the first from "not started"), audited; returns its number. Refused
/// while a round is open or when every planned round has been held.
pub async fn open_round(db: &Db, id: i64, by: &str) -> Result<u32, ChangeError> {
    let s = existing(db, id).await?;
    if s.round_open {
        return Err(ChangeError::Round(format!(
            "round {} is open already",
            s.round
        )));
    }
    if s.round >= s.rounds_planned {
        return Err(ChangeError::Round(format!(
            "all {} planned rounds have been held",
            s.rounds_planned
        )));
    }
    let next = s.round + 1;
    round_change(db, id, next, true, by, Action::StudyRoundOpen).await?;
    Ok(next)
}

/// Closes the open round, audited; returns its number.
pub async fn close_round(db: &Db, id: i64, by: &str) -> Result<u32, ChangeError> {
    let s = existing(db, id).await?;
    if !s.round_open {
        return Err(ChangeError::Round("no round is open".into()));
    }
    round_change(db, id, s.round, false, by, Action::StudyRoundClose).await?;
    Ok(s.round)
}

async fn round_change(
    db: &Db,
    id: i64,
    round: u32,
    open: bool,
    by: &str,
    action: Action,
) -> Result<(), ChangeError> {
    let mut tx = db.write().await?;
    // Only from the state read: a second facilitator's click in between changes nothing.
    let n = sqlx::query(
        "UPDATE studies SET round = $1, round_open = $2
         WHERE id = $3 AND finished_at IS NULL AND round_open = $4 AND round = $5",
    )
    .bind(i64::from(round))
    .bind(i64::from(open))
    .bind(id)
    .bind(i64::from(!open))
    .bind(i64::from(if open { round - 1 } else { round }))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(ChangeError::Round(
            "the study changed meanwhile; reload the page".into(),
        ));
    }
    audit::record_tx(&mut tx, by, action, &format!("study {id}: round {round}")).await?;
    tx.commit().await?;
    Ok(())
}

/// Finishes the study (no round open, at least one held), audited.
pub async fn finish(db: &Db, id: i64, by: &str) -> Result<(), ChangeError> {
    let s = existing(db, id).await?;
    if s.round_open {
        return Err(ChangeError::Round(format!(
            "close round {} before finishing",
            s.round
        )));
    }
    if s.round == 0 {
        return Err(ChangeError::Round("no round has been held".into()));
    }
    let mut tx = db.write().await?;
    sqlx::query("UPDATE studies SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record_tx(
        &mut tx,
        by,
        Action::StudyFinish,
        &format!("study {id}: after round {}", s.round),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
