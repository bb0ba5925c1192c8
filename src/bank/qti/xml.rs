//! A small XML writer: elements with escaped attributes and text, one element a line and
//! indented, so an exported file reads well in a diff. (A writer crate would add a dependency
//! for the forty lines below; reading XML, where positions matter, uses roxmltree.)

/// Text escaped for element content.
pub fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text escaped for a double-quoted attribute value; line ends and tabs survive as references
/// (an attribute's raw line end would be read back as a space).
pub fn escape_attr(s: &str) -> String {
    escape_text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// The first character XML 1.0 cannot carry (a control character other than tab and line
/// ends, or a non-character), if `s` has one.
pub fn unrepresentable(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    })
}

pub struct Writer {
    out: String,
    depth: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            out: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_string(),
            depth: 0,
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
        }
    }

    /// `<name attrs>` on its own line; what follows is indented until `close`.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.out.push_str(&"  ".repeat(self.depth));
        self.out.push_str(&format!("</{name}>\n"));
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str("/>\n");
    }

    /// `<name attrs>text</name>`, the text escaped.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.raw(name, attrs, &escape_text(text));
    }

    /// `<name attrs>markup</name>`, the markup written as given (already escaped).
    pub fn raw(&mut self, name: &str, attrs: &[(&str, &str)], markup: &str) {
        self.start(name, attrs);
        self.out.push_str(&format!(">{markup}</{name}>\n"));
    }

    pub fn finish(self) -> String {
        debug_assert_eq!(self.depth, 0, "every element closed");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_indented_elements() {
        let mut w = Writer::new();
        w.open("a", &[("t", "x \"y\" & <z>\nw")]);
        w.leaf("b", &[], "1 < 2 & 3 > 2");
        w.empty("c", &[("k", "v")]);
        w.close("a");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a t=\"x &quot;y&quot; &amp; &lt;z&gt;&#10;w\">\n  <b>1 &lt; 2 &amp; 3 &gt; 2</b>\n  <c k=\"v\"/>\n</a>\n"
        );
    }

    #[test]
    fn finds_what_xml_cannot_carry() {
        assert_eq!(unrepresentable("tab\tand\nline"), None);
        assert_eq!(unrepresentable("bell\u{7}"), Some('\u{7}'));
    }
}
