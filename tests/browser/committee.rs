//! The committee reads a finished sitting's statistics: every committee page looked at (axe,
//! 1280 and 390 px), a table reordered by its column's sort link, the charts' legends seen.

use super::*;

/// Goes to `path_and_query` and waits for the page to load.
async fn visit(c: &Client, base: &str, path_and_query: &str) {
    c.goto(&format!("{base}{path_and_query}")).await.unwrap();
    let path = path_and_query.split(['?', '#']).next().unwrap();
    wait_for_path(c, path).await;
}

/// Four raters; a sitting of 200 simulated candidates who took both
/// parts, read and resolved, calibrated (the demo's bulk path). Returns the sitting's id.
async fn finished_sitting(db: &Db) -> i64 {
    let mut raters = Vec::new();
    for (i, severity) in [0.0, 0.4, -0.6, 0.1].into_iter().enumerate() {
        let name = format!("rater{}", i + 1);
        let id = add_user(
            db,
            NewUser {
                username: &Username::parse(&name).unwrap(),
                display_name: &name,
                role: Role::Rater,
                organisation: &format!("Rater organisation {i}"),
                password: "a long rater password",
                added_by: "test",
            },
        )
        .await
        .unwrap();
        raters.push((id, severity));
    }
    imh_exam::demo::completed_sitting(db, 200, &raters)
        .await
        .unwrap()
}

/// The column `code` of the table `#t-{table}`: whether it is marked sorted (aria-sort), and
/// every cell's full value (a number's title holds all its digits).
async fn column(c: &Client, table: &str, code: &str) -> (Option<String>, Vec<String>) {
    let got = c
        .execute(
            r#"const t = document.querySelector('#t-' + arguments[0] + ' table');
               const ths = [...t.tHead.rows[0].cells];
               const i = ths.findIndex(th => th.title === arguments[1]);
               if (i < 0) return null;
               return [ths[i].getAttribute('aria-sort'),
                       [...t.tBodies[0].rows].map(r => r.cells[i].title || r.cells[i].textContent)];"#,
            vec![json!(table), json!(code)],
        )
        .await
        .unwrap();
    assert!(!got.is_null(), "no column {code} in #t-{table}");
    (
        got[0].as_str().map(String::from),
        got[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
    )
}

/// Follows the sort link of column `code` of `#t-{table}` and waits until the page shows the
/// column sorted `want` ("ascending" or "descending"); returns its values as numbers (empty
/// cells left out).
async fn sort_by(c: &Client, table: &str, code: &str, want: &str) -> Vec<f64> {
    let link = css(c, &format!("#t-{table} thead th[title='{code}'] a")).await;
    link.click().await.unwrap();
    let wait = Wait::new(format!("#t-{table} sorted by {code}, {want}"));
    loop {
        let ready = c
            .execute("return document.readyState", vec![])
            .await
            .unwrap();
        if ready == "complete" {
            if let Ok(el) = c.find(Locator::Css(&format!("#t-{table}"))).await {
                let _ = el;
                let (sorted, values) = column(c, table, code).await;
                if sorted.as_deref() == Some(want) {
                    return values.iter().filter_map(|v| v.parse().ok()).collect();
                }
            }
        }
        wait.tick(c.current_url().await.unwrap()).await;
    }
}

/// The legend of the chart `id`, as drawn: its size on the page and its text.
async fn legend(c: &Client, id: &str) -> (f64, f64, String) {
    let got = c
        .execute(
            r#"const g = document.querySelector('svg[aria-labelledby^="' + arguments[0] + '-title"] g.legend');
               if (!g) return null;
               const r = g.getBoundingClientRect();
               const style = getComputedStyle(g);
               return [r.width, r.height, g.textContent, style.visibility, style.display];"#,
            vec![json!(id)],
        )
        .await
        .unwrap();
    assert!(!got.is_null(), "the chart {id} has a legend");
    assert_eq!(got[3], "visible", "{got}");
    assert_ne!(got[4], "none", "{got}");
    (
        got[0].as_f64().unwrap(),
        got[1].as_f64().unwrap(),
        got[2].as_str().unwrap().to_string(),
    )
}

/// Keeps a screenshot of each chart of the page (`{page}-chart-{n}.png`), for people to look at.
async fn chart_shots(c: &Client, page: &str) {
    for (n, figure) in c
        .find_all(Locator::Css("figure.chart"))
        .await
        .unwrap()
        .into_iter()
        .enumerate()
    {
        let png = figure.screenshot().await.unwrap();
        assert!(png.len() > 1000, "an empty chart on {page}");
        std::fs::write(screens_dir().join(format!("{page}-chart-{n}.png")), png).unwrap();
    }
}

/// Beside the demo's two decided appeals: one more of each part, so the appeals page shows a
/// Part One recount with its answers and keys, and a Part Two appeal not started. Returns the
/// registration id and a fresh access code of a candidate with appeals.
async fn more_appeals(db: &Db, id: i64) -> (i64, String) {
    use imh_exam::store::appeals;
    let taken: Vec<i64> = appeals::of_sitting(db, id)
        .await
        .unwrap()
        .iter()
        .map(|(a, _)| a.registration_id)
        .collect();
    let regs: Vec<_> = sittings::registrations(db, id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !taken.contains(&r.id))
        .take(2)
        .collect();
    let one = appeals::request(
        db,
        &regs[0],
        1,
        "Please recount: I am sure of question 12.",
        now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    appeals::start(db, one, "cora")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    appeals::request(
        db,
        &regs[1],
        2,
        "My second vignette deserves another reading.",
        now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    // The first candidate enters with a code of the test's own (the demo keeps none).
    let code = imh_exam::auth::new_access_code();
    sqlx::query(
        "UPDATE access_codes SET code_hash = $1
         WHERE id = (SELECT access_code_id FROM registrations WHERE id = $2)",
    )
    .bind(imh_exam::auth::sha256_hex(
        &imh_exam::auth::normalise_access_code(&code),
    ))
    .bind(regs[0].id)
    .execute(&db.writer)
    .await
    .unwrap();
    (regs[0].id, code)
}

/// The candidate's page with their results and appeals: one under re-score, and the form for
/// the other part.
async fn candidate_appeal_page(c: &Client, base: &str, code: &str) -> Vec<String> {
    c.delete_all_cookies().await.unwrap();
    go(c, base, "/enter").await;
    css(c, "#code").await.send_keys(code).await.unwrap();
    submit(c).await;
    wait_for_path(c, "/candidate").await;
    let section = css(c, "#appeals").await.text().await.unwrap();
    assert!(
        section.contains("under re-score") && section.contains("Request a re-score"),
        "{section}"
    );
    look(c, "/candidate (candidate: results and appeals)").await
}

async fn committee_flow(c: Client, base: String, db: Db, id: i64) -> Vec<String> {
    let mut found = Vec::new();
    let (_, code) = more_appeals(&db, id).await;
    staff_signs_in(&c, &base, &db, "cora", Role::Committee).await;

    // Item statistics: the charts with their legends, the table sorted by a column's link.
    visit(&c, &base, &format!("/stats/{id}/items")).await;
    found.extend(
        look(
            &c,
            &format!("/stats/{id}/items (committee: item statistics)"),
        )
        .await,
    );
    chart_shots(&c, "items").await;
    let (w, h, text) = legend(&c, "items").await;
    assert!(
        w > 50.0 && h > 5.0,
        "the scatter's legend is drawn: {w}×{h}"
    );
    assert!(
        text.contains("not flagged (") && text.contains("flagged ("),
        "{text}"
    );
    // At 1280 px the items table, in its default columns, fits its box: nothing to scroll across.
    let sizes = c
        .execute(
            "const w = document.getElementById('t-items'); return [w.scrollWidth, w.clientWidth, document.documentElement.scrollHeight];",
            vec![],
        )
        .await
        .unwrap();
    println!("items table at 1280 px: {sizes} (table width, its box's width, page height)");
    assert!(
        sizes[0].as_u64() <= sizes[1].as_u64(),
        "the items table fits a desktop: {sizes}"
    );
    let (sorted, before) = column(&c, "items", "p").await;
    assert_eq!(sorted, None, "not sorted by p at first");
    let up = sort_by(&c, "items", "p", "ascending").await;
    assert!(up.len() > 50, "every item's p: {}", up.len());
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "ascending: {up:?}");
    let mut was: Vec<f64> = before.iter().filter_map(|v| v.parse().ok()).collect();
    assert_ne!(was, up, "the link reordered the table");
    was.sort_by(f64::total_cmp);
    assert_eq!(was, up, "the same items, reordered");
    let down = sort_by(&c, "items", "p", "descending").await;
    assert!(
        down.windows(2).all(|w| w[0] >= w[1]),
        "descending: {down:?}"
    );
    found.extend(
        look(
            &c,
            &format!("/stats/{id}/items?sort=p&dir=desc (committee: sorted)"),
        )
        .await,
    );
    // Every column, and an item's own page.
    visit(&c, &base, &format!("/stats/{id}/items?cols=all")).await;
    let (_, alpha) = column(&c, "items", "alpha_if_deleted").await;
    assert!(!alpha.is_empty(), "all columns shown");
    found.extend(
        look(
            &c,
            &format!("/stats/{id}/items?cols=all (committee: every column)"),
        )
        .await,
    );
    let item = css(&c, "#t-items tbody a").await.text().await.unwrap();
    let item = item.split(' ').next().unwrap().to_string();
    visit(&c, &base, &format!("/stats/{id}/items/{item}")).await;
    found.extend(
        look(
            &c,
            &format!("/stats/{id}/items/{item} (committee: an item)"),
        )
        .await,
    );

    // Fairness: the DIF chart with its bands' legend; the table sorted by D-DIF.
    visit(&c, &base, &format!("/stats/{id}/dif")).await;
    found.extend(look(&c, &format!("/stats/{id}/dif (committee: DIF)")).await);
    chart_shots(&c, "dif").await;
    let (w, _, text) = legend(&c, "dif-chart").await;
    assert!(w > 50.0, "the DIF chart's legend is drawn");
    assert!(
        text.contains("A: |D| < 1") && text.contains("C: ≥ 1.5"),
        "{text}"
    );
    let d = sort_by(&c, "dif", "d_dif", "ascending").await;
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "D-DIF ascending: {d:?}");

    // Rater agreement, with the raters measured (many-facet Rasch, bias, G study).
    visit(&c, &base, &format!("/stats/{id}/agreement")).await;
    found.extend(
        look(
            &c,
            &format!("/stats/{id}/agreement (committee: rater agreement)"),
        )
        .await,
    );
    chart_shots(&c, "agreement").await;
    let severity = sort_by(&c, "raters", "severity", "ascending").await;
    assert_eq!(severity.len(), 4, "the four raters' severities");
    assert!(severity.windows(2).all(|w| w[0] <= w[1]), "{severity:?}");

    for (path, what) in [
        (format!("/stats/{id}/rasch"), "Rasch calibration"),
        (format!("/stats/{id}/rasch?cols=all"), "Rasch, every column"),
        (format!("/stats/{id}/report"), "technical report"),
        (format!("/scoring/{id}"), "scoring"),
        (format!("/scoring/{id}/results"), "results"),
        (format!("/scoring/{id}/read-behind"), "read-behinds"),
        (format!("/scoring/{id}/appeals"), "appeals"),
        ("/scoring".to_string(), "sittings"),
        ("/keys".to_string(), "key review"),
    ] {
        visit(&c, &base, &path).await;
        found.extend(look(&c, &format!("{path} (committee: {what})")).await);
    }
    // The results: a summary, and a pass or fail in words on a chip.
    visit(&c, &base, &format!("/scoring/{id}/results")).await;
    let summary = css(&c, "#results-summary").await.text().await.unwrap();
    assert!(summary.contains("Passed the exam"), "{summary}");
    let sample = ratings::read_behind_sample(&db, id).await.unwrap();
    if let Some(e) = sample.first() {
        let path = format!("/scoring/{id}/read-behind/{}", e.assignment_id);
        visit(&c, &base, &path).await;
        found.extend(look(&c, &format!("{path} (committee: a read-behind)")).await);
    }
    // The appeals: the demo's decided two, a recount under way with its answers and keys.
    visit(&c, &base, &format!("/scoring/{id}/appeals")).await;
    let summary = css(&c, "#appeals-summary").await.text().await.unwrap();
    assert!(
        summary.starts_with("4 appeal(s), 2 not decided"),
        "{summary}"
    );
    found.extend(candidate_appeal_page(&c, &base, &code).await);
    found
}

/// Every committee page of a finished sitting passes axe (any impact) and fits a phone; the
/// sort links reorder a table; the charts' legends are drawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committee_reads_every_statistics_page() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let id = finished_sitting(&app.db).await;
    in_browser(|c, _| committee_flow(c, app.base.clone(), app.db.clone(), id)).await;
}
