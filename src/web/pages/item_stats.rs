//! The committee's item statistics of a sitting's Part One: the form, every item (sortable,
//! flagged, with exposure), an item's own page with its distractors and history across
//! sittings (the DIF page, `dif`, reads the same data).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::stats::items::Cell;
use crate::stats::{item_analysis, ItemAnalysis, ItemKey, Responses};
use crate::store::{analysis, bank as bank_store, calibration, comments, sittings, Db};

use super::stats::{csv_response, heads, num, off_runtime, show, Sort, Table};
use crate::web::charts;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views;
use crate::web::views::staff_chrome as chrome;
use crate::web::AppState;

/// A sitting's Part One as the statistics see it: the items (by id and version), the table of
/// answers, and each row's registration.
pub(super) struct Data {
    pub responses: Responses,
    pub registrations: Vec<i64>,
}

fn label(item: &(String, u32)) -> String {
    if item.1 == 1 {
        item.0.clone()
    } else {
        format!("{} v{}", item.0, item.1)
    }
}

pub(super) async fn sitting_data(db: &Db, sitting_id: i64) -> AppResult<Data> {
    let table = analysis::part_one_forms(db, sitting_id).await?;
    let keys = analysis::item_keys(db).await?;
    // The items with a key (a dropped item has none), in order; each table item's column.
    let mut order: Vec<usize> = (0..table.items.len())
        .filter(|&i| keys.contains_key(&table.items[i]))
        .collect();
    order.sort_by(|&a, &b| table.items[a].cmp(&table.items[b]));
    let mut column = vec![None; table.items.len()];
    for (c, &i) in order.iter().enumerate() {
        column[i] = Some(c);
    }
    let item_keys: Vec<ItemKey> = order
        .iter()
        .map(|&i| {
            let k = &table.items[i];
            let (domain, options, accepted) = keys[k].clone();
            ItemKey {
                id: label(k),
                domain: Some(domain),
                options,
                accepted,
            }
        })
        .collect();
    let width = order.len();
    off_runtime(move || {
        let mut responses =
            Responses::new(item_keys).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        let mut registrations = Vec::with_capacity(table.forms.len());
        let mut cells = vec![Cell::NotPresented; width];
        for f in &table.forms {
            cells.fill(Cell::NotPresented);
            for &(i, chosen) in &f.cells {
                if let Some(c) = column[i as usize] {
                    cells[c] = chosen.map_or(Cell::Omitted, Cell::Chose);
                }
            }
            responses
                .push_presented(&cells)
                .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
            registrations.push(f.registration_id);
        }
        Ok::<_, AppError>(Data {
            responses,
            registrations,
        })
    })
    .await?
}

#[derive(Debug, Default, Deserialize)]
pub struct ItemsQuery {
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub csv: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub cols: Option<String>,
}

/// What the flags mean, under the items table.
const FLAG_HELP: &str = "hard: p below 0.30; easy: p above 0.95; low discrimination: point-biserial (rest score) below 0.15; a distractor (a wrong option) that attracts the abler candidates (its point-biserial above 0), or that fewer than 2% chose.";

/// A flag's code name (the CSV's) as people read it.
pub(super) fn flag_text(code: &str) -> String {
    match code.split_once(':') {
        Some(("distractor_positive", o)) => format!("{o} attracts the able"),
        Some(("distractor_rare", o)) => format!("{o} rarely chosen"),
        _ => code.replace('_', " "),
    }
}

/// The items table's columns left out unless all are asked for (`?cols=all`).
const HIDDEN: &[&str] = &["omitted", "pbis", "alpha_if_deleted"];

fn items_table(a: &ItemAnalysis, exposure: &BTreeMap<String, i64>) -> Table {
    Table {
        name: "items",
        caption: format!("{} items", a.items.len()),
        headers: heads(&[
            "item",
            "domain",
            "n",
            "exposure_all_sittings",
            "omitted",
            "p",
            "pbis",
            "pbis_rest",
            "disc_27",
            "alpha_if_deleted",
            "flags",
        ]),
        rows: a
            .items
            .iter()
            .map(|s| {
                let id = s.item.split(' ').next().unwrap_or_default().to_string();
                vec![
                    s.item.clone(),
                    s.domain.clone().unwrap_or_default(),
                    s.n.to_string(),
                    exposure.get(&id).copied().unwrap_or(0).to_string(),
                    s.omitted.to_string(),
                    num(s.p),
                    num(s.pbis),
                    num(s.pbis_rest),
                    num(s.disc_27),
                    num(s.alpha_if_deleted),
                    s.flags
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect(),
    }
}

/// The form as a whole, and its score distribution.
fn form_table(a: &ItemAnalysis) -> Table {
    let f = &a.form;
    let mut rows = vec![
        vec!["candidates".to_string(), f.candidates.to_string()],
        vec!["items".into(), f.items.to_string()],
        vec!["mean".into(), num(f.mean)],
        vec!["sd".into(), num(f.sd)],
        vec!["kr20".into(), num(f.kr20)],
        vec!["kr21".into(), num(f.kr21)],
        vec!["alpha".into(), num(f.alpha)],
        vec!["alpha_low".into(), num(f.alpha_low)],
        vec!["alpha_high".into(), num(f.alpha_high)],
        vec!["sem".into(), num(f.sem)],
    ];
    rows.extend(
        f.distribution
            .iter()
            .enumerate()
            .map(|(score, n)| vec![format!("score {score}"), n.to_string()]),
    );
    Table {
        name: "form",
        caption: "The form: statistics and the score distribution".into(),
        headers: heads(&["statistic", "value"]),
        rows,
    }
}

fn domains_table(a: &ItemAnalysis) -> Table {
    Table {
        name: "domains",
        caption: "Sub-scores by domain".into(),
        headers: heads(&["domain", "items", "mean", "sd", "alpha", "sem"]),
        rows: a
            .domains
            .iter()
            .map(|d| {
                vec![
                    d.domain.clone(),
                    d.stats.items.to_string(),
                    num(d.stats.mean),
                    num(d.stats.sd),
                    num(d.stats.alpha),
                    num(d.stats.sem),
                ]
            })
            .collect(),
    }
}

/// How many forms, in every sitting, carried each item.
async fn exposure(db: &Db) -> AppResult<BTreeMap<String, i64>> {
    // Counted as forms are drawn (a trigger on form_items, migration 0017): counting the forms
    // here took 0.35 s at 3,000 candidates and grew with every sitting.
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT object_id, forms FROM item_exposure")
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn items_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<ItemsQuery>,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = sitting_data(&state.db, id).await?;
    let a = off_runtime(move || item_analysis(&data.responses)).await?;
    let exposure = exposure(&state.db).await?;
    let order = Sort::parse(q.sort.as_deref(), q.dir.as_deref());
    let all_columns = q.cols.as_deref() == Some("all");
    let base = if all_columns {
        format!("/stats/{id}/items?cols=all&")
    } else {
        format!("/stats/{id}/items?")
    };
    let mut items = items_table(&a, &exposure);
    let item_links = items.sorted(order.as_ref(), true, &base);
    let mut domains = domains_table(&a);
    let domain_links = domains.sorted(order.as_ref(), false, &base);
    let form = form_table(&a);
    // The page's own address in its present order, for the CSV and the column links.
    let sort_query = item_links
        .current
        .as_ref()
        .map(|s| format!("sort={}&dir={}", s.col, if s.desc { "desc" } else { "asc" }))
        .unwrap_or_default();
    let bps = bank_store::blueprints(&state.db).await?;
    let pass = bps
        .iter()
        .find(|b| sitting.blueprints.contains(&b.id))
        .map_or(crate::bank::PassMark::whole(80), |b| {
            b.part_one.pass_percent
        });
    let cut = f64::from(pass.raw_cut(u32::try_from(a.form.items).unwrap_or(u32::MAX)));
    let scale = calibration::sitting_scale(&state.db, id).await?;
    let calibrated = scale.is_some();
    let decision = super::decision::figures(&a, cut as u32, scale.as_ref())
        .map(|fig| super::decision::table(&fig, id));
    if let Some(name) = q.csv {
        let t = [Some(&items), Some(&domains), Some(&form), decision.as_ref()]
            .into_iter()
            .flatten()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound)?;
        return Ok(csv_response(&format!("items-{id}-{name}.csv"), t.csv()));
    }
    let points: Vec<(f64, f64, bool, String)> = a
        .items
        .iter()
        .filter_map(|s| Some((s.p?, s.pbis_rest?, !s.flags.is_empty(), s.item.clone())))
        .collect();
    let f = &a.form;
    let item_cell = |code: &str, c: &str| -> Option<maud::Markup> {
        match code {
            "item" => Some(
                html! { a href={ "/stats/" (id) "/items/" (c.split(' ').next().unwrap_or_default()) } { (c) } },
            ),
            "flags" if !c.is_empty() => Some(html! {
                span class="flag-list" { @for flag in c.split(' ') { span class="chip warn" title=(flag) { (flag_text(flag)) } " " } }
            }),
            _ => None,
        }
    };
    let body = html! {
        p class="hint" { a href={ "/scoring/" (id) } { "Scoring" } " · " a href={ "/stats/" (id) "/agreement" } { "Rater agreement" } " · " a href={ "/stats/" (id) "/dif" } { "Fairness (DIF)" } " · " a href={ "/stats/" (id) "/rasch" } { "Rasch calibration" } " · " a href={ "/stats/" (id) "/report" } { "Technical report" } }
        h1 { "Item statistics: " (sitting.name) }
        @if f.candidates == 0 {
            p { "No Part One has been submitted in this sitting yet." }
        } @else {
            p class="hint" { "Part One, scored items, over the candidates each item was presented to. Pretest items are not included." }
            dl class="summary" {
                dt { "Candidates" } dd { (f.candidates) }
                dt { "Items per form" } dd { (f.items) }
                dt { "Mean (sd)" } dd { (show(f.mean)) " (" (show(f.sd)) ")" }
                dt { "KR-20 / KR-21" } dd { (show(f.kr20)) " / " (show(f.kr21)) }
                dt { "Cronbach's alpha (Feldt 95%)" } dd { (show(f.alpha)) " (" (show(f.alpha_low)) " to " (show(f.alpha_high)) ")" }
                dt { "SEM" } dd { (show(f.sem)) }
            }
            div class="charts" {
                (charts::histogram("scores", "Scores, with the cut score", &f.distribution, Some(cut), "score (items right)"))
                (charts::scatter("items", "Difficulty against discrimination", &points, (0.0, 1.0), (-0.2, 0.8), ("p (difficulty)", "pbis_rest (discrimination)")))
            }
            p class="hint" { "Select a column's name to sort by it (again for the reverse order). Flags: " (FLAG_HELP) }
            (items.view(&format!("/stats/{id}/items?csv=items&{sort_query}"))
                .sortable(item_links)
                .cells(&item_cell)
                .hide(if all_columns { &[] } else { HIDDEN }, if all_columns { String::new() } else { format!("/stats/{id}/items?cols=all&{sort_query}#t-items") })
                .render())
            (domains.view(&format!("/stats/{id}/items?csv=domains")).sortable(domain_links).render())
            (form.html(&format!("/stats/{id}/items?csv=form")))
            @if let Some(d) = &decision {
                (d.html(&format!("/stats/{id}/items?csv=decision")))
                @if !calibrated {
                    p class="hint" id="rasch-decision" { "Rudner's accuracy and the Rasch CSEM at the cut need the sitting's Rasch calibration: " a href={ "/stats/" (id) "/rasch" } { "calibrate it" } "." }
                }
            }
        }
    };
    Ok(views::page("Item statistics", Some(&chrome(me, &csrf)), body).into_response())
}

pub async fn item_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, item)): Path<(i64, String)>,
    Query(q): Query<ItemsQuery>,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = bank_store::item_versions(&state.db, &item).await?;
    let latest = versions.last().ok_or(AppError::NotFound)?;
    let ItemBody::Mcq(mcq) = &latest.body else {
        return Err(AppError::NotFound);
    };
    let data = sitting_data(&state.db, id).await?;
    let a = off_runtime(move || item_analysis(&data.responses)).await?;
    let here = a
        .items
        .iter()
        .find(|s| s.item.split(' ').next() == Some(item.as_str()));
    // Every sitting whose Part One forms carried the item, oldest first.
    let sitting_ids: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT g.sitting_id FROM form_items f JOIN attempts a ON a.id = f.attempt_id
         JOIN registrations g ON g.id = a.registration_id WHERE f.object_id = $1 AND a.part = 1
         ORDER BY g.sitting_id",
    )
    .bind(&item)
    .fetch_all(&state.db.pool)
    .await?;
    let mut history = Vec::new();
    for sid in sitting_ids {
        let Some(s) = sittings::sitting(&state.db, sid).await? else {
            continue;
        };
        let d = sitting_data(&state.db, sid).await?;
        let an = off_runtime(move || item_analysis(&d.responses)).await?;
        if let Some(st) = an
            .items
            .iter()
            .find(|x| x.item.split(' ').next() == Some(item.as_str()))
        {
            history.push(vec![
                s.name.clone(),
                sittings::date(s.opens_at),
                st.n.to_string(),
                num(st.p),
                num(st.pbis_rest),
                num(st.disc_27),
            ]);
        }
    }
    let history = Table {
        name: "history",
        caption: "Across sittings".into(),
        headers: heads(&["sitting", "opened", "n", "p", "pbis_rest", "disc_27"]),
        rows: history,
    };
    let distractors = Table {
        name: "distractors",
        caption: "Options in this sitting".into(),
        headers: heads(&[
            "option",
            "key",
            "chosen",
            "proportion",
            "upper_27",
            "lower_27",
            "pbis",
        ]),
        rows: here
            .map(|s| {
                s.options
                    .iter()
                    .map(|o| {
                        vec![
                            o.option.to_string(),
                            if o.key { "key".into() } else { String::new() },
                            o.count.to_string(),
                            num(o.proportion),
                            num(o.upper),
                            num(o.lower),
                            num(o.pbis),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let comments: Vec<_> = comments::of_sitting(&state.db, id)
        .await?
        .into_iter()
        .filter(|c| c.part == 1 && c.target == item)
        .collect();
    if let Some(name) = q.csv {
        let t = [&distractors, &history]
            .into_iter()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound)?;
        return Ok(csv_response(&format!("item-{item}-{name}.csv"), t.csv()));
    }
    let body = html! {
        p class="hint" { a href={ "/stats/" (id) "/items" } { "Item statistics of " (sitting.name) } }
        h1 { "Item " (item) }
        p { "Domain " (latest.domain) " / " (latest.area) " · version " (latest.version) " · " (latest.status.to_string()) }
        section aria-labelledby="text-title" {
            h2 id="text-title" { "Text" }
            @for para in mcq.stem.split("\n\n") { p { (para) } }
            ol type="A" {
                @for o in &mcq.options {
                    li { (o.text) @if o.letter == mcq.key { " " strong { "(key)" } } }
                }
            }
            p { strong { "Rationale: " } (mcq.rationale) }
        }
        @if let Some(s) = here {
            dl class="summary" {
                dt { "Presented to" } dd { (s.n) " candidates (" (s.omitted) " omitted it)" }
                dt { "p" } dd { (show(s.p)) }
                dt { "pbis / pbis_rest" } dd { (show(s.pbis)) " / " (show(s.pbis_rest)) }
                dt { "disc_27" } dd { (show(s.disc_27)) }
                dt { "alpha if deleted" } dd { (show(s.alpha_if_deleted)) }
                dt { "Flags" } dd { @if s.flags.is_empty() { "none" } @else { strong class="flag" { (s.flags.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) } } }
            }
            (distractors.html(&format!("/stats/{id}/items/{item}?csv=distractors")))
        } @else {
            p { "This item was on no scored Part One form of this sitting." }
        }
        section aria-labelledby="comments-title" {
            h2 id="comments-title" { "Candidates' comments in this sitting (" (comments.len()) ")" }
            @if comments.is_empty() {
                p { "No candidate commented on this question in this sitting." }
            } @else {
                (super::keys::comment_list(&comments.iter().collect::<Vec<_>>(), &sitting.time_zone))
            }
        }
        (history.html(&format!("/stats/{id}/items/{item}?csv=history")))
        p { a href={ "/keys?sitting=" (id) "&item=" (item) "#change" } { "Key review" } ": change the key, accept two keys or drop this item, citing candidates' comments." }
    };
    Ok(views::page(&format!("Item {item}"), Some(&chrome(me, &csrf)), body).into_response())
}
