//! `imh-exam analyze rasch`: the anchor file (`item,difficulty`) and the report's tree and CSV.

use rustc_hash::FxHashMap;

use super::files::{Errors, FileError, Input, Records, UniqueIds};
use super::output::{LongCsv, Node};
use crate::stats::rasch::{Analysis, Exclusion};

/// The anchor file, header `item,difficulty`: each row an item of the response file and its
/// difficulty in logits. Every problem is kept as `file:line: message`.
pub fn anchors(input: &Input, items: &[String], errors: &mut Errors) -> Option<Vec<(usize, f64)>> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["item", "difficulty"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let index: FxHashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut seen = UniqueIds::default();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    while let Some(row) = records.next_row() {
        let (item, value) = (&row.fields[0], &row.fields[1]);
        if let Err(problem) = seen.check(name, row.line, "item", item) {
            problems.push(problem);
            continue;
        }
        let Some(&i) = index.get(item) else {
            problems.push(FileError::at(
                name,
                row.line,
                format!("item \"{item}\" is not a column of the responses"),
            ));
            continue;
        };
        match value.parse::<f64>() {
            Ok(d) if d.is_finite() => out.push((i, d)),
            _ => problems.push(FileError::at(
                name,
                row.line,
                format!("the difficulty \"{value}\" of item \"{item}\" is not a number of logits"),
            )),
        }
    }
    records
        .close(errors, before, problems, "anchors")
        .then_some(out)
}

/// The report as one tree: a summary, then `items`, `persons` and `forms`.
pub fn report(analysis: &Analysis, items: &[String], candidates: &[String]) -> Node {
    let c = &analysis.calibration;
    let num = |x: Option<f64>| Node::of(&x);
    let item_rows = c
        .items
        .iter()
        .zip(&analysis.fit)
        .zip(items)
        .map(|((item, fit), id)| {
            Node::Map(vec![
                ("item".into(), Node::Str(id.clone())),
                ("difficulty".into(), num(item.difficulty)),
                ("se".into(), num(item.se)),
                ("infit".into(), num(fit.map(|f| f.infit))),
                ("outfit".into(), num(fit.map(|f| f.outfit))),
                ("infit_z".into(), num(fit.and_then(|f| f.infit_z))),
                ("outfit_z".into(), num(fit.and_then(|f| f.outfit_z))),
                ("anchored".into(), Node::Bool(item.anchored)),
                ("pretest".into(), Node::Bool(item.pretest)),
                (
                    "excluded".into(),
                    item.excluded
                        .map_or(Node::Null, |e: Exclusion| Node::Str(e.as_str().into())),
                ),
                ("presented".into(), Node::of(&item.presented)),
                ("correct".into(), Node::of(&item.correct)),
            ])
        })
        .collect();
    let person_rows = analysis
        .persons
        .iter()
        .zip(candidates)
        .map(|(p, id)| {
            Node::Map(vec![
                ("candidate".into(), Node::Str(id.clone())),
                ("raw".into(), Node::of(&p.raw)),
                ("wle".into(), num(p.wle)),
                ("wle_se".into(), num(p.wle_se)),
                ("form".into(), Node::of(&(p.form + 1))),
                ("estimated".into(), Node::Bool(p.estimated)),
            ])
        })
        .collect();
    let form_rows = analysis
        .forms
        .iter()
        .enumerate()
        .map(|(f, form)| {
            Node::Map(vec![
                ("form".into(), Node::of(&(f + 1))),
                ("candidates".into(), Node::of(&form.persons)),
                (
                    "items".into(),
                    Node::List(
                        form.items
                            .iter()
                            .map(|&i| Node::Str(items[i].clone()))
                            .collect(),
                    ),
                ),
                (
                    "scores".into(),
                    Node::List(
                        form.scores
                            .iter()
                            .map(|m| {
                                Node::Map(vec![
                                    ("raw".into(), Node::of(&m.raw)),
                                    ("wle".into(), Node::of(&m.theta)),
                                    ("wle_se".into(), Node::of(&m.se)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    Node::Map(vec![
        (
            "normalisation".into(),
            Node::Str(
                if c.items.iter().any(|i| i.anchored) {
                    "anchored"
                } else {
                    "sum_zero"
                }
                .into(),
            ),
        ),
        ("persons_estimated".into(), Node::of(&c.persons_estimated)),
        ("persons_extreme".into(), Node::of(&c.persons_extreme)),
        ("log_likelihood".into(), Node::of(&c.log_likelihood)),
        ("iterations".into(), Node::of(&c.iterations)),
        ("items".into(), Node::List(item_rows)),
        ("persons".into(), Node::List(person_rows)),
        ("forms".into(), Node::List(form_rows)),
    ])
}

/// Tables `calibration`, `item` (id the item), `person` (id the candidate), `form` (id the
/// form's number: `candidates`, and one `item` row per item, sub its position) and `score` (id
/// the form, sub the raw score).
pub fn csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    out.scalars("calibration", "", "", report, &[]);
    for item in report.get("items").list() {
        out.scalars("item", &item.get("item").text(), "", item, &["item"]);
    }
    for p in report.get("persons").list() {
        out.scalars("person", &p.get("candidate").text(), "", p, &["candidate"]);
    }
    for form in report.get("forms").list() {
        let id = form.get("form").text();
        out.row("form", &id, "", "candidates", form.get("candidates"));
        for (position, item) in form.get("items").list().iter().enumerate() {
            out.row("form", &id, &(position + 1).to_string(), "item", item);
        }
        for score in form.get("scores").list() {
            let raw = score.get("raw").text();
            out.scalars("score", &id, &raw, score, &["raw"]);
        }
    }
    out.finish()
}
