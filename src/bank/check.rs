//! Rules that span files: taxonomy references, vignette references, unique ids, and whether
//! the operational items can fill every blueprint.

use std::collections::BTreeMap;

use super::model::{
    Bank, Blueprint, Diagnostic, Item, ItemKind, Level, Status, Vignette, VignetteKind,
};
use super::toml_files::rule_name;

/// Checks what spans files. Whether the blueprints can be filled is judged only when nothing
/// else is wrong (`complete` says every file parsed): an item with an error would otherwise show
/// up a second time as a shortfall, hiding the cause behind its effect.
pub fn check(bank: &Bank, complete: bool, diags: &mut Vec<Diagnostic>) {
    unique_ids(bank, diags);
    for item in &bank.items {
        file_name_is_id(&item.source, &item.id, diags);
        check_item(bank, item, diags);
    }
    for v in &bank.vignettes {
        file_name_is_id(&v.source, &v.id, diags);
    }
    if complete && diags.is_empty() {
        for bp in &bank.blueprints {
            check_blueprint(bank, bp, diags);
        }
    }
}

fn file_name_is_id(source: &super::model::Source, id: &str, diags: &mut Vec<Diagnostic>) {
    let stem = std::path::Path::new(&source.path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != id {
        diags.push(Diagnostic::new(
            &source.path,
            1,
            format!("id \"{id}\" does not match the file name \"{stem}.md\""),
        ));
    }
}

fn unique_ids(bank: &Bank, diags: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<&str, &super::model::Source> = BTreeMap::new();
    for item in &bank.items {
        if let Some(prev) = first.insert(&item.id, &item.source) {
            diags.push(Diagnostic::at(
                &item.line_of("id"),
                format!("duplicate item id \"{}\" (also in {prev})", item.id),
            ));
        }
    }
    let mut first: BTreeMap<&str, &super::model::Source> = BTreeMap::new();
    for v in &bank.vignettes {
        if let Some(prev) = first.insert(&v.id, &v.source) {
            diags.push(Diagnostic::at(
                &v.line_of("id"),
                format!("duplicate vignette id \"{}\" (also in {prev})", v.id),
            ));
        }
    }
    let mut first: BTreeMap<&str, &super::model::Source> = BTreeMap::new();
    for b in &bank.blueprints {
        if let Some(prev) = first.insert(&b.id, &b.source) {
            diags.push(Diagnostic::at(
                &b.source,
                format!("duplicate blueprint id \"{}\" (also in {prev})", b.id),
            ));
        }
    }
}

fn check_item(bank: &Bank, item: &Item, diags: &mut Vec<Diagnostic>) {
    for enemy in &item.enemies {
        match bank.item(enemy) {
            None => diags.push(Diagnostic::at(
                &item.line_of("enemies"),
                format!("enemy \"{enemy}\" is not an item of the bank"),
            )),
            // A vignette's items go on a form together, so two of them cannot be kept apart.
            Some(other) if other.vignette.is_some() && other.vignette == item.vignette => {
                diags.push(Diagnostic::at(
                    &item.line_of("enemies"),
                    format!(
                        "enemy \"{enemy}\" hangs off the same vignette {}, whose items are always shown together",
                        other.vignette.as_deref().unwrap_or_default()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    let Some(domain) = bank.taxonomy.domain(&item.domain) else {
        let codes: Vec<&str> = bank
            .taxonomy
            .domains
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        diags.push(Diagnostic::at(
            &item.line_of("domain"),
            format!(
                "unknown domain \"{}\"; the taxonomy has {}",
                item.domain,
                codes.join(", ")
            ),
        ));
        return;
    };
    let Some(area) = domain.area(&item.area) else {
        diags.push(Diagnostic::at(
            &item.line_of("area"),
            format!(
                "unknown area \"{}\" in domain {} ({})",
                item.area, domain.code, domain.name
            ),
        ));
        return;
    };
    if area.mentor && item.levels.contains(&Level::III) {
        diags.push(Diagnostic::at(
            &item.line_of("levels"),
            format!(
                "{}/{} is Mentor-level (Level IV) only, but the item lists level III",
                domain.code, area.code
            ),
        ));
    }
    match &item.vignette {
        None if item.kind() == ItemKind::Open => diags.push(Diagnostic::at(
            &item.line_of("kind"),
            "an open item must name the vignette it hangs off (`vignette: ID`)",
        )),
        None => {}
        Some(vid) => match bank.vignette(vid) {
            None => diags.push(Diagnostic::at(
                &item.line_of("vignette"),
                format!("vignette \"{vid}\" does not exist"),
            )),
            Some(v) => {
                let outside: Vec<&str> = item
                    .levels
                    .iter()
                    .filter(|l| !v.levels.contains(l))
                    .map(|l| l.code())
                    .collect();
                if !outside.is_empty() {
                    diags.push(Diagnostic::at(
                        &item.line_of("levels"),
                        format!(
                            "level {} is not a level of vignette {vid}",
                            outside.join(", ")
                        ),
                    ));
                }
                if on_forms(item.status) && !on_forms(v.status) {
                    diags.push(Diagnostic::at(
                        &item.line_of("status"),
                        format!(
                            "the item is {} but its vignette {vid} is {}",
                            item.status, v.status
                        ),
                    ));
                }
            }
        },
    }
}

/// Statuses that put an item or vignette on candidates' forms.
fn on_forms(s: Status) -> bool {
    matches!(s, Status::Operational | Status::Pretest)
}

/// Items a form for `level` may draw as scored (operational) or pretest items of `kind`.
pub fn eligible<'a>(
    bank: &'a Bank,
    level: Level,
    kind: ItemKind,
    status: Status,
) -> impl Iterator<Item = &'a Item> + 'a {
    bank.items.iter().filter(move |i| {
        i.kind() == kind
            && i.status == status
            && i.levels.contains(&level)
            && i.vignette
                .as_deref()
                .and_then(|v| bank.vignette(v))
                .is_none_or(|v| on_forms(v.status) && v.levels.contains(&level))
    })
}

/// Vignettes Part Two may present at `level`: operational, of `kind`, with an operational open
/// item for that level.
pub fn part_two_vignettes(bank: &Bank, level: Level, kind: VignetteKind) -> Vec<&Vignette> {
    bank.vignettes
        .iter()
        .filter(|v| v.kind == kind && v.status == Status::Operational && v.levels.contains(&level))
        .filter(|v| {
            eligible(bank, level, ItemKind::Open, Status::Operational)
                .any(|i| i.vignette.as_deref() == Some(v.id.as_str()))
        })
        .collect()
}

fn check_blueprint(bank: &Bank, bp: &Blueprint, diags: &mut Vec<Diagnostic>) {
    let level = bp.level;
    let operational: Vec<&Item> =
        eligible(bank, level, ItemKind::Mcq, Status::Operational).collect();
    let mut needed_by_domain: BTreeMap<&str, (u32, &super::model::Source)> = BTreeMap::new();

    for rule in &bp.part_one.draw {
        let Some(domain) = bank.taxonomy.domain(&rule.domain) else {
            diags.push(Diagnostic::at(
                &rule.source,
                format!("unknown domain \"{}\" in a draw rule", rule.domain),
            ));
            continue;
        };
        if let Some(area) = &rule.area {
            if domain.area(area).is_none() {
                diags.push(Diagnostic::at(
                    &rule.source,
                    format!(
                        "unknown area \"{area}\" in domain {} in a draw rule",
                        domain.code
                    ),
                ));
                continue;
            }
            let have = operational
                .iter()
                .filter(|i| i.domain == rule.domain && &i.area == area)
                .count() as u32;
            if have < rule.count {
                diags.push(Diagnostic::at(
                    &rule.source,
                    format!(
                        "blueprint {} draws {} operational mcq items from {} for level {level}, but the bank has {have}",
                        bp.id,
                        rule.count,
                        rule_name(&rule.domain, Some(area)),
                    ),
                ));
            }
        }
        let entry = needed_by_domain
            .entry(domain.code.as_str())
            .or_insert((0, &rule.source));
        entry.0 += rule.count;
        if rule.area.is_none() {
            entry.1 = &rule.source;
        }
    }
    for (domain, (needed, source)) in needed_by_domain {
        let have = operational.iter().filter(|i| i.domain == domain).count() as u32;
        if have < needed {
            diags.push(Diagnostic::at(
                source,
                format!(
                    "blueprint {} draws {needed} operational mcq items from {domain} for level {level}, but the bank has {have}",
                    bp.id
                ),
            ));
        }
    }
    let pretest = eligible(bank, level, ItemKind::Mcq, Status::Pretest).count() as u32;
    if pretest < bp.part_one.pretest_items {
        diags.push(Diagnostic::at(
            &bp.source,
            format!(
                "blueprint {} carries {} pretest items for level {level}, but the bank has {pretest} pretest mcq items",
                bp.id, bp.part_one.pretest_items
            ),
        ));
    }
    for rule in &bp.part_two.present {
        let have = part_two_vignettes(bank, level, rule.kind).len() as u32;
        if have < rule.count {
            diags.push(Diagnostic::at(
                &rule.source,
                format!(
                    "blueprint {} presents {} {} vignettes for level {level}, but the bank has {have} operational ones with an operational open item",
                    bp.id, rule.count, rule.kind
                ),
            ));
        }
    }
}

/// How many forms of `bp` the bank can supply that share no item: the smallest, over every
/// draw rule and vignette rule, of what the bank holds divided by what one form takes. A rule
/// without an area draws from the whole domain, so a domain must hold enough for all its rules.
pub fn disjoint_forms(bank: &Bank, bp: &Blueprint) -> u32 {
    let level = bp.level;
    let operational: Vec<&Item> =
        eligible(bank, level, ItemKind::Mcq, Status::Operational).collect();
    let mut forms = u32::MAX;
    let mut by_domain: BTreeMap<&str, u32> = BTreeMap::new();
    for rule in &bp.part_one.draw {
        *by_domain.entry(rule.domain.as_str()).or_insert(0) += rule.count;
        if let Some(area) = &rule.area {
            let have = operational
                .iter()
                .filter(|i| i.domain == rule.domain && &i.area == area)
                .count() as u32;
            forms = forms.min(have / rule.count.max(1));
        }
    }
    for (domain, needed) in by_domain {
        let have = operational.iter().filter(|i| i.domain == domain).count() as u32;
        forms = forms.min(have / needed.max(1));
    }
    let pretest = eligible(bank, level, ItemKind::Mcq, Status::Pretest).count() as u32;
    if let Some(n) = pretest.checked_div(bp.part_one.pretest_items) {
        forms = forms.min(n);
    }
    for rule in &bp.part_two.present {
        let have = part_two_vignettes(bank, level, rule.kind).len() as u32;
        forms = forms.min(have / rule.count.max(1));
    }
    forms
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::disjoint_forms;

    /// The sample bank promises at least two forms per blueprint that share no item.
    #[test]
    fn every_sample_blueprint_can_draw_two_disjoint_forms() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank");
        let bank = crate::bank::load(&dir).expect("sample bank is valid");
        assert_eq!(bank.blueprints.len(), 4);
        for bp in &bank.blueprints {
            assert!(
                disjoint_forms(&bank, bp) >= 2,
                "{} supplies {}",
                bp.id,
                disjoint_forms(&bank, bp)
            );
        }
    }
}
