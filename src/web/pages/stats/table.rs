//! A statistics table: rows of text, sorted by the address, shown as HTML and downloaded as
//! CSV.

use maud::{html, Markup};

use super::cells::{is_number, shown};
use super::columns::label;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::pages::stats::cells::heads;

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
}
