//! Reading QTI XML of either version with one vocabulary: QTI 2.x writes `choiceInteraction`
//! and `maxChoices`, QTI 3.0 `qti-choice-interaction` and `max-choices`. Names here are 3.0's;
//! messages quote the file's own spelling.

use std::borrow::Cow;

use roxmltree::{Document, Node};

use crate::bank::model::Diagnostic;

const XINCLUDE_NS: &str = "http://www.w3.org/2001/XInclude";

/// Elements shared with XHTML (and the content we refuse by name): never given a `qti-` prefix.
const HTML: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "kbd",
    "label",
    "li",
    "math",
    "nav",
    "object",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "samp",
    "section",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

/// One XML file of a package, parsed, with its path for messages.
pub struct XmlFile<'a> {
    pub path: &'a str,
    pub doc: Document<'a>,
}

impl<'a> XmlFile<'a> {
    /// Parses `text`; a file that is not well-formed XML is one diagnostic at its line.
    pub fn parse(path: &'a str, text: &'a str) -> Result<Self, Diagnostic> {
        match Document::parse(text) {
            Ok(doc) => Ok(XmlFile { path, doc }),
            Err(e) => Err(Diagnostic::new(
                path,
                e.pos().row as usize,
                format!("not well-formed XML: {e}"),
            )),
        }
    }

    pub fn line(&self, node: Node) -> usize {
        self.doc.text_pos_at(node.range().start).row as usize
    }

    pub fn error(&self, node: Node, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.path, self.line(node), message)
    }
}

/// The element's name in QTI 3.0's spelling: `qti-choice-interaction` for QTI 2.1's
/// `choiceInteraction`, `xi:include` for an XInclude.
pub fn name<'a>(node: Node<'a, '_>) -> Cow<'a, str> {
    let tag = node.tag_name();
    let local = tag.name();
    if tag.namespace() == Some(XINCLUDE_NS) {
        return Cow::Borrowed("xi:include");
    }
    if local.starts_with("qti-") || HTML.contains(&local) {
        return Cow::Borrowed(local);
    }
    Cow::Owned(format!("qti-{}", kebab(local)))
}

fn kebab(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(kebab: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in kebab.chars() {
        if c == '-' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// An attribute by its QTI 3.0 name (`max-choices`), or its QTI 2.x name (`maxChoices`).
pub fn attr<'a>(node: Node<'a, '_>, kebab_name: &str) -> Option<&'a str> {
    node.attribute(kebab_name)
        .or_else(|| node.attribute(camel(kebab_name).as_str()))
}

/// Child elements whose 3.0 name is `n`.
pub fn children<'a, 'i>(node: Node<'a, 'i>, n: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && name(*c) == n)
}

pub fn child<'a, 'i>(node: Node<'a, 'i>, n: &'static str) -> Option<Node<'a, 'i>> {
    children(node, n).next()
}

/// Descendant elements (the node itself left out) whose 3.0 name is `n`.
pub fn descendants<'a, 'i>(
    node: Node<'a, 'i>,
    n: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.descendants()
        .skip(1)
        .filter(move |c| c.is_element() && name(*c) == n)
}

pub fn has_class(node: Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|t| t == class))
}

/// The plain text of an element (a LOM `string`, a `qti-value`), whitespace at the ends
/// trimmed.
pub fn plain(node: Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_attributes_read_alike_in_both_versions() {
        let two = Document::parse(
            r#"<choiceInteraction xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" maxChoices="1"><p/><prompt/></choiceInteraction>"#,
        )
        .unwrap();
        let root = two.root_element();
        assert_eq!(name(root), "qti-choice-interaction");
        assert_eq!(attr(root, "max-choices"), Some("1"));
        let kids: Vec<String> = root.children().map(|c| name(c).into_owned()).collect();
        assert_eq!(kids, vec!["p", "qti-prompt"]);
        let three = Document::parse(
            r#"<qti-choice-interaction xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" max-choices="2"/>"#,
        )
        .unwrap();
        assert_eq!(name(three.root_element()), "qti-choice-interaction");
        assert_eq!(attr(three.root_element(), "max-choices"), Some("2"));
    }

    #[test]
    fn bad_xml_is_named_at_its_line() {
        let e = XmlFile::parse("items/a.xml", "<a>\n<b>\n</a>")
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .starts_with("items/a.xml:3: not well-formed XML: "),
            "{e}"
        );
    }
}
