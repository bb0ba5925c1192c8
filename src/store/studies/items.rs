//! A study's items: chosen once when the study is created (and numbered 1..n), read back with
//! their bodies as candidates and raters see them.

use crate::bank::{ItemBody, ItemKind, Status};

use super::{corrupt, CreateError, NewStudy, Source};
use crate::store::{Db, Result};

/// One item of a study, with its body: for a Part One item the stem, options, key and
/// rationale; for a Part Two question its prompt and rubric with anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyItem {
    pub position: u32,
    pub item_id: String,
    pub version: u32,
    /// 1 for a Part One item; the question's top score for Part Two.
    pub max_points: u32,
    pub domain: String,
    pub area: String,
    /// The vignette the item belongs to, if any (its newest text is shown with it).
    pub vignette: Option<String>,
    pub body: ItemBody,
}

type ItemRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
);

/// The study's items in position order, with their bodies, in one query.
pub async fn items(db: &Db, study_id: i64) -> Result<Vec<StudyItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT si.position, si.item_id, si.item_version, si.max_points, iv.domain, iv.area,
                iv.vignette_id, iv.content
         FROM study_items si
         JOIN item_versions iv ON iv.item_id = si.item_id AND iv.version = si.item_version
         WHERE si.study_id = $1 ORDER BY si.position",
    )
    .bind(study_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let bad = |what: &str| corrupt(format!("study {study_id} item {}: {what}", r.1));
            Ok(StudyItem {
                position: u32::try_from(r.0).map_err(|_| bad("position"))?,
                version: u32::try_from(r.2).map_err(|_| bad("version"))?,
                max_points: u32::try_from(r.3).map_err(|_| bad("max points"))?,
                body: serde_json::from_str(&r.7).map_err(|e| bad(&e.to_string()))?,
                item_id: r.1,
                domain: r.4,
                area: r.5,
                vignette: r.6,
            })
        })
        .collect()
}

/// How many items the study rates.
pub async fn item_count(db: &Db, study_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM study_items WHERE study_id = $1")
            .bind(study_id)
            .fetch_one(&db.pool)
            .await?,
    )
}

/// The newest text of a vignette: (title, text).
pub async fn vignette(db: &Db, vignette_id: &str) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT title, body FROM vignette_versions WHERE vignette_id = $1
         ORDER BY version DESC LIMIT 1",
    )
    .bind(vignette_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// The items a new study rates, as (item id, version, most points), in the order they will
/// be numbered.
pub(super) async fn select(
    db: &Db,
    new: &NewStudy<'_>,
) -> Result<Vec<(String, u32, u32)>, CreateError> {
    let bps = crate::store::bank::blueprints(db).await?;
    let bp = bps
        .iter()
        .find(|b| b.id == new.blueprint_id)
        .ok_or_else(|| CreateError::Blueprint(crate::auth::loggable(new.blueprint_id)))?;
    let chosen = match (new.part, new.source) {
        (1, Source::Pool) => {
            let pool = crate::store::bank::pool(db).await?;
            pool.operational(bp)
                .into_iter()
                .map(|i| (i.id.clone(), i.version, 1))
                .collect()
        }
        (1, Source::Form(reg)) => form_items(db, new, reg).await?,
        (2, Source::Questions) => {
            let pool = crate::store::bank::pool(db).await?;
            let mut out = Vec::new();
            let mut open: Vec<_> = pool
                .items
                .iter()
                .filter(|i| {
                    i.kind == ItemKind::Open
                        && i.status == Status::Operational
                        && i.levels.contains(&bp.level)
                })
                .collect();
            open.sort_by(|a, b| (&a.vignette, &a.id).cmp(&(&b.vignette, &b.id)));
            for i in open {
                let max = match crate::store::bank::item_version(db, &i.id, i.version)
                    .await?
                    .map(|s| s.body)
                {
                    Some(ItemBody::Open(o)) => o.max_score,
                    _ => continue,
                };
                if max >= 1 {
                    out.push((i.id.clone(), i.version, max));
                }
            }
            out
        }
        (2, _) => {
            return Err(CreateError::Source(
                "Part Two studies rate the blueprint's questions.".into(),
            ))
        }
        _ => {
            return Err(CreateError::Source(
                "Part One studies rate the operational pool or one candidate's form.".into(),
            ))
        }
    };
    if chosen.is_empty() {
        return Err(CreateError::Source(format!(
            "the bank has no operational {} for blueprint \"{}\".",
            if new.part == 1 { "items" } else { "questions" },
            bp.id
        )));
    }
    Ok(chosen)
}

/// The scored items of registration `reg`'s Part One form, in the order the candidate saw them.
async fn form_items(
    db: &Db,
    new: &NewStudy<'_>,
    reg: i64,
) -> Result<Vec<(String, u32, u32)>, CreateError> {
    let Some(sitting) = new.sitting_id else {
        return Err(CreateError::Sitting(
            "a study of one candidate's form needs the sitting the form was drawn for.".into(),
        ));
    };
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT g.sitting_id, g.blueprint_id, a.form FROM registrations g
         JOIN attempts a ON a.registration_id = g.id AND a.part = 1
         WHERE g.id = $1",
    )
    .bind(reg)
    .fetch_optional(&db.pool)
    .await?;
    let Some((in_sitting, bp, form)) = row else {
        return Err(CreateError::Source(format!(
            "registration {reg} has no Part One form."
        )));
    };
    if in_sitting != sitting || bp != new.blueprint_id {
        return Err(CreateError::Source(format!(
            "registration {reg} is not a {} candidate of sitting {sitting}.",
            new.blueprint_id
        )));
    }
    let form: crate::exam::form::Form = serde_json::from_str(&form)
        .map_err(|e| corrupt(format!("registration {reg}'s form: {e}")))?;
    Ok(form
        .part_one
        .into_iter()
        .filter(|e| e.scored)
        .map(|e| (e.item_id, e.version, 1))
        .collect())
}
