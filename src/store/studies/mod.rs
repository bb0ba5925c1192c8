//! Standard-setting studies (issue 14): a panel of subject-matter experts rates a blueprint's
//! Part One items or Part Two questions over rounds (modified Angoff, or yes/no), and gives
//! Hofstee bounds; the committee reads the results and adopts a pass mark.
//!
//! A study moves through rounds: round 0 (not started), then round 1 open, closed, round 2
//! open, closed, ... up to `rounds_planned`, then finished. Ratings, Hofstee bounds and item
//! views are append-only rows; a panelist's current rating of an item in a round is their
//! newest row in that round, or (from round 2) their current rating of the round before when
//! they left it unchanged. Ratings are blind while a round is open: only counts are given out
//! (`progress`), and the panel's values only for closed rounds (`round_ratings`).
//!
//! Every state change is written to the audit log in its own transaction.

mod changes;
mod items;
mod observed;
mod ratings;
pub mod scale;
mod schema;

pub use changes::{
    add_panelist, close_round, finish, open_round, remove_panelist, set_mcc, ChangeError,
};
pub use items::{item_count, items, vignette, StudyItem};
pub use observed::{observed, CandidateScore, ItemObserved, Observed};
pub use ratings::{
    hofstee_of, hofstee_save, log_view, my_hofstee, my_ratings, progress, rate, rating_history,
    round_ratings, views_of, HofsteeSaveError, MatrixError, MyRating, Progress, RateError,
    RatingRow, RoundMatrix, View,
};
pub use scale::{HofsteePercent, Scale, Spread};
pub(crate) use schema::admit_panelists;

use super::audit::{self, Action};
use super::{now_ms, Db, Result, StoreError};

/// How the panel rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Modified Angoff: a probability (Part One) or expected points (Part Two).
    Angoff,
    /// Yes/No: would a minimally competent candidate answer correctly (Part One only).
    YesNo,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Angoff => "angoff",
            Method::YesNo => "yesno",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Method::Angoff => "Modified Angoff",
            Method::YesNo => "Yes/No",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        match s.trim() {
            "angoff" => Some(Method::Angoff),
            "yesno" => Some(Method::YesNo),
            _ => None,
        }
    }
}

/// Where a study's items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Part One: the blueprint's operational pool (every item a form may draw as scored).
    Pool,
    /// Part One: the scored items of one candidate's form in the study's sitting, by
    /// registration id.
    Form(i64),
    /// Part Two: every operational open question eligible at the blueprint's level.
    Questions,
}

impl Source {
    fn code(self) -> &'static str {
        match self {
            Source::Pool => "pool",
            Source::Form(_) => "form",
            Source::Questions => "questions",
        }
    }
}

/// One study, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Study {
    pub id: i64,
    pub name: String,
    pub blueprint_id: String,
    /// 1 or 2.
    pub part: u8,
    pub method: Method,
    pub sitting_id: Option<i64>,
    pub source: Source,
    /// The minimally competent candidate, as written for the panel.
    pub mcc: String,
    pub rounds_planned: u32,
    /// 0 before the first round opens.
    pub round: u32,
    pub round_open: bool,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl Study {
    /// The scale an item of this study with at most `max_points` is rated on.
    pub fn scale(&self, max_points: u32) -> Scale {
        match (self.part, self.method) {
            (1, Method::YesNo) => Scale::YesNo,
            (1, _) => Scale::Probability,
            _ => Scale::Points { max: max_points },
        }
    }

    /// The open round, if one is.
    pub fn open_round(&self) -> Option<u32> {
        (self.round_open && self.round >= 1).then_some(self.round)
    }

    /// The newest closed round (whose ratings may be shown), if any.
    pub fn last_closed_round(&self) -> Option<u32> {
        let r = if self.round_open {
            self.round.saturating_sub(1)
        } else {
            self.round
        };
        (r >= 1).then_some(r)
    }

    /// Whether the open round is the last one planned (when Hofstee bounds are asked for).
    pub fn final_round_open(&self) -> bool {
        self.round_open && self.round >= self.rounds_planned
    }

    /// A line saying where the study stands.
    pub fn state(&self) -> String {
        if self.finished_at.is_some() {
            "Finished".into()
        } else if self.round == 0 {
            "Not started".into()
        } else if self.round_open {
            format!("Round {} of {} open", self.round, self.rounds_planned)
        } else {
            format!("Round {} of {} closed", self.round, self.rounds_planned)
        }
    }
}

type StudyRow = (
    i64,
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
    Option<i64>,
    String,
    i64,
    i64,
    i64,
    String,
    i64,
    Option<i64>,
);

const STUDY_COLUMNS: &str = "s.id, s.name, s.blueprint_id, s.part, s.method, s.sitting_id, \
     s.items_source, s.source_registration, s.mcc, s.rounds_planned, s.round, s.round_open, \
     s.created_by, s.created_at, s.finished_at";

fn corrupt(what: String) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Decode(what.into()))
}

fn study_from_row(r: StudyRow) -> Result<Study> {
    let id = r.0;
    let bad = |what: &str| corrupt(format!("study {id}: {what}"));
    let source = match (r.6.as_str(), r.7) {
        ("pool", _) => Source::Pool,
        ("form", Some(reg)) => Source::Form(reg),
        ("questions", _) => Source::Questions,
        (other, _) => return Err(bad(&format!("items source \"{other}\""))),
    };
    Ok(Study {
        id,
        name: r.1,
        blueprint_id: r.2,
        part: u8::try_from(r.3)
            .ok()
            .filter(|p| matches!(p, 1 | 2))
            .ok_or_else(|| bad("part"))?,
        method: Method::parse(&r.4).ok_or_else(|| bad("method"))?,
        sitting_id: r.5,
        source,
        mcc: r.8,
        rounds_planned: u32::try_from(r.9).map_err(|_| bad("rounds planned"))?,
        round: u32::try_from(r.10).map_err(|_| bad("round"))?,
        round_open: r.11 != 0,
        created_by: r.12,
        created_at: r.13,
        finished_at: r.14,
    })
}

/// A study to create.
#[derive(Debug, Clone)]
pub struct NewStudy<'a> {
    pub name: &'a str,
    pub blueprint_id: &'a str,
    pub part: u8,
    pub method: Method,
    pub sitting_id: Option<i64>,
    pub source: Source,
    pub rounds_planned: u32,
}

/// Why a study cannot be created; each names the form field at fault (`field`).
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("Name: give the study a name.")]
    Name,
    #[error("Blueprint: there is no blueprint \"{0}\".")]
    Blueprint(String),
    #[error("Part: a study rates Part 1 or Part 2.")]
    Part,
    #[error("Method: yes/no ratings are for Part One items only.")]
    Method,
    #[error("Sitting: {0}")]
    Sitting(String),
    #[error("Items: {0}")]
    Source(String),
    #[error("Rounds: plan 1 to 5 rounds.")]
    Rounds,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CreateError {
    fn from(e: sqlx::Error) -> Self {
        CreateError::Store(e.into())
    }
}

impl CreateError {
    /// The form field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            CreateError::Name => "name",
            CreateError::Blueprint(_) => "blueprint",
            CreateError::Part => "part",
            CreateError::Method => "method",
            CreateError::Sitting(_) => "sitting",
            CreateError::Source(_) | CreateError::Store(_) => "source",
            CreateError::Rounds => "rounds",
        }
    }
}

/// Creates a study with its items (in the order `items::select` gives them), audited.
pub async fn create(db: &Db, new: &NewStudy<'_>, by: &str) -> Result<i64, CreateError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(CreateError::Name);
    }
    if !matches!(new.part, 1 | 2) {
        return Err(CreateError::Part);
    }
    if new.part == 2 && new.method == Method::YesNo {
        return Err(CreateError::Method);
    }
    if !(1..=5).contains(&new.rounds_planned) {
        return Err(CreateError::Rounds);
    }
    if let Some(sitting) = new.sitting_id {
        let s = super::sittings::sitting(db, sitting).await?;
        match s {
            None => {
                return Err(CreateError::Sitting(format!(
                    "there is no sitting {sitting}."
                )))
            }
            Some(s) if !s.blueprints.iter().any(|b| b == new.blueprint_id) => {
                return Err(CreateError::Sitting(format!(
                    "sitting {sitting} does not offer blueprint \"{}\".",
                    new.blueprint_id
                )))
            }
            Some(_) => {}
        }
    }
    let chosen = items::select(db, new).await?;
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO studies (name, blueprint_id, part, method, sitting_id, items_source,
             source_registration, rounds_planned, created_by, created_at)
         VALUES ($1, $2, $3, $4, CAST($5 AS BIGINT), $6, CAST($7 AS BIGINT), $8, $9, $10)
         RETURNING id",
    )
    .bind(name)
    .bind(new.blueprint_id)
    .bind(i64::from(new.part))
    .bind(new.method.code())
    // Nullable numbers go as text, cast in the statement (the Any driver's typed NULL).
    .bind(new.sitting_id.map(|s| s.to_string()))
    .bind(new.source.code())
    .bind(match new.source {
        Source::Form(reg) => Some(reg.to_string()),
        _ => None,
    })
    .bind(i64::from(new.rounds_planned))
    .bind(by)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    for (i, (item, version, max)) in chosen.iter().enumerate() {
        sqlx::query(
            "INSERT INTO study_items (study_id, position, item_id, item_version, max_points)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(item)
        .bind(i64::from(*version))
        .bind(i64::from(*max))
        .execute(&mut *tx)
        .await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        Action::StudyCreate,
        &format!(
            "study {id} \"{name}\": {} Part {} {} items, {}",
            new.blueprint_id,
            new.part,
            chosen.len(),
            new.method.code()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn study(db: &Db, id: i64) -> Result<Option<Study>> {
    let row: Option<StudyRow> = sqlx::query_as(&format!(
        "SELECT {STUDY_COLUMNS} FROM studies s WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(study_from_row).transpose()
}

/// Every study, newest first.
pub async fn list(db: &Db) -> Result<Vec<Study>> {
    let rows: Vec<StudyRow> = sqlx::query_as(&format!(
        "SELECT {STUDY_COLUMNS} FROM studies s ORDER BY s.id DESC"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(study_from_row).collect()
}

/// The studies whose panel `username` sits on, newest first.
pub async fn for_panelist(db: &Db, username: &str) -> Result<Vec<Study>> {
    let rows: Vec<StudyRow> = sqlx::query_as(&format!(
        "SELECT {STUDY_COLUMNS} FROM studies s
         JOIN study_panel p ON p.study_id = s.id AND p.username = $1
         ORDER BY s.id DESC"
    ))
    .bind(username)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(study_from_row).collect()
}

/// Study `id` if `username` sits on its panel; `None` otherwise (the pages answer 404, so a
/// panelist learns nothing of a study they are not on).
pub async fn panel_study(db: &Db, id: i64, username: &str) -> Result<Option<Study>> {
    let row: Option<StudyRow> = sqlx::query_as(&format!(
        "SELECT {STUDY_COLUMNS} FROM studies s
         JOIN study_panel p ON p.study_id = s.id AND p.username = $2
         WHERE s.id = $1"
    ))
    .bind(id)
    .bind(username)
    .fetch_optional(&db.pool)
    .await?;
    row.map(study_from_row).transpose()
}

/// One member of a study's panel.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub username: String,
    pub display_name: String,
    pub added_by: String,
    pub added_at: i64,
}

/// A study's panel, by username.
pub async fn panel(db: &Db, id: i64) -> Result<Vec<Member>> {
    Ok(sqlx::query_as(
        "SELECT p.username, COALESCE(u.display_name, p.username) AS display_name, p.added_by, p.added_at
         FROM study_panel p LEFT JOIN users u ON u.username = p.username
         WHERE p.study_id = $1 ORDER BY p.username",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?)
}
