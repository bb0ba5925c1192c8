//! `bank import`: every version kept, idempotent, content guarded by its hash.

use std::path::Path;

use imh_exam::bank::{self, ItemBody, Status};
use imh_exam::store::bank::{
    import, item_version, item_versions, table_counts, Document, ImportError, ImportReport,
};
use imh_exam::store::Db;

use crate::helpers::{copy_dir, repo, test_db, Engine};
use crate::on_both_engines;

async fn import_dir(db: &Db, dir: &Path) -> Result<ImportReport, ImportError> {
    let files = bank::read_dir(dir).unwrap();
    let bank = bank::from_files(&files).unwrap_or_else(|e| panic!("bank has errors: {e:?}"));
    let taxonomy = files.taxonomy.as_ref().unwrap();
    let docs = [Document {
        kind: "taxonomy",
        name: "taxonomy.toml",
        text: &taxonomy.text,
    }];
    import(db, &bank, &docs, &dir.display().to_string(), "test").await
}

/// Everything an import could touch, to compare before and after.
async fn snapshot(db: &Db) -> (Vec<(String, i64)>, Vec<(String, i64, String, String, i64)>) {
    let rows = sqlx::query_as(
        "SELECT item_id, version, content_hash, status, updated_at FROM item_versions ORDER BY item_id, version",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    (table_counts(db).await.unwrap(), rows)
}

fn stem(body: &ItemBody) -> &str {
    match body {
        ItemBody::Mcq(m) => &m.stem,
        ItemBody::Open(o) => &o.prompt,
    }
}

/// A copy of the sample bank to edit.
fn sample_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("item-bank"), &tmp.path().join("bank"));
    tmp
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

async fn importing_twice_changes_nothing(engine: Engine) {
    let t = test_db(engine).await;
    let first = import_dir(&t.db, &repo().join("item-bank")).await.unwrap();
    assert!(first.new_items >= 136, "{first:?}");
    assert_eq!(first.new_vignettes, 20);
    assert!(first.changed_anything());
    let before = snapshot(&t.db).await;

    let second = import_dir(&t.db, &repo().join("item-bank")).await.unwrap();
    assert!(!second.changed_anything(), "{second:?}");
    assert_eq!(second.unchanged, first.new_items + first.new_vignettes);
    assert_eq!(snapshot(&t.db).await, before);
}

async fn changed_text_without_a_new_version_is_refused(engine: Engine) {
    let t = test_db(engine).await;
    let tmp = sample_copy();
    let dir = tmp.path().join("bank");
    import_dir(&t.db, &dir).await.unwrap();
    let before = snapshot(&t.db).await;

    let file = dir.join("items/TF-0001.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let old_stem = text
        .split("## Stem")
        .nth(1)
        .unwrap()
        .split("## Options")
        .next()
        .unwrap()
        .trim()
        .to_string();
    edit(&file, &old_stem, &format!("{old_stem} (reworded)"));
    // A second, independent change to a vignette is refused in the same run.
    edit(
        &dir.join("vignettes/CL01.md"),
        "## Text\n",
        "## Text\nAn added first sentence.\n",
    );

    match import_dir(&t.db, &dir).await {
        Err(ImportError::Refused(lines)) => assert_eq!(
            lines,
            vec![
                format!("{}: vignette CL01 version 1 changed since it was imported; give it a new version number", dir.join("vignettes/CL01.md").display()),
                format!("{}: item TF-0001 version 2 changed since it was imported; give it a new version number", file.display()),
            ]
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        snapshot(&t.db).await,
        before,
        "a refused import must write nothing"
    );
}

async fn an_older_version_stays_readable(engine: Engine) {
    let t = test_db(engine).await;
    let tmp = sample_copy();
    let dir = tmp.path().join("bank");
    import_dir(&t.db, &dir).await.unwrap();
    // TF-0002 is at version 2 in the sample bank (its options were revised for issue 15).
    let v2 = item_version(&t.db, "TF-0002", 2).await.unwrap().unwrap();

    let file = dir.join("items/TF-0002.md");
    edit(&file, "version: 2", "version: 3");
    edit(&file, "## Stem\n", "## Stem\nA revised opening sentence.\n");
    let report = import_dir(&t.db, &dir).await.unwrap();
    assert_eq!(report.new_item_versions, 1, "{report:?}");
    assert_eq!(report.new_items, 0);

    let versions = item_versions(&t.db, "TF-0002").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 3]
    );
    let old = item_version(&t.db, "TF-0002", 2).await.unwrap().unwrap();
    assert_eq!(old, v2, "version 2 is unchanged");
    let new = item_version(&t.db, "TF-0002", 3).await.unwrap().unwrap();
    assert!(stem(&new.body).starts_with("A revised opening sentence."));
    assert!(!stem(&old.body).starts_with("A revised opening sentence."));
    assert_ne!(old.content_hash, new.content_hash);
}

async fn retiring_is_a_status_change_not_a_new_version(engine: Engine) {
    let t = test_db(engine).await;
    let tmp = sample_copy();
    let dir = tmp.path().join("bank");
    import_dir(&t.db, &dir).await.unwrap();
    // The blueprints draw TF generously, so one retirement still fills them.
    edit(
        &dir.join("items/TF-0010.md"),
        "status: operational",
        "status: retired",
    );
    let report = import_dir(&t.db, &dir).await.unwrap();
    assert_eq!(
        report.changes,
        vec!["item TF-0010 v2: status operational -> retired"]
    );
    assert_eq!(report.new_item_versions, 0);
    let stored = item_version(&t.db, "TF-0010", 2).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Retired);
    let logged: Vec<(String, String)> =
        sqlx::query_as("SELECT object_id, change FROM bank_changes")
            .fetch_all(&t.db.pool)
            .await
            .unwrap();
    assert_eq!(
        logged,
        vec![(
            "TF-0010".to_string(),
            "status operational -> retired".to_string()
        )]
    );
}

async fn enemy_items_are_stored_and_kept_apart_on_every_form(engine: Engine) {
    use imh_exam::exam::form::{assemble, History, Parts};
    let t = test_db(engine).await;
    let tmp = sample_copy();
    let dir = tmp.path().join("bank");
    import_dir(&t.db, &dir).await.unwrap();
    let pool = imh_exam::store::bank::pool(&t.db).await.unwrap();
    for (a, b) in [
        ("DSS-0015", "TF-0002"),
        ("DSS-0020", "TF-0015"),
        ("DSS-0014", "TF-0109"),
    ] {
        assert!(pool.are_enemies(a, b) && pool.are_enemies(b, a), "{a} {b}");
    }
    // Forms drawn from the stored pool, as the server draws them, never carry both.
    let files = bank::read_dir(&dir).unwrap();
    let bank = bank::from_files(&files).unwrap();
    let bp = bank.blueprint("level-iii").unwrap();
    for seed in 0..200 {
        let form = assemble(bp, &pool, &History::default(), Parts::BOTH, seed).unwrap();
        let ids = form.ids();
        for (a, b) in bank.enemy_pairs() {
            assert!(
                !(ids.contains(&a) && ids.contains(&b)),
                "seed {seed}: {a} and {b}"
            );
        }
    }
    // Withdrawing a pair is a change of the bank, recorded; the stored pool follows.
    edit(&dir.join("items/TF-0002.md"), "enemies: DSS-0015\n", "");
    let report = import_dir(&t.db, &dir).await.unwrap();
    assert_eq!(
        report.changes,
        vec!["enemies DSS-0015 and TF-0002 v1: withdrawn"]
    );
    let pool = imh_exam::store::bank::pool(&t.db).await.unwrap();
    assert!(!pool.are_enemies("DSS-0015", "TF-0002"));
    assert!(pool.are_enemies("DSS-0020", "TF-0015"));
}

/// The committee's bank page shows what `bank lint` found in the bank as imported: the same
/// summary line and counts per rule as the command prints, and every warning.
async fn the_bank_page_shows_the_lint_of_the_import(engine: Engine) {
    let app = crate::helpers::spawn_app(engine).await;
    let tmp = sample_copy();
    let dir = tmp.path().join("bank");
    // One warning on top of whatever the sample bank has: an "all of the above" option.
    edit(&dir.join("items/COM-0001.md"), "version: ", "version: 9");
    let text = std::fs::read_to_string(dir.join("items/COM-0001.md")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("C. "))
        .unwrap()
        .to_string();
    edit(
        &dir.join("items/COM-0001.md"),
        &line,
        "C. All of the above.",
    );
    imh_exam::store::bank::import_dir(&app.db, &dir, "test")
        .await
        .unwrap();
    let files = bank::read_dir(&dir).unwrap();
    let report = bank::lint::lint(&bank::from_files(&files).unwrap(), &files);
    let committee = app.as_role(imh_exam::auth::Role::Committee).await;
    let html = committee.get_text("/bank").await;
    assert!(html.contains("Item-writing lint"), "{html}");
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    assert!(html.contains(&escaped(&report.summary_line())), "{html}");
    let all_none = report
        .warnings
        .iter()
        .find(|w| w.rule == bank::lint::Rule::AllNone)
        .expect("the edit trips all-none");
    assert!(html.contains(&escaped(&all_none.to_string())), "{html}");
    for (rule, n) in report.counts() {
        assert!(
            html.contains(&format!(
                "<code>{}</code></th><td>{}</td><td class=\"n\">{n}</td>",
                rule.code(),
                escaped(rule.about())
            )),
            "{rule}: {n} in {html}"
        );
    }
}

on_both_engines!(
    the_bank_page_shows_the_lint_of_the_import,
    enemy_items_are_stored_and_kept_apart_on_every_form,
    importing_twice_changes_nothing,
    changed_text_without_a_new_version_is_refused,
    an_older_version_stays_readable,
    retiring_is_a_status_change_not_a_new_version,
);
