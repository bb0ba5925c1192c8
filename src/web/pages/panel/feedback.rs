//! The panel's feedback after a closed round: each item's spread of ratings (no names), the
//! sitting's observed difficulty, and the impact of the panel's cut on the sitting's scores.

use maud::{html, Markup};

use crate::stats::standard_setting::AngoffCut;
use crate::store::studies::{self, MatrixError, Observed, RoundMatrix, Scale, Spread, Study};
use crate::store::Db;
use crate::web::error::AppResult;

/// What the panel sees of a closed round.
pub struct Feedback {
    pub round: u32,
    pub matrix: RoundMatrix,
    /// Each item's scale (by position order).
    pub scales: Vec<Scale>,
    pub observed: Observed,
    /// The panel's cut over the panelists who rated every item, if any did.
    pub cut: Option<AngoffCut>,
}

impl Feedback {
    /// The feedback of the study's newest closed round; `None` before any round has closed.
    pub async fn of(db: &Db, study: &Study) -> AppResult<Option<Feedback>> {
        let Some(round) = study.last_closed_round() else {
            return Ok(None);
        };
        let matrix = match studies::round_ratings(db, study, round).await {
            Ok(m) => m,
            Err(MatrixError::Store(e)) => return Err(e.into()),
            // Never for a closed round; nothing to show rather than another's values.
            Err(MatrixError::Blind(_) | MatrixError::NotHeld(_)) => return Ok(None),
        };
        let scales = matrix.max.iter().map(|m| study.scale(*m as u32)).collect();
        let observed = studies::observed(db, study).await?;
        let cut = matrix.angoff().ok();
        Ok(Some(Feedback {
            round,
            matrix,
            scales,
            observed,
            cut,
        }))
    }

    /// The spread of item `index`'s ratings.
    pub fn spread(&self, index: usize) -> Option<Spread> {
        Spread::of(&self.matrix.item_values(index), &self.scales[index])
    }

    /// The panel's cut in percent of the study's most points.
    pub fn cut_percent(&self) -> Option<f64> {
        let total = self.matrix.total_max();
        self.cut
            .as_ref()
            .filter(|_| total > 0.0)
            .map(|c| 100.0 * c.cut / total)
    }

    /// One sentence: the panel's cut and the share of the sitting's candidates it would pass.
    pub fn impact_line(&self) -> Markup {
        let total = self.matrix.total_max();
        html! {
            @match (&self.cut, self.cut_percent()) {
                (Some(c), Some(pct)) => {
                    p class="impact" {
                        "Round " (self.round) " panel cut: " strong { (format!("{:.2}", c.cut)) " of " (total) " points (" (format!("{pct:.1}")) "%)" }
                        ", from " (c.panelist_cuts.len()) " panelists who rated every item. "
                        @match self.observed.pass_rate(pct) {
                            Some(rate) => {
                                "At this cut " strong { (format!("{:.0}", rate * 100.0)) "%" } " of the sitting's "
                                (self.observed.candidates.len()) " candidates would pass."
                            }
                            None => { "No sitting's scores are attached to this study, so its impact is not known." }
                        }
                    }
                }
                _ => { p class="impact" { "No panelist rated every item in round " (self.round) ", so there is no panel cut yet." } }
            }
        }
    }

    /// The observed value of item `index` as text: a p-value, or a mean score in points.
    pub fn observed_text(&self, index: usize, part: u8) -> String {
        match self.observed.items.get(index).and_then(|o| o.value) {
            Some(v) if part == 1 => format!("{v:.2}"),
            Some(v) => format!("{v:.2} points"),
            None => "not observed".into(),
        }
    }
}

/// One item's spread: a small description list and a dot plot as a table of counts (a plot
/// that reads aloud), no names.
pub fn spread_block(f: &Feedback, index: usize, part: u8) -> Markup {
    let spread = f.spread(index);
    let observed = f.observed.items.get(index).copied();
    html! {
        section class="feedback" aria-labelledby="feedback-title" {
            h2 id="feedback-title" { "Round " (f.round) ": the panel's ratings of this item" }
            @match &spread {
                None => { p { "Nobody rated this item in round " (f.round) "." } }
                Some(s) => {
                    dl class="summary spread" {
                        dt { "Panelists" } dd { (s.n) }
                        dt { "Lowest" } dd { (fmt(s.min)) }
                        dt { "Lower quartile" } dd { (fmt(s.q1)) }
                        dt { "Median" } dd { (fmt(s.median)) }
                        dt { "Upper quartile" } dd { (fmt(s.q3)) }
                        dt { "Highest" } dd { (fmt(s.max)) }
                        dt { "Mean" } dd { (fmt(s.mean)) }
                        dt { @if part == 1 { "Observed p-value" } @else { "Observed mean score" } }
                        dd {
                            (f.observed_text(index, part))
                            @if let Some(o) = observed { @if o.n > 0 { " (" (o.n) " candidates)" } }
                        }
                    }
                    (views_scroll(html! {
                        table class="dots" {
                            caption { "How many panelists chose each value" }
                            thead { tr { th scope="col" { "Rating" } th scope="col" { "Panelists" } } }
                            tbody {
                                @for (value, label) in f.scales[index].choices() {
                                    @let key = f.scales[index].form_value(value);
                                    @let n = s.counts.get(&key).copied().unwrap_or(0);
                                    @if n > 0 {
                                        tr {
                                            th scope="row" { (label) }
                                            td { span class="dot-row" aria-hidden="true" { @for _ in 0..n { "●" } } " " span { (n) } }
                                        }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
            (f.impact_line())
        }
    }
}

fn views_scroll(inner: Markup) -> Markup {
    crate::web::views::scroll_box("The panel's ratings", inner)
}

/// A rating or statistic with two decimals.
pub fn fmt(v: f64) -> String {
    format!("{v:.2}")
}
