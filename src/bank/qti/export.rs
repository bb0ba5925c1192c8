//! The bank as a QTI 3.0 content package: `items/<ID>.xml` (qti-assessment-item),
//! `stimuli/<ID>.xml` (qti-assessment-stimulus) and `imsmanifest.xml` with each resource's
//! metadata (`manifest::write`).

use super::html::{inline, paragraphs};
use super::xml::{unrepresentable, Writer};
use super::{manifest, MATCH_CORRECT, QTI3_NS, XSI_NS};
use crate::bank::model::{Bank, Diagnostic, Item, ItemBody, Mcq, Open, Vignette};

/// The package's files, by path, in the order they are best zipped (manifest first).
pub fn export(bank: &Bank) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    for i in &bank.items {
        check_text(&i.source.path, &item_texts(i), &mut diags);
    }
    for v in &bank.vignettes {
        check_text(&v.source.path, &[&v.title, &v.text], &mut diags);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut files = vec![("imsmanifest.xml".to_string(), manifest::write(bank))];
    for v in &bank.vignettes {
        files.push((stimulus_path(&v.id), stimulus(v)));
    }
    for i in &bank.items {
        files.push((item_path(&i.id), item(bank, i)));
    }
    Ok(files)
}

pub fn item_path(id: &str) -> String {
    format!("items/{id}.xml")
}

pub fn stimulus_path(id: &str) -> String {
    format!("stimuli/{id}.xml")
}

/// A QTI identifier (an XML name) for a bank id: the id itself unless it starts with a digit.
/// The bank id always travels as itself in the manifest's metadata.
pub fn qti_identifier(id: &str) -> String {
    if id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.to_string()
    } else {
        format!("id-{id}")
    }
}

fn item_texts(i: &Item) -> Vec<&str> {
    match &i.body {
        ItemBody::Mcq(m) => {
            let mut t = vec![m.stem.as_str(), m.rationale.as_str()];
            t.extend(m.options.iter().map(|o| o.text.as_str()));
            t
        }
        ItemBody::Open(o) => {
            let mut t = vec![o.prompt.as_str()];
            for p in &o.rubric {
                t.push(&p.descriptor);
                t.extend(p.anchors.iter().map(String::as_str));
            }
            t
        }
    }
}

fn check_text(path: &str, texts: &[&str], diags: &mut Vec<Diagnostic>) {
    if let Some(c) = texts.iter().find_map(|t| unrepresentable(t)) {
        diags.push(Diagnostic::new(
            path,
            1,
            format!(
                "holds the character {}, which XML cannot carry; remove it before exporting",
                c.escape_unicode()
            ),
        ));
    }
}

fn root_attrs<'a>(identifier: &'a str, title: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("xmlns", QTI3_NS),
        ("xmlns:xsi", XSI_NS),
        ("xsi:schemaLocation", SCHEMA_LOCATION),
        ("identifier", identifier),
        ("title", title),
    ]
}

/// `xsi:schemaLocation`: QTI3_NS, a space, QTI3_SCHEMA (kept in step by a test).
const SCHEMA_LOCATION: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0 https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0p1_v1p0.xsd";

fn body_paragraphs(w: &mut Writer, text: &str) {
    for p in paragraphs(text) {
        w.raw("p", &[], &p);
    }
}

fn stimulus(v: &Vignette) -> String {
    let identifier = qti_identifier(&v.id);
    let mut w = Writer::new();
    w.open(
        "qti-assessment-stimulus",
        &root_attrs(&identifier, &v.title),
    );
    w.open("qti-stimulus-body", &[]);
    body_paragraphs(&mut w, &v.text);
    w.close("qti-stimulus-body");
    w.close("qti-assessment-stimulus");
    w.finish()
}

fn item(bank: &Bank, i: &Item) -> String {
    let identifier = qti_identifier(&i.id);
    let mut w = Writer::new();
    let mut attrs = root_attrs(&identifier, &i.id);
    attrs.extend([
        ("adaptive", "false"),
        ("time-dependent", "false"),
        ("tool-name", "imh-exam"),
        ("tool-version", env!("CARGO_PKG_VERSION")),
    ]);
    w.open("qti-assessment-item", &attrs);
    match &i.body {
        ItemBody::Mcq(m) => {
            w.open(
                "qti-response-declaration",
                &[
                    ("identifier", "RESPONSE"),
                    ("cardinality", "single"),
                    ("base-type", "identifier"),
                ],
            );
            w.open("qti-correct-response", &[]);
            w.leaf("qti-value", &[], &m.key.to_string());
            w.close("qti-correct-response");
            w.close("qti-response-declaration");
            w.open(
                "qti-outcome-declaration",
                &[
                    ("identifier", "SCORE"),
                    ("cardinality", "single"),
                    ("base-type", "float"),
                ],
            );
        }
        ItemBody::Open(o) => {
            w.empty(
                "qti-response-declaration",
                &[
                    ("identifier", "RESPONSE"),
                    ("cardinality", "single"),
                    ("base-type", "string"),
                ],
            );
            w.open(
                "qti-outcome-declaration",
                &[
                    ("identifier", "SCORE"),
                    ("cardinality", "single"),
                    ("base-type", "float"),
                    ("normal-maximum", &o.max_score.to_string()),
                    ("external-scored", "human"),
                ],
            );
        }
    }
    w.open("qti-default-value", &[]);
    w.leaf("qti-value", &[], "0");
    w.close("qti-default-value");
    w.close("qti-outcome-declaration");
    if let Some(v) = i.vignette.as_deref().and_then(|v| bank.vignette(v)) {
        w.empty(
            "qti-assessment-stimulus-ref",
            &[
                ("identifier", &qti_identifier(&v.id)),
                ("href", &format!("../{}", stimulus_path(&v.id))),
                ("title", &v.title),
            ],
        );
    }
    w.open("qti-item-body", &[]);
    match &i.body {
        ItemBody::Mcq(m) => mcq_body(&mut w, m),
        ItemBody::Open(o) => open_body(&mut w, o),
    }
    w.close("qti-item-body");
    if let ItemBody::Mcq(_) = &i.body {
        w.empty("qti-response-processing", &[("template", MATCH_CORRECT)]);
    }
    w.close("qti-assessment-item");
    w.finish()
}

fn mcq_body(w: &mut Writer, m: &Mcq) {
    body_paragraphs(w, &m.stem);
    w.open(
        "qti-choice-interaction",
        &[
            ("response-identifier", "RESPONSE"),
            ("shuffle", "false"),
            ("max-choices", "1"),
        ],
    );
    for o in &m.options {
        w.raw(
            "qti-simple-choice",
            &[("identifier", &o.letter.to_string())],
            &inline(&o.text),
        );
    }
    w.close("qti-choice-interaction");
    w.open(
        "qti-rubric-block",
        &[
            ("view", "scorer tutor"),
            ("use", "scoring"),
            ("class", "rationale"),
        ],
    );
    w.open("qti-content-body", &[]);
    body_paragraphs(w, &m.rationale);
    w.close("qti-content-body");
    w.close("qti-rubric-block");
}

fn open_body(w: &mut Writer, o: &Open) {
    body_paragraphs(w, &o.prompt);
    w.empty(
        "qti-extended-text-interaction",
        &[("response-identifier", "RESPONSE"), ("format", "plain")],
    );
    w.open(
        "qti-rubric-block",
        &[("view", "scorer"), ("use", "scoring"), ("class", "rubric")],
    );
    w.open("qti-content-body", &[]);
    for p in &o.rubric {
        w.open("div", &[("class", "score-point")]);
        w.leaf("h4", &[], &format!("Score {}", p.score));
        w.open("div", &[("class", "descriptor")]);
        body_paragraphs(w, &p.descriptor);
        w.close("div");
        for a in &p.anchors {
            w.open("blockquote", &[("class", "anchor")]);
            body_paragraphs(w, a);
            w.close("blockquote");
        }
        w.close("div");
    }
    w.close("qti-content-body");
    w.close("qti-rubric-block");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::qti::QTI3_SCHEMA;

    #[test]
    fn the_schema_location_names_the_namespace_and_the_schema() {
        assert_eq!(SCHEMA_LOCATION, format!("{QTI3_NS} {QTI3_SCHEMA}"));
    }

    #[test]
    fn identifiers_are_xml_names() {
        assert_eq!(qti_identifier("TF-0001"), "TF-0001");
        assert_eq!(qti_identifier("2024-A"), "id-2024-A");
    }
}
