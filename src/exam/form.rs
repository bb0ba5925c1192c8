//! Drawing a candidate's form from the bank by a blueprint. Pure and deterministic: the same
//! pool, history and seed give the same form, so a stored seed rebuilds a form exactly.
//!
//! - Part One draws operational multiple-choice items per draw rule, keeps a vignette's items
//!   together, mixes in unscored pretest items, and shuffles the order of items and of each
//!   item's options (the permutation is recorded so scoring maps back to the canonical key).
//! - Part Two presents vignettes per kind; the candidate later chooses which to answer.
//! - Items the candidate has seen before come last, so they are drawn only when the bank has
//!   nothing else; among the rest, the least exposed come first (ties broken at random), which
//!   keeps exposure balanced across candidates.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::bank::{Bank, Blueprint, ItemKind, Level, Status, VignetteKind};

/// What form assembly needs to know of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolItem {
    pub id: String,
    pub version: u32,
    pub kind: ItemKind,
    pub status: Status,
    pub domain: String,
    pub area: String,
    pub levels: BTreeSet<Level>,
    pub vignette: Option<String>,
    /// Number of options of an mcq item (0 for open items).
    pub options: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolVignette {
    pub id: String,
    pub version: u32,
    pub kind: VignetteKind,
    pub status: Status,
    pub levels: BTreeSet<Level>,
}

/// The bank as form assembly sees it, sorted by id so that draws are reproducible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pool {
    pub items: Vec<PoolItem>,
    pub vignettes: Vec<PoolVignette>,
    /// Pairs of items that never share a form, lower id first (`Bank::enemy_pairs`).
    pub enemies: BTreeSet<(String, String)>,
}

impl Pool {
    pub fn new(mut items: Vec<PoolItem>, mut vignettes: Vec<PoolVignette>) -> Self {
        items.sort_by(|a, b| a.id.cmp(&b.id));
        vignettes.sort_by(|a, b| a.id.cmp(&b.id));
        Pool {
            items,
            vignettes,
            enemies: BTreeSet::new(),
        }
    }

    /// The pool with these enemy pairs (in either order) kept off every form together.
    pub fn with_enemies(mut self, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        self.enemies = pairs
            .into_iter()
            .filter(|(a, b)| a != b)
            .map(|(a, b)| crate::bank::enemy_pair(&a, &b))
            .collect();
        self
    }

    /// Whether two items may not share a form.
    pub fn are_enemies(&self, a: &str, b: &str) -> bool {
        !self.enemies.is_empty() && self.enemies.contains(&crate::bank::enemy_pair(a, b))
    }

    /// Each item's enemies, both ways.
    fn enemies_by_item(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in &self.enemies {
            out.entry(a.as_str()).or_default().push(b.as_str());
            out.entry(b.as_str()).or_default().push(a.as_str());
        }
        out
    }

    pub fn from_bank(bank: &Bank) -> Self {
        let items = bank
            .items
            .iter()
            .map(|i| PoolItem {
                id: i.id.clone(),
                version: i.version,
                kind: i.kind(),
                status: i.status,
                domain: i.domain.clone(),
                area: i.area.clone(),
                levels: i.levels.clone(),
                vignette: i.vignette.clone(),
                options: match &i.body {
                    crate::bank::ItemBody::Mcq(m) => m.options.len(),
                    crate::bank::ItemBody::Open(_) => 0,
                },
            })
            .collect();
        let vignettes = bank
            .vignettes
            .iter()
            .map(|v| PoolVignette {
                id: v.id.clone(),
                version: v.version,
                kind: v.kind,
                status: v.status,
                levels: v.levels.clone(),
            })
            .collect();
        Pool::new(items, vignettes).with_enemies(bank.enemy_pairs())
    }

    fn vignette(&self, id: &str) -> Option<&PoolVignette> {
        self.vignettes.iter().find(|v| v.id == id)
    }

    /// The operational pool of a blueprint: every operational multiple-choice item a form of
    /// `bp` may draw as scored, that is, eligible at its level and covered by a draw rule (of
    /// its area, or of its whole domain).
    pub fn operational(&self, bp: &Blueprint) -> Vec<&PoolItem> {
        self.eligible(bp.level, ItemKind::Mcq, Status::Operational)
            .into_iter()
            .filter(|i| {
                bp.part_one
                    .draw
                    .iter()
                    .any(|r| r.domain == i.domain && r.area.as_deref().is_none_or(|a| a == i.area))
            })
            .collect()
    }

    /// Items of `kind` and `status` a form for `level` may carry.
    fn eligible(&self, level: Level, kind: ItemKind, status: Status) -> Vec<&PoolItem> {
        self.items
            .iter()
            .filter(|i| i.kind == kind && i.status == status && i.levels.contains(&level))
            .filter(|i| {
                i.vignette.as_deref().is_none_or(|v| {
                    self.vignette(v).is_some_and(|v| {
                        matches!(v.status, Status::Operational | Status::Pretest)
                            && v.levels.contains(&level)
                    })
                })
            })
            .collect()
    }
}

/// What the candidate saw before and how often each item has been used, by id (items and
/// vignettes alike).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub seen: BTreeSet<String>,
    pub exposure: BTreeMap<String, u32>,
}

/// One item on Part One of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub item_id: String,
    pub version: u32,
    pub vignette: Option<String>,
    /// The version of the vignette shown with the item.
    #[serde(default)]
    pub vignette_version: Option<u32>,
    /// False for pretest items, which are never scored.
    pub scored: bool,
    /// `option_order[shown position] = canonical option index` (0 for A).
    pub option_order: Vec<u8>,
}

impl Entry {
    /// The position at which the canonical option `canonical` is shown.
    pub fn shown_position(&self, canonical: u8) -> Option<usize> {
        self.option_order.iter().position(|c| *c == canonical)
    }
}

/// One vignette presented in Part Two, with the open items to answer if it is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presented {
    pub vignette_id: String,
    pub version: u32,
    pub kind: VignetteKind,
    pub items: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub seed: u64,
    pub blueprint: String,
    pub level: Level,
    /// Empty when the candidate does not sit Part One.
    pub part_one: Vec<Entry>,
    /// Empty when the candidate does not sit Part Two.
    pub part_two: Vec<Presented>,
}

/// Which parts a candidate sits: both, or only the one being retaken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parts {
    pub one: bool,
    pub two: bool,
}

impl Parts {
    pub const BOTH: Parts = Parts {
        one: true,
        two: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the bank cannot fill {rule} for level {level}: {needed} more item(s) needed")]
    CannotFill {
        rule: String,
        level: Level,
        needed: u32,
    },
    #[error(
        "the bank has only {have} pretest items for level {level}; the blueprint carries {needed}"
    )]
    Pretest {
        have: u32,
        needed: u32,
        level: Level,
    },
    #[error("the bank has only {have} {kind} vignettes for level {level}; the blueprint presents {needed}")]
    Vignettes {
        kind: VignetteKind,
        have: u32,
        needed: u32,
        level: Level,
    },
}

/// A vignette's items together, or one standalone item: what a draw takes whole.
struct Unit<'a> {
    items: Vec<&'a PoolItem>,
    /// Seen before, most exposure, fewest items (so a vignette's set is placed before single
    /// items fill its area), random: the order units are tried in.
    order: (bool, u32, std::cmp::Reverse<usize>, u64),
}

fn units<'a>(items: Vec<&'a PoolItem>, history: &History, rng: &mut ChaCha8Rng) -> Vec<Unit<'a>> {
    let mut groups: BTreeMap<String, Vec<&PoolItem>> = BTreeMap::new();
    for item in items {
        let key = item
            .vignette
            .clone()
            .unwrap_or_else(|| format!("\u{0}{}", item.id));
        groups.entry(key).or_default().push(item);
    }
    let mut out: Vec<Unit> = groups
        .into_iter()
        .map(|(key, items)| {
            let seen = history.seen.contains(key.trim_start_matches('\u{0}'))
                || items.iter().any(|i| history.seen.contains(&i.id));
            let exposure = items
                .iter()
                .map(|i| history.exposure.get(&i.id).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            let size = std::cmp::Reverse(items.len());
            Unit {
                items,
                order: (seen, exposure, size, rng.gen()),
            }
        })
        .collect();
    out.sort_by_key(|u| u.order);
    out
}

/// Keeps enemies apart while a form is drawn: the items the chosen units' enemies rule out.
struct Apart<'a> {
    of: BTreeMap<&'a str, Vec<&'a str>>,
    blocked: BTreeSet<&'a str>,
}

impl<'a> Apart<'a> {
    fn new(pool: &'a Pool) -> Self {
        Apart {
            of: pool.enemies_by_item(),
            blocked: BTreeSet::new(),
        }
    }

    /// Whether an item of `unit` is an enemy of one already chosen, or of another item of the
    /// unit (`bank check` refuses that; a pool built otherwise still never shows the two).
    fn clashes(&self, unit: &[&PoolItem]) -> bool {
        !self.of.is_empty()
            && unit.iter().any(|u| {
                self.blocked.contains(u.id.as_str())
                    || self
                        .of
                        .get(u.id.as_str())
                        .is_some_and(|es| unit.iter().any(|o| es.contains(&o.id.as_str())))
            })
    }

    fn choose(&mut self, unit: &[&'a PoolItem]) {
        for u in unit {
            if let Some(es) = self.of.get(u.id.as_str()) {
                self.blocked.extend(es.iter().copied());
            }
        }
    }
}

/// Remaining counts per draw rule; an item goes to its area's rule first, then its domain's.
struct Needs {
    rules: Vec<(String, Option<String>, u32)>,
}

impl Needs {
    fn area_rule(&self, item: &PoolItem) -> Option<usize> {
        self.rules
            .iter()
            .position(|(d, a, _)| *d == item.domain && a.as_deref() == Some(item.area.as_str()))
    }

    fn slot(&self, item: &PoolItem, taken: &[usize], area_only: bool) -> Option<usize> {
        let free = |i: usize| self.rules[i].2 > taken.iter().filter(|t| **t == i).count() as u32;
        let area = self.area_rule(item);
        if let Some(i) = area.filter(|i| free(*i)) {
            return Some(i);
        }
        if area_only && area.is_some() {
            return None;
        }
        self.rules
            .iter()
            .position(|(d, a, _)| *d == item.domain && a.is_none())
            .filter(|i| free(*i))
    }

    /// Takes the unit if every item finds a free slot. With `area_only`, an item of an area
    /// that has a rule must go to that rule (other items of the unit may go to their domain's).
    fn take(&mut self, unit: &Unit, area_only: bool) -> bool {
        let mut taken = Vec::new();
        for item in &unit.items {
            match self.slot(item, &taken, area_only) {
                Some(i) => taken.push(i),
                None => return false,
            }
        }
        for i in taken {
            self.rules[i].2 -= 1;
        }
        true
    }
}

fn rule_name(domain: &str, area: Option<&str>) -> String {
    crate::bank::toml_files::rule_name(domain, area)
}

/// Draws a form. `seed` decides every random choice; store it with the attempt.
pub fn assemble(
    bp: &Blueprint,
    pool: &Pool,
    history: &History,
    parts: Parts,
    seed: u64,
) -> Result<Form, FormError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let level = bp.level;
    let mut form = Form {
        seed,
        blueprint: bp.id.clone(),
        level,
        part_one: Vec::new(),
        part_two: Vec::new(),
    };

    if parts.one {
        let scored = units(
            pool.eligible(level, ItemKind::Mcq, Status::Operational),
            history,
            &mut rng,
        );
        let mut needs = Needs {
            rules: bp
                .part_one
                .draw
                .iter()
                .map(|r| (r.domain.clone(), r.area.clone(), r.count))
                .collect(),
        };
        // Area rules first, from the items of their areas. Then the domain-wide rules, which
        // prefer items of areas no rule reserves, so that a second form still finds enough
        // unseen items for the area rules.
        let mut chosen: Vec<(bool, Vec<&PoolItem>)> = Vec::new();
        let mut apart = Apart::new(pool);
        let mut taken = vec![false; scored.len()];
        for (i, unit) in scored.iter().enumerate() {
            let reserved = unit.items.iter().any(|it| needs.area_rule(it).is_some());
            if reserved && !apart.clashes(&unit.items) && needs.take(unit, true) {
                apart.choose(&unit.items);
                taken[i] = true;
                chosen.push((true, unit.items.clone()));
            }
        }
        let mut rest: Vec<(usize, (bool, u32, usize, u64))> = scored
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken[*i])
            .map(|(i, u)| {
                let reserved = u
                    .items
                    .iter()
                    .filter(|it| needs.area_rule(it).is_some())
                    .count();
                (i, (u.order.0, u.order.1, reserved, u.order.3))
            })
            .collect();
        rest.sort_by_key(|r| r.1);
        for (i, _) in rest {
            if needs.rules.iter().all(|r| r.2 == 0) {
                break;
            }
            if !apart.clashes(&scored[i].items) && needs.take(&scored[i], false) {
                apart.choose(&scored[i].items);
                chosen.push((true, scored[i].items.clone()));
            }
        }
        if let Some((d, a, n)) = needs.rules.iter().find(|r| r.2 > 0) {
            return Err(FormError::CannotFill {
                rule: rule_name(d, a.as_deref()),
                level,
                needed: *n,
            });
        }
        let mut pretest_left = bp.part_one.pretest_items;
        let pretest = units(
            pool.eligible(level, ItemKind::Mcq, Status::Pretest),
            history,
            &mut rng,
        );
        for unit in &pretest {
            if pretest_left == 0 {
                break;
            }
            if unit.items.len() as u32 <= pretest_left && !apart.clashes(&unit.items) {
                apart.choose(&unit.items);
                pretest_left -= unit.items.len() as u32;
                chosen.push((false, unit.items.clone()));
            }
        }
        if pretest_left > 0 {
            return Err(FormError::Pretest {
                have: bp.part_one.pretest_items - pretest_left,
                needed: bp.part_one.pretest_items,
                level,
            });
        }
        chosen.shuffle(&mut rng);
        for (scored, items) in chosen {
            for item in items {
                let mut order: Vec<u8> = (0..item.options as u8).collect();
                order.shuffle(&mut rng);
                form.part_one.push(Entry {
                    item_id: item.id.clone(),
                    version: item.version,
                    vignette: item.vignette.clone(),
                    vignette_version: item
                        .vignette
                        .as_deref()
                        .and_then(|v| pool.vignette(v))
                        .map(|v| v.version),
                    scored,
                    option_order: order,
                });
            }
        }
    }

    if parts.two {
        let open = pool.eligible(level, ItemKind::Open, Status::Operational);
        for rule in &bp.part_two.present {
            let mut candidates: Vec<(&PoolVignette, (bool, u32, u64))> = pool
                .vignettes
                .iter()
                .filter(|v| {
                    v.kind == rule.kind
                        && v.status == Status::Operational
                        && v.levels.contains(&level)
                })
                .filter(|v| {
                    open.iter()
                        .any(|i| i.vignette.as_deref() == Some(v.id.as_str()))
                })
                .map(|v| {
                    let seen = history.seen.contains(&v.id);
                    let exposure = history.exposure.get(&v.id).copied().unwrap_or(0);
                    (v, (seen, exposure, rng.gen::<u64>()))
                })
                .collect();
            if (candidates.len() as u32) < rule.count {
                return Err(FormError::Vignettes {
                    kind: rule.kind,
                    have: candidates.len() as u32,
                    needed: rule.count,
                    level,
                });
            }
            candidates.sort_by_key(|c| c.1);
            for (v, _) in candidates.into_iter().take(rule.count as usize) {
                form.part_two.push(Presented {
                    vignette_id: v.id.clone(),
                    version: v.version,
                    kind: v.kind,
                    items: open
                        .iter()
                        .filter(|i| i.vignette.as_deref() == Some(v.id.as_str()))
                        .map(|i| (i.id.clone(), i.version))
                        .collect(),
                });
            }
        }
        form.part_two.shuffle(&mut rng);
    }
    Ok(form)
}

impl Form {
    /// Every item and vignette id on the form: what the candidate has now seen.
    pub fn ids(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.part_one.iter().map(|e| e.item_id.clone()).collect();
        out.extend(self.part_one.iter().filter_map(|e| e.vignette.clone()));
        for p in &self.part_two {
            out.insert(p.vignette_id.clone());
            out.extend(p.items.iter().map(|(id, _)| id.clone()));
        }
        out
    }

    /// Checks the form against its blueprint: every rule's count exactly, pretest items
    /// unscored and counted, no item twice, a vignette's items side by side, option orders
    /// permutations, Part Two's kinds and counts. Returns what is wrong.
    pub fn conforms_to(&self, bp: &Blueprint, pool: &Pool, parts: Parts) -> Result<(), String> {
        let item = |id: &str| pool.items.iter().find(|i| i.id == id);
        let mut seen = BTreeSet::new();
        for e in &self.part_one {
            if !seen.insert(e.item_id.as_str()) {
                return Err(format!("{} appears twice", e.item_id));
            }
            let Some(i) = item(&e.item_id) else {
                return Err(format!("{} is not in the bank", e.item_id));
            };
            let expected = if e.scored {
                Status::Operational
            } else {
                Status::Pretest
            };
            if i.status != expected || i.kind != ItemKind::Mcq || !i.levels.contains(&bp.level) {
                return Err(format!(
                    "{} may not be on this form as {}",
                    e.item_id,
                    if e.scored { "scored" } else { "pretest" }
                ));
            }
            let mut sorted = e.option_order.clone();
            sorted.sort_unstable();
            if sorted != (0..i.options as u8).collect::<Vec<_>>() {
                return Err(format!(
                    "{} has option order {:?}",
                    e.item_id, e.option_order
                ));
            }
        }
        for (n, a) in self.part_one.iter().enumerate() {
            if let Some(b) = self.part_one[n + 1..]
                .iter()
                .find(|b| pool.are_enemies(&a.item_id, &b.item_id))
            {
                return Err(format!(
                    "{} and {} are enemies on one form",
                    a.item_id, b.item_id
                ));
            }
        }
        // A vignette's items are contiguous.
        let mut closed: BTreeSet<&str> = BTreeSet::new();
        let mut current: Option<&str> = None;
        for e in &self.part_one {
            let v = e.vignette.as_deref();
            if v != current {
                if let Some(c) = current {
                    closed.insert(c);
                }
                if let Some(v) = v {
                    if closed.contains(v) {
                        return Err(format!("the items of vignette {v} are split"));
                    }
                }
                current = v;
            }
        }
        if parts.one {
            let mut needs = Needs {
                rules: bp
                    .part_one
                    .draw
                    .iter()
                    .map(|r| (r.domain.clone(), r.area.clone(), r.count))
                    .collect(),
            };
            for e in self.part_one.iter().filter(|e| e.scored) {
                let i = item(&e.item_id).expect("checked above");
                let unit = Unit {
                    items: vec![i],
                    order: (false, 0, std::cmp::Reverse(1), 0),
                };
                if !needs.take(&unit, false) {
                    return Err(format!(
                        "{} ({}/{}) is beyond the blueprint's counts",
                        i.id, i.domain, i.area
                    ));
                }
            }
            if let Some((d, a, n)) = needs.rules.iter().find(|r| r.2 > 0) {
                return Err(format!("{} is short by {n}", rule_name(d, a.as_deref())));
            }
            let pretest = self.part_one.iter().filter(|e| !e.scored).count() as u32;
            if pretest != bp.part_one.pretest_items {
                return Err(format!(
                    "{pretest} pretest items, the blueprint says {}",
                    bp.part_one.pretest_items
                ));
            }
        } else if !self.part_one.is_empty() {
            return Err("Part One was not to be sat".into());
        }
        if parts.two {
            for rule in &bp.part_two.present {
                let n = self.part_two.iter().filter(|p| p.kind == rule.kind).count() as u32;
                if n != rule.count {
                    return Err(format!(
                        "{n} {} vignettes, the blueprint says {}",
                        rule.kind, rule.count
                    ));
                }
            }
            if self.part_two.len() as u32 != bp.part_two.presented() {
                return Err("Part Two presents vignettes the blueprint does not ask for".into());
            }
            let mut vs = BTreeSet::new();
            for p in &self.part_two {
                if !vs.insert(&p.vignette_id) || p.items.is_empty() {
                    return Err(format!(
                        "vignette {} is twice or has no items",
                        p.vignette_id
                    ));
                }
            }
        } else if !self.part_two.is_empty() {
            return Err("Part Two was not to be sat".into());
        }
        Ok(())
    }
}
