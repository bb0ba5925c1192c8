//! The audit log: who did what, when.

use super::{now_ms, Db, Result};

/// Every action the audit log records: one list, so a name cannot drift into two spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// a staff member signed in.
    Login,
    /// a staff account was created.
    UserAdd,
    /// a backup of the database was written.
    Backup,
    /// a sitting was scheduled.
    SittingCreate,
    /// a sitting's closing time passed.
    SittingClose,
    /// a proctor logged an incident.
    SittingIncident,
    /// a proctor paused every open attempt of a sitting.
    SittingPauseAll,
    /// a proctor resumed every attempt of a sitting.
    SittingResumeAll,
    /// a candidate was registered by form.
    RegistrationAdd,
    /// candidates were registered from a CSV file.
    RegistrationImport,
    /// an administrator let a retake skip the waiting period.
    RetakeOverride,
    /// a batch's access codes were marked handed out.
    CodesHandedOut,
    /// a proctor admitted a candidate.
    CandidateAdmit,
    /// a candidate was marked absent.
    CandidateAbsent,
    /// a proctor moved a candidate's exam to a new browser.
    MoveBrowser,
    /// a proctor paused an attempt.
    AttemptPause,
    /// a proctor resumed an attempt.
    AttemptResume,
    /// a proctor added time to an attempt.
    AttemptAddTime,
    /// a proctor voided an attempt.
    AttemptVoid,
    /// raters were assigned to a sitting's responses.
    AssignRaters,
    /// a rater was withdrawn.
    WithdrawRater,
    /// a validity response was seeded.
    SeedValidity,
    /// a rater declared a conflict of interest.
    RaterConflict,
    /// the committee edited a candidate's feedback.
    EditFeedback,
    /// a sitting's results were released.
    ReleaseResults,
    /// the committee computed and stored a sitting's results.
    ComputeResults,
    /// an item's key was changed and results rescored.
    KeyChange,
    /// the committee decided which Part One score a sitting's pass mark applies to, and its
    /// stored results were re-decided.
    PassOnChange,
    /// the committee calibrated a sitting's Part One (Rasch).
    Calibrate,
    /// a qualifying response was added to a sitting's qualifying set.
    SeedQualifying,
    /// a rater completed a qualifying set: their agreement and whether it met the standard.
    RaterQualification,
    /// the committee read behind a rater: confirmed or overrode their score.
    ReadBehind,
    /// a candidate's Part Two total lay near the cut: their responses get one more reading.
    NearCut,
    /// the committee adopted a blueprint part's pass mark (a standard-setting study's cut), and
    /// the stored results of its sittings not yet released were re-decided.
    PassMarkAdopt,
    /// the committee decided what an adopted pass mark does to a released sitting: re-decide
    /// its results, or leave them as released.
    PassMarkSitting,
    /// a standard-setting study was created.
    StudyCreate,
    /// a member was put on a study's panel.
    StudyPanelAdd,
    /// a member was taken off a study's panel.
    StudyPanelRemove,
    /// the description of a study's minimally competent candidate was edited.
    StudyMcc,
    /// a study's rating round was opened.
    StudyRoundOpen,
    /// a study's rating round was closed.
    StudyRoundClose,
    /// a study was finished.
    StudyFinish,
    /// a staff member turned on two-factor sign-in (their first code accepted).
    TwoFactorEnrol,
    /// a staff member signed in with one of their recovery codes.
    TwoFactorRecoveryUsed,
    /// a staff member made new recovery codes (the old ones no longer work).
    TwoFactorRecoveryCodes,
    /// an administrator removed a staff member's two-factor sign-in (whom, and why).
    TwoFactorReset,
    /// the committee downloaded a sitting's candidate comments.
    CommentsExport,
    /// a candidate appealed a part's result, with a reason.
    AppealRequest,
    /// the committee started an appeal's re-score: Part One recounted, or Part Two's blind
    /// re-readings assigned.
    AppealRescore,
    /// the committee decided an appeal with reasons; a changed result was stored for that
    /// candidate alone.
    AppealDecide,
    /// the committee downloaded a sitting's appeals and outcomes.
    AppealsExport,
}

impl Action {
    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::UserAdd => "user.add",
            Action::Backup => "backup",
            Action::SittingCreate => "sitting.create",
            Action::SittingClose => "sitting.close",
            Action::SittingIncident => "sitting.incident",
            Action::SittingPauseAll => "sitting.pause_all",
            Action::SittingResumeAll => "sitting.resume_all",
            Action::RegistrationAdd => "registration.add",
            Action::RegistrationImport => "registration.import",
            Action::RetakeOverride => "registration.retake_override",
            Action::CodesHandedOut => "registration.codes_handed_out",
            Action::CandidateAdmit => "candidate.admit",
            Action::CandidateAbsent => "candidate.absent",
            Action::MoveBrowser => "candidate.move_browser",
            Action::AttemptPause => "attempt.pause",
            Action::AttemptResume => "attempt.resume",
            Action::AttemptAddTime => "attempt.add_time",
            Action::AttemptVoid => "attempt.void",
            Action::AssignRaters => "assign-raters",
            Action::WithdrawRater => "withdraw-rater",
            Action::SeedValidity => "seed-validity",
            Action::RaterConflict => "rater-conflict",
            Action::EditFeedback => "edit-feedback",
            Action::ReleaseResults => "release-results",
            Action::ComputeResults => "compute-results",
            Action::KeyChange => "key-change",
            Action::PassOnChange => "pass-on-change",
            Action::Calibrate => "calibrate",
            Action::SeedQualifying => "seed-qualifying",
            Action::RaterQualification => "rater-qualification",
            Action::ReadBehind => "read-behind",
            Action::NearCut => "near-cut",
            Action::PassMarkAdopt => "pass-mark-adopt",
            Action::PassMarkSitting => "pass-mark-sitting",
            Action::StudyCreate => "study.create",
            Action::StudyPanelAdd => "study.panel_add",
            Action::StudyPanelRemove => "study.panel_remove",
            Action::StudyMcc => "study.mcc",
            Action::StudyRoundOpen => "study.round_open",
            Action::StudyRoundClose => "study.round_close",
            Action::StudyFinish => "study.finish",
            Action::TwoFactorEnrol => "two-factor.enrol",
            Action::TwoFactorRecoveryUsed => "two-factor.recovery_used",
            Action::TwoFactorRecoveryCodes => "two-factor.recovery_codes",
            Action::TwoFactorReset => "two-factor.reset",
            Action::CommentsExport => "comments.export",
            Action::AppealRequest => "appeal.request",
            Action::AppealRescore => "appeal.rescore",
            Action::AppealDecide => "appeal.decide",
            Action::AppealsExport => "appeals.export",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

pub async fn record(db: &Db, actor: &str, action: Action, detail: &str) -> Result<()> {
    let mut tx = db.write().await?;
    record_tx(&mut tx, actor, action, detail).await?;
    tx.commit().await
}

/// The same, inside a transaction, so the record stands or falls with what it records.
pub async fn record_tx(
    tx: &mut super::WriteTx,
    actor: &str,
    action: Action,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(now_ms())
        .bind(actor)
        .bind(action.as_str())
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as::<_, AuditEntry>(
        "SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}
