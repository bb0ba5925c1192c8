//! The bank's domain types. Everything here is parsed and checked at the edge (`parse`,
//! `check`), so code that holds a `Bank` never sees an unknown domain or a broken rubric.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a thing was written: a path relative to the bank's folder and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    pub path: String,
    pub line: usize,
}

impl Source {
    pub fn new(path: impl Into<String>, line: usize) -> Self {
        Self {
            path: path.into(),
            line,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A file name may hold a newline too.
        write!(f, "{}:{}", crate::escape::controls(&self.path), self.line)
    }
}

/// One problem found in the bank, printed as `path:line: message` on one line: the message
/// echoes the file's words, so its control characters are escaped when it is made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub source: Source,
    pub message: String,
}

impl Diagnostic {
    pub fn new(path: &str, line: usize, message: impl Into<String>) -> Self {
        Self::at(&Source::new(path, line), message)
    }
    pub fn at(source: &Source, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            source: source.clone(),
            message: crate::escape::controls(&message).into_owned(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// A level or Level IV track on which an item may appear and for which a blueprint is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "III")]
    III,
    #[serde(rename = "IV-Clinical")]
    IvClinical,
    #[serde(rename = "IV-Policy")]
    IvPolicy,
    #[serde(rename = "IV-Research/Faculty")]
    IvResearchFaculty,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::III,
        Level::IvClinical,
        Level::IvPolicy,
        Level::IvResearchFaculty,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Level::III => "III",
            Level::IvClinical => "IV-Clinical",
            Level::IvPolicy => "IV-Policy",
            Level::IvResearchFaculty => "IV-Research/Faculty",
        }
    }

    /// Level IV tracks are the Mentor level, where mentor-only domains and areas may appear.
    pub fn is_mentor(self) -> bool {
        self != Level::III
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| {
                format!(
                    "unknown level \"{s}\"; expected one of III, IV-Clinical, IV-Policy, IV-Research/Faculty"
                )
            })
    }
}

/// Serialises a set of levels the way the bank writes them: `III, IV-Clinical`.
pub fn levels_to_string(levels: &BTreeSet<Level>) -> String {
    levels
        .iter()
        .map(|l| l.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `III, IV-Clinical` or `all`.
pub fn parse_levels(s: &str) -> Result<BTreeSet<Level>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(Level::ALL.into_iter().collect());
    }
    let mut out = BTreeSet::new();
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !out.insert(part.parse::<Level>()?) {
            return Err(format!("level \"{part}\" is listed twice"));
        }
    }
    if out.is_empty() {
        return Err(
            "no level given; write e.g. `levels: III, IV-Clinical` or `levels: all`".into(),
        );
    }
    Ok(out)
}

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " \"{}\"; expected one of {}"),
                        other,
                        [$($code),+].join(", ")
                    )),
                }
            }
        }
    };
}

word_enum!(
    /// What kind of item: one best answer, or an open response scored by raters.
    ItemKind, "item kind" { Mcq = "mcq", Open = "open" }
);
word_enum!(
    /// Where an item is in its life. Only `operational` items are scored; `pretest` items are
    /// carried on forms for statistics; `draft` and `retired` never appear on a form.
    Status, "status" { Draft = "draft", Pretest = "pretest", Operational = "operational", Retired = "retired" }
);
word_enum!(
    /// What a vignette puts the candidate in front of.
    VignetteKind, "vignette kind" {
        Clinical = "clinical",
        Supervisory = "supervisory",
        Policy = "policy",
        Teaching = "teaching",
        Research = "research",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    /// Exists only at the Mentor level.
    pub mentor: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub code: String,
    pub name: String,
    pub mentor: bool,
    pub areas: Vec<Area>,
}

impl Domain {
    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    pub domains: Vec<Domain>,
}

impl Taxonomy {
    pub fn domain(&self, code: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.code == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McqOption {
    pub letter: char,
    pub text: String,
}

/// A multiple-choice item's content. `key` and `rationale` are committee-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mcq {
    pub stem: String,
    pub options: Vec<McqOption>,
    pub key: char,
    pub rationale: String,
}

impl Mcq {
    /// Index of the key among the canonical options (0 for A).
    pub fn key_index(&self) -> usize {
        self.options
            .iter()
            .position(|o| o.letter == self.key)
            .expect("a parsed item's key is one of its options")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorePoint {
    pub score: u32,
    pub descriptor: String,
    pub anchors: Vec<String>,
}

/// An open item's content. The rubric (descriptors and anchors) is rater/committee material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open {
    pub prompt: String,
    pub max_score: u32,
    /// One point per score 0..=max_score, in order.
    pub rubric: Vec<ScorePoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ItemBody {
    Mcq(Mcq),
    Open(Open),
}

impl ItemBody {
    pub fn kind(&self) -> ItemKind {
        match self {
            ItemBody::Mcq(_) => ItemKind::Mcq,
            ItemBody::Open(_) => ItemKind::Open,
        }
    }
}

/// Where each header field of a file was written, for errors found after parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldLines {
    pub lines: Vec<(String, usize)>,
}

impl FieldLines {
    pub fn line(&self, field: &str) -> Option<usize> {
        self.lines.iter().find(|(f, _)| f == field).map(|(_, l)| *l)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub version: u32,
    pub domain: String,
    pub area: String,
    pub levels: BTreeSet<Level>,
    pub status: Status,
    pub vignette: Option<String>,
    /// Items this one must never share a form with, as its file declares them (the relation
    /// is symmetric: see `Bank::enemy_pairs`).
    pub enemies: BTreeSet<String>,
    pub body: ItemBody,
    pub source: Source,
    pub fields: FieldLines,
}

impl Item {
    pub fn kind(&self) -> ItemKind {
        self.body.kind()
    }
    /// The source line of a header field, or the file's first line.
    pub fn line_of(&self, field: &str) -> Source {
        Source::new(
            self.source.path.clone(),
            self.fields.line(field).unwrap_or(1),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vignette {
    pub id: String,
    pub version: u32,
    pub kind: VignetteKind,
    pub title: String,
    pub levels: BTreeSet<Level>,
    pub status: Status,
    pub text: String,
    pub source: Source,
    pub fields: FieldLines,
}

impl Vignette {
    pub fn line_of(&self, field: &str) -> Source {
        Source::new(
            self.source.path.clone(),
            self.fields.line(field).unwrap_or(1),
        )
    }
}

/// Draw `count` scored items from the operational items of a domain, or of one area of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRule {
    pub domain: String,
    pub area: Option<String>,
    pub count: u32,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOne {
    pub name: String,
    pub minutes: u32,
    pub pass_percent: super::PassMark,
    pub pretest_items: u32,
    pub draw: Vec<DrawRule>,
    /// One form per candidate, or one for the whole sitting.
    pub forms: super::policy::FormsPolicy,
    /// How far a fair form's expected percent at the cut may stray from the target.
    pub form_tolerance: super::policy::FormTolerance,
    /// Whether the pass mark applies to raw or (where calibrated) equated scores.
    pub pass_on: super::policy::PassOn,
}

impl PartOne {
    pub fn scored_items(&self) -> u32 {
        self.draw.iter().map(|d| d.count).sum()
    }
}

/// Present `count` vignettes of a kind; at least `min_answered` of the answers come from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentRule {
    pub kind: VignetteKind,
    pub count: u32,
    pub min_answered: u32,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartTwo {
    pub name: String,
    pub minutes: u32,
    pub pass_percent: super::PassMark,
    /// How many of the presented vignettes the candidate answers.
    pub answer: u32,
    pub present: Vec<PresentRule>,
    /// How two raters' readings become a score (`[part_two.rating]`).
    pub rating: RatingRules,
    /// The longest open response a candidate may save, in characters (Unicode scalar values).
    pub max_characters: u32,
}

/// `[part_two] max_characters` when a blueprint does not say: about 1,000 words.
pub const DEFAULT_MAX_CHARACTERS: u32 = 6_000;
/// The most `max_characters` may be: a bound on what one save can store, whatever a blueprint
/// says.
pub const MAX_CHARACTERS_CEILING: u32 = 50_000;
/// `break_minutes` when a blueprint does not say: the longest one approved break lasts.
pub const DEFAULT_BREAK_MINUTES: u32 = 15;
/// The most `break_minutes` may be.
pub const MAX_BREAK_MINUTES: u32 = 240;

/// How two agreeing readings combine into a response's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    Mean,
    Lower,
    Higher,
}

/// The blueprint's rules for rater scoring: when two readings agree, how they combine, and the
/// calibration standard raters are held to. Readings further apart than `agree_within` go to a
/// third rater, blind to both, whose reading is the response's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingRules {
    pub agree_within: u32,
    pub combine: Combine,
    /// A rater whose exact agreement with the expert scores of validity responses is below this
    /// percentage is flagged for the committee.
    pub calibration_min_percent: u32,
    /// Validity responses a rater must have scored before the flag applies.
    pub calibration_min_count: u32,
    /// Qualification: where the committee has chosen a qualifying set for the sitting, a rater
    /// sees live responses only once their scores on a set agree with the experts' at least
    /// this often exactly (percent) ...
    pub qualify_exact_percent: u32,
    /// ... and at least this often within one point (percent).
    pub qualify_adjacent_percent: u32,
    /// Qualifying sets a rater may attempt (a second after failing the first, and so on).
    pub qualify_sets: u32,
    /// The share of each rater's final readings (percent) the committee reads behind.
    pub read_behind_percent: u32,
    /// A closer look near the cut: a resolved Part Two total this close to the pass mark gets
    /// one more blind reading of every response not already read three times.
    pub near_cut_margin: super::policy::NearCutMargin,
}

impl Default for RatingRules {
    fn default() -> Self {
        RatingRules {
            agree_within: 1,
            combine: Combine::Mean,
            calibration_min_percent: 70,
            calibration_min_count: 2,
            qualify_exact_percent: 70,
            qualify_adjacent_percent: 95,
            qualify_sets: 2,
            read_behind_percent: 10,
            near_cut_margin: super::policy::NearCutMargin::default(),
        }
    }
}

impl PartTwo {
    pub fn presented(&self) -> u32 {
        self.present.iter().map(|p| p.count).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blueprint {
    pub id: String,
    pub name: String,
    pub level: Level,
    pub retake_wait_days: u32,
    /// The longest a candidate's approved break lasts; past it the clock runs again by itself.
    /// (A proctor's pause has no maximum.)
    pub break_minutes: u32,
    pub part_one: PartOne,
    pub part_two: PartTwo,
    /// `[appeals]`: the window after release and Part Two's decision rule.
    pub appeals: super::appeals::AppealRules,
    pub source: Source,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankMeta {
    pub name: String,
    #[serde(default)]
    pub sample: bool,
    #[serde(default)]
    pub notice: String,
    /// `[lint]`: the thresholds of `bank lint`.
    #[serde(default)]
    pub lint: super::lint::Thresholds,
}

/// A whole, checked item bank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bank {
    pub meta: BankMeta,
    pub taxonomy: Taxonomy,
    pub vignettes: Vec<Vignette>,
    pub items: Vec<Item>,
    pub blueprints: Vec<Blueprint>,
}

impl Bank {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
    pub fn vignette(&self, id: &str) -> Option<&Vignette> {
        self.vignettes.iter().find(|v| v.id == id)
    }
    pub fn blueprint(&self, id: &str) -> Option<&Blueprint> {
        self.blueprints.iter().find(|b| b.id == id)
    }

    /// Every pair of enemy items, `(lower id, higher id)`, sorted and once each, whichever side
    /// (or both) declared it.
    pub fn enemy_pairs(&self) -> Vec<(String, String)> {
        let pairs: BTreeSet<(String, String)> = self
            .items
            .iter()
            .flat_map(|i| i.enemies.iter().map(move |e| enemy_pair(&i.id, e)))
            .collect();
        pairs.into_iter().collect()
    }
}

/// A pair of enemies in its canonical order, lower id first.
pub fn enemy_pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}
