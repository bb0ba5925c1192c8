//! An item or a vignette as the text of its bank file: the inverse of `parse`, for tools that
//! write bank files (`bank import-qti`). `reparse_item` and `reparse_vignette` prove a written
//! file reads back as the same thing, since a line of text can look like bank syntax.

use super::hash::{item_hash, vignette_hash};
use super::model::{levels_to_string, Diagnostic, Item, ItemBody, Level, Vignette};
use super::parse;

fn levels(l: &std::collections::BTreeSet<Level>) -> String {
    if l.len() == Level::ALL.len() {
        "all".to_string()
    } else {
        levels_to_string(l)
    }
}

/// `items/<ID>.md` for an item.
pub fn item(i: &Item) -> String {
    let mut out = format!(
        "id: {}\nversion: {}\nkind: {}\ndomain: {}\narea: {}\nlevels: {}\nstatus: {}\n",
        i.id,
        i.version,
        i.kind(),
        i.domain,
        i.area,
        levels(&i.levels),
        i.status
    );
    if let Some(v) = &i.vignette {
        out.push_str(&format!("vignette: {v}\n"));
    }
    if let ItemBody::Open(o) = &i.body {
        out.push_str(&format!("max-score: {}\n", o.max_score));
    }
    if !i.enemies.is_empty() {
        let list: Vec<&str> = i.enemies.iter().map(String::as_str).collect();
        out.push_str(&format!("enemies: {}\n", list.join(", ")));
    }
    match &i.body {
        ItemBody::Mcq(m) => {
            out.push_str(&format!("\n## Stem\n{}\n\n## Options\n", m.stem));
            for o in &m.options {
                out.push_str(&format!("{}. {}\n", o.letter, o.text));
            }
            out.push_str(&format!(
                "\n## Key\n{}\n\n## Rationale\n{}\n",
                m.key, m.rationale
            ));
        }
        ItemBody::Open(o) => {
            out.push_str(&format!("\n## Prompt\n{}\n\n## Rubric\n", o.prompt));
            for p in &o.rubric {
                out.push_str(&format!(
                    "\n### {}\nDescriptor: {}\n",
                    p.score, p.descriptor
                ));
                for a in &p.anchors {
                    out.push_str(&format!("Anchor: {a}\n"));
                }
            }
        }
    }
    out
}

/// `vignettes/<ID>.md` for a vignette.
pub fn vignette(v: &Vignette) -> String {
    format!(
        "id: {}\nversion: {}\nkind: {}\ntitle: {}\nlevels: {}\nstatus: {}\n\n## Text\n{}\n",
        v.id,
        v.version,
        v.kind,
        v.title,
        levels(&v.levels),
        v.status,
        v.text
    )
}

/// Parses `text` (written by `item`) back and checks it says what `i` says: the same content
/// hash, version, levels, status and enemies. The parser's own errors come back as they are.
pub fn reparse_item(path: &str, text: &str, i: &Item) -> Result<Item, Vec<Diagnostic>> {
    let back = parse::item(path, text)?;
    let same = item_hash(&back) == item_hash(i)
        && back.version == i.version
        && back.levels == i.levels
        && back.status == i.status
        && back.enemies == i.enemies;
    if same {
        Ok(back)
    } else {
        Err(vec![Diagnostic::new(
            path,
            1,
            "the item's text would not read back as written (a line of it reads as bank syntax)",
        )])
    }
}

/// As `reparse_item`, for a vignette.
pub fn reparse_vignette(path: &str, text: &str, v: &Vignette) -> Result<Vignette, Vec<Diagnostic>> {
    let back = parse::vignette(path, text)?;
    let same = vignette_hash(&back) == vignette_hash(v)
        && back.version == v.version
        && back.levels == v.levels
        && back.status == v.status;
    if same {
        Ok(back)
    } else {
        Err(vec![Diagnostic::new(
            path,
            1,
            "the vignette's text would not read back as written (a line of it reads as bank syntax)",
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_file_renders_to_text_that_reads_back_the_same() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank");
        let bank = crate::bank::load(&dir).expect("the sample bank loads");
        for i in &bank.items {
            let text = item(i);
            reparse_item(&i.source.path, &text, i).unwrap();
        }
        for v in &bank.vignettes {
            reparse_vignette(&v.source.path, &vignette(v), v).unwrap();
        }
    }

    #[test]
    fn a_line_that_reads_as_a_section_is_caught() {
        let text = "id: TF-0001\nversion: 1\nkind: mcq\ndomain: TF\narea: attachment\nlevels: all\nstatus: operational\n\n## Stem\nWhich?\n\n## Options\nA. One\nB. Two\nC. Three\nD. Four\n\n## Key\nB\n\n## Rationale\nBecause.\n";
        let mut i = parse::item("items/TF-0001.md", text).unwrap();
        assert_eq!(item(&i), text, "a parsed file renders as it was written");
        let ItemBody::Mcq(m) = &mut i.body else {
            panic!("mcq")
        };
        m.stem = "Which?\n## Key".to_string();
        let errors = reparse_item("items/TF-0001.md", &item(&i), &i).unwrap_err();
        assert!(
            errors[0].to_string().starts_with("items/TF-0001.md:"),
            "{errors:?}"
        );
    }
}
