//! SVG charts drawn on the server: no script, readable by screen readers through their title
//! and description (the numbers themselves are always in a table next to the chart). Each
//! scales to its box (a viewBox, 100% wide in the stylesheet), has ticks at 1-2-5 steps, a
//! visible legend where marks differ, and labels placed where nothing else is drawn.
//!
//! What is where: this file holds what every chart shares (the frame with its title and
//! description, the sizes and colours, ticks, axes, the legend, label placement); each chart
//! family has a file of its own: `scatter` (items' difficulty against discrimination),
//! `histogram` (scores with the cut), `bars` (rater severity), `dif` (D-DIF over the ETS
//! bands), `heatmap` (first against second reading), `hofstee` (a standard-setting panel's
//! compromise), `item_map` (the Wright map and its bands)
//! and `facets_map` (the many-facet severity map). `boxes` (tests only) finds where a chart's
//! texts and rectangles are drawn, for the tests that nothing overlaps.

use maud::{html, Markup};

mod bars;
#[cfg(test)]
mod boxes;
mod dif;
mod facets_map;
mod heatmap;
mod histogram;
mod hofstee;
mod item_map;
mod scatter;

pub use bars::bars;
pub use dif::{dif, ets_band, DifPoint};
pub use facets_map::facets_map;
pub use heatmap::heatmap;
pub use histogram::histogram;
pub use hofstee::hofstee;
pub use item_map::{item_map, map_bands, MapBand};
pub use scatter::scatter;

const W: f64 = 560.0;
const H: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
/// Room above the plot for the legend and for labels such as the cut's.
const TOP: f64 = 34.0;
const BOTTOM: f64 = 44.0;
/// Text sizes (in the viewBox's units) and colours: the stylesheet's tokens.
const SMALL: f64 = 12.0;
const INK: &str = "#1a1a1a";
const MUTED: &str = "#4a4a4a";
const ACCENT: &str = "#0b4f8a";
const BAD: &str = "#a4161a";
const WARN: &str = "#8a4b00";

fn frame(id: &str, title: &str, desc: &str, body: Markup) -> Markup {
    frame_h(id, title, desc, H, body)
}

fn frame_h(id: &str, title: &str, desc: &str, height: f64, body: Markup) -> Markup {
    html! {
        figure class="chart" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (fmt(height)) } role="img"
                aria-labelledby={ (id) "-title " (id) "-desc" } {
                title id={ (id) "-title" } { (title) }
                desc id={ (id) "-desc" } { (desc) }
                (body)
            }
            figcaption { (title) }
        }
    }
}

fn fmt(x: f64) -> String {
    format!("{x:.1}")
}

/// Ticks for `[lo, hi]` at a step of 1, 2 or 5 times a power of ten, about `want` of them
/// (never more than `want` + 1), covering the range; with `integers`, the step is at least 1.
pub fn nice_ticks(lo: f64, hi: f64, want: usize, integers: bool) -> Vec<f64> {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let raw = (hi - lo) / want.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power);
    if integers {
        step = step.max(1.0).round();
    }
    let first = (lo / step + 1e-9).floor();
    let last = (hi / step - 1e-9).ceil();
    (first as i64..=last as i64)
        .map(|k| {
            let v = k as f64 * step;
            // No "-0" and no 0.30000000000000004.
            let d = 10f64.powi((-step.log10().floor()).max(0.0) as i32 + 1);
            let v = (v * d).round() / d;
            if v == 0.0 {
                0.0
            } else {
                v
            }
        })
        .collect()
}

/// A tick's text: as many decimals as the step needs, none for whole numbers.
pub fn tick_label(v: f64, ticks: &[f64]) -> String {
    let step = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let decimals = if step.is_finite() && step < 1.0 {
        (-step.log10().floor()).max(0.0) as usize
    } else {
        0
    };
    if (v - v.round()).abs() < 1e-9 {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
    }
}

/// Where a value lands on an axis from `a` to `b` drawn from `from` to `to` (in px).
fn scale(a: f64, b: f64, from: f64, to: f64) -> impl Fn(f64) -> f64 {
    move |v| from + (v.clamp(a.min(b), a.max(b)) - a) / (b - a) * (to - from)
}

/// Axes with ticks and light grid lines at `xt` (placed by `px`) and `yt` (by `py`).
fn axes(
    xt: &[(f64, String)],
    yt: &[f64],
    py: &dyn Fn(f64) -> f64,
    labels: (&str, &str),
    bottom: f64,
) -> Markup {
    html! {
        g class="grid" stroke="#e0e0e0" {
            @for v in yt {
                line x1=(fmt(LEFT)) y1=(fmt(py(*v))) x2=(fmt(W - RIGHT)) y2=(fmt(py(*v))) {}
            }
        }
        g class="axes" stroke="#4a4a4a" fill="none" {
            line x1=(fmt(LEFT)) y1=(fmt(bottom)) x2=(fmt(W - RIGHT)) y2=(fmt(bottom)) {}
            line x1=(fmt(LEFT)) y1=(fmt(TOP)) x2=(fmt(LEFT)) y2=(fmt(bottom)) {}
        }
        g fill=(INK) {
            @for (x, t) in xt {
                text x=(fmt(*x)) y=(fmt(bottom + 16.0)) text-anchor="middle" font-size=(SMALL) { (t) }
            }
            @for v in yt {
                text x=(fmt(LEFT - 6.0)) y=(fmt(py(*v) + 4.0)) text-anchor="end" font-size=(SMALL) { (tick_label(*v, yt)) }
            }
            text x=(fmt((LEFT + W - RIGHT) / 2.0)) y=(fmt(bottom + 36.0)) text-anchor="middle" font-size=(SMALL) { (labels.0) }
            text x="14" y=(fmt((TOP + bottom) / 2.0)) text-anchor="middle" font-size=(SMALL)
                transform={ "rotate(-90 14 " (fmt((TOP + bottom) / 2.0)) ")" } { (labels.1) }
        }
    }
}

/// A legend on one line above the plot: each entry a mark and its words.
fn legend(entries: &[(Markup, String)]) -> Markup {
    let mut x = LEFT;
    let mut placed = Vec::new();
    for (mark, text) in entries {
        placed.push((x, mark, text));
        x += 22.0 + text_width(text, SMALL) + 18.0;
    }
    html! {
        g class="legend" {
            @for (x, mark, text) in placed {
                g transform={ "translate(" (fmt(x)) " 14)" } { (mark) }
                text x=(fmt(x + 16.0)) y="18" font-size=(SMALL) fill=(INK) { (text) }
            }
        }
    }
}

/// About how wide a text is drawn (an average glyph is about 0.6 of the font's size).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Label positions for marks at `ys`: each as near its mark as it can be, no two closer than
/// `gap`, all within `[lo, hi]` (as far as they fit).
pub fn spread_labels(ys: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..ys.len()).collect();
    order.sort_by(|a, b| ys[*a].total_cmp(&ys[*b]));
    let mut at = vec![0.0; ys.len()];
    let mut prev = f64::NEG_INFINITY;
    for &i in &order {
        let y = ys[i].max(lo).max(prev + gap);
        at[i] = y;
        prev = y;
    }
    // Pushed past the bottom: move back up, keeping the gaps.
    let mut next = f64::INFINITY;
    for &i in order.iter().rev() {
        let y = at[i].min(hi).min(next - gap);
        at[i] = y;
        next = y;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_one_two_five_steps_and_whole_numbers_have_no_decimals() {
        assert_eq!(
            nice_ticks(0.0, 16.0, 4, true),
            vec![0.0, 5.0, 10.0, 15.0, 20.0]
        );
        assert_eq!(nice_ticks(0.0, 8.0, 4, true), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        // Counts: never a step below one.
        assert_eq!(nice_ticks(0.0, 2.0, 4, true), vec![0.0, 1.0, 2.0]);
        let unit = nice_ticks(0.0, 1.0, 5, false);
        assert_eq!(unit, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let texts: Vec<String> = unit.iter().map(|v| tick_label(*v, &unit)).collect();
        assert_eq!(texts, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        let r = nice_ticks(-0.2, 0.8, 5, false);
        assert_eq!(r.first(), Some(&-0.2));
        assert_eq!(r.last(), Some(&0.8));
        assert!(r.contains(&0.0), "{r:?}");
        let scores = nice_ticks(0.0, 60.0, 6, true);
        assert_eq!(scores, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        assert_eq!(tick_label(15.0, &scores), "15");
        // Covering the range, never more than asked for by more than one.
        for (lo, hi) in [(0.0, 0.37), (-3.2, 2.9), (0.0, 213.0), (1.0, 1.0)] {
            let t = nice_ticks(lo, hi, 5, false);
            assert!(t[0] <= lo && *t.last().unwrap() >= hi, "{lo}..{hi}: {t:?}");
            assert!(t.len() <= 7, "{lo}..{hi}: {t:?}");
        }
    }

    #[test]
    fn charts_are_svg_with_a_title_and_description() {
        let h = histogram("h", "Scores", &[0, 2, 5, 1], Some(2.0), "score").into_string();
        assert!(h.contains("<svg") && h.contains("role=\"img\""));
        assert!(
            h.contains(
                "<desc id=\"h-desc\">8 candidates by score from 0 to 3; the cut score is 2.</desc>"
            ),
            "{h}"
        );
        let s = scatter(
            "s",
            "p and r",
            &[(0.5, 0.3, false, "A".into()), (0.9, -0.1, true, "B".into())],
            (0.0, 1.0),
            (-0.2, 0.8),
            ("p", "r"),
        )
        .into_string();
        assert!(s.contains("2 points, 1 of them flagged"));
        // One dot for the point not flagged, one in the legend.
        assert_eq!(s.matches("<circle").count(), 2);
        let m = heatmap(
            "m",
            "pairs",
            &[vec![3, 1], vec![0, 4]],
            &["0".into(), "1".into()],
        )
        .into_string();
        assert!(m.contains("8 pairs of readings; 7 on the diagonal"), "{m}");
        let b = bars(
            "b",
            "severity",
            &[("r1".into(), -0.4), ("r2".into(), 0.2)],
            "points",
        )
        .into_string();
        assert_eq!(b.matches("<rect").count(), 2);
    }
}
