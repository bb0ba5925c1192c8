//! Decision consistency and accuracy at Part One's cut, as the item statistics page and the
//! technical report show them: Subkoviak and Livingston & Lewis on the candidates' totals, and,
//! where the sitting is calibrated, Rudner's accuracy from the candidates' Rasch measures and
//! the Rasch CSEM at the cut's measure beside Lord's binomial one.

use crate::stats::decision::{
    self, csem_at_cut, rudner, CsemAtCut, DecisionReport, RaschCut, Rudner, Scores,
};
use crate::stats::ItemAnalysis;
use crate::store::calibration::SittingScale;

use super::stats::{heads, num, Table};

/// The Rasch figures at the cut of a calibrated sitting.
pub(crate) struct RaschDecision {
    /// θ_cut in logits, the mean over the candidates measured (one value when they share a
    /// blueprint, as Part One's pass mark and pool usually make them).
    pub theta_cut: f64,
    /// Rudner's indices, each candidate's measure against their blueprint's θ_cut.
    pub rudner: Option<Rudner>,
    /// Lord's binomial CSEM at the raw cut, and the Rasch SE at θ_cut: the root mean square
    /// over the candidates' forms of 1/√I(θ_cut).
    pub csem: CsemAtCut,
}

pub(crate) struct Figures {
    pub report: DecisionReport,
    pub rasch: Option<RaschDecision>,
}

/// The decision figures at the raw `cut` of the sitting's forms (of one length; `None` when no
/// one took Part One or the cut is above the form), with the Rasch ones where `scale` is given.
pub(crate) fn figures(a: &ItemAnalysis, cut: u32, scale: Option<&SittingScale>) -> Option<Figures> {
    let f = &a.form;
    if f.candidates == 0 || u64::from(cut) > f.items {
        return None;
    }
    let totals = Scores::from_distribution(&f.distribution).ok()?;
    let report = decision::decision(&totals, cut, f.kr20);
    let rasch = scale.and_then(|s| rasch_decision(s, totals.n_items(), cut));
    Some(Figures { report, rasch })
}

fn rasch_decision(s: &SittingScale, n_items: u32, cut: u32) -> Option<RaschDecision> {
    let measures: Vec<decision::Measure> = s
        .persons
        .iter()
        .filter_map(|p| {
            let m = p.measure?;
            Some(decision::Measure {
                theta: m.theta - s.theta_cut(p),
                se: m.se,
            })
        })
        .collect();
    if s.persons.is_empty() {
        return None;
    }
    let n = s.persons.len() as f64;
    let theta_cut = s.persons.iter().map(|p| s.theta_cut(p)).sum::<f64>() / n;
    let ses: Vec<f64> = s.persons.iter().filter_map(|p| p.se_at_cut).collect();
    let rms = (!ses.is_empty())
        .then(|| (ses.iter().map(|x| x * x).sum::<f64>() / ses.len() as f64).sqrt());
    Some(RaschDecision {
        theta_cut,
        rudner: rudner(&measures, 0.0),
        csem: csem_at_cut(
            n_items,
            cut,
            rms.map(|se| RaschCut {
                measure: theta_cut,
                se,
            }),
        ),
    })
}

/// The table of `/stats/N/items?csv=decision`.
pub(crate) fn table(fig: &Figures, id: i64) -> Table {
    let d = &fig.report;
    let row =
        |name: &str, value: String, what: &str| vec![name.to_string(), value, what.to_string()];
    let mut rows = vec![
        row("cut", d.cut.to_string(), "a pass is a total at or above it"),
        row(
            "pass_rate",
            num(d.pass_rate),
            "share of candidates at or above the cut",
        ),
        row(
            "subkoviak_p0",
            num(d.subkoviak_p0),
            "Subkoviak: share classified the same on two parallel forms",
        ),
        row(
            "subkoviak_kappa",
            num(d.subkoviak_kappa),
            "Subkoviak: that agreement beyond chance",
        ),
        row(
            "ll_accuracy",
            num(d.ll_accuracy),
            "Livingston & Lewis: share classified as their true score would be",
        ),
        row(
            "ll_consistency",
            num(d.ll_consistency),
            "Livingston & Lewis: share classified the same on two parallel forms",
        ),
        row(
            "ll_false_pass",
            num(d.ll_false_pass),
            "true fail, observed pass",
        ),
        row(
            "ll_false_fail",
            num(d.ll_false_fail),
            "true pass, observed fail",
        ),
        row(
            "csem_binomial_at_cut",
            num(d.csem_binomial_at_cut),
            "Lord's binomial standard error of a score at the cut, in items",
        ),
    ];
    if let Some(r) = &fig.rasch {
        let rud = r.rudner.as_ref();
        rows.extend([
            row(
                "rudner_accuracy",
                num(rud.map(|x| x.accuracy)),
                "Rudner: expected share classified as their Rasch measure would be",
            ),
            row(
                "rudner_consistency",
                num(rud.map(|x| x.consistency)),
                "Rudner: expected share classified the same on a second form",
            ),
            row(
                "rudner_kappa",
                num(rud.and_then(|x| x.kappa)),
                "Rudner: that consistency beyond chance",
            ),
            row(
                "rudner_persons",
                rud.map_or_else(String::new, |x| x.persons.to_string()),
                "candidates with a measure and a standard error",
            ),
            row(
                "theta_cut",
                num(Some(r.theta_cut)),
                "the cut as a Rasch measure, in logits",
            ),
            row(
                "csem_rasch_at_cut",
                num(r.csem.rasch_se),
                "Rasch standard error at the cut's measure, in logits (root mean square over the forms)",
            ),
        ]);
    }
    Table {
        name: "decision",
        caption: format!(
            "Decision consistency and accuracy at the cut of {} of {} (sitting {id})",
            d.cut, d.items
        ),
        headers: heads(&["statistic", "value", "meaning"]),
        rows,
    }
}
