//! The table `bank check` prints for a valid bank: item counts by domain, kind and status for
//! each level/track, and what each blueprint draws.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::check::{disjoint_forms, eligible, part_two_vignettes};
use super::model::{Bank, ItemKind, Level, Status};

/// Counts of items offered at `level`, keyed by (domain, kind, status).
pub fn counts(bank: &Bank, level: Level) -> BTreeMap<(String, ItemKind, Status), usize> {
    let mut out = BTreeMap::new();
    for item in bank.items.iter().filter(|i| i.levels.contains(&level)) {
        *out.entry((item.domain.clone(), item.kind(), item.status))
            .or_insert(0) += 1;
    }
    out
}

pub fn render(bank: &Bank) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} items, {} vignettes, {} blueprints",
        bank.meta.name,
        bank.items.len(),
        bank.vignettes.len(),
        bank.blueprints.len()
    );
    if !bank.meta.notice.is_empty() {
        let _ = writeln!(s, "{}", bank.meta.notice);
    }
    let statuses = [
        Status::Operational,
        Status::Pretest,
        Status::Draft,
        Status::Retired,
    ];
    for level in Level::ALL {
        let counts = counts(bank, level);
        let _ = writeln!(s, "\nLevel {level}");
        let _ = write!(s, "{:<8}", "domain");
        for kind in [ItemKind::Mcq, ItemKind::Open] {
            for st in statuses {
                let _ = write!(s, " {:>16}", format!("{kind} {st}"));
            }
        }
        let _ = writeln!(s);
        let mut totals = [0usize; 8];
        for domain in &bank.taxonomy.domains {
            let row: Vec<usize> = [ItemKind::Mcq, ItemKind::Open]
                .iter()
                .flat_map(|k| {
                    statuses
                        .iter()
                        .map(|st| *counts.get(&(domain.code.clone(), *k, *st)).unwrap_or(&0))
                        .collect::<Vec<_>>()
                })
                .collect();
            if row.iter().all(|n| *n == 0) {
                continue;
            }
            let _ = write!(s, "{:<8}", domain.code);
            for (i, n) in row.iter().enumerate() {
                totals[i] += n;
                let _ = write!(s, " {n:>16}");
            }
            let _ = writeln!(s);
        }
        let _ = write!(s, "{:<8}", "total");
        for n in totals {
            let _ = write!(s, " {n:>16}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s);
    for bp in &bank.blueprints {
        let level = bp.level;
        let _ = writeln!(
            s,
            "blueprint {} (level {level}): part one draws {} scored + {} pretest of {} operational / {} pretest mcq items; part two presents {} vignettes, answer {}, from {} eligible; {} forms sharing no item",
            bp.id,
            bp.part_one.scored_items(),
            bp.part_one.pretest_items,
            eligible(bank, level, ItemKind::Mcq, Status::Operational).count(),
            eligible(bank, level, ItemKind::Mcq, Status::Pretest).count(),
            bp.part_two.presented(),
            bp.part_two.answer,
            bp.part_two
                .present
                .iter()
                .map(|p| format!("{} {}", part_two_vignettes(bank, level, p.kind).len(), p.kind))
                .collect::<Vec<_>>()
                .join(" + "),
            disjoint_forms(bank, bp),
        );
    }
    s
}
