//! IMS QTI content packages: the bank written as QTI 3.0 (`export`), and QTI 3.0 or 2.1
//! packages read into bank files (`import`), pure: a package here is its files' bytes by path,
//! and zip archives and folders stay with the command line.
//!
//! What QTI has an element for travels as QTI: a choice item's options and key
//! (`qti-correct-response`), its rationale (a scorer rubric block of class `rationale`), an
//! open item's prompt (`qti-extended-text-interaction`) and rubric (a scorer rubric block of
//! `score-point` divisions), a vignette (`qti-assessment-stimulus`, referred to by its items).
//! What it has none for travels in each resource's LOM metadata in the manifest: the bank id
//! (`general/identifier`, catalog `imh-exam`), version and status (`lifeCycle`), domain and area
//! (a `classification` taxon path of source `imh-exam taxonomy`), levels (taxon paths of source
//! `imh-exam levels`), enemies (`relation` of kind `enemy`), a vignette's kind
//! (`learningResourceType`). A package from elsewhere is read the same way, its
//! classifications and keywords mapped to our domains and areas by a mapping file
//! (`mapping`). docs/qti.md is the user's guide.

pub mod export;
pub mod html;
pub mod import;
mod item_xml;
pub mod manifest;
pub mod mapping;
mod node;
pub mod xml;

use std::collections::BTreeMap;

pub use export::export;
pub use import::import;
pub use mapping::Mapping;

/// The catalog our ids are given in, and the vocabulary source of our own values.
pub const CATALOG: &str = "imh-exam";
/// The source of the taxon paths that carry an item's domain and area.
pub const TAXONOMY_SOURCE: &str = "imh-exam taxonomy";
/// The source of the taxon paths that carry levels.
pub const LEVELS_SOURCE: &str = "imh-exam levels";
/// The LOM relation kind of an enemy item.
pub const ENEMY: &str = "enemy";

pub const QTI3_NS: &str = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0";
pub const QTI3_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0p1_v1p0.xsd";
pub const CP_NS: &str = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1";
pub const CP_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd";
pub const LOM_NS: &str = "http://ltsc.ieee.org/xsd/LOM";
pub const LOM_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/md/v1p3p2/schema/xsd/imsmd_loose_v1p3p2.xsd";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const MATCH_CORRECT: &str =
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct";

/// A package's files, by their path inside it (`/`-separated, no leading `/`).
pub type PackageFiles = BTreeMap<String, Vec<u8>>;

#[cfg(test)]
mod tests;
