//! Content hashes: SHA-256 over a canonical form of what an item or vignette says.
//!
//! The canonical form is JSON of the parsed content, whose text the parser has already
//! normalised (line endings, trailing spaces, blank lines at the ends). `status` and `levels`
//! are left out on purpose: retiring an item or offering it at another level is not a new
//! version of it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::{Item, ItemBody, Vignette, VignetteKind};

#[derive(Serialize)]
struct ItemContent<'a> {
    id: &'a str,
    domain: &'a str,
    area: &'a str,
    vignette: Option<&'a str>,
    body: &'a ItemBody,
}

#[derive(Serialize)]
struct VignetteContent<'a> {
    id: &'a str,
    kind: VignetteKind,
    title: &'a str,
    text: &'a str,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn item_hash(item: &Item) -> String {
    let content = ItemContent {
        id: &item.id,
        domain: &item.domain,
        area: &item.area,
        vignette: item.vignette.as_deref(),
        body: &item.body,
    };
    sha256_hex(&serde_json::to_vec(&content).expect("item content serialises"))
}

pub fn vignette_hash(v: &Vignette) -> String {
    let content = VignetteContent {
        id: &v.id,
        kind: v.kind,
        title: &v.title,
        text: &v.text,
    };
    sha256_hex(&serde_json::to_vec(&content).expect("vignette content serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::parse;

    const MCQ: &str = "id: TF-0001\nversion: 1\nkind: mcq\ndomain: TF\narea: attachment\nlevels: all\nstatus: operational\n\n## Stem\nWhich?\n\n## Options\nA. One\nB. Two\nC. Three\nD. Four\n\n## Key\nB\n\n## Rationale\nBecause.\n";

    fn hash(text: &str) -> String {
        item_hash(&parse::item("items/TF-0001.md", text).unwrap())
    }

    #[test]
    fn whitespace_status_and_levels_do_not_change_the_hash() {
        let base = hash(MCQ);
        assert_eq!(base.len(), 64);
        assert_eq!(hash(&MCQ.replace('\n', "\r\n")), base);
        assert_eq!(hash(&MCQ.replace("Which?", "Which?   \n\n")), base);
        assert_eq!(hash(&MCQ.replace("operational", "retired")), base);
        assert_eq!(hash(&MCQ.replace("levels: all", "levels: III")), base);
    }

    #[test]
    fn content_changes_the_hash() {
        let base = hash(MCQ);
        assert_ne!(hash(&MCQ.replace("Which?", "Which one?")), base);
        assert_ne!(hash(&MCQ.replace("## Key\nB", "## Key\nC")), base);
        assert_ne!(hash(&MCQ.replace("Because.", "Since.")), base);
        assert_ne!(
            hash(&MCQ.replace("area: attachment", "area: development")),
            base
        );
    }
}
