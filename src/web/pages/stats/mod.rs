//! The committee's statistics pages for a sitting: rater agreement (and, with the item module,
//! item statistics). Every table is built once as rows of text and rendered both as HTML and as
//! a CSV download, so the two never disagree; charts are SVG drawn here.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::stats::{agreement, AgreementReport, PairStats, Scale};
use crate::store::{analysis, ratings, sittings};

use crate::web::charts;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views;
use crate::web::views::staff_chrome as chrome;
use crate::web::AppState;

use super::raters_model;

/// A table as rows of text: shown as HTML, downloaded as CSV. The headers are code names (the
/// CSV's); the page shows each by its human name (`label`), the code name in its title.
pub(crate) struct Table {
    pub name: &'static str,
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A table's sort order from the address: `?sort=col&dir=asc` for a page's main table,
/// `?sort=table.col` for another table of the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sort {
    pub table: Option<String>,
    pub col: String,
    pub desc: bool,
}

impl Sort {
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> Option<Sort> {
        let s = sort.filter(|s| !s.is_empty())?;
        let (table, col) = match s.split_once('.') {
            Some((t, c)) => (Some(t.to_string()), c.to_string()),
            None => (None, s.to_string()),
        };
        Some(Sort {
            table,
            col,
            desc: dir == Some("desc"),
        })
    }

    /// Whether this order is for `table` (`main`: the page's main table, named without a
    /// prefix).
    pub fn is_for(&self, table: &str, main: bool) -> bool {
        match &self.table {
            Some(t) => t == table,
            None => main,
        }
    }
}

/// How a table's sort links are made: the page's address with its other parameters (ending in
/// `?` or `&`), whether the table is the page's main one, and the order it is shown in.
#[derive(Debug, Clone)]
pub(crate) struct SortLinks {
    pub base: String,
    pub main: bool,
    pub current: Option<Sort>,
}

/// A cell drawn by the page itself (a link, a flag), given its column's code name and text.
pub(crate) type CellFn<'a> = &'a dyn Fn(&str, &str) -> Option<Markup>;

/// A table as shown on a page: with sort links, some cells drawn by the page, some columns
/// left out (with a link to them all).
pub(crate) struct View<'a> {
    table: &'a Table,
    csv_href: String,
    sort: Option<SortLinks>,
    cell: Option<CellFn<'a>>,
    hidden: Vec<&'a str>,
    all_columns: Option<String>,
}

impl<'a> View<'a> {
    pub fn sortable(mut self, links: SortLinks) -> Self {
        self.sort = Some(links);
        self
    }

    pub fn cells(mut self, f: CellFn<'a>) -> Self {
        self.cell = Some(f);
        self
    }

    /// Leaves out the columns `hidden`, with a link (`href`) to the table with them all.
    pub fn hide(mut self, hidden: &[&'a str], href: String) -> Self {
        self.hidden = hidden.to_vec();
        self.all_columns = (!hidden.is_empty()).then_some(href);
        self
    }

    pub fn render(&self) -> Markup {
        let t = self.table;
        let id = format!("t-{}", t.name);
        let cols: Vec<usize> = (0..t.headers.len())
            .filter(|&i| !self.hidden.contains(&t.headers[i].as_str()))
            .collect();
        let numeric: Vec<bool> = (0..t.headers.len())
            .map(|i| {
                t.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| is_number(c)))
            })
            .collect();
        // A column of fractions shows its whole numbers to the same decimals (1 as 1.000).
        let fractional: Vec<bool> = (0..t.headers.len())
            .map(|i| {
                t.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| shown("", c).is_some()))
            })
            .collect();
        // A single row of many statistics reads better down the page than across it.
        if t.rows.len() == 1 && cols.len() > 6 && self.cell.is_none() {
            return html! {
                div class="table-wrap" id=(id) role="region" tabindex="0" aria-label=(t.caption) {
                    table class="stats" {
                        caption { (t.caption) " · " a href=(self.csv_href) download { "CSV" } }
                        thead { tr { th scope="col" { "Statistic" } th scope="col" class="n" { "Value" } } }
                        tbody {
                            @for &i in &cols {
                                tr {
                                    th scope="row" title=(t.headers[i]) { (label(t.name, &t.headers[i])) }
                                    (self.td(&t.headers[i], &t.rows[0][i], false))
                                }
                            }
                        }
                    }
                }
            };
        }
        let tall = t.rows.len() > 12;
        html! {
            div class={ "table-wrap" @if tall { " tall" } } id=(id) role="region" tabindex="0" aria-label=(t.caption) {
                table class="stats" {
                    caption {
                        (t.caption) " · " a href=(self.csv_href) download { "CSV" }
                        @if let Some(href) = &self.all_columns {
                            " · " a href=(href) { "Show all " (t.headers.len()) " columns" }
                        }
                    }
                    thead { tr {
                        @for &i in &cols {
                            @let code = t.headers[i].as_str();
                            @let sorted = self.sort.as_ref().and_then(|s| s.current.as_ref()).filter(|s| s.col == code);
                            th scope="col" class=[numeric[i].then_some("n")] title=(code)
                                aria-sort=[sorted.map(|s| if s.desc { "descending" } else { "ascending" })] {
                                @if let Some(links) = &self.sort {
                                    @let desc = sorted.is_some_and(|s| !s.desc);
                                    a class="th-label" href={ (links.base) "sort=" @if !links.main { (t.name) "." } (code) "&dir=" (if desc { "desc" } else { "asc" }) "#" (id) } {
                                        (label(t.name, code))
                                        @match sorted {
                                            Some(s) => span aria-hidden="true" class="sort-mark" { @if s.desc { " ▼" } @else { " ▲" } },
                                            None => span aria-hidden="true" class="sort-mark idle" { " ↕" },
                                        }
                                    }
                                } @else {
                                    span class="th-label" { (label(t.name, code)) }
                                }
                            }
                        }
                    } }
                    tbody {
                        @for r in &t.rows {
                            tr {
                                @for &i in &cols {
                                    @let c = r.get(i).map(String::as_str).unwrap_or_default();
                                    (self.td(&t.headers[i], c, fractional[i]))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn td(&self, code: &str, c: &str, fractional: bool) -> Markup {
        if let Some(m) = self.cell.and_then(|f| f(code, c)) {
            return html! { td { (m) } };
        }
        if code == "statistic" {
            return html! { td title=(c) { (label(self.table.name, c)) } };
        }
        match shown(code, c) {
            Some(short) => html! { td class="n" title=(c) { (short) } },
            None if is_number(c) && fractional => {
                html! { td class="n" title=(c) { (shown(code, &format!("{c}.0")).unwrap_or_default()) } }
            }
            None if is_number(c) => html! { td class="n" { (c) } },
            None if c.is_empty() && fractional => {
                html! { td class="n" { span title="not defined" { "–" } } }
            }
            None => html! { td { (c) } },
        }
    }
}

impl Table {
    pub fn html(&self, csv_href: &str) -> Markup {
        self.view(csv_href).render()
    }

    pub fn view(&self, csv_href: &str) -> View<'_> {
        View {
            table: self,
            csv_href: csv_href.to_string(),
            sort: None,
            cell: None,
            hidden: Vec::new(),
            all_columns: None,
        }
    }

    /// Sorts the rows by the column named `col` (numbers by value, other cells as text; empty
    /// cells last either way); false when there is no such column.
    pub fn sort(&mut self, col: &str, desc: bool) -> bool {
        let Some(i) = self.headers.iter().position(|h| h == col) else {
            return false;
        };
        let empty = |r: &Vec<String>| r.get(i).is_none_or(|c| c.is_empty());
        self.rows.sort_by(|a, b| {
            empty(a).cmp(&empty(b)).then_with(|| {
                let (x, y) = (&a[i], &b[i]);
                let order = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => x.to_lowercase().cmp(&y.to_lowercase()),
                };
                if desc {
                    order.reverse()
                } else {
                    order
                }
            })
        });
        true
    }

    /// Sorts the table if `sort` is for it (`main`: the page's main table); returns the sort
    /// links its headers get, under the page's address `base` (ending in `?` or `&`).
    pub fn sorted(&mut self, sort: Option<&Sort>, main: bool, base: &str) -> SortLinks {
        let current = sort
            .filter(|s| s.is_for(self.name, main))
            .filter(|s| self.sort(&s.col, s.desc))
            .cloned();
        SortLinks {
            base: base.to_string(),
            main,
            current,
        }
    }

    pub fn csv(&self) -> String {
        let mut w = crate::csv_safe::Writer::new();
        w.write_record(&self.headers);
        for r in &self.rows {
            w.write_record(r);
        }
        w.into_string()
    }
}

fn is_number(c: &str) -> bool {
    !c.is_empty() && c.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A cell's number as people read it on the page: three decimals, so a column's points line
/// up (the CSV keeps every digit, and the cell's title holds it too); a p-value below
/// 0.001 as "< 0.001". None for a cell that is not a number with a fraction (ids, counts,
/// words stay as they are).
fn shown(code: &str, cell: &str) -> Option<String> {
    if !cell.contains(['.', 'e', 'E']) {
        return None;
    }
    let x: f64 = cell.parse().ok().filter(|x: &f64| x.is_finite())?;
    if code == "p_value" && (0.0..0.001).contains(&x) {
        return Some("< 0.001".into());
    }
    let s = format!("{x:.3}");
    Some(if s == "-0.000" { "0.000".into() } else { s })
}

/// The name people read for a column's (or a statistic's) code name, which stays the CSV's.
pub(crate) fn label(table: &str, code: &str) -> String {
    let special = match (table, code) {
        ("bias", "p") => Some("p-value"),
        ("bias", "observed") => Some("Observed score"),
        ("bias", "expected") => Some("Expected score"),
        ("bias", "se") => Some("SE of bias"),
        ("facets_raters", "severity") => Some("Severity (logits)"),
        ("raters", "mean") => Some("Mean score"),
        ("days", "mean") => Some("Mean score"),
        ("form" | "domains", "mean") => Some("Mean score"),
        ("part_two", "reference") | ("dif", "reference") => Some("Reference group (n)"),
        ("part_two", "focal") | ("dif", "focal") => Some("Focal group (n)"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_string();
    }
    let known = match code {
        "ratings" => "Readings",
        "pairs" => "Pairs",
        "exact" => "Exact agreement",
        "adjacent" => "Adjacent agreement",
        "kappa" => "Cohen's kappa",
        "kappa_se" => "SE of kappa",
        "kappa_linear" => "Weighted kappa, linear",
        "kappa_quadratic" => "Weighted kappa, quadratic",
        "kappa_low" => "Kappa, 95% low",
        "kappa_high" => "Kappa, 95% high",
        "icc_2_1" => "ICC(2,1)",
        "icc_3_1" => "ICC(3,1)",
        "alpha_ordinal" => "Krippendorff's alpha, ordinal",
        "alpha_interval" => "Krippendorff's alpha, interval",
        "fleiss_kappa" => "Fleiss' kappa",
        "gwet_ac1" => "Gwet's AC1",
        "gwet_ac1_se" => "SE of AC1",
        "gwet_ac2_quadratic" => "Gwet's AC2, quadratic",
        "gwet_ac2_quadratic_se" => "SE of AC2",
        "rater" => "Rater",
        "raters" => "Raters",
        "scored" => "Scored",
        "mean" => "Mean",
        "severity" => "Severity (points)",
        "validity" => "Validity responses",
        "accuracy" => "Accuracy on validity",
        "read_behind" => "Read behind",
        "overridden" => "Overridden",
        "item" => "Item",
        "day" => "Day",
        "domain" => "Domain",
        "n" => "Candidates",
        "exposure_all_sittings" => "Exposure, all sittings",
        "omitted" => "Omitted",
        "p" => "Difficulty (p)",
        "pbis" => "Point-biserial",
        "pbis_rest" => "Point-biserial (rest score)",
        "disc_27" => "Discrimination, upper − lower 27%",
        "alpha_if_deleted" => "Alpha if deleted",
        "flags" => "Flags",
        "flag" => "Flag",
        "statistic" => "Statistic",
        "value" => "Value",
        "meaning" => "Meaning",
        "candidates" => "Candidates",
        "items" => "Items",
        "sd" => "SD",
        "kr20" => "KR-20",
        "kr21" => "KR-21",
        "alpha" => "Cronbach's alpha",
        "alpha_low" => "Alpha, 95% low",
        "alpha_high" => "Alpha, 95% high",
        "sem" => "SEM",
        "sitting" => "Sitting",
        "opened" => "Opened",
        "option" => "Option",
        "key" => "Key",
        "chosen" => "Chosen",
        "proportion" => "Proportion",
        "upper_27" => "Upper 27%",
        "lower_27" => "Lower 27%",
        "strata" => "Score strata",
        "reference" => "Reference",
        "focal" => "Focal",
        "alpha_mh" => "MH odds ratio",
        "chi2_mh" => "MH chi-square",
        "p_value" => "p-value",
        "d_dif" => "D-DIF",
        "d_dif_se" => "SE of D-DIF",
        "ets_class" => "ETS class",
        "question" => "Question",
        "mantel_chi2" => "Mantel chi-square",
        "smd_points" => "SMD (points)",
        "smd_sd" => "SMD / SD",
        "version" => "Version",
        "difficulty" => "Difficulty (logits)",
        "se" => "SE",
        "infit" => "Infit MNSQ",
        "outfit" => "Outfit MNSQ",
        "infit_z" => "Infit z",
        "outfit_z" => "Outfit z",
        "presented" => "Presented",
        "correct" => "Correct",
        "excluded" => "Excluded",
        "earlier" => "Earlier difficulty",
        "drift" => "Drift",
        "blueprint" => "Blueprint",
        "forms" => "Forms",
        "theta_cut" => "θ cut (logits)",
        "target" => "Target (%)",
        "tolerance" => "Tolerance",
        "min" => "Min",
        "max" => "Max",
        "within_tolerance" => "Within tolerance",
        "partial_forms" => "Partial forms",
        "cut_on" => "θ cut taken on",
        "observed_average" => "Observed average",
        "fair_average" => "Fair average",
        "group" => "Group",
        "observed" => "Observed",
        "expected" => "Expected",
        "bias" => "Bias (logits)",
        "t" => "t",
        "effect" => "Effect",
        "variance" => "Variance",
        "percent" => "Percent",
        "questions" => "Questions",
        "phi" => "Φ (dependability)",
        "e_rho2" => "Eρ² (generalizability)",
        "absolute_error" => "Absolute error variance",
        "relative_error" => "Relative error variance",
        "cut" => "Cut score",
        "pass_rate" => "Pass rate",
        "subkoviak_p0" => "Subkoviak agreement p₀",
        "subkoviak_kappa" => "Subkoviak kappa",
        "ll_accuracy" => "Livingston & Lewis accuracy",
        "ll_consistency" => "Livingston & Lewis consistency",
        "ll_false_pass" => "False pass (Livingston & Lewis)",
        "ll_false_fail" => "False fail (Livingston & Lewis)",
        "csem_binomial_at_cut" => "CSEM at the cut, binomial (items)",
        "rudner_accuracy" => "Rudner accuracy",
        "rudner_consistency" => "Rudner consistency",
        "rudner_kappa" => "Rudner kappa",
        "rudner_persons" => "Candidates measured (Rudner)",
        "csem_rasch_at_cut" => "CSEM at the cut, Rasch (logits)",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Anything else ("score 12", a question's name): as it is, underscores as spaces.
    code.replace('_', " ")
}

/// Runs a statistic off the async runtime: at full size one takes up to hundreds of
/// milliseconds, which must not hold up the saves the same worker threads serve.
pub(crate) async fn off_runtime<T, F>(f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a statistics task failed: {e}")))
}

pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn heads(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A statistic for a table: full precision (it is also the CSV's), empty when undefined.
pub(crate) fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A statistic for reading: three decimals, "–" when undefined.
pub(crate) fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    pub csv: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
}

fn pair_row(label: String, p: &PairStats) -> Vec<String> {
    vec![
        label,
        p.pairs.to_string(),
        num(p.exact),
        num(p.adjacent),
        num(p.kappa),
        num(p.kappa_se),
        num(p.kappa_linear),
        num(p.kappa_quadratic),
        num(p.icc_2_1),
        num(p.icc_3_1),
    ]
}

const PAIR_HEADERS: [&str; 9] = [
    "pairs",
    "exact",
    "adjacent",
    "kappa",
    "kappa_se",
    "kappa_linear",
    "kappa_quadratic",
    "icc_2_1",
    "icc_3_1",
];

fn agreement_tables(
    r: &AgreementReport,
    data: &analysis::SittingRatings,
    read_behinds: &BTreeMap<i64, ratings::ReadBehindCount>,
) -> Vec<Table> {
    let rater = |id: i64| {
        data.raters
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let item = |id: i64| {
        data.items
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let with = |first: &str| heads(&[&[first], &PAIR_HEADERS[..]].concat());
    let labels: Vec<String> = (r.scale.min()..=r.scale.max())
        .map(|s| s.to_string())
        .collect();
    vec![
        Table {
            name: "overall",
            caption: "First against second reading, every response read twice".into(),
            headers: {
                let mut h = with("ratings");
                h.extend(heads(&[
                    "alpha_ordinal",
                    "alpha_interval",
                    "fleiss_kappa",
                    "gwet_ac1",
                    "gwet_ac1_se",
                    "gwet_ac2_quadratic",
                    "gwet_ac2_quadratic_se",
                    "kappa_low",
                    "kappa_high",
                ]));
                h
            },
            rows: vec![{
                let mut row = pair_row(r.ratings.to_string(), &r.overall);
                row.extend([
                    num(r.alpha_ordinal),
                    num(r.alpha_interval),
                    num(r.fleiss_kappa),
                    num(r.gwet_ac1),
                    num(r.gwet_ac1_se),
                    num(r.gwet_ac2_quadratic),
                    num(r.gwet_ac2_quadratic_se),
                    num(r.overall.kappa_low),
                    num(r.overall.kappa_high),
                ]);
                row
            }],
        },
        Table {
            name: "confusion",
            caption: "Confusion matrix: rows the first reading, columns the second".into(),
            headers: std::iter::once("first \\ second".to_string())
                .chain(labels.iter().cloned())
                .collect(),
            rows: r
                .overall
                .confusion
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    std::iter::once(labels[i].clone())
                        .chain(row.iter().map(u64::to_string))
                        .collect()
                })
                .collect(),
        },
        Table {
            name: "raters",
            caption: "Per rater (severity: mean of own reading minus the other; below 0 harsher)"
                .into(),
            headers: heads(&[
                "rater",
                "scored",
                "mean",
                "pairs",
                "severity",
                "exact",
                "validity",
                "accuracy",
                "read_behind",
                "overridden",
            ]),
            rows: r
                .raters
                .iter()
                .map(|s| {
                    let rb = read_behinds.get(&s.rater).copied().unwrap_or_default();
                    vec![
                        rater(s.rater),
                        s.scored.to_string(),
                        num(s.mean),
                        s.pairs.to_string(),
                        num(s.severity),
                        num(s.exact),
                        s.validity.to_string(),
                        num(s.accuracy),
                        rb.read.to_string(),
                        rb.overridden.to_string(),
                    ]
                })
                .collect(),
        },
        Table {
            name: "items",
            caption: "Per item".into(),
            headers: with("item"),
            rows: r
                .items
                .iter()
                .map(|i| pair_row(item(i.item), &i.pairs))
                .collect(),
        },
        Table {
            name: "pairs",
            caption: "Per pair of raters".into(),
            headers: with("raters"),
            rows: r
                .rater_pairs
                .iter()
                .map(|p| {
                    pair_row(
                        format!("{} & {}", rater(p.rater_a), rater(p.rater_b)),
                        &p.pairs,
                    )
                })
                .collect(),
        },
        Table {
            name: "days",
            caption: "By day (drift)".into(),
            headers: heads(&[&["day", "ratings", "mean"], &PAIR_HEADERS[..]].concat()),
            rows: r
                .days
                .iter()
                .map(|d| {
                    let mut row = vec![
                        sittings::date(d.day * 24 * 60 * 60 * 1000),
                        d.ratings.to_string(),
                        num(d.mean),
                    ];
                    row.extend(pair_row(String::new(), &d.pairs).into_iter().skip(1));
                    row
                })
                .collect(),
        },
    ]
}

pub async fn agreement_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<CsvQuery>,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = analysis::sitting_ratings(&state.db, id).await?;
    let scale =
        Scale::new(0, data.max_score.max(1)).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let (report, data) = off_runtime(move || (agreement(scale, &data.ratings), data)).await?;
    let report = report.map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let read_behinds = ratings::read_behind_counts(&state.db, id).await?;
    let (readings, max_score) = analysis::part_two_readings(&state.db, id).await?;
    let language = analysis::answers_to(&state.db, id, "language").await?;
    let model = off_runtime(move || raters_model::measure(&readings, max_score, &language)).await?;
    let rater_name = |rid: i64| {
        data.raters
            .get(&rid)
            .cloned()
            .unwrap_or_else(|| rid.to_string())
    };
    let mut tables = agreement_tables(&report, &data, &read_behinds);
    let measured = raters_model::tables(&model, &rater_name);
    let measured_names: Vec<&'static str> = measured.iter().map(|t| t.name).collect();
    tables.extend(measured);
    let order = Sort::parse(q.sort.as_deref(), q.dir.as_deref());
    let base = format!("/stats/{id}/agreement?");
    let links: Vec<SortLinks> = tables
        .iter_mut()
        .map(|t| t.sorted(order.as_ref(), false, &base))
        .collect();
    let shown = |t: &Table, l: &SortLinks| -> Markup {
        let csv = format!("/stats/{id}/agreement?csv={}", t.name);
        if t.name == "confusion" {
            // A matrix: its order is the scale's.
            t.html(&csv)
        } else {
            t.view(&csv).sortable(l.clone()).render()
        }
    };
    if let Some(name) = q.csv {
        let t = tables
            .iter()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound)?;
        return Ok(csv_response(&format!("agreement-{id}-{name}.csv"), t.csv()));
    }
    let labels: Vec<String> = (scale.min()..=scale.max()).map(|s| s.to_string()).collect();
    let severity: Vec<(String, f64)> = report
        .raters
        .iter()
        .filter_map(|s| {
            s.severity
                .map(|v| (data.raters.get(&s.rater).cloned().unwrap_or_default(), v))
        })
        .collect();
    let o = &report.overall;
    let body = html! {
        p class="hint" { a href={ "/scoring/" (id) } { "Scoring" } " · " a href={ "/stats/" (id) "/items" } { "Item statistics" } " · " a href={ "/stats/" (id) "/report" } { "Technical report" } }
        h1 { "Rater agreement: " (sitting.name) }
        @if report.ratings == 0 {
            p { "No reading has been submitted in this sitting yet." }
        } @else {
            dl class="summary" {
                dt { "Readings" } dd { (report.ratings) " of " (report.responses) " responses" }
                dt { "Pairs (first and second reading)" } dd { (o.pairs) }
                dt { "Exact agreement" } dd { (show(o.exact)) }
                dt { "Adjacent agreement (within 1)" } dd { (show(o.adjacent)) }
                dt { "Cohen's kappa" } dd { (show(o.kappa)) " (SE " (show(o.kappa_se)) "; 95% " (show(o.kappa_low)) " to " (show(o.kappa_high)) ")" }
                dt { "Weighted kappa, linear / quadratic" } dd { (show(o.kappa_linear)) " / " (show(o.kappa_quadratic)) }
                dt { "ICC(2,1) / ICC(3,1)" } dd { (show(o.icc_2_1)) " / " (show(o.icc_3_1)) }
                dt { "Krippendorff's alpha, ordinal / interval" } dd { (show(report.alpha_ordinal)) " / " (show(report.alpha_interval)) }
                dt { "Fleiss' kappa" } dd { (show(report.fleiss_kappa)) @if report.fleiss_kappa.is_none() { " (responses were read a different number of times)" } }
                dt { "Gwet's AC1 / AC2 (quadratic weights), with standard errors" } dd { (show(report.gwet_ac1)) " (SE " (show(report.gwet_ac1_se)) ") / " (show(report.gwet_ac2_quadratic)) " (SE " (show(report.gwet_ac2_quadratic_se)) "): unlike the kappas, stable when most scores fall on one or two points" }
            }
            div class="charts" {
                (charts::heatmap("confusion", "First against second reading", &o.confusion, &labels))
                (charts::bars("severity", "Rater severity", &severity, "points against the other reading"))
            }
            @for (t, l) in tables.iter().zip(&links).filter(|(t, _)| !measured_names.contains(&t.name)) {
                (shown(t, l))
            }
            h2 { "Raters measured: many-facet Rasch, bias, generalizability" }
            p { "The readings of Part Two in one model: each rater's severity in logits with its standard error, independent of whom they happened to read with; each candidate's fair average (their expected score with average raters); the bias of each rater on each consented group; and what another rater or question would buy in dependability. Methods and sources: the statistics documentation." }
            div class="charts" { (raters_model::map(&model, &rater_name)) }
            @for (t, l) in tables.iter().zip(&links).filter(|(t, _)| measured_names.contains(&t.name)) {
                (shown(t, l))
            }
        }
    };
    Ok(views::page("Rater agreement", Some(&chrome(me, &csrf)), body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn numbers_are_shown_to_three_decimals_and_words_as_they_are() {
        let shown = |c| shown("p", c);
        assert_eq!(shown("0.28571428571428575").as_deref(), Some("0.286"));
        assert_eq!(shown("12.5").as_deref(), Some("12.500"));
        assert_eq!(shown("-0.0001").as_deref(), Some("0.000"));
        assert_eq!(shown("2.5e-7").as_deref(), Some("0.000"));
        assert_eq!(shown("1.0").as_deref(), Some("1.000"));
        assert_eq!(
            super::shown("p_value", "0.00002").as_deref(),
            Some("< 0.001")
        );
        assert_eq!(super::shown("p_value", "0.0412").as_deref(), Some("0.041"));
        for kept in [
            "42", "TF-0001", "CL01-Q2", "rater1", "", "AA", "inf", "NaN", "set 1",
        ] {
            assert_eq!(shown(kept), None, "{kept}");
        }
    }

    fn sample() -> Table {
        Table {
            name: "items",
            caption: "3 items".into(),
            headers: heads(&["item", "p", "pbis_rest", "omitted"]),
            rows: vec![
                vec!["B".into(), "0.5".into(), "0.31234".into(), "2".into()],
                vec!["A".into(), "0.25".into(), String::new(), "0".into()],
                vec!["C".into(), "0.75".into(), "0.1".into(), "1".into()],
            ],
        }
    }

    #[test]
    fn a_table_shows_human_names_sorts_by_its_links_and_keeps_its_csv() {
        let mut t = sample();
        let csv = t.csv();
        assert!(csv.starts_with("item,p,pbis_rest,omitted\n"), "{csv}");
        let order = Sort::parse(Some("pbis_rest"), Some("desc"));
        let links = t.sorted(order.as_ref(), true, "/stats/1/items?");
        let items: Vec<&str> = t.rows.iter().map(|r| r[0].as_str()).collect();
        // Empty cells last, whichever the direction.
        assert_eq!(items, ["B", "C", "A"]);
        let html = t
            .view("/x.csv")
            .sortable(links)
            .hide(&["omitted"], "/stats/1/items?cols=all".into())
            .render()
            .into_string();
        assert!(
            html.contains(r#"<th class="n" scope="col" title="pbis_rest" aria-sort="descending">"#)
                || html.contains(r#"title="pbis_rest" aria-sort="descending""#),
            "{html}"
        );
        assert!(html.contains("Point-biserial (rest score)"), "{html}");
        // Sorted descending: its link turns to ascending; another column's starts ascending.
        assert!(
            html.contains(r#"href="/stats/1/items?sort=pbis_rest&amp;dir=asc#t-items""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/stats/1/items?sort=p&amp;dir=asc#t-items""#),
            "{html}"
        );
        assert_eq!(html.matches("aria-sort").count(), 1, "{html}");
        // The hidden column is not drawn; a link shows them all.
        assert!(!html.contains(r#"title="omitted""#), "{html}");
        assert!(html.contains("Show all 4 columns"), "{html}");
        // A region keyboard users can scroll, named by the caption.
        assert!(
            html.contains(r#"role="region" tabindex="0" aria-label="3 items""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="n" title="0.31234">0.312</td>"#),
            "{html}"
        );
        // A sort for another table, or for a column it has not, leaves it alone.
        let mut t = sample();
        let other = Sort::parse(Some("domains.p"), None);
        assert!(t.sorted(other.as_ref(), true, "?").current.is_none());
        let bad = Sort::parse(Some("nope"), None);
        assert!(t.sorted(bad.as_ref(), true, "?").current.is_none());
        assert_eq!(t.csv(), csv);
        let mut t = sample();
        t.sorted(Sort::parse(Some("items.p"), None).as_ref(), false, "?");
        let items: Vec<&str> = t.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(items, ["A", "B", "C"]);
    }

    #[test]
    fn code_names_read_as_words() {
        assert_eq!(label("items", "pbis_rest"), "Point-biserial (rest score)");
        assert_eq!(
            label("items", "exposure_all_sittings"),
            "Exposure, all sittings"
        );
        assert_eq!(label("dif", "d_dif_se"), "SE of D-DIF");
        assert_eq!(label("bias", "p"), "p-value");
        assert_eq!(label("items", "p"), "Difficulty (p)");
        assert_eq!(label("form", "score 12"), "score 12");
        assert_eq!(label("x", "some_new_thing"), "some new thing");
    }

    /// A statistic runs on a thread of its own: on a runtime with a single worker, a task that
    /// the statistic waits for still runs. Were the statistic run inline, that worker would be
    /// held by it and the task could not run until the statistic gave up.
    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_leaves_the_runtime_free() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let heard = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(()).is_ok()
        });
        let waited = off_runtime(move || rx.recv_timeout(Duration::from_secs(10)).is_ok())
            .await
            .unwrap();
        assert!(
            waited,
            "the runtime's only worker was held by the statistic"
        );
        assert!(heard.await.unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_that_panics_is_an_error_page_not_a_dead_worker() {
        let err = off_runtime(|| -> u8 { panic!("a bug in a statistic") })
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    }
}
