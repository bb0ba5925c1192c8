//! Importing the item bank: every version ever imported is kept, content under a version is
//! immutable (its hash guards it), status and levels may change, and a second import of the
//! same bank writes nothing.

mod lint;
pub use lint::{latest_lint, StoredLint};

use std::collections::BTreeSet;

use crate::bank::hash::{item_hash, vignette_hash};
use crate::bank::{levels_to_string, parse_levels, Bank, ItemBody, Level, Status};

use super::{now_ms, Db, Result, StoreError};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub new_items: usize,
    pub new_item_versions: usize,
    pub new_vignettes: usize,
    pub new_vignette_versions: usize,
    pub new_documents: usize,
    /// Status or levels changes of an existing version, one line each.
    pub changes: Vec<String>,
    pub unchanged: usize,
}

impl ImportReport {
    pub fn changed_anything(&self) -> bool {
        self.new_items
            + self.new_item_versions
            + self.new_vignettes
            + self.new_vignette_versions
            + self.new_documents
            + self.changes.len()
            > 0
    }

    pub fn summary(&self) -> String {
        format!(
            "{} new items, {} new item versions, {} new vignettes, {} new vignette versions, {} new bank documents, {} status/level changes, {} unchanged",
            self.new_items,
            self.new_item_versions,
            self.new_vignettes,
            self.new_vignette_versions,
            self.new_documents,
            self.changes.len(),
            self.unchanged
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Versions whose content changed without a version bump; nothing was imported.
    #[error("import refused, nothing was imported:\n{}", .0.join("\n"))]
    Refused(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(StoreError::Sqlx(e))
    }
}

/// The bank's TOML documents, by kind and name, with their text.
pub struct Document<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub text: &'a str,
}

/// Imports a checked bank in one transaction. `documents` are the bank's TOML files, kept as
/// text so a blueprint as it was on the day of a sitting can always be read back.
pub async fn import(
    db: &Db,
    bank: &Bank,
    documents: &[Document<'_>],
    source: &str,
    by: &str,
) -> Result<ImportReport, ImportError> {
    let now = now_ms();
    let mut report = ImportReport::default();
    let mut refused = Vec::new();
    let mut changes: Vec<(String, String, u32, String)> = Vec::new();
    let mut tx = db.write().await?;

    for v in &bank.vignettes {
        let hash = vignette_hash(v);
        let existing: Option<(String, String, String)> = sqlx::query_as(
            "SELECT content_hash, status, levels FROM vignette_versions WHERE vignette_id = $1 AND version = $2",
        )
        .bind(&v.id)
        .bind(i64::from(v.version))
        .fetch_optional(&mut *tx)
        .await?;
        let levels = levels_to_string(&v.levels);
        match existing {
            None => {
                let known = exists(&mut tx, "vignette_versions", "vignette_id", &v.id).await?;
                sqlx::query(
                    "INSERT INTO vignette_versions (vignette_id, version, content_hash, kind, title, body, levels, status, source_path, imported_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(&v.id)
                .bind(i64::from(v.version))
                .bind(&hash)
                .bind(v.kind.code())
                .bind(&v.title)
                .bind(&v.text)
                .bind(&levels)
                .bind(v.status.code())
                .bind(&v.source.path)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if known {
                    report.new_vignette_versions += 1;
                } else {
                    report.new_vignettes += 1;
                }
            }
            Some((old_hash, _, _)) if old_hash != hash => refused.push(format!(
                "{}: vignette {} version {} changed since it was imported; give it a new version number",
                v.source.path, v.id, v.version
            )),
            Some((_, status, old_levels)) => {
                if status != v.status.code() || old_levels != levels {
                    sqlx::query(
                        "UPDATE vignette_versions SET status = $1, levels = $2, updated_at = $3 WHERE vignette_id = $4 AND version = $5",
                    )
                    .bind(v.status.code())
                    .bind(&levels)
                    .bind(now)
                    .bind(&v.id)
                    .bind(i64::from(v.version))
                    .execute(&mut *tx)
                    .await?;
                    changes.push(("vignette".into(), v.id.clone(), v.version, describe_change(&status, v.status.code(), &old_levels, &levels)));
                } else {
                    report.unchanged += 1;
                }
            }
        }
    }

    // Items new to the bank in this import: their enemies come with them, not as a change.
    let mut fresh: BTreeSet<String> = BTreeSet::new();
    for item in &bank.items {
        let hash = item_hash(item);
        let existing: Option<(String, String, String)> = sqlx::query_as(
            "SELECT content_hash, status, levels FROM item_versions WHERE item_id = $1 AND version = $2",
        )
        .bind(&item.id)
        .bind(i64::from(item.version))
        .fetch_optional(&mut *tx)
        .await?;
        let levels = levels_to_string(&item.levels);
        match existing {
            None => {
                let known = exists(&mut tx, "item_versions", "item_id", &item.id).await?;
                let content = serde_json::to_string(&item.body).expect("item body serialises");
                sqlx::query(
                    "INSERT INTO item_versions (item_id, version, content_hash, kind, domain, area, levels, status, vignette_id, content, source_path, imported_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                )
                .bind(&item.id)
                .bind(i64::from(item.version))
                .bind(&hash)
                .bind(item.kind().code())
                .bind(&item.domain)
                .bind(&item.area)
                .bind(&levels)
                .bind(item.status.code())
                .bind(item.vignette.as_deref())
                .bind(content)
                .bind(&item.source.path)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if known {
                    report.new_item_versions += 1;
                } else {
                    report.new_items += 1;
                    fresh.insert(item.id.clone());
                }
            }
            Some((old_hash, _, _)) if old_hash != hash => refused.push(format!(
                "{}: item {} version {} changed since it was imported; give it a new version number",
                item.source.path, item.id, item.version
            )),
            Some((_, status, old_levels)) => {
                if status != item.status.code() || old_levels != levels {
                    sqlx::query(
                        "UPDATE item_versions SET status = $1, levels = $2, updated_at = $3 WHERE item_id = $4 AND version = $5",
                    )
                    .bind(item.status.code())
                    .bind(&levels)
                    .bind(now)
                    .bind(&item.id)
                    .bind(i64::from(item.version))
                    .execute(&mut *tx)
                    .await?;
                    changes.push(("item".into(), item.id.clone(), item.version, describe_change(&status, item.status.code(), &old_levels, &levels)));
                } else {
                    report.unchanged += 1;
                }
            }
        }
    }

    for doc in documents {
        let hash = crate::auth::sha256_hex(doc.text);
        let known: Option<String> = sqlx::query_scalar(
            "SELECT content_hash FROM bank_documents WHERE doc_kind = $1 AND name = $2 AND content_hash = $3",
        )
        .bind(doc.kind)
        .bind(doc.name)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        if known.is_none() {
            sqlx::query(
                "INSERT INTO bank_documents (doc_kind, name, content_hash, body, imported_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(doc.kind)
            .bind(doc.name)
            .bind(&hash)
            .bind(doc.text)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            report.new_documents += 1;
        }
    }

    if !refused.is_empty() {
        tx.rollback().await;
        return Err(ImportError::Refused(refused));
    }
    // Enemy pairs are the bank's as a whole: replaced by the imported bank's, each declared or
    // withdrawn pair between items the bank already had recorded as a change.
    let before: BTreeSet<(String, String)> =
        sqlx::query_as::<_, (String, String)>("SELECT item_a, item_b FROM item_enemies")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let after: BTreeSet<(String, String)> = bank.enemy_pairs().into_iter().collect();
    if before != after {
        sqlx::query("DELETE FROM item_enemies")
            .execute(&mut *tx)
            .await?;
        for (a, b) in &after {
            sqlx::query("INSERT INTO item_enemies (item_a, item_b) VALUES ($1, $2)")
                .bind(a)
                .bind(b)
                .execute(&mut *tx)
                .await?;
        }
        for (a, b) in after
            .difference(&before)
            .filter(|(a, b)| !fresh.contains(a) && !fresh.contains(b))
        {
            changes.push((
                "enemies".into(),
                format!("{a} and {b}"),
                1,
                "declared".into(),
            ));
        }
        for (a, b) in before.difference(&after) {
            changes.push((
                "enemies".into(),
                format!("{a} and {b}"),
                1,
                "withdrawn".into(),
            ));
        }
    }
    report.changes = changes
        .iter()
        .map(|(kind, id, version, change)| format!("{kind} {id} v{version}: {change}"))
        .collect();
    if report.changed_anything() {
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO bank_imports (imported_at, source, imported_by, summary) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(now)
        .bind(source)
        .bind(by)
        .bind(report.summary())
        .fetch_one(&mut *tx)
        .await?;
        for (kind, id, version, change) in &changes {
            sqlx::query(
                "INSERT INTO bank_changes (import_id, object_kind, object_id, version, change) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(import_id)
            .bind(kind)
            .bind(id)
            .bind(i64::from(*version))
            .bind(change)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(report)
}

async fn exists(tx: &mut super::WriteTx, table: &str, column: &str, id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

fn describe_change(
    old_status: &str,
    new_status: &str,
    old_levels: &str,
    new_levels: &str,
) -> String {
    let mut parts = Vec::new();
    if old_status != new_status {
        parts.push(format!("status {old_status} -> {new_status}"));
    }
    if old_levels != new_levels {
        parts.push(format!("levels {old_levels} -> {new_levels}"));
    }
    parts.join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum ImportDirError {
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// The bank has errors (every one of them); nothing was imported.
    #[error("the bank has {} error(s)", .0.len())]
    Invalid(Vec<crate::bank::Diagnostic>),
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Reads, checks and imports the bank in `dir`, keeping its TOML files (bank, taxonomy,
/// blueprints) as documents so that a blueprint as it was on a sitting's day can be read back.
pub async fn import_dir(
    db: &Db,
    dir: &std::path::Path,
    by: &str,
) -> Result<ImportReport, ImportDirError> {
    let files = crate::bank::read_dir(dir)?;
    let bank = crate::bank::from_files(&files).map_err(ImportDirError::Invalid)?;
    let name = |p: &str| {
        std::path::Path::new(p)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(p)
            .to_string()
    };
    let mut docs: Vec<(&str, String, &str)> = Vec::new();
    if let Some(f) = &files.bank {
        docs.push(("bank", name(&f.path), &f.text));
    }
    if let Some(f) = &files.taxonomy {
        docs.push(("taxonomy", name(&f.path), &f.text));
    }
    for f in &files.blueprints {
        docs.push(("blueprint", name(&f.path), &f.text));
    }
    let docs: Vec<Document> = docs
        .iter()
        .map(|(kind, name, text)| Document { kind, name, text })
        .collect();
    let source = dir.display().to_string();
    let report = import(db, &bank, &docs, &source, by).await?;
    let lint = crate::bank::lint::lint(&bank, &files);
    lint::store(db, &lint, &source, by).await?;
    Ok(report)
}

/// One stored item version, as the exam and the committee read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub id: String,
    pub version: u32,
    pub content_hash: String,
    pub domain: String,
    pub area: String,
    pub levels: BTreeSet<Level>,
    pub status: Status,
    pub vignette: Option<String>,
    pub body: ItemBody,
}

type ItemRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);

fn stored_item(r: ItemRow) -> Result<StoredItem> {
    let bad = |e: String| StoreError::Sqlx(sqlx::Error::Decode(e.into()));
    Ok(StoredItem {
        id: r.0,
        version: u32::try_from(r.1).map_err(|e| bad(e.to_string()))?,
        content_hash: r.2,
        domain: r.3,
        area: r.4,
        levels: parse_levels(&r.5).map_err(bad)?,
        status: r.6.parse().map_err(bad)?,
        vignette: r.7,
        body: serde_json::from_str(&r.8).map_err(|e| bad(e.to_string()))?,
    })
}

const ITEM_COLUMNS: &str =
    "item_id, version, content_hash, domain, area, levels, status, vignette_id, content";

/// One version of an item, whatever has been imported since.
pub async fn item_version(db: &Db, id: &str, version: u32) -> Result<Option<StoredItem>> {
    let row: Option<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM item_versions WHERE item_id = $1 AND version = $2"
    ))
    .bind(id)
    .bind(i64::from(version))
    .fetch_optional(&db.pool)
    .await?;
    row.map(stored_item).transpose()
}

/// Every version of an item, oldest first.
pub async fn item_versions(db: &Db, id: &str) -> Result<Vec<StoredItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM item_versions WHERE item_id = $1 ORDER BY version"
    ))
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(stored_item).collect()
}

/// Counts of the newest version of every item, by domain, kind and status.
pub async fn current_counts(db: &Db) -> Result<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT iv.domain, iv.kind, iv.status, COUNT(*)
         FROM item_versions iv
         WHERE iv.version = (SELECT MAX(v2.version) FROM item_versions v2 WHERE v2.item_id = iv.item_id)
         GROUP BY iv.domain, iv.kind, iv.status
         ORDER BY iv.domain, iv.kind, iv.status",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// Row counts of every bank table: what "nothing changed" is checked against.
pub async fn table_counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for table in [
        "item_versions",
        "vignette_versions",
        "bank_documents",
        "bank_imports",
        "bank_changes",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&db.pool)
            .await?;
        out.push((table.to_string(), n));
    }
    Ok(out)
}

/// The notice of the newest imported `bank.toml`, if it has one.
pub async fn latest_notice(db: &Db) -> Result<Option<String>> {
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM bank_documents WHERE doc_kind = 'bank' ORDER BY imported_at DESC LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    Ok(body
        .and_then(|b| crate::bank::toml_files::bank_meta("bank.toml", &b).ok())
        .map(|m| m.notice)
        .filter(|n| !n.is_empty()))
}

/// The newest imported text of every blueprint, parsed, with the pass marks the committee has
/// adopted since (`results::pass_mark`).
pub async fn blueprints(db: &Db) -> Result<Vec<crate::bank::Blueprint>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT name, body, imported_at FROM bank_documents WHERE doc_kind = 'blueprint' ORDER BY name, imported_at DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out: Vec<crate::bank::Blueprint> = Vec::new();
    let mut names = BTreeSet::new();
    for (name, body, _) in rows {
        if !names.insert(name.clone()) {
            continue;
        }
        match crate::bank::toml_files::blueprint(&name, &body) {
            Ok(bp) => out.push(bp),
            Err(e) => {
                tracing::error!(blueprint = %name, errors = ?e, "a stored blueprint no longer parses")
            }
        }
    }
    super::results::pass_mark::apply_adopted(db, &mut out).await?;
    Ok(out)
}

/// The bank as form assembly sees it: the newest version of every item and vignette.
pub async fn pool(db: &Db) -> Result<crate::exam::form::Pool> {
    use crate::exam::form::{Pool, PoolItem, PoolVignette};
    let bad = |e: String| StoreError::Sqlx(sqlx::Error::Decode(e.into()));
    let items: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM item_versions iv
         WHERE iv.version = (SELECT MAX(v2.version) FROM item_versions v2 WHERE v2.item_id = iv.item_id)"
    ))
    .fetch_all(&db.pool)
    .await?;
    let mut pool_items = Vec::new();
    for row in items {
        let item = stored_item(row)?;
        pool_items.push(PoolItem {
            kind: match &item.body {
                ItemBody::Mcq(_) => crate::bank::ItemKind::Mcq,
                ItemBody::Open(_) => crate::bank::ItemKind::Open,
            },
            options: match &item.body {
                ItemBody::Mcq(m) => m.options.len(),
                ItemBody::Open(_) => 0,
            },
            id: item.id,
            version: item.version,
            status: item.status,
            domain: item.domain,
            area: item.area,
            levels: item.levels,
            vignette: item.vignette,
        });
    }
    let vignettes: Vec<(String, i64, String, String, String)> = sqlx::query_as(
        "SELECT vignette_id, version, kind, status, levels FROM vignette_versions vv
         WHERE vv.version = (SELECT MAX(v2.version) FROM vignette_versions v2 WHERE v2.vignette_id = vv.vignette_id)",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut pool_vignettes = Vec::new();
    for (id, version, kind, status, levels) in vignettes {
        pool_vignettes.push(PoolVignette {
            id,
            version: u32::try_from(version).map_err(|e| bad(e.to_string()))?,
            kind: kind.parse().map_err(bad)?,
            status: status.parse().map_err(bad)?,
            levels: parse_levels(&levels).map_err(bad)?,
        });
    }
    let enemies: Vec<(String, String)> = sqlx::query_as("SELECT item_a, item_b FROM item_enemies")
        .fetch_all(&db.pool)
        .await?;
    Ok(Pool::new(pool_items, pool_vignettes).with_enemies(enemies))
}

/// One vignette version as a candidate reads it: title and text only.
pub async fn vignette_text(db: &Db, id: &str, version: u32) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT title, body FROM vignette_versions WHERE vignette_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(i64::from(version))
    .fetch_optional(&db.pool)
    .await?)
}

/// Domain names by code, from the newest taxonomy imported.
pub async fn domain_names(db: &Db) -> Result<std::collections::BTreeMap<String, String>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, body FROM bank_documents WHERE doc_kind = 'taxonomy' ORDER BY imported_at DESC LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    Ok(row
        .and_then(|(name, body)| crate::bank::toml_files::taxonomy(&name, &body).ok())
        .map(|t| t.domains.into_iter().map(|d| (d.code, d.name)).collect())
        .unwrap_or_default())
}
