//! The report's sections as HTML: a heading each, tables with captions, every figure with a
//! link to the page it comes from.

use maud::{html, Markup};

use crate::bank::PassOn;
use crate::stats::EtsClass;
use crate::web::charts;

use super::super::stats::show;
use super::{LevelRow, Report};
use crate::web::time::local;

/// The Rasch mean squares outside which an item is listed as misfitting (Wright & Linacre
/// 1994's range for multiple-choice items, 0.7 to 1.3), when the standardised value says the
/// departure is more than chance (|z| ≥ 2): with a hundred candidates an item, a mean square
/// varies past that range by chance alone.
const FIT_LOW: f64 = 0.7;
const FIT_HIGH: f64 = 1.3;
const FIT_Z: f64 = 2.0;

/// A mean square outside the range with a significant z.
fn misfits(mean_square: Option<f64>, z: Option<f64>) -> bool {
    matches!((mean_square, z), (Some(m), Some(z)) if !(FIT_LOW..=FIT_HIGH).contains(&m) && z.abs() >= FIT_Z)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{:.1}%", 100.0 * v))
}

fn one(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.1}"))
}

fn two(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.2}"))
}

/// "IV-Clinical" → ("IV", "Clinical"); "III" → ("III", "–").
fn level_and_track(code: &str) -> (&str, &str) {
    code.split_once('-').unwrap_or((code, "–"))
}

/// A section with its numbered heading, labelled by it.
fn section(id: &str, title: &str, body: Markup) -> Markup {
    html! {
        section class="report-section" id=(id) aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (title) }
            (body)
        }
    }
}

/// "Source: <page>", the link every figure carries.
fn source(href: &str, page: &str) -> Markup {
    html! { p class="source" { "Source: " a href=(href) { (page) } } }
}

const CONTENTS: [(&str, &str); 8] = [
    ("candidates", "1. Candidates and results"),
    (
        "reliability",
        "2. Reliability and classification at the cut",
    ),
    ("forms", "3. Forms' difficulty and equating"),
    ("item-map", "4. Rasch item map"),
    ("flags", "5. Item flags"),
    ("agreement", "6. Rater agreement"),
    ("dif", "7. Differential item functioning"),
    ("keys", "8. Key changes"),
];

pub(super) fn render(r: &Report, download: bool, by: &str) -> Markup {
    let b = &r.base;
    let id = r.sitting.id;
    html! {
        article class="report" {
            header class="report-head" {
                h1 { "Technical report: " (r.sitting.name) }
                p {
                    (r.sitting.place) " · opened " (local(r.sitting.opens_at, &r.sitting.time_zone)) ", closed " (local(r.sitting.closes_at, &r.sitting.time_zone))
                    " · blueprints: " (r.sitting.blueprints.join(", "))
                }
                p class="hint" { "Generated " (local(r.generated_at, &r.sitting.time_zone)) " for " (by) ". Figures as stored at that moment; formulas and sources in the project's docs/statistics.md." }
                @if !download {
                    p class="no-print" {
                        a href={ "/stats/" (id) "/report?download=1" } download { "Download as one HTML file" }
                        " · print it from the browser (each section starts a page)."
                    }
                }
                nav class="report-contents" aria-label="Contents" {
                    ol { @for (anchor, title) in CONTENTS { li { a href={ "#" (anchor) } { (title) } } } }
                }
            }
            (candidates(r, b))
            (reliability(r, b))
            (forms(r, b))
            (item_map(r, b))
            (flags(r, b))
            (agreement(r, b))
            (dif(r, b))
            (keys(r, b))
        }
    }
}

fn part_cells(p: &super::PartTally) -> Markup {
    html! { td { (p.scored) } td { (p.passed) } td { (percent(p.pass_rate())) } }
}

fn candidates(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let all: &LevelRow = r.levels.last().expect("the All row is always there");
    let pass2 = r.blueprints.first().map(|b| b.part_two.pass_percent);
    section(
        CONTENTS[0].0,
        CONTENTS[0].1,
        html! {
            p {
                (all.registered) " registered, " (all.absent) " absent. "
                @match &r.computed {
                    Some((at, who)) => { "Results computed " (local(*at, &r.sitting.time_zone)) " by " (who) "; " }
                    None => { "Results not computed yet; " }
                }
                @match r.released_at {
                    Some(at) => { "released " (local(at, &r.sitting.time_zone)) "." }
                    None => { "not released." }
                }
            }
            div class="table-wrap" role="region" tabindex="0" aria-label="Candidates and pass rates" { table {
                caption { "Candidates and pass rates by part, level and track (results as stored)" }
                thead {
                    tr {
                        th scope="col" { "Level" } th scope="col" { "Track" } th scope="col" { "Registered" } th scope="col" { "Absent" }
                        th scope="col" { "Part One scored" } th scope="col" { "Part One passed" } th scope="col" { "Part One pass rate" }
                        th scope="col" { "Part Two scored" } th scope="col" { "Part Two passed" } th scope="col" { "Part Two pass rate" }
                        th scope="col" { "Both parts passed" }
                    }
                }
                tbody {
                    @for l in &r.levels {
                        @let (level, track) = if l.level == "All" { ("All", "") } else { level_and_track(&l.level) };
                        tr {
                            th scope="row" { (level) } td { (track) } td { (l.registered) } td { (l.absent) }
                            (part_cells(&l.parts[0])) (part_cells(&l.parts[1]))
                            td { (l.both_passed) " of " (l.both) }
                        }
                    }
                }
            } }
            div class="table-wrap" role="region" tabindex="0" aria-label="Cut, mean and SD by part" { table {
                caption { "Cut, mean and SD by part (percent of the maximum; SD with divisor N − 1)" }
                thead { tr { th scope="col" { "Part" } th scope="col" { "Candidates" } th scope="col" { "Pass mark" } th scope="col" { "Cut" } th scope="col" { "Mean" } th scope="col" { "SD" } } }
                tbody {
                    tr {
                        th scope="row" { "Part One" } td { (all.parts[0].scored) } td { (r.pass_percent) "%" }
                        td { @if r.analysis.form.items > 0 { (r.cut) " of " (r.analysis.form.items) " items" } @else { "–" } }
                        td { (one(all.parts[0].mean())) "%" } td { (one(all.parts[0].sd())) }
                    }
                    tr {
                        th scope="row" { "Part Two" } td { (all.parts[1].scored) }
                        td { (pass2.map_or_else(|| "–".into(), |p| format!("{p}%"))) } td { "of the points" }
                        td { (one(all.parts[1].mean())) "%" } td { (one(all.parts[1].sd())) }
                    }
                }
            } }
            (source(&format!("{b}/scoring/{id}/results"), "Results"))
        },
    )
}

fn reliability(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let f = &r.analysis.form;
    section(
        CONTENTS[1].0,
        CONTENTS[1].1,
        html! {
            @if f.candidates == 0 {
                p { "No Part One has been submitted in this sitting yet." }
            } @else {
                div class="table-wrap" role="region" tabindex="0" aria-label="Part One: reliability, measurement error and classification at the cut of " { table {
                    caption { "Part One: reliability, measurement error and classification at the cut of " (r.cut) " of " (f.items) }
                    thead { tr { th scope="col" { "Statistic" } th scope="col" { "Value" } th scope="col" { "Meaning" } } }
                    tbody {
                        tr { th scope="row" { "Candidates" } td { (f.candidates) } td { "submitted Part One, not voided" } }
                        tr { th scope="row" { "Mean (SD), items" } td { (show(f.mean)) " (" (show(f.sd)) ")" } td { "raw score on the scored items" } }
                        tr { th scope="row" { "KR-20" } td { (show(f.kr20)) } td { "internal consistency" } }
                        tr { th scope="row" { "Cronbach's alpha (Feldt 95%)" } td { (show(f.alpha)) " (" (show(f.alpha_low)) " to " (show(f.alpha_high)) ")" } td { "reliability with its interval" } }
                        tr { th scope="row" { "SEM, items" } td { (show(f.sem)) } td { "standard error of measurement" } }
                        @if let Some(d) = &r.decision {
                            tr { th scope="row" { "CSEM at the cut (Lord's binomial), items" } td { (show(d.report.csem_binomial_at_cut)) } td { "error of a score at the cut" } }
                            @if let Some(x) = &d.rasch {
                                tr { th scope="row" { "CSEM at the cut (Rasch), logits" } td { (show(x.csem.rasch_se)) } td { "standard error at the cut's measure θ_cut = " (two(Some(x.theta_cut))) } }
                            }
                            tr { th scope="row" { "Subkoviak agreement p₀ (kappa)" } td { (show(d.report.subkoviak_p0)) " (" (show(d.report.subkoviak_kappa)) ")" } td { "consistency on two parallel forms" } }
                            tr { th scope="row" { "Livingston & Lewis accuracy" } td { (show(d.report.ll_accuracy)) } td { "classified as the true score would be" } }
                            tr { th scope="row" { "Livingston & Lewis consistency" } td { (show(d.report.ll_consistency)) } td { "classified alike on two parallel forms" } }
                            @if let Some(rud) = d.rasch.as_ref().and_then(|x| x.rudner.as_ref()) {
                                tr { th scope="row" { "Rudner accuracy (consistency)" } td { (show(Some(rud.accuracy))) " (" (show(Some(rud.consistency))) ")" } td { "from " (rud.persons) " candidates' Rasch measures and standard errors" } }
                            }
                        }
                    }
                } }
                @if r.scale.is_none() {
                    p class="hint" { "Rudner's accuracy and the Rasch CSEM need the sitting's Rasch calibration, which has not been made." }
                }
                (source(&format!("{b}/stats/{id}/items"), "Item statistics (decision consistency table, with CSV)"))
            }
        },
    )
}

/// Part One's stored results both ways, and the committee's decision on which one decides.
fn equating(r: &Report, b: &str) -> Markup {
    let e = &r.equating;
    let id = r.sitting.id;
    html! {
        div class="table-wrap" role="region" tabindex="0" aria-label="Part One results, raw and equated" { table {
            caption { "Part One results, raw and equated (results as stored)" }
            thead { tr { th scope="col" { "Results" } th scope="col" { "Equated" } th scope="col" { "Decided by the equated percent" } th scope="col" { "Mean shift, equated − raw (points)" } th scope="col" { "SD of the shift" } th scope="col" { "Pass or fail differs raw vs equated" } } }
            tbody {
                tr {
                    td { (e.results) } td { (e.equated) } td { (e.decided_by_equated) }
                    td { (two(e.mean_shift())) } td { (two(e.sd_shift())) } td { (e.differ) }
                }
            }
        } }
        @match &e.decision {
            Some(d) => p { "The committee decided on " (local(d.changed_at, &r.sitting.time_zone)) " (" (d.changed_by) ") that the pass mark applies to the " strong { (d.pass_on) } " percent in this sitting: " (d.reason) " (" a href={ (b) "/keys" } { "decisions and key changes" } ")." },
            None => p { "The committee has not decided otherwise for this sitting: each blueprint's policy above applies. A decision, with its reason, is made on the " a href={ (b) "/scoring/" (id) "/results" } { "results page" } "." },
        }
    }
}

fn forms(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let spreads = r
        .scale
        .as_ref()
        .map(|s| s.blueprints.as_slice())
        .unwrap_or_default();
    section(
        CONTENTS[2].0,
        CONTENTS[2].1,
        html! {
            p { "Part One forms are drawn as each blueprint says: one per candidate, or one for the whole sitting. A form's difficulty is its expected percent correct at θ_cut, the ability whose expected percent on the blueprint's operational pool is the pass percent; forms of equal difficulty there hold candidates to one standard." }
            div class="table-wrap" role="region" tabindex="0" aria-label="Blueprints' Part One policy" { table {
                caption { "Blueprints' Part One policy" }
                thead { tr { th scope="col" { "Blueprint" } th scope="col" { "Forms" } th scope="col" { "Tolerance (points)" } th scope="col" { "Pass mark applies to" } th scope="col" { "Pool calibrated" } } }
                tbody {
                    @for bp in &r.blueprints {
                        @let spread = spreads.iter().find(|s| s.blueprint == bp.id);
                        @let calibrated = spread.is_some_and(|s| s.reference.pool_calibrated());
                        tr {
                            th scope="row" { (bp.name) }
                            td { (bp.part_one.forms.code()) }
                            td { (bp.part_one.form_tolerance.points()) }
                            td {
                                (bp.part_one.pass_on.code())
                                @if bp.part_one.pass_on == PassOn::Equated && !calibrated { " (raw decides until the pool is calibrated)" }
                            }
                            td { @if calibrated { "yes" } @else { "no" } }
                        }
                    }
                }
            } }
            @if spreads.is_empty() {
                p { "The sitting is not calibrated, so its forms' difficulty is not known: " a href={ (b) "/stats/" (id) "/rasch" } { "calibrate it" } "." }
            } @else {
                div class="table-wrap" role="region" tabindex="0" aria-label="Forms' expected percent correct at θ_cut" { table {
                    caption { "Forms' expected percent correct at θ_cut, by blueprint" }
                    thead { tr { th scope="col" { "Blueprint" } th scope="col" { "Forms" } th scope="col" { "θ_cut" } th scope="col" { "Target" } th scope="col" { "Mean" } th scope="col" { "SD" } th scope="col" { "Min to max" } th scope="col" { "Within tolerance" } th scope="col" { "θ_cut taken on" } } }
                    tbody {
                        @for s in spreads {
                            @let sp = s.spread.as_ref();
                            tr {
                                th scope="row" { (s.name) }
                                td { (sp.map_or(0, |x| x.forms)) }
                                td { (two(Some(s.target.theta_cut))) }
                                td { (one(Some(s.target.percent))) "% ± " (s.target.tolerance) }
                                td { (one(sp.map(|x| x.mean))) "%" }
                                td { (two(sp.map(|x| x.sd))) }
                                td { (one(sp.map(|x| x.min))) " to " (one(sp.map(|x| x.max))) }
                                td { (s.within) }
                                td { (s.reference.describe()) }
                            }
                        }
                    }
                } }
                p { "Equating: where a blueprint's pass mark applies to equated scores and its pool is calibrated, each raw score is mapped through its own form's test characteristic curve onto the pool's percent-correct scale and that score decides; otherwise the raw percent correct decides. Each candidate's scores are on the " a href={ (b) "/scoring/" (id) "/results" } { "results page" } "." }
                (equating(r, b))
            }
            (source(&format!("{b}/stats/{id}/rasch#spread"), "Rasch calibration (forms' difficulty, with CSV)"))
        },
    )
}

fn item_map(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let (persons, cuts): (Vec<f64>, Vec<f64>) = match &r.scale {
        Some(s) => (
            s.persons
                .iter()
                .filter_map(|p| p.measure.map(|m| m.theta))
                .collect(),
            {
                let mut c: Vec<f64> = s.blueprints.iter().map(|x| x.target.theta_cut).collect();
                c.dedup_by(|x, y| (*x - *y).abs() < 0.005);
                c
            },
        ),
        None => (Vec::new(), Vec::new()),
    };
    let items: Vec<f64> = r.calibration.iter().filter_map(|c| c.difficulty).collect();
    let bands = charts::map_bands(&persons, &items);
    section(
        CONTENTS[3].0,
        CONTENTS[3].1,
        html! {
            @if bands.is_empty() {
                p { "The sitting is not calibrated yet: " a href={ (b) "/stats/" (id) "/rasch" } { "calibrate it" } " for the item map." }
            } @else {
                p { "Candidates (their Warm estimates) and items (their difficulties) on one logit scale: an item level with a candidate is answered right half the time. Items well above every candidate, or a cut far from the items, measure poorly there." }
                @if let Some(first) = r.calibration.first() {
                    p class="hint" { "Calibrated " (local(first.computed_at, &r.sitting.time_zone)) " by " (first.computed_by) "." }
                }
                div class="charts" { (charts::item_map("item-map-chart", "Rasch item map: candidates and items", &bands, &cuts)) }
                div class="table-wrap" role="region" tabindex="0" aria-label="The item map as a table: candidates and items per band of the logit scale, highest first" { table class="item-map-table" {
                    caption { "The item map as a table: candidates and items per band of the logit scale, highest first" }
                    thead { tr { th scope="col" { "From (logits)" } th scope="col" { "To" } th scope="col" { "Candidates" } th scope="col" { "Items" } } }
                    tbody {
                        @for band in &bands {
                            tr { th scope="row" { (format!("{:.1}", band.from)) } td { (format!("{:.1}", band.to)) } td { (band.persons) } td { (band.items) } }
                        }
                    }
                } }
            }
            (source(&format!("{b}/stats/{id}/rasch"), "Rasch calibration"))
        },
    )
}

fn flags(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let flagged: Vec<_> = r
        .analysis
        .items
        .iter()
        .filter(|i| !i.flags.is_empty())
        .collect();
    let misfit: Vec<_> = r
        .calibration
        .iter()
        .filter(|c| misfits(c.infit, c.infit_z) || misfits(c.outfit, c.outfit_z) || c.drifted == 1)
        .collect();
    section(
        CONTENTS[4].0,
        CONTENTS[4].1,
        html! {
            p { (flagged.len()) " of " (r.analysis.items.len()) " scored items flagged by classical statistics (hard: p < 0.30; easy: p > 0.95; low discrimination: rest point-biserial < 0.15; a distractor chosen by abler candidates or by almost no one)." }
            @if !flagged.is_empty() {
                div class="table-wrap" role="region" tabindex="0" aria-label="Items flagged by classical statistics" { table {
                    caption { "Items flagged by classical statistics" }
                    thead { tr { th scope="col" { "Item" } th scope="col" { "Presented" } th scope="col" title="p" { "Difficulty (p)" } th scope="col" title="pbis_rest" { "Point-biserial (rest score)" } th scope="col" { "Flags" } } }
                    tbody {
                        @for i in &flagged {
                            @let item = i.item.split(' ').next().unwrap_or_default();
                            tr {
                                th scope="row" { a href={ (b) "/stats/" (id) "/items/" (item) } { (i.item) } }
                                td { (i.n) } td { (show(i.p)) } td { (show(i.pbis_rest)) }
                                td { (i.flags.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                } }
            }
            @if !r.calibration.is_empty() {
                p { (misfit.len()) " item(s) misfit the Rasch model (an infit or outfit mean square outside " (FIT_LOW) " to " (FIT_HIGH) " with |z| ≥ " (FIT_Z) ") or drifted since their earlier calibration." }
                @if !misfit.is_empty() {
                    div class="table-wrap" role="region" tabindex="0" aria-label="Items misfitting the Rasch model" { table {
                        caption { "Items misfitting the Rasch model or drifting" }
                        thead { tr { th scope="col" { "Item" } th scope="col" { "Difficulty" } th scope="col" { "Infit (z)" } th scope="col" { "Outfit (z)" } th scope="col" { "Earlier" } th scope="col" { "Drift" } } }
                        tbody {
                            @for c in &misfit {
                                tr {
                                    th scope="row" { a href={ (b) "/stats/" (id) "/items/" (c.item_id) } { (c.item_id) } }
                                    td { (two(c.difficulty)) } td { (two(c.infit)) " (" (one(c.infit_z)) ")" } td { (two(c.outfit)) " (" (one(c.outfit_z)) ")" } td { (two(c.earlier)) }
                                    td { @if c.drifted == 1 { "drift" } }
                                }
                            }
                        }
                    } }
                }
            }
            (source(&format!("{b}/stats/{id}/items?sort=flags&dir=desc"), "Item statistics, flagged items first"))
        },
    )
}

fn agreement(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    section(
        CONTENTS[5].0,
        CONTENTS[5].1,
        html! {
            @match &r.agreement {
                None => { p { "No reading has been submitted in this sitting yet." } }
                Some((a, raters)) => {
                    @let o = &a.overall;
                    div class="table-wrap" role="region" tabindex="0" aria-label="Part Two: agreement between first and second readings" { table {
                        caption { "Part Two: agreement between first and second readings" }
                        thead { tr { th scope="col" { "Statistic" } th scope="col" { "Value" } } }
                        tbody {
                            tr { th scope="row" { "Readings (responses)" } td { (a.ratings) " (" (a.responses) ")" } }
                            tr { th scope="row" { "Pairs of readings" } td { (o.pairs) } }
                            tr { th scope="row" { "Exact / adjacent agreement" } td { (show(o.exact)) " / " (show(o.adjacent)) } }
                            tr { th scope="row" { "Cohen's kappa (95%)" } td { (show(o.kappa)) " (" (show(o.kappa_low)) " to " (show(o.kappa_high)) ")" } }
                            tr { th scope="row" { "Quadratic weighted kappa" } td { (show(o.kappa_quadratic)) } }
                            tr { th scope="row" { "ICC(2,1)" } td { (show(o.icc_2_1)) } }
                            tr { th scope="row" { "Krippendorff's alpha, ordinal" } td { (show(a.alpha_ordinal)) } }
                            tr { th scope="row" { "Gwet's AC1 (AC2, quadratic weights)" } td { (show(a.gwet_ac1)) " (" (show(a.gwet_ac2_quadratic)) ")" } }
                        }
                    } }
                    div class="table-wrap" role="region" tabindex="0" aria-label="Raters: readings, severity (own reading minus the other; below 0 harsher) and accuracy on validity responses" { table {
                        caption { "Raters: readings, severity (own reading minus the other; below 0 harsher) and accuracy on validity responses" }
                        thead { tr { th scope="col" { "Rater" } th scope="col" { "Readings" } th scope="col" { "Severity" } th scope="col" { "Exact agreement" } th scope="col" { "Validity accuracy" } } }
                        tbody {
                            @for s in &a.raters {
                                tr {
                                    th scope="row" { (raters.get(&s.rater).cloned().unwrap_or_else(|| s.rater.to_string())) }
                                    td { (s.scored) } td { (show(s.severity)) } td { (show(s.exact)) }
                                    td { (show(s.accuracy)) " (" (s.validity) ")" }
                                }
                            }
                        }
                    } }
                }
            }
            (source(&format!("{b}/stats/{id}/agreement"), "Rater agreement"))
        },
    )
}

fn dif(r: &Report, b: &str) -> Markup {
    let id = r.sitting.id;
    let class = |d: &crate::stats::DifReport, c: &[EtsClass]| -> Vec<String> {
        d.items
            .iter()
            .filter(|i| i.mh.ets_class.is_some_and(|x| c.contains(&x)))
            .map(|i| {
                format!(
                    "{} ({})",
                    i.item,
                    i.mh.ets_class.map(|x| x.to_string()).unwrap_or_default()
                )
            })
            .collect()
    };
    section(
        CONTENTS[6].0,
        CONTENTS[6].1,
        html! {
            p { "Mantel-Haenszel DIF of the Part One items between the groups of the optional questions candidates answer with consent, matched on the total score. Class B is moderate and C large DIF (+ favours the focal group)." }
            div class="table-wrap" role="region" tabindex="0" aria-label="DIF by question: items in class B or C" { table {
                caption { "DIF by question: items in class B or C" }
                thead { tr { th scope="col" { "Question" } th scope="col" { "Focal (n)" } th scope="col" { "Reference (n)" } th scope="col" { "Class B" } th scope="col" { "Class C" } } }
                tbody {
                    @for s in &r.dif {
                        @let q = s.question;
                        @let (reference, focal) = (q.answers[0], q.answers[1]);
                        @let bs = class(&s.report, &[EtsClass::BPlus, EtsClass::BMinus]);
                        @let cs = class(&s.report, &[EtsClass::CPlus, EtsClass::CMinus]);
                        tr {
                            th scope="row" {
                                a href={ (b) "/stats/" (id) "/dif?question=" (q.key) "&focal=" (focal.0) "&reference=" (reference.0) } { (q.text) }
                            }
                            td { (focal.1) " (" (s.report.focal) ")" }
                            td { (reference.1) " (" (s.report.reference) ")" }
                            td { (bs.len()) @if !bs.is_empty() { ": " (bs.join(", ")) } }
                            td { (cs.len()) @if !cs.is_empty() { ": " (cs.join(", ")) } }
                        }
                    }
                }
            } }
            (source(&format!("{b}/stats/{id}/dif"), "Fairness (DIF)"))
        },
    )
}

fn keys(r: &Report, b: &str) -> Markup {
    section(
        CONTENTS[7].0,
        CONTENTS[7].1,
        html! {
            @if r.key_changes.is_empty() {
                p { "No key of an item on this sitting's forms has been changed." }
            } @else {
                div class="table-wrap" role="region" tabindex="0" aria-label="Key changes of items on this sitting's forms, oldest first, with the committee's reasons" { table {
                    caption { "Key changes of items on this sitting's forms, oldest first, with the committee's reasons" }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Item" } th scope="col" { "Decision" } th scope="col" { "Reason" } th scope="col" { "By" } } }
                    tbody {
                        @for k in &r.key_changes {
                            tr {
                                td { (local(k.changed_at, &r.sitting.time_zone)) }
                                th scope="row" { a href={ (b) "/stats/" (r.sitting.id) "/items/" (k.item_id) } { (k.item_id) " v" (k.item_version) } }
                                td { (k.rule) } td { (k.reason) } td { (k.changed_by) }
                            }
                        }
                    }
                } }
            }
            (source(&format!("{b}/keys"), "Key review"))
        },
    )
}
