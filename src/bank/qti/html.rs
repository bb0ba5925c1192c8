//! Bank text and QTI's XHTML content, both ways.
//!
//! Bank text is paragraphs of lines (`doc::join_text`). Written out, a paragraph is a `<p>`
//! and a line break inside it a `<br/>`; no text node holds a line end. Read back, block
//! elements end paragraphs, `<br/>` ends a line, and a run of whitespace holding a line end
//! (an editor's indentation) is one space, so our own files read back exactly and a
//! pretty-printed file from elsewhere reads as a browser would show it. Inline markup
//! (emphasis, spans) keeps its text; anything with no place in plain text (images, tables,
//! lists, formulas, media) is refused by name.

use roxmltree::Node;

use super::node::{name, XmlFile};
use super::xml::escape_text;
use crate::bank::doc::join_text;
use crate::bank::model::Diagnostic;

/// A line of text as inline markup: escaped, line breaks as `<br/>`.
pub fn inline(text: &str) -> String {
    escape_text(text).replace('\n', "<br/>")
}

/// Paragraphs of text as `<p>` elements, one per blank-line-separated paragraph.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(inline).collect()
}

const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "dfn", "em", "i", "kbd", "label", "q",
    "samp", "small", "span", "strong", "sub", "sup", "tt", "u", "var",
];
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "div",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "nav",
    "p",
    "pre",
    "section",
    "qti-content-body",
    "qti-prompt",
    "qti-stimulus-body",
];

/// The text of `node`'s content. `skip` names elements left out (interactions, rubric blocks:
/// read on their own); an element with no place in plain text is refused at its line.
pub fn text(file: &XmlFile, node: Node, skip: &dyn Fn(Node) -> bool) -> Result<String, Diagnostic> {
    let mut buf = String::new();
    walk(file, node, skip, &mut buf)?;
    Ok(join_text(buf.split('\n')))
}

fn walk(
    file: &XmlFile,
    node: Node,
    skip: &dyn Fn(Node) -> bool,
    buf: &mut String,
) -> Result<(), Diagnostic> {
    for child in node.children() {
        if child.is_text() {
            push_text(buf, child.text().unwrap_or(""));
            continue;
        }
        if !child.is_element() || skip(child) {
            continue;
        }
        let n = name(child);
        if n == "br" {
            buf.push('\n');
        } else if INLINE.contains(&n.as_ref()) {
            walk(file, child, skip, buf)?;
        } else if BLOCK.contains(&n.as_ref()) {
            buf.push_str("\n\n");
            walk(file, child, skip, buf)?;
            buf.push_str("\n\n");
        } else {
            return Err(file.error(
                child,
                format!(
                    "<{}> cannot be represented: bank items and vignettes are plain text (paragraphs and line breaks)",
                    child.tag_name().name()
                ),
            ));
        }
    }
    Ok(())
}

/// Appends a text node: a run of whitespace that holds a line end becomes one space.
fn push_text(buf: &mut String, t: &str) {
    let mut run = String::new();
    let flush = |run: &mut String, buf: &mut String| {
        if run.contains(['\n', '\r']) {
            buf.push(' ');
        } else {
            buf.push_str(run);
        }
        run.clear();
    };
    for c in t.chars() {
        if c.is_whitespace() {
            run.push(c);
        } else {
            flush(&mut run, buf);
            buf.push(c);
        }
    }
    flush(&mut run, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<String, String> {
        let file = XmlFile::parse("x.xml", xml).unwrap();
        text(&file, file.doc.root_element(), &|_| false).map_err(|d| d.to_string())
    }

    #[test]
    fn written_text_reads_back_exactly() {
        let original = "First line,  two spaces.\nSecond line & <more>.\n\nA second paragraph.";
        let xml = format!(
            "<body>{}</body>",
            paragraphs(original)
                .iter()
                .map(|p| format!("<p>{p}</p>"))
                .collect::<String>()
        );
        assert_eq!(read(&xml).unwrap(), original);
    }

    #[test]
    fn pretty_printed_markup_reads_as_a_browser_shows_it() {
        let xml = "<body>\n  <p>\n    Some <em>emphasised</em>\n    text.\n  </p>\n  <div><p>Next.</p></div>\n</body>";
        assert_eq!(read(xml).unwrap(), "Some emphasised text.\n\nNext.");
    }

    #[test]
    fn an_image_is_refused_by_name_at_its_line() {
        assert_eq!(
            read("<body>\n<p>See <img src=\"a.png\"/></p></body>").unwrap_err(),
            "x.xml:2: <img> cannot be represented: bank items and vignettes are plain text (paragraphs and line breaks)"
        );
    }
}
