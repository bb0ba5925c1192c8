//! `imsmanifest.xml`: the package's resources and, in each resource's LOM metadata, what QTI
//! has no element for. Written for QTI 3.0; read from 3.0 or 2.1 manifests (IEEE LOM or
//! IMS Metadata 1.2, matched by local name so either namespace reads alike).

use roxmltree::Node;

use super::export::{item_path, stimulus_path};
use super::node::{plain, XmlFile};
use super::xml::Writer;
use super::{
    CATALOG, CP_NS, CP_SCHEMA, ENEMY, LEVELS_SOURCE, LOM_NS, LOM_SCHEMA, TAXONOMY_SOURCE, XSI_NS,
};
use crate::bank::model::{Bank, Diagnostic, Item, Level, Status, Vignette};

pub fn item_resource_id(id: &str) -> String {
    format!("item-{id}")
}

pub fn stimulus_resource_id(id: &str) -> String {
    format!("stimulus-{id}")
}

/// The manifest of an exported bank.
pub fn write(bank: &Bank) -> String {
    let mut w = Writer::new();
    let location = format!("{CP_NS} {CP_SCHEMA} {LOM_NS} {LOM_SCHEMA}");
    w.open(
        "manifest",
        &[
            ("xmlns", CP_NS),
            ("xmlns:xsi", XSI_NS),
            ("xsi:schemaLocation", &location),
            ("identifier", "imh-exam-bank"),
        ],
    );
    w.open("metadata", &[]);
    w.leaf("schema", &[], "QTI Package");
    w.leaf("schemaversion", &[], "3.0.0");
    w.close("metadata");
    w.empty("organizations", &[]);
    w.open("resources", &[]);
    for v in &bank.vignettes {
        let href = stimulus_path(&v.id);
        let rid = stimulus_resource_id(&v.id);
        w.open(
            "resource",
            &[
                ("identifier", &rid),
                ("type", "imsqti_stimulus_xmlv3p0"),
                ("href", &href),
            ],
        );
        vignette_lom(&mut w, v);
        w.empty("file", &[("href", &href)]);
        w.close("resource");
    }
    for i in &bank.items {
        let href = item_path(&i.id);
        let rid = item_resource_id(&i.id);
        w.open(
            "resource",
            &[
                ("identifier", &rid),
                ("type", "imsqti_item_xmlv3p0"),
                ("href", &href),
            ],
        );
        item_lom(&mut w, bank, i);
        w.empty("file", &[("href", &href)]);
        if let Some(v) = &i.vignette {
            w.empty("dependency", &[("identifierref", &stimulus_resource_id(v))]);
        }
        w.close("resource");
    }
    w.close("resources");
    w.close("manifest");
    w.finish()
}

fn lang_string(w: &mut Writer, name: &str, text: &str) {
    w.open(name, &[]);
    w.leaf("string", &[("language", "en")], text);
    w.close(name);
}

fn vocabulary(w: &mut Writer, name: &str, source: &str, value: &str) {
    w.open(name, &[]);
    w.leaf("source", &[], source);
    w.leaf("value", &[], value);
    w.close(name);
}

fn identifier(w: &mut Writer, id: &str) {
    w.open("identifier", &[]);
    w.leaf("catalog", &[], CATALOG);
    w.leaf("entry", &[], id);
    w.close("identifier");
}

fn lom_start(w: &mut Writer, id: &str, title: Option<&str>, version: u32, status: Status) {
    w.open("metadata", &[]);
    w.open("lom", &[("xmlns", LOM_NS)]);
    w.open("general", &[]);
    identifier(w, id);
    if let Some(t) = title {
        lang_string(w, "title", t);
    }
    w.close("general");
    w.open("lifeCycle", &[]);
    lang_string(w, "version", &version.to_string());
    vocabulary(w, "status", CATALOG, status.code());
    w.close("lifeCycle");
}

fn lom_end(w: &mut Writer) {
    w.close("lom");
    w.close("metadata");
}

fn levels(w: &mut Writer, levels: &std::collections::BTreeSet<Level>) {
    w.open("classification", &[]);
    vocabulary(w, "purpose", "LOMv1.0", "educational level");
    for l in levels {
        w.open("taxonPath", &[]);
        lang_string(w, "source", LEVELS_SOURCE);
        w.open("taxon", &[]);
        w.leaf("id", &[], l.code());
        w.close("taxon");
        w.close("taxonPath");
    }
    w.close("classification");
}

fn vignette_lom(w: &mut Writer, v: &Vignette) {
    lom_start(w, &v.id, Some(&v.title), v.version, v.status);
    w.open("educational", &[]);
    vocabulary(w, "learningResourceType", CATALOG, v.kind.code());
    w.close("educational");
    levels(w, &v.levels);
    lom_end(w);
}

fn item_lom(w: &mut Writer, bank: &Bank, i: &Item) {
    lom_start(w, &i.id, None, i.version, i.status);
    for e in &i.enemies {
        w.open("relation", &[]);
        vocabulary(w, "kind", CATALOG, ENEMY);
        w.open("resource", &[]);
        identifier(w, e);
        w.close("resource");
        w.close("relation");
    }
    let domain = bank.taxonomy.domain(&i.domain);
    w.open("classification", &[]);
    vocabulary(w, "purpose", "LOMv1.0", "competency");
    w.open("taxonPath", &[]);
    lang_string(w, "source", TAXONOMY_SOURCE);
    let area = domain.and_then(|d| d.area(&i.area));
    for (code, name) in [
        (&i.domain, domain.map(|d| d.name.as_str())),
        (&i.area, area.map(|a| a.name.as_str())),
    ] {
        w.open("taxon", &[]);
        w.leaf("id", &[], code);
        if let Some(n) = name {
            lang_string(w, "entry", n);
        }
        w.close("taxon");
    }
    w.close("taxonPath");
    w.close("classification");
    levels(w, &i.levels);
    lom_end(w);
}

/// What a resource is, by its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Item,
    Stimulus,
    Other,
}

/// A classification taxon path: its source, the purpose of its classification, and its taxa
/// as (id, entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxonPath {
    pub purpose: String,
    pub source: String,
    pub taxa: Vec<(String, String)>,
    pub line: usize,
}

impl TaxonPath {
    /// How a mapping file names this path: each taxon's entry (or its id without one),
    /// joined by " / ".
    pub fn key(&self) -> String {
        self.taxa
            .iter()
            .map(|(id, entry)| if entry.is_empty() { id.as_str() } else { entry })
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// The LOM metadata of one resource, as far as the import reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lom {
    /// `general/identifier` in our catalog.
    pub id: Option<String>,
    pub title: Option<String>,
    pub version: Option<String>,
    /// `lifeCycle/status` as (source, value).
    pub status: Option<(String, String)>,
    pub resource_types: Vec<(String, String)>,
    pub taxon_paths: Vec<TaxonPath>,
    pub keywords: Vec<String>,
    pub enemies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub identifier: String,
    pub kind: ResourceKind,
    pub type_: String,
    pub href: Option<String>,
    pub dependencies: Vec<String>,
    pub lom: Lom,
    pub line: usize,
}

fn kids<'a, 'i>(node: Node<'a, 'i>, local: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == local)
}

fn kid<'a, 'i>(node: Node<'a, 'i>, local: &'static str) -> Option<Node<'a, 'i>> {
    kids(node, local).next()
}

/// A LangString's text (`<string>` in LOM, `<langstring>` in IMS Metadata 1.2, or bare).
fn lang_text(node: Node) -> String {
    kid(node, "string")
        .or_else(|| kid(node, "langstring"))
        .map_or_else(|| plain(node), plain)
}

fn vocab(node: Node) -> (String, String) {
    (
        kid(node, "source").map(lang_text).unwrap_or_default(),
        kid(node, "value").map(lang_text).unwrap_or_default(),
    )
}

fn our_id(identifier: Node) -> Option<String> {
    let catalog = kid(identifier, "catalog").map(plain)?;
    (catalog == CATALOG)
        .then(|| kid(identifier, "entry").map(lang_text))
        .flatten()
}

fn read_lom(file: &XmlFile, lom: Node) -> Lom {
    let mut out = Lom::default();
    if let Some(g) = kid(lom, "general") {
        out.id = kids(g, "identifier").find_map(our_id);
        out.title = kid(g, "title").map(lang_text).filter(|t| !t.is_empty());
        out.keywords = kids(g, "keyword").map(lang_text).collect();
    }
    if let Some(l) = kid(lom, "lifeCycle").or_else(|| kid(lom, "lifecycle")) {
        out.version = kid(l, "version").map(lang_text);
        out.status = kid(l, "status").map(vocab);
    }
    if let Some(e) = kid(lom, "educational") {
        out.resource_types = kids(e, "learningResourceType")
            .chain(kids(e, "learningresourcetype"))
            .map(vocab)
            .collect();
    }
    for r in kids(lom, "relation") {
        let kind = kid(r, "kind").map(vocab);
        if kind
            .as_ref()
            .is_some_and(|(s, v)| s == CATALOG && v == ENEMY)
        {
            if let Some(id) =
                kid(r, "resource").and_then(|res| kids(res, "identifier").find_map(our_id))
            {
                out.enemies.push(id);
            }
        }
    }
    for c in kids(lom, "classification") {
        let purpose = kid(c, "purpose").map(vocab).unwrap_or_default().1;
        for tp in kids(c, "taxonPath").chain(kids(c, "taxonpath")) {
            let taxa = kids(tp, "taxon")
                .map(|t| {
                    (
                        kid(t, "id").map(plain).unwrap_or_default(),
                        kid(t, "entry").map(lang_text).unwrap_or_default(),
                    )
                })
                .collect();
            out.taxon_paths.push(TaxonPath {
                purpose: purpose.clone(),
                source: kid(tp, "source").map(lang_text).unwrap_or_default(),
                taxa,
                line: file.line(tp),
            });
        }
    }
    out
}

/// The resources of a manifest, in order.
pub fn read(file: &XmlFile) -> Result<Vec<Resource>, Diagnostic> {
    let root = file.doc.root_element();
    if root.tag_name().name() != "manifest" {
        return Err(file.error(
            root,
            format!(
                "the root element is <{}>, not a content package's <manifest>",
                root.tag_name().name()
            ),
        ));
    }
    let Some(resources) = kid(root, "resources") else {
        return Err(file.error(root, "the manifest has no <resources>"));
    };
    Ok(kids(resources, "resource")
        .map(|r| {
            let type_ = r.attribute("type").unwrap_or_default().to_string();
            let kind = if type_.starts_with("imsqti_item_xml") {
                ResourceKind::Item
            } else if type_.starts_with("imsqti_stimulus_xml") {
                ResourceKind::Stimulus
            } else {
                ResourceKind::Other
            };
            Resource {
                identifier: r.attribute("identifier").unwrap_or_default().to_string(),
                kind,
                type_,
                href: r.attribute("href").map(str::to_string),
                dependencies: kids(r, "dependency")
                    .filter_map(|d| d.attribute("identifierref"))
                    .map(str::to_string)
                    .collect(),
                lom: kid(r, "metadata")
                    .and_then(|m| kid(m, "lom"))
                    .map(|l| read_lom(file, l))
                    .unwrap_or_default(),
                line: file.line(r),
            }
        })
        .collect())
}
