//! The committee's CSV downloads over HTTP with values a spreadsheet would run as formulas (CSV
//! injection): every such text cell comes out with a `'` before it, numbers stay numbers.

use imh_exam::auth::Role;

use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;
use crate::scoring::{rate_everything, sat_sitting_by};

const NAME: &str = r#"=HYPERLINK("http://evil.test","x")"#;
const ORGANISATION: &str = "+cmd|' /C calc'!A0";

/// The cells of a CSV download, header included.
fn cells(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// No cell starts a formula: each one that begins with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is a plain number.
fn assert_no_formula(rows: &[Vec<String>]) {
    for row in rows {
        for c in row {
            if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                assert!(c.parse::<f64>().is_ok(), "formula cell {c:?} in {row:?}");
            }
        }
    }
}

async fn hostile_names_download_as_text(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    // The registration form accepts the first two emails; one starting with `@` it refuses,
    // but the download must not trust that every stored row came through it.
    let f = sat_sitting_by(
        db,
        [
            (NAME, "ana@x.org", ORGANISATION),
            ("Ben Hill", "-2+3@evil.test", "@SUM(A1:A9)"),
            ("Cy Dunn", "@cy@x.org", "-1+1"),
        ],
    )
    .await;
    rate_everything(db, f.sitting.id, 3).await;
    // A username may start with `-`, and `-2-3` is a formula that computes -5.
    sqlx::query("UPDATE users SET username = '-2-3' WHERE id = $1")
        .bind(f.raters[0])
        .execute(&db.writer)
        .await
        .unwrap();
    let committee = app.as_role(Role::Committee).await;
    let id = f.sitting.id;
    // The CSV shows results as stored: the committee computes them first.
    let page = format!("/scoring/{id}/results");
    let res = committee
        .post_form(&page, &format!("{page}/compute"), &[])
        .await;
    assert_eq!(res.status(), 303);

    let res = committee.get(&format!("/scoring/{id}/results.csv")).await;
    assert_eq!(res.status(), 200);
    let rows = cells(&res.text().await.unwrap());
    assert_no_formula(&rows);
    assert_eq!(&rows[0][..4], ["name", "email", "organisation", "level"]);
    let people: Vec<&[String]> = rows[1..].iter().map(|r| &r[..3]).collect();
    for expected in [
        [
            format!("'{NAME}"),
            "ana@x.org".into(),
            format!("'{ORGANISATION}"),
        ],
        [
            "Ben Hill".into(),
            "'-2+3@evil.test".into(),
            "'@SUM(A1:A9)".into(),
        ],
        ["Cy Dunn".into(), "'@cy@x.org".into(), "'-1+1".into()],
    ] {
        assert!(people.contains(&&expected[..]), "{expected:?} in {rows:?}");
    }
    // The scores are numbers as before: Ana's Part One is 60 of 60.
    let ana = rows.iter().find(|r| r[0] == format!("'{NAME}")).unwrap();
    assert_eq!(&ana[4..8], ["60", "60", "100.0", "yes"]);

    // The statistics downloads go through the same writer: the raters' table and the pairs'.
    for table in ["raters", "pairs"] {
        let text = committee
            .get_text(&format!("/stats/{id}/agreement?csv={table}"))
            .await;
        let rows = cells(&text);
        assert_no_formula(&rows);
        assert!(
            rows.iter().any(|r| r[0].starts_with("'-2-3")),
            "{table}: {text}"
        );
    }
}

on_both_engines!(hostile_names_download_as_text);
