//! SVG charts drawn on the server: no script, readable by screen readers through their title
//! and description (the numbers themselves are always in a table next to the chart).

use maud::{html, Markup, PreEscaped};

const W: f64 = 560.0;
const H: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

fn frame(id: &str, title: &str, desc: &str, body: Markup) -> Markup {
    html! {
        figure class="chart" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img"
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

/// Axes with ticks, for data in `[x0, x1] × [y0, y1]`.
fn axes(x: (f64, f64), y: (f64, f64), xlabel: &str, ylabel: &str, ticks: usize) -> Markup {
    let px = |v: f64| LEFT + (v - x.0) / (x.1 - x.0) * (W - LEFT - RIGHT);
    let py = |v: f64| H - BOTTOM - (v - y.0) / (y.1 - y.0) * (H - TOP - BOTTOM);
    html! {
        g class="axes" stroke="#444" fill="none" {
            line x1=(fmt(LEFT)) y1=(fmt(H - BOTTOM)) x2=(fmt(W - RIGHT)) y2=(fmt(H - BOTTOM)) {}
            line x1=(fmt(LEFT)) y1=(fmt(TOP)) x2=(fmt(LEFT)) y2=(fmt(H - BOTTOM)) {}
        }
        g font-size="11" fill="#222" {
            @for i in 0..=ticks {
                @let vx = x.0 + (x.1 - x.0) * i as f64 / ticks as f64;
                @let vy = y.0 + (y.1 - y.0) * i as f64 / ticks as f64;
                text x=(fmt(px(vx))) y=(fmt(H - BOTTOM + 16.0)) text-anchor="middle" { (format!("{vx:.2}")) }
                text x=(fmt(LEFT - 6.0)) y=(fmt(py(vy) + 4.0)) text-anchor="end" { (format!("{vy:.2}")) }
            }
            text x=(fmt((LEFT + W - RIGHT) / 2.0)) y=(fmt(H - 6.0)) text-anchor="middle" { (xlabel) }
            text x="14" y=(fmt((TOP + H - BOTTOM) / 2.0)) text-anchor="middle"
                transform={ "rotate(-90 14 " (fmt((TOP + H - BOTTOM) / 2.0)) ")" } { (ylabel) }
        }
    }
}

/// A scatter plot; points outside the ranges are drawn at the edge. Flagged points are drawn
/// as hollow squares, the rest as dots.
pub fn scatter(
    id: &str,
    title: &str,
    points: &[(f64, f64, bool, String)],
    x: (f64, f64),
    y: (f64, f64),
    labels: (&str, &str),
) -> Markup {
    let px = |v: f64| LEFT + (v.clamp(x.0, x.1) - x.0) / (x.1 - x.0) * (W - LEFT - RIGHT);
    let py = |v: f64| H - BOTTOM - (v.clamp(y.0, y.1) - y.0) / (y.1 - y.0) * (H - TOP - BOTTOM);
    let flagged = points.iter().filter(|p| p.2).count();
    frame(
        id,
        title,
        &format!(
            "{} points, {flagged} of them flagged (hollow squares). Horizontal: {}; vertical: {}.",
            points.len(),
            labels.0,
            labels.1
        ),
        html! {
            (axes(x, y, labels.0, labels.1, 5))
            g {
                @for (vx, vy, flag, name) in points {
                    @if *flag {
                        rect x=(fmt(px(*vx) - 4.0)) y=(fmt(py(*vy) - 4.0)) width="8" height="8" fill="none" stroke="#b00020" stroke-width="1.5" {
                            title { (name) ": " (format!("{vx:.2}, {vy:.2}")) " (flagged)" }
                        }
                    } @else {
                        circle cx=(fmt(px(*vx))) cy=(fmt(py(*vy))) r="3.5" fill="#1f5fa8" {
                            title { (name) ": " (format!("{vx:.2}, {vy:.2}")) }
                        }
                    }
                }
            }
        },
    )
}

/// A histogram of counts per score, with a vertical line at the cut score.
pub fn histogram(id: &str, title: &str, counts: &[u64], cut: Option<f64>, xlabel: &str) -> Markup {
    let n = counts.len().max(1) as f64;
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = (W - LEFT - RIGHT) / n;
    let py = |v: f64| H - BOTTOM - v / top * (H - TOP - BOTTOM);
    let total: u64 = counts.iter().sum();
    frame(
        id,
        title,
        &format!(
            "{total} candidates by score from 0 to {}{}.",
            counts.len().saturating_sub(1),
            cut.map(|c| format!("; the cut score is {c}"))
                .unwrap_or_default()
        ),
        html! {
            (axes((0.0, n - 1.0), (0.0, top), xlabel, "candidates", 4))
            g fill="#1f5fa8" {
                @for (i, c) in counts.iter().enumerate() {
                    @if *c > 0 {
                        rect x=(fmt(LEFT + i as f64 * bw)) y=(fmt(py(*c as f64))) width=(fmt((bw - 1.0).max(1.0)))
                            height=(fmt(H - BOTTOM - py(*c as f64))) {
                            title { "score " (i) ": " (c) }
                        }
                    }
                }
            }
            @if let Some(c) = cut {
                @let x = LEFT + c * bw;
                line x1=(fmt(x)) y1=(fmt(TOP)) x2=(fmt(x)) y2=(fmt(H - BOTTOM)) stroke="#b00020" stroke-width="2" stroke-dasharray="6 3" {}
                text x=(fmt(x + 4.0)) y=(fmt(TOP + 12.0)) font-size="12" fill="#b00020" { "cut " (c) }
            }
        },
    )
}

/// A heat map of a square table (rows: first reading, columns: second), darker for more.
pub fn heatmap(id: &str, title: &str, cells: &[Vec<u64>], labels: &[String]) -> Markup {
    let k = cells.len().max(1) as f64;
    let size = ((H - TOP - BOTTOM) / k).min(64.0);
    let max = cells.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let total: u64 = cells.iter().flatten().sum();
    let diagonal: u64 = cells.iter().enumerate().filter_map(|(i, r)| r.get(i)).sum();
    frame(
        id,
        title,
        &format!(
            "{total} pairs of readings; {diagonal} on the diagonal (the same score). Rows: first reading; columns: second reading."
        ),
        html! {
            g font-size="12" fill="#222" {
                @for (j, l) in labels.iter().enumerate() {
                    text x=(fmt(LEFT + 40.0 + j as f64 * size + size / 2.0)) y=(fmt(TOP + 10.0)) text-anchor="middle" { (l) }
                }
                @for (i, l) in labels.iter().enumerate() {
                    text x=(fmt(LEFT + 30.0)) y=(fmt(TOP + 20.0 + i as f64 * size + size / 2.0 + 4.0)) text-anchor="end" { (l) }
                }
                text x=(fmt(LEFT + 40.0 + k * size + 8.0)) y=(fmt(TOP + 10.0)) { "second reading →" }
                text x=(fmt(LEFT + 30.0)) y=(fmt(TOP + 20.0 + k * size + 16.0)) text-anchor="end" { "first ↓" }
            }
            @for (i, row) in cells.iter().enumerate() {
                @for (j, c) in row.iter().enumerate() {
                    @let shade = (*c as f64 / max * 0.85 + 0.08).min(1.0);
                    @let fill = PreEscaped(format!("rgba(31,95,168,{shade:.3})"));
                    rect x=(fmt(LEFT + 40.0 + j as f64 * size)) y=(fmt(TOP + 20.0 + i as f64 * size)) width=(fmt(size - 2.0)) height=(fmt(size - 2.0)) fill=(fill) {
                        title { (labels.get(i).cloned().unwrap_or_default()) " then " (labels.get(j).cloned().unwrap_or_default()) ": " (c) }
                    }
                    text x=(fmt(LEFT + 40.0 + j as f64 * size + size / 2.0 - 1.0)) y=(fmt(TOP + 20.0 + i as f64 * size + size / 2.0 + 4.0))
                        text-anchor="middle" font-size="12" fill=(if shade > 0.5 { "#fff" } else { "#111" }) { (c) }
                }
            }
        },
    )
}

/// Horizontal bars around zero (rater severity: below 0 harsher, above 0 more lenient).
pub fn bars(id: &str, title: &str, values: &[(String, f64)], unit: &str) -> Markup {
    let span = values.iter().map(|v| v.1.abs()).fold(0.25f64, f64::max);
    let row = ((H - TOP - BOTTOM) / values.len().max(1) as f64).min(28.0);
    let mid = LEFT + 90.0 + (W - LEFT - 90.0 - RIGHT) / 2.0;
    let half = (W - LEFT - 90.0 - RIGHT) / 2.0;
    frame(
        id,
        title,
        &format!(
            "{} bars; left of the centre line is below 0, right above 0 ({unit}).",
            values.len()
        ),
        html! {
            line x1=(fmt(mid)) y1=(fmt(TOP)) x2=(fmt(mid)) y2=(fmt(H - BOTTOM)) stroke="#444" {}
            g font-size="12" fill="#222" {
                text x=(fmt(mid - half)) y=(fmt(H - BOTTOM + 16.0)) { (format!("{:.2}", -span)) }
                text x=(fmt(mid)) y=(fmt(H - BOTTOM + 16.0)) text-anchor="middle" { "0" }
                text x=(fmt(mid + half)) y=(fmt(H - BOTTOM + 16.0)) text-anchor="end" { (format!("{span:.2}")) }
                text x=(fmt(mid)) y=(fmt(H - 6.0)) text-anchor="middle" { (unit) }
            }
            @for (i, (name, v)) in values.iter().enumerate() {
                @let y = TOP + i as f64 * row;
                @let w = v.abs() / span * half;
                text x=(fmt(LEFT + 84.0)) y=(fmt(y + row / 2.0 + 4.0)) text-anchor="end" font-size="12" fill="#222" { (name) }
                rect x=(fmt(if *v < 0.0 { mid - w } else { mid })) y=(fmt(y + 3.0)) width=(fmt(w.max(1.0))) height=(fmt((row - 6.0).max(2.0)))
                    fill=(if *v < 0.0 { "#b05a00" } else { "#1f5fa8" }) {
                    title { (name) ": " (format!("{v:+.2}")) }
                }
            }
        },
    )
}

/// A band of the item map: persons and items whose measure is in [from, to).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapBand {
    pub from: f64,
    pub to: f64,
    pub persons: u64,
    pub items: u64,
}

/// The most bands an item map has: wider bands beyond it.
const MAX_BANDS: usize = 40;

/// Persons' and items' measures counted in bands of half a logit (wider if the range needs more
/// than 40), highest first, covering every finite value; empty when there is none.
pub fn map_bands(persons: &[f64], items: &[f64]) -> Vec<MapBand> {
    let all = || {
        persons
            .iter()
            .chain(items)
            .copied()
            .filter(|v| v.is_finite())
    };
    let (lo, hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return Vec::new();
    }
    let mut width = 0.5;
    while ((hi - lo) / width).floor() as usize + 1 > MAX_BANDS {
        width *= 2.0;
    }
    let start = (lo / width).floor() * width;
    let n = ((hi - start) / width).floor() as usize + 1;
    let mut bands: Vec<MapBand> = (0..n)
        .map(|k| MapBand {
            from: start + k as f64 * width,
            to: start + (k + 1) as f64 * width,
            persons: 0,
            items: 0,
        })
        .collect();
    let at = |v: f64| (((v - start) / width).floor() as usize).min(n - 1);
    for v in persons.iter().copied().filter(|v| v.is_finite()) {
        bands[at(v)].persons += 1;
    }
    for v in items.iter().copied().filter(|v| v.is_finite()) {
        bands[at(v)].items += 1;
    }
    bands.reverse();
    bands
}

/// The item map (a Wright map): persons on the left and items on the right of one vertical
/// logit axis, higher abler and harder, as bars per band, with a dashed line at each cut.
pub fn item_map(id: &str, title: &str, bands: &[MapBand], cuts: &[f64]) -> Markup {
    let k = bands.len().max(1) as f64;
    let row = (H - TOP - BOTTOM) / k;
    let mid = (LEFT + W - RIGHT) / 2.0;
    let half = (W - RIGHT - LEFT) / 2.0 - 24.0;
    let most_p = bands.iter().map(|b| b.persons).max().unwrap_or(0).max(1) as f64;
    let most_i = bands.iter().map(|b| b.items).max().unwrap_or(0).max(1) as f64;
    let (persons, items): (u64, u64) = bands
        .iter()
        .fold((0, 0), |(p, i), b| (p + b.persons, i + b.items));
    let (top, bottom) = (
        bands.first().map_or(0.0, |b| b.to),
        bands.last().map_or(0.0, |b| b.from),
    );
    let y = |v: f64| TOP + (top - v) / (top - bottom).max(f64::EPSILON) * (H - TOP - BOTTOM);
    frame(
        id,
        title,
        &format!(
            "{persons} candidates (left) and {items} items (right) on one logit scale from {bottom:.1} to {top:.1}, higher is abler or harder; {}. The table after the chart gives the counts per band.",
            if cuts.is_empty() {
                "no cut".to_string()
            } else {
                format!(
                    "the cut at {}",
                    cuts.iter()
                        .map(|c| format!("{c:.2}"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            }
        ),
        html! {
            line x1=(fmt(mid)) y1=(fmt(TOP)) x2=(fmt(mid)) y2=(fmt(H - BOTTOM)) stroke="#444" {}
            g font-size="12" fill="#222" {
                text x=(fmt(mid - 12.0)) y=(fmt(H - BOTTOM + 16.0)) text-anchor="end" { "candidates" }
                text x=(fmt(mid + 12.0)) y=(fmt(H - BOTTOM + 16.0)) { "items" }
                text x=(fmt(mid)) y=(fmt(H - 6.0)) text-anchor="middle" { "logits" }
            }
            g font-size="11" fill="#222" {
                @for (i, b) in bands.iter().enumerate() {
                    // Each label at its band's lower edge, the value it names.
                    @if i % 2 == 0 || bands.len() <= 16 {
                        text x=(fmt(LEFT - 6.0)) y=(fmt(TOP + (i + 1) as f64 * row + 4.0)) text-anchor="end" { (format!("{:.1}", b.from)) }
                    }
                }
            }
            @for (i, b) in bands.iter().enumerate() {
                @let yy = TOP + i as f64 * row;
                @if b.persons > 0 {
                    @let w = b.persons as f64 / most_p * half;
                    rect x=(fmt(mid - 2.0 - w)) y=(fmt(yy + 1.0)) width=(fmt(w)) height=(fmt((row - 2.0).max(1.0))) fill="#1f5fa8" {
                        title { (b.persons) " candidates from " (format!("{:.1}", b.from)) " to " (format!("{:.1}", b.to)) }
                    }
                }
                @if b.items > 0 {
                    @let w = b.items as f64 / most_i * half;
                    rect x=(fmt(mid + 2.0)) y=(fmt(yy + 1.0)) width=(fmt(w)) height=(fmt((row - 2.0).max(1.0))) fill="#b05a00" {
                        title { (b.items) " items from " (format!("{:.1}", b.from)) " to " (format!("{:.1}", b.to)) }
                    }
                }
            }
            @for c in cuts.iter().filter(|c| c.is_finite() && **c >= bottom && **c <= top) {
                line x1=(fmt(LEFT)) y1=(fmt(y(*c))) x2=(fmt(W - RIGHT)) y2=(fmt(y(*c))) stroke="#b00020" stroke-width="2" stroke-dasharray="6 3" {}
                text x=(fmt(W - RIGHT)) y=(fmt(y(*c) - 4.0)) text-anchor="end" font-size="12" fill="#b00020" { "cut " (format!("{c:.2}")) }
            }
        },
    )
}

/// The many-facet severity map (Facets' "vertical rulers"): one logit axis, candidates as bars
/// per band on the left, questions (harder higher) and raters (harsher higher) as labelled
/// marks in two columns on the right.
pub fn facets_map(
    id: &str,
    title: &str,
    candidates: &[f64],
    questions: &[(String, f64)],
    raters: &[(String, f64)],
) -> Markup {
    let marks: Vec<f64> = questions.iter().chain(raters).map(|(_, m)| *m).collect();
    let bands = map_bands(candidates, &marks);
    let (top, bottom) = (
        bands.first().map_or(1.0, |b| b.to),
        bands.last().map_or(-1.0, |b| b.from),
    );
    let y = |v: f64| TOP + (top - v) / (top - bottom).max(f64::EPSILON) * (H - TOP - BOTTOM);
    let axis = LEFT + 150.0;
    let (qx, rx) = (axis + 40.0, axis + 210.0);
    let most = bands.iter().map(|b| b.persons).max().unwrap_or(0).max(1) as f64;
    let row = (H - TOP - BOTTOM) / bands.len().max(1) as f64;
    frame(
        id,
        title,
        &format!(
            "{} candidates (bars, left), {} questions and {} raters (right) on one logit scale from {bottom:.1} to {top:.1}; higher is abler, harder or harsher. The tables below give every measure.",
            candidates.len(),
            questions.len(),
            raters.len()
        ),
        html! {
            line x1=(fmt(axis)) y1=(fmt(TOP)) x2=(fmt(axis)) y2=(fmt(H - BOTTOM)) stroke="#444" {}
            g font-size="11" fill="#222" {
                @for b in &bands {
                    @let w = b.persons as f64 / most * 140.0;
                    rect x=(fmt(axis - w)) y=(fmt(y(b.to))) width=(fmt(w)) height=(fmt((row - 1.0).max(1.0))) fill="#7a9cc6" {}
                    text x=(fmt(LEFT - 8.0)) y=(fmt(y(b.to) + row / 2.0 + 4.0)) text-anchor="end" { (format!("{:.1}", b.to)) }
                }
                @for (label, m) in questions {
                    circle cx=(fmt(qx)) cy=(fmt(y(*m))) r="3" fill="#2a6" {}
                    text x=(fmt(qx + 6.0)) y=(fmt(y(*m) + 4.0)) { (label) }
                }
                @for (label, m) in raters {
                    rect x=(fmt(rx - 3.0)) y=(fmt(y(*m) - 3.0)) width="6" height="6" fill="#a33" {}
                    text x=(fmt(rx + 6.0)) y=(fmt(y(*m) + 4.0)) { (label) }
                }
            }
            g font-size="12" fill="#222" {
                text x=(fmt(axis - 10.0)) y=(fmt(H - BOTTOM + 16.0)) text-anchor="end" { "candidates" }
                text x=(fmt(qx)) y=(fmt(H - BOTTOM + 16.0)) { "questions" }
                text x=(fmt(rx)) y=(fmt(H - BOTTOM + 16.0)) { "raters" }
                text x=(fmt(axis)) y=(fmt(H - 6.0)) text-anchor="middle" { "logits" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(s.matches("<circle").count(), 1);
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

    #[test]
    fn the_item_map_counts_every_measure_once_in_half_logit_bands() {
        let bands = map_bands(&[-1.2, 0.1, 0.2, 0.9, f64::NAN], &[-0.3, 0.4, 1.0]);
        // From -1.5 to 1.5, highest first.
        assert_eq!(bands.len(), 6);
        assert_eq!((bands[0].from, bands[0].to), (1.0, 1.5));
        assert_eq!(bands.last().unwrap().from, -1.5);
        assert_eq!(bands.iter().map(|b| b.persons).sum::<u64>(), 4);
        assert_eq!(bands.iter().map(|b| b.items).sum::<u64>(), 3);
        let zero = bands.iter().find(|b| b.from == 0.0).unwrap();
        assert_eq!((zero.persons, zero.items), (2, 1));
        assert!(map_bands(&[], &[f64::INFINITY]).is_empty());
        // A wide range takes wider bands, never more than 40.
        assert!(map_bands(&[-30.0, 30.0], &[]).len() <= 40);
        let m = item_map("map", "Item map", &bands, &[0.25]).into_string();
        assert!(m.contains("4 candidates (left) and 3 items (right)"), "{m}");
        assert!(m.contains("the cut at 0.25"), "{m}");
        assert_eq!(m.matches("<rect").count(), 6, "{m}");
    }
}
