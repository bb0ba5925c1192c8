//! A QTI 3.0 or 2.1 content package read into bank files: every item resource of the
//! manifest, and the stimuli they refer to (QTI 3.0 `qti-assessment-stimulus-ref`, QTI 2.1
//! `xi:include`) as vignettes. Every refusal is collected, each `package-path:line: what and
//! why`; the files come back only when there is none, so the caller writes all or nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::item_xml::{self, Content};
use super::manifest::{self, Lom, Resource, ResourceKind};
use super::node::{child, name, XmlFile};
use super::{html, Mapping, PackageFiles, CATALOG, LEVELS_SOURCE, TAXONOMY_SOURCE};
use crate::bank::model::{
    Diagnostic, FieldLines, Item, ItemBody, Level, Mcq, McqOption, Open, Source, Status, Taxonomy,
    Vignette, VignetteKind,
};
use crate::bank::parse::check_id;
use crate::bank::{render, source_file, SourceFile};

const MANIFEST: &str = "imsmanifest.xml";

/// The bank files a package becomes, by path inside the bank (`items/<ID>.md`,
/// `vignettes/<ID>.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub items: Vec<SourceFile>,
    pub vignettes: Vec<SourceFile>,
}

pub fn import(
    files: &PackageFiles,
    mapping: &Mapping,
    taxonomy: &Taxonomy,
) -> Result<Imported, Vec<Diagnostic>> {
    let rebased = rebase(files);
    let files = rebased.as_ref().unwrap_or(files);
    let manifest_text = text_of(files, MANIFEST).map_err(|d| vec![d])?;
    let manifest_file = XmlFile::parse(MANIFEST, &manifest_text).map_err(|d| vec![d])?;
    let resources = manifest::read(&manifest_file).map_err(|d| vec![d])?;
    if !resources.iter().any(|r| r.kind == ResourceKind::Item) {
        let old = resources
            .iter()
            .find(|r| r.type_.starts_with("imsqti_xmlv1"));
        let why = match old {
            Some(r) => format!(
                "resource \"{}\" is QTI 1.x ({}): export the items as QTI 2.1 or 3.0",
                r.identifier, r.type_
            ),
            None => "the manifest lists no QTI item resource".to_string(),
        };
        let line = old.map_or(1, |r| r.line);
        return Err(vec![Diagnostic::new(MANIFEST, line, why)]);
    }
    let mut run = Run {
        files,
        mapping,
        taxonomy,
        by_path: resources
            .iter()
            .filter_map(|r| r.href.as_deref().map(|h| (resolve("", h), r)))
            .collect(),
        diags: Vec::new(),
        vignettes: BTreeMap::new(),
        item_ids: BTreeMap::new(),
        out: Imported {
            items: Vec::new(),
            vignettes: Vec::new(),
        },
    };
    for r in resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Stimulus)
    {
        if let Some(h) = &r.href {
            run.vignette(&resolve("", h));
        }
    }
    for r in resources.iter().filter(|r| r.kind == ResourceKind::Item) {
        run.item(r);
    }
    if run.diags.is_empty() {
        run.out.items.sort_by(|a, b| a.path.cmp(&b.path));
        run.out.vignettes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(run.out)
    } else {
        run.diags.sort();
        run.diags.dedup();
        Err(run.diags)
    }
}

/// A package zipped with its folder (`pkg/imsmanifest.xml`) seen from inside that folder;
/// `None` when the manifest is at the root already (or there is no one folder to enter).
fn rebase(files: &PackageFiles) -> Option<PackageFiles> {
    if files.contains_key(MANIFEST) {
        return None;
    }
    let nested: Vec<&String> = files
        .keys()
        .filter(|k| k.ends_with(&format!("/{MANIFEST}")))
        .collect();
    let [one] = nested.as_slice() else {
        return None;
    };
    let prefix = &one[..one.len() - MANIFEST.len()];
    Some(
        files
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)
                    .map(|rest| (rest.to_string(), v.clone()))
            })
            .collect(),
    )
}

fn text_of(files: &PackageFiles, path: &str) -> Result<String, Diagnostic> {
    let bytes = files
        .get(path)
        .ok_or_else(|| Diagnostic::new(path, 1, "missing: the package has no such file"))?;
    source_file(path, bytes.clone()).map(|f| f.text)
}

/// `href` resolved against the folder `base` (both inside the package), `..` and `.` taken.
pub fn resolve(base: &str, href: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for seg in href.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

struct Run<'a> {
    files: &'a PackageFiles,
    mapping: &'a Mapping,
    taxonomy: &'a Taxonomy,
    by_path: BTreeMap<String, &'a Resource>,
    diags: Vec<Diagnostic>,
    /// Stimulus path → its vignette id, or `None` when it was refused.
    vignettes: BTreeMap<String, Option<String>>,
    /// Bank item id → the package file it came from.
    item_ids: BTreeMap<String, String>,
    out: Imported,
}

impl Run<'_> {
    fn lom(&self, path: &str) -> Lom {
        self.by_path
            .get(path)
            .map(|r| r.lom.clone())
            .unwrap_or_default()
    }

    /// Where a resource's metadata is, for a message about it.
    fn meta_line(&self, path: &str) -> usize {
        self.by_path.get(path).map_or(1, |r| r.line)
    }

    fn bank_id(&self, lom: &Lom, identifier: &str) -> Result<String, String> {
        if let Some(id) = lom.id.as_ref().filter(|id| check_id(id).is_ok()) {
            return Ok(id.clone());
        }
        if let Some(id) = self.mapping.ids.get(identifier) {
            return Ok(id.clone());
        }
        let upper = identifier.to_ascii_uppercase();
        if check_id(&upper).is_ok() {
            return Ok(upper);
        }
        Err(format!(
            "identifier \"{identifier}\" cannot be a bank id (capital letters, digits and -): add \"{identifier}\" = \"NEW-ID\" under [ids] in {}",
            self.mapping.file_hint()
        ))
    }

    fn levels(&self, lom: &Lom) -> Result<BTreeSet<Level>, String> {
        let ours: Vec<&str> = lom
            .taxon_paths
            .iter()
            .filter(|t| t.source == LEVELS_SOURCE)
            .flat_map(|t| t.taxa.iter().map(|(id, _)| id.as_str()))
            .collect();
        if !ours.is_empty() {
            return ours.iter().map(|l| l.parse::<Level>()).collect();
        }
        self.mapping.levels.clone().ok_or_else(|| {
            format!(
                "the package does not say at which levels it is offered: add levels = \"III, IV-Clinical\" (or \"all\") under [defaults] in {}",
                self.mapping.file_hint()
            )
        })
    }

    fn status(&self, lom: &Lom) -> Result<Status, String> {
        match &lom.status {
            Some((source, value)) if source == CATALOG => value.parse(),
            _ => Ok(self.mapping.status.unwrap_or(Status::Draft)),
        }
    }

    fn version(lom: &Lom) -> u32 {
        lom.version
            .as_deref()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|v| *v >= 1)
            .unwrap_or(1)
    }

    fn kind(&self, lom: &Lom) -> Result<VignetteKind, String> {
        for (source, value) in &lom.resource_types {
            if source == CATALOG {
                return value.parse();
            }
            if let Some(k) = self.mapping.kinds.get(value) {
                return Ok(*k);
            }
        }
        self.mapping.vignette_kind.ok_or_else(|| {
            let named = lom
                .resource_types
                .first()
                .map(|(_, v)| format!("map its learningResourceType \"{v}\" under [kinds]"))
                .unwrap_or_else(|| {
                    "add vignette_kind = \"clinical\" (or another kind) under [defaults]".into()
                });
            format!(
                "the stimulus's vignette kind is not known: {named} in {}",
                self.mapping.file_hint()
            )
        })
    }

    /// (domain, area): ours as exported, else mapped from a taxon path or keyword.
    fn area(&self, lom: &Lom) -> Result<(String, String), (usize, String)> {
        if let Some(t) = lom.taxon_paths.iter().find(|t| t.source == TAXONOMY_SOURCE) {
            let ids: Vec<&str> = t.taxa.iter().map(|(id, _)| id.as_str()).collect();
            let known = match ids.as_slice() {
                [d, a] => self
                    .taxonomy
                    .domain(d)
                    .is_some_and(|dom| dom.area(a).is_some()),
                _ => false,
            };
            if known {
                return Ok((ids[0].to_string(), ids[1].to_string()));
            }
            return Err((
                t.line,
                format!(
                    "{} \"{}\" is not a domain and area of taxonomy.toml",
                    TAXONOMY_SOURCE,
                    ids.join("/")
                ),
            ));
        }
        let candidates: Vec<(usize, &str, String)> = lom
            .taxon_paths
            .iter()
            .filter(|t| t.source != LEVELS_SOURCE)
            .map(|t| (t.line, "classification", t.key()))
            .chain(lom.keywords.iter().map(|k| (0, "keyword", k.clone())))
            .collect();
        let mapped: BTreeSet<&(String, String)> = candidates
            .iter()
            .filter_map(|(_, _, k)| self.mapping.areas.get(k))
            .collect();
        match mapped.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => Ok((*one).clone()),
            [] => match candidates.first() {
                Some((line, what, key)) => Err((
                    *line,
                    format!(
                        "{what} \"{key}\" is not mapped to a domain and area: add \"{key}\" = \"DOMAIN/area\" under [areas] in {}",
                        self.mapping.file_hint()
                    ),
                )),
                None => Err((
                    0,
                    format!(
                        "no classification or keyword says its domain and area: give it a LOM classification and map it under [areas] in {}",
                        self.mapping.file_hint()
                    ),
                )),
            },
            many => Err((
                0,
                format!(
                    "its classifications map to {} areas ({}): map only one",
                    many.len(),
                    many.iter()
                        .map(|(d, a)| format!("{d}/{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Reads the stimulus at `path` into a vignette once; its id, or `None` if refused.
    fn vignette(&mut self, path: &str) -> Option<String> {
        if let Some(done) = self.vignettes.get(path) {
            return done.clone();
        }
        let result = self.read_vignette(path);
        let id = match result {
            Ok((v, text)) => {
                self.out.vignettes.push(SourceFile {
                    path: format!("vignettes/{}.md", v.id),
                    text,
                });
                Some(v.id)
            }
            Err(d) => {
                self.diags.push(d);
                None
            }
        };
        self.vignettes.insert(path.to_string(), id.clone());
        id
    }

    fn read_vignette(&self, path: &str) -> Result<(Vignette, String), Diagnostic> {
        let text = text_of(self.files, path)?;
        let file = XmlFile::parse(path, &text)?;
        let root = file.doc.root_element();
        let lom = self.lom(path);
        let meta = |m: String| {
            Diagnostic::new(
                MANIFEST,
                self.meta_line(path),
                format!("stimulus {path}: {m}"),
            )
        };
        let (identifier, title, body) = if name(root) == "qti-assessment-stimulus" {
            let body = child(root, "qti-stimulus-body")
                .ok_or_else(|| file.error(root, "the stimulus has no qti-stimulus-body"))?;
            (
                root.attribute("identifier").unwrap_or_default().to_string(),
                root.attribute("title")
                    .map(str::to_string)
                    .or(lom.title.clone()),
                body,
            )
        } else {
            // QTI 2.1: an XInclude'd fragment, described by its manifest resource.
            let identifier = self
                .by_path
                .get(path)
                .map(|r| r.identifier.clone())
                .unwrap_or_else(|| {
                    path.rsplit('/')
                        .next()
                        .unwrap_or(path)
                        .trim_end_matches(".xml")
                        .to_string()
                });
            (identifier, lom.title.clone(), root)
        };
        let stimulus_text = html::text(&file, body, &|_| false)?;
        if stimulus_text.is_empty() {
            return Err(file.error(body, "the stimulus has no text"));
        }
        let title = title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                meta(
                    "it has no title: give it one (title, or the manifest's lom general/title)"
                        .into(),
                )
            })?;
        let id = self.bank_id(&lom, &identifier).map_err(meta)?;
        let v = Vignette {
            version: Self::version(&lom),
            kind: self.kind(&lom).map_err(meta)?,
            title,
            levels: self.levels(&lom).map_err(meta)?,
            status: self.status(&lom).map_err(meta)?,
            text: stimulus_text,
            source: Source::new(format!("vignettes/{id}.md"), 1),
            fields: FieldLines::default(),
            id,
        };
        let rendered = render::vignette(&v);
        render::reparse_vignette(&v.source.path, &rendered, &v)
            .map_err(|e| unwritable(path, &e))?;
        Ok((v, rendered))
    }

    fn item(&mut self, r: &Resource) {
        let Some(href) = &r.href else {
            self.diags.push(Diagnostic::new(
                MANIFEST,
                r.line,
                format!("item resource \"{}\" has no href", r.identifier),
            ));
            return;
        };
        let path = resolve("", href);
        match self.read_item(&path) {
            Ok(Some((item, text))) => {
                if let Some(first) = self.item_ids.insert(item.id.clone(), path.clone()) {
                    self.diags.push(Diagnostic::new(
                        &path,
                        1,
                        format!("item id {} is also the id of {first}", item.id),
                    ));
                    return;
                }
                self.out.items.push(SourceFile {
                    path: format!("items/{}.md", item.id),
                    text,
                });
            }
            Ok(None) => {}
            Err(d) => self.diags.push(d),
        }
    }

    /// The item at `path`; `Ok(None)` when only its stimulus was refused (that says why).
    fn read_item(&mut self, path: &str) -> Result<Option<(Item, String)>, Diagnostic> {
        let text = text_of(self.files, path)?;
        let file = XmlFile::parse(path, &text)?;
        let read = item_xml::read(&file)?;
        let mut stimulus_refused = false;
        let vignette = match &read.stimulus {
            Some((href, line)) => {
                let target = resolve(folder(path), href);
                if !self.files.contains_key(&target) {
                    return Err(Diagnostic::new(
                        path,
                        *line,
                        format!(
                            "the stimulus \"{href}\" it refers to is not in the package ({target})"
                        ),
                    ));
                }
                // A refused stimulus says why itself; the item's own problems are still named.
                stimulus_refused = self.vignette(&target).is_none();
                self.vignettes.get(&target).cloned().flatten()
            }
            None => None,
        };
        let lom = self.lom(path);
        let meta_line = self.meta_line(path);
        let meta = |m: String| Diagnostic::new(MANIFEST, meta_line, format!("item {path}: {m}"));
        let id = self.bank_id(&lom, &read.identifier).map_err(meta)?;
        let (domain, area) = self.area(&lom).map_err(|(line, m)| {
            Diagnostic::new(
                MANIFEST,
                if line == 0 { meta_line } else { line },
                format!("item {path}: {m}"),
            )
        })?;
        let body = match read.content {
            Content::Choice {
                stem,
                options,
                key,
                rationale,
            } => ItemBody::Mcq(Mcq {
                stem,
                key: (b'A' + key as u8) as char,
                options: options
                    .into_iter()
                    .zip('A'..)
                    .map(|(text, letter)| McqOption { letter, text })
                    .collect(),
                rationale,
            }),
            Content::Open {
                prompt,
                max_score,
                rubric,
            } => ItemBody::Open(Open {
                prompt,
                max_score,
                rubric,
            }),
        };
        let item = Item {
            version: Self::version(&lom),
            domain,
            area,
            levels: self.levels(&lom).map_err(meta)?,
            status: self.status(&lom).map_err(meta)?,
            vignette,
            enemies: lom.enemies.iter().filter(|e| **e != id).cloned().collect(),
            body,
            source: Source::new(format!("items/{id}.md"), 1),
            fields: FieldLines::default(),
            id,
        };
        if stimulus_refused {
            return Ok(None);
        }
        let rendered = render::item(&item);
        render::reparse_item(&item.source.path, &rendered, &item)
            .map_err(|e| unwritable(path, &e))?;
        Ok(Some((item, rendered)))
    }
}

/// A package file whose content the bank's text format cannot hold as it is.
fn unwritable(path: &str, errors: &[Diagnostic]) -> Diagnostic {
    let why: Vec<&str> = errors.iter().map(|d| d.message.as_str()).collect();
    Diagnostic::new(
        path,
        1,
        format!("cannot be written as a bank file: {}", why.join("; ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_zipped_with_its_folder_is_read_from_inside_it() {
        let files: PackageFiles = [
            ("pkg/imsmanifest.xml".to_string(), b"m".to_vec()),
            ("pkg/items/a.xml".to_string(), b"a".to_vec()),
        ]
        .into_iter()
        .collect();
        let inside = rebase(&files).unwrap();
        assert_eq!(
            inside.keys().collect::<Vec<_>>(),
            vec!["imsmanifest.xml", "items/a.xml"]
        );
        assert_eq!(rebase(&inside), None);
    }

    #[test]
    fn hrefs_resolve_inside_the_package() {
        assert_eq!(resolve("items", "../stimuli/S1.xml"), "stimuli/S1.xml");
        assert_eq!(resolve("", "./items/a.xml"), "items/a.xml");
        assert_eq!(resolve("a/b", "c.xml"), "a/b/c.xml");
    }
}
