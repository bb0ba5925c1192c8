//! The mapping file (TOML, edited by the user): what a package's metadata means in our bank.
//!
//! ```toml
//! [areas]     # a classification taxon path (entries joined by " / ") or a keyword
//! "Infant Mental Health / Attachment" = "TF/attachment"
//! [kinds]     # a stimulus's learningResourceType value
//! "case study" = "clinical"
//! [ids]       # a package identifier that is not a bank id
//! "item_17" = "TF-0201"
//! [defaults]  # for what a package does not say
//! levels = "III, IV-Clinical"
//! status = "draft"
//! vignette_kind = "clinical"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use crate::bank::model::{parse_levels, Diagnostic, Level, Status, Taxonomy, VignetteKind};
use crate::bank::parse::check_id;
use crate::bank::toml_files::{line_of, syntax_error};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// The file's path as given, for messages; `None` when the import was given none.
    pub path: Option<String>,
    /// Taxon path or keyword → (domain, area).
    pub areas: BTreeMap<String, (String, String)>,
    pub kinds: BTreeMap<String, VignetteKind>,
    pub ids: BTreeMap<String, String>,
    pub levels: Option<BTreeSet<Level>>,
    pub status: Option<Status>,
    pub vignette_kind: Option<VignetteKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    levels: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    vignette_kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    areas: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    kinds: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    ids: BTreeMap<String, Spanned<String>>,
    defaults: Option<RawDefaults>,
}

impl Mapping {
    /// Where to tell the user to add a key: the file they gave, or a new one.
    pub fn file_hint(&self) -> String {
        match &self.path {
            Some(p) => format!("the mapping file {p}"),
            None => "a mapping file (given with --mapping)".to_string(),
        }
    }
}

/// Parses and checks a mapping file against the bank's taxonomy; every error at its line.
pub fn parse(path: &str, text: &str, taxonomy: &Taxonomy) -> Result<Mapping, Vec<Diagnostic>> {
    let raw: Raw = toml::from_str(text).map_err(|e| vec![syntax_error(path, text, &e)])?;
    let mut diags = Vec::new();
    let mut out = Mapping {
        path: Some(path.to_string()),
        ..Mapping::default()
    };
    let mut error = |s: &Spanned<String>, what: String| {
        diags.push(Diagnostic::new(path, line_of(text, s.span().start), what));
    };
    for (key, value) in &raw.areas {
        let v = value.get_ref();
        match v.split_once('/') {
            Some((d, a)) => match taxonomy.domain(d) {
                Some(dom) if dom.area(a).is_some() => {
                    out.areas.insert(key.clone(), (d.to_string(), a.to_string()));
                }
                Some(_) => error(
                    value,
                    format!("[areas] \"{key}\": domain {d} has no area \"{a}\" in taxonomy.toml"),
                ),
                None => error(
                    value,
                    format!("[areas] \"{key}\": \"{d}\" is not a domain in taxonomy.toml"),
                ),
            },
            None => error(
                value,
                format!("[areas] \"{key}\": write \"DOMAIN/area\" (e.g. \"TF/attachment\"), found \"{v}\""),
            ),
        }
    }
    for (key, value) in &raw.kinds {
        match value.get_ref().parse::<VignetteKind>() {
            Ok(k) => {
                out.kinds.insert(key.clone(), k);
            }
            Err(e) => error(value, format!("[kinds] \"{key}\": {e}")),
        }
    }
    for (key, value) in &raw.ids {
        match check_id(value.get_ref()) {
            Ok(()) => {
                out.ids.insert(key.clone(), value.get_ref().clone());
            }
            Err(e) => error(value, format!("[ids] \"{key}\": {e}")),
        }
    }
    if let Some(d) = &raw.defaults {
        if let Some(v) = &d.levels {
            match parse_levels(v.get_ref()) {
                Ok(l) => out.levels = Some(l),
                Err(e) => error(v, format!("[defaults] levels: {e}")),
            }
        }
        if let Some(v) = &d.status {
            match v.get_ref().parse::<Status>() {
                Ok(s) => out.status = Some(s),
                Err(e) => error(v, format!("[defaults] status: {e}")),
            }
        }
        if let Some(v) = &d.vignette_kind {
            match v.get_ref().parse::<VignetteKind>() {
                Ok(k) => out.vignette_kind = Some(k),
                Err(e) => error(v, format!("[defaults] vignette_kind: {e}")),
            }
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::model::{Area, Domain};

    fn taxonomy() -> Taxonomy {
        Taxonomy {
            domains: vec![Domain {
                code: "TF".into(),
                name: "Theoretical Foundations".into(),
                mentor: false,
                areas: vec![Area {
                    code: "attachment".into(),
                    name: "Attachment".into(),
                    mentor: false,
                }],
            }],
        }
    }

    #[test]
    fn reads_every_table() {
        let m = parse(
            "map.toml",
            "[areas]\n\"IMH / Attachment\" = \"TF/attachment\"\n[kinds]\n\"case\" = \"clinical\"\n[ids]\n\"q_1\" = \"EXT-1\"\n[defaults]\nlevels = \"III\"\nstatus = \"pretest\"\nvignette_kind = \"policy\"\n",
            &taxonomy(),
        )
        .unwrap();
        assert_eq!(
            m.areas["IMH / Attachment"],
            ("TF".to_string(), "attachment".to_string())
        );
        assert_eq!(m.kinds["case"], VignetteKind::Clinical);
        assert_eq!(m.ids["q_1"], "EXT-1");
        assert_eq!(m.levels, Some([Level::III].into_iter().collect()));
        assert_eq!(m.status, Some(Status::Pretest));
        assert_eq!(m.vignette_kind, Some(VignetteKind::Policy));
    }

    #[test]
    fn bad_values_are_named_at_their_lines() {
        let e = parse(
            "map.toml",
            "[areas]\n\"A\" = \"TF/attach\"\n\"B\" = \"XX/a\"\n\"C\" = \"TF\"\n[ids]\n\"q\" = \"q 1\"\n",
            &taxonomy(),
        )
        .unwrap_err();
        let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "map.toml:2: [areas] \"A\": domain TF has no area \"attach\" in taxonomy.toml",
                "map.toml:3: [areas] \"B\": \"XX\" is not a domain in taxonomy.toml",
                "map.toml:4: [areas] \"C\": write \"DOMAIN/area\" (e.g. \"TF/attachment\"), found \"TF\"",
                "map.toml:6: [ids] \"q\": id \"q 1\" may hold only capital letters, digits and `-`",
            ]
        );
        let e = parse("map.toml", "[area]\n", &taxonomy()).unwrap_err();
        assert!(e[0].to_string().starts_with("map.toml:1: "), "{e:?}");
    }
}
