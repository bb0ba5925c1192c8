//! SVG charts drawn on the server: no script, readable by screen readers through their title
//! and description (the numbers themselves are always in a table next to the chart). Each
//! scales to its box (a viewBox, 100% wide in the stylesheet), has ticks at 1-2-5 steps, a
//! visible legend where marks differ, and labels placed where nothing else is drawn.

use maud::{html, Markup, PreEscaped};

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

/// A scatter plot; points outside the ranges are drawn at the edge. Flagged points are drawn
/// as hollow squares, the rest as filled dots, as the legend above the plot says.
pub fn scatter(
    id: &str,
    title: &str,
    points: &[(f64, f64, bool, String)],
    x: (f64, f64),
    y: (f64, f64),
    labels: (&str, &str),
) -> Markup {
    let xt = nice_ticks(x.0, x.1, 5, false);
    let yt = nice_ticks(y.0, y.1, 5, false);
    let (x0, x1) = (xt[0], xt[xt.len() - 1]);
    let (y0, y1) = (yt[0], yt[yt.len() - 1]);
    let bottom = H - BOTTOM;
    let px = scale(x0, x1, LEFT, W - RIGHT);
    let py = scale(y0, y1, bottom, TOP);
    let flagged = points.iter().filter(|p| p.2).count();
    let kept = points.len() - flagged;
    let xticks: Vec<(f64, String)> = xt.iter().map(|v| (px(*v), tick_label(*v, &xt))).collect();
    frame_h(
        id,
        title,
        &format!(
            "{} points, {flagged} of them flagged (hollow squares), {kept} not flagged (filled dots). Horizontal: {}; vertical: {}.",
            points.len(),
            labels.0,
            labels.1
        ),
        H,
        html! {
            (axes(&xticks, &yt, &py, labels, bottom))
            (legend(&[
                (html! { circle cx="5" cy="0" r="4" fill=(ACCENT) {} }, format!("not flagged ({kept})")),
                (html! { rect x="1" y="-4" width="8" height="8" fill="none" stroke=(BAD) stroke-width="1.5" {} }, format!("flagged ({flagged})")),
            ]))
            g {
                @for (vx, vy, flag, name) in points {
                    @if *flag {
                        rect x=(fmt(px(*vx) - 4.0)) y=(fmt(py(*vy) - 4.0)) width="8" height="8" fill="none" stroke=(BAD) stroke-width="1.5" {
                            title { (name) ": " (format!("{vx:.2}, {vy:.2}")) " (flagged)" }
                        }
                    } @else {
                        circle cx=(fmt(px(*vx))) cy=(fmt(py(*vy))) r="3.5" fill=(ACCENT) {
                            title { (name) ": " (format!("{vx:.2}, {vy:.2}")) }
                        }
                    }
                }
            }
        },
    )
}

/// A histogram of counts per score, with a dashed line at the cut score (a pass is at or
/// above it) and its label above the plot, beside the line, where no bar reaches.
pub fn histogram(id: &str, title: &str, counts: &[u64], cut: Option<f64>, xlabel: &str) -> Markup {
    let n = counts.len().max(1);
    let most = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let yt = nice_ticks(0.0, most, 4, true);
    let top = yt[yt.len() - 1];
    let bottom = H - BOTTOM;
    let bw = (W - LEFT - RIGHT) / n as f64;
    let py = scale(0.0, top, bottom, TOP);
    // Scores at the middle of their bars.
    let xt: Vec<(f64, String)> = nice_ticks(0.0, (n - 1) as f64, 6, true)
        .into_iter()
        .filter(|s| *s <= (n - 1) as f64)
        .map(|s| (LEFT + (s + 0.5) * bw, tick_label(s, &[0.0, 1.0])))
        .collect();
    let total: u64 = counts.iter().sum();
    frame_h(
        id,
        title,
        &format!(
            "{total} candidates by score from 0 to {}{}.",
            counts.len().saturating_sub(1),
            cut.map(|c| format!("; the cut score is {c}"))
                .unwrap_or_default()
        ),
        H,
        html! {
            (axes(&xt, &yt, &py, (xlabel, "candidates"), bottom))
            g fill=(ACCENT) {
                @for (i, c) in counts.iter().enumerate() {
                    @if *c > 0 {
                        rect x=(fmt(LEFT + i as f64 * bw)) y=(fmt(py(*c as f64))) width=(fmt((bw - 1.0).max(1.0)))
                            height=(fmt(bottom - py(*c as f64))) {
                            title { "score " (i) ": " (c) }
                        }
                    }
                }
            }
            @if let Some(c) = cut {
                @let x = LEFT + c * bw;
                @let text = format!("cut {c}");
                // Beside the line, on the side with room for it.
                @let right = x + 4.0 + text_width(&text, SMALL) <= W - RIGHT;
                line x1=(fmt(x)) y1=(fmt(TOP - 14.0)) x2=(fmt(x)) y2=(fmt(bottom)) stroke=(BAD) stroke-width="2" stroke-dasharray="6 3" {}
                text x=(fmt(if right { x + 4.0 } else { x - 4.0 })) y=(fmt(TOP - 4.0)) text-anchor=(if right { "start" } else { "end" })
                    font-size=(SMALL) fill=(BAD) { (text) }
            }
        },
    )
}

/// Horizontal bars from zero (rater severity: below 0 harsher, above 0 more lenient), the axis
/// scaled to the values and the chart as tall as its bars.
pub fn bars(id: &str, title: &str, values: &[(String, f64)], unit: &str) -> Markup {
    const ROW: f64 = 28.0;
    const NAMES: f64 = 96.0;
    let lo = values.iter().map(|v| v.1).fold(0.0f64, f64::min);
    let hi = values.iter().map(|v| v.1).fold(0.0f64, f64::max);
    let xt = nice_ticks(lo, hi, 5, false);
    let (x0, x1) = (xt[0], xt[xt.len() - 1]);
    let left = LEFT + NAMES - 40.0;
    let px = scale(x0, x1, left, W - RIGHT);
    let top = 12.0;
    let bottom = top + ROW * values.len().max(1) as f64;
    let height = bottom + BOTTOM;
    frame_h(
        id,
        title,
        &format!(
            "{} bars from 0 ({unit}), from {} to {}: left of 0 is below 0, right above.",
            values.len(),
            tick_label(x0, &xt),
            tick_label(x1, &xt)
        ),
        height,
        html! {
            g stroke="#e0e0e0" {
                @for v in &xt { line x1=(fmt(px(*v))) y1=(fmt(top)) x2=(fmt(px(*v))) y2=(fmt(bottom)) {} }
            }
            line x1=(fmt(px(0.0))) y1=(fmt(top)) x2=(fmt(px(0.0))) y2=(fmt(bottom)) stroke=(MUTED) stroke-width="1.5" {}
            line x1=(fmt(left)) y1=(fmt(bottom)) x2=(fmt(W - RIGHT)) y2=(fmt(bottom)) stroke=(MUTED) {}
            g fill=(INK) {
                @for v in &xt {
                    text x=(fmt(px(*v))) y=(fmt(bottom + 16.0)) text-anchor="middle" font-size=(SMALL) { (tick_label(*v, &xt)) }
                }
                text x=(fmt((left + W - RIGHT) / 2.0)) y=(fmt(bottom + 36.0)) text-anchor="middle" font-size=(SMALL) { (unit) }
            }
            @for (i, (name, v)) in values.iter().enumerate() {
                @let y = top + i as f64 * ROW;
                text x=(fmt(left - 8.0)) y=(fmt(y + ROW / 2.0 + 4.0)) text-anchor="end" font-size=(SMALL) fill=(INK) { (name) }
                rect x=(fmt(px(v.min(0.0)))) y=(fmt(y + 4.0)) width=(fmt((px(v.max(0.0)) - px(v.min(0.0))).max(1.0))) height=(fmt(ROW - 8.0))
                    fill=(if *v < 0.0 { WARN } else { ACCENT }) {
                    title { (name) ": " (format!("{v:+.2}")) }
                }
            }
        },
    )
}

/// One item's Mantel-Haenszel D-DIF for the DIF chart: its name, D, the standard error and
/// its ETS class ('A', 'B', 'C'; None when not estimated).
#[derive(Debug, Clone, PartialEq)]
pub struct DifPoint {
    pub item: String,
    pub d: f64,
    pub se: f64,
    pub class: Option<char>,
}

/// The ETS size bands of |D-DIF|: A below 1, B from 1 to 1.5, C from 1.5.
pub fn ets_band(d: f64) -> char {
    match d.abs() {
        a if a < 1.0 => 'A',
        a if a < 1.5 => 'B',
        _ => 'C',
    }
}

/// The DIF chart: each item's D-DIF with its 95% interval (± 1.96 SE), items in order of D
/// from left to right, over the ETS bands shaded (A: |D| < 1, B: 1 to 1.5, C: 1.5 and more;
/// an item's class also needs its D to differ significantly from 0, or from 1 for C).
pub fn dif(id: &str, title: &str, items: &[DifPoint]) -> Markup {
    let mut pts: Vec<&DifPoint> = items
        .iter()
        .filter(|p| p.d.is_finite() && p.se.is_finite())
        .collect();
    pts.sort_by(|a, b| a.d.total_cmp(&b.d));
    let lo = pts
        .iter()
        .map(|p| p.d - 1.96 * p.se)
        .fold(-2.0f64, f64::min);
    let hi = pts.iter().map(|p| p.d + 1.96 * p.se).fold(2.0f64, f64::max);
    // Beyond ±4 an interval is clipped at the edge: such an item is C whatever its width.
    let yt = nice_ticks(lo.max(-4.0), hi.min(4.0), 6, false);
    let (y0, y1) = (yt[0], yt[yt.len() - 1]);
    let bottom = H - BOTTOM;
    let py = scale(y0, y1, bottom, TOP);
    let step = (W - LEFT - RIGHT) / pts.len().max(1) as f64;
    let px = |i: usize| LEFT + (i as f64 + 0.5) * step;
    let count = |c: char| items.iter().filter(|p| p.class == Some(c)).count();
    let (a, b, c) = (count('A'), count('B'), count('C'));
    let band = |from: f64, to: f64, fill: &str| {
        let (t, u) = (py(to.min(y1)), py(from.max(y0)));
        html! { @if u > t { rect x=(fmt(LEFT)) y=(fmt(t)) width=(fmt(W - LEFT - RIGHT)) height=(fmt(u - t)) fill=(fill) {} } }
    };
    let xt: Vec<(f64, String)> = Vec::new();
    frame_h(
        id,
        title,
        &format!(
            "D-DIF of {} items with their 95% intervals, in order of D from left to right, over the ETS bands (A: |D| below 1; B: 1 to 1.5; C: 1.5 and more). {a} items in class A, {b} in B, {c} in C. Above 0 favours the focal group. The table gives every item's figures.",
            pts.len()
        ),
        H,
        html! {
            (band(-1.0, 1.0, "#e6f4ea"))
            (band(1.0, 1.5, "#fff6e5"))
            (band(-1.5, -1.0, "#fff6e5"))
            (band(1.5, 100.0, "#fdecec"))
            (band(-100.0, -1.5, "#fdecec"))
            (axes(&xt, &yt, &py, ("items, in order of D-DIF", "D-DIF"), bottom))
            line x1=(fmt(LEFT)) y1=(fmt(py(0.0))) x2=(fmt(W - RIGHT)) y2=(fmt(py(0.0))) stroke=(MUTED) stroke-width="1.5" {}
            (legend(&[
                (html! { rect x="0" y="-5" width="12" height="10" fill="#e6f4ea" stroke=(MUTED) stroke-width="0.5" {} }, format!("A: |D| < 1 ({a})")),
                (html! { rect x="0" y="-5" width="12" height="10" fill="#fff6e5" stroke=(MUTED) stroke-width="0.5" {} }, format!("B: 1 to 1.5 ({b})")),
                (html! { rect x="0" y="-5" width="12" height="10" fill="#fdecec" stroke=(MUTED) stroke-width="0.5" {} }, format!("C: ≥ 1.5 ({c})")),
            ]))
            g {
                @for (i, p) in pts.iter().enumerate() {
                    @let colour = match p.class { Some('C') => BAD, Some('B') => WARN, _ => ACCENT };
                    g class="dif-item" {
                        title { (p.item) ": D-DIF " (format!("{:+.2}", p.d)) ", 95% " (format!("{:+.2} to {:+.2}", p.d - 1.96 * p.se, p.d + 1.96 * p.se)) @if let Some(c) = p.class { ", class " (c) } }
                        line x1=(fmt(px(i))) y1=(fmt(py(p.d - 1.96 * p.se))) x2=(fmt(px(i))) y2=(fmt(py(p.d + 1.96 * p.se))) stroke=(colour) stroke-opacity="0.5" stroke-width=(fmt((step * 0.3).clamp(0.8, 1.5))) {}
                        circle cx=(fmt(px(i))) cy=(fmt(py(p.d))) r=(fmt((step * 0.45).clamp(1.5, 3.5))) fill=(colour) {}
                    }
                }
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
            g font-size="12" fill="#1a1a1a" {
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
    // Room at the right of the items' bars for the cut's label.
    let half = (W - RIGHT - LEFT) / 2.0 - 64.0;
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
            line x1=(fmt(mid)) y1=(fmt(TOP)) x2=(fmt(mid)) y2=(fmt(H - BOTTOM)) stroke="#4a4a4a" {}
            g font-size="12" fill="#1a1a1a" {
                text x=(fmt(mid - 12.0)) y=(fmt(H - BOTTOM + 16.0)) text-anchor="end" { "candidates" }
                text x=(fmt(mid + 12.0)) y=(fmt(H - BOTTOM + 16.0)) { "items" }
                text x=(fmt(mid)) y=(fmt(H - 6.0)) text-anchor="middle" { "logits" }
            }
            g font-size="11" fill="#1a1a1a" {
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
    // Tall enough for every question's label one under the other.
    let plot = (H - TOP - BOTTOM).max(13.0 * (questions.len().max(raters.len()) + 1) as f64);
    let height = TOP + plot + BOTTOM;
    let y = |v: f64| TOP + (top - v) / (top - bottom).max(f64::EPSILON) * plot;
    let axis = LEFT + 150.0;
    let (qx, rx) = (axis + 40.0, axis + 210.0);
    let most = bands.iter().map(|b| b.persons).max().unwrap_or(0).max(1) as f64;
    let row = plot / bands.len().max(1) as f64;
    // Each mark's label beside it, moved apart (with a line to its mark) where marks crowd.
    let spread = |marks: &[(String, f64)]| {
        spread_labels(
            &marks.iter().map(|(_, m)| y(*m)).collect::<Vec<_>>(),
            13.0,
            TOP,
            TOP + plot,
        )
    };
    let (q_at, r_at) = (spread(questions), spread(raters));
    frame_h(
        id,
        title,
        &format!(
            "{} candidates (bars, left), {} questions and {} raters (right) on one logit scale from {bottom:.1} to {top:.1}; higher is abler, harder or harsher. The tables below give every measure.",
            candidates.len(),
            questions.len(),
            raters.len()
        ),
        height,
        html! {
            line x1=(fmt(axis)) y1=(fmt(TOP)) x2=(fmt(axis)) y2=(fmt(TOP + plot)) stroke="#4a4a4a" {}
            g font-size="11" fill="#1a1a1a" {
                @for (i, b) in bands.iter().enumerate() {
                    @let w = b.persons as f64 / most * 140.0;
                    rect x=(fmt(axis - w)) y=(fmt(y(b.to))) width=(fmt(w)) height=(fmt((row - 1.0).max(1.0))) fill="#7a9cc6" {}
                    // Every band's value while they fit one above the other, else every other one.
                    @if row >= 13.0 || i % 2 == 0 {
                        text x=(fmt(LEFT - 8.0)) y=(fmt(y(b.to) + row / 2.0 + 4.0)) text-anchor="end" { (format!("{:.1}", b.to)) }
                    }
                }
                @for ((label, m), ly) in questions.iter().zip(&q_at) {
                    circle cx=(fmt(qx)) cy=(fmt(y(*m))) r="3" fill="#1e6b34" {}
                    @if (ly - y(*m)).abs() > 0.5 {
                        line x1=(fmt(qx + 3.0)) y1=(fmt(y(*m))) x2=(fmt(qx + 10.0)) y2=(fmt(*ly)) stroke=(MUTED) stroke-width="0.75" {}
                    }
                    text x=(fmt(qx + 12.0)) y=(fmt(ly + 4.0)) font-size="11" { (label) }
                }
                @for ((label, m), ly) in raters.iter().zip(&r_at) {
                    rect x=(fmt(rx - 3.0)) y=(fmt(y(*m) - 3.0)) width="6" height="6" fill=(BAD) {}
                    @if (ly - y(*m)).abs() > 0.5 {
                        line x1=(fmt(rx + 3.0)) y1=(fmt(y(*m))) x2=(fmt(rx + 10.0)) y2=(fmt(*ly)) stroke=(MUTED) stroke-width="0.75" {}
                    }
                    text x=(fmt(rx + 12.0)) y=(fmt(ly + 4.0)) font-size="11" { (label) }
                }
            }
            g font-size="12" fill="#1a1a1a" {
                text x=(fmt(axis - 10.0)) y=(fmt(TOP + plot + 16.0)) text-anchor="end" { "candidates" }
                text x=(fmt(qx)) y=(fmt(TOP + plot + 16.0)) { "questions" }
                text x=(fmt(rx)) y=(fmt(TOP + plot + 16.0)) { "raters" }
                text x=(fmt(axis)) y=(fmt(height - 6.0)) text-anchor="middle" { "logits" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `<text>` of a chart (not turned) as its box: x from, x to, y from, y to.
    fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
        let attr = |tag: &str, name: &str| -> Option<String> {
            let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[at..at + tag[at..].find('"')?].to_string())
        };
        let mut out = Vec::new();
        for part in svg.split("<text").skip(1) {
            let (tag, body) = part.split_once('>').unwrap();
            if tag.contains("transform") {
                continue;
            }
            let text = body.split("</text>").next().unwrap().to_string();
            let x: f64 = attr(tag, "x").unwrap().parse().unwrap();
            let y: f64 = attr(tag, "y").unwrap().parse().unwrap();
            let size: f64 = attr(tag, "font-size").map_or(12.0, |s| s.parse().unwrap());
            let w = text_width(&text, size);
            let from = match attr(tag, "text-anchor").as_deref() {
                Some("end") => x - w,
                Some("middle") => x - w / 2.0,
                _ => x,
            };
            out.push((text, [from, from + w, y - size * 0.8, y + size * 0.2]));
        }
        out
    }

    fn overlap(a: &[f64; 4], b: &[f64; 4]) -> bool {
        a[0] < b[1] && b[0] < a[1] && a[2] < b[3] && b[2] < a[3]
    }

    /// Every `<rect>` of a chart as its box.
    fn rect_boxes(svg: &str) -> Vec<[f64; 4]> {
        svg.split("<rect")
            .skip(1)
            .filter_map(|part| {
                let tag = part.split('>').next()?;
                let get = |name: &str| -> Option<f64> {
                    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
                    tag[at..at + tag[at..].find('"')?].parse().ok()
                };
                let (x, y) = (get("x")?, get("y")?);
                Some([x, x + get("width")?, y, y + get("height")?])
            })
            .collect()
    }

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
    fn the_histogram_counts_in_whole_numbers_and_its_cut_label_overlaps_nothing() {
        // The tallest bar at the cut, as in the demo (cut 48).
        let mut counts = vec![0u64; 61];
        for (i, c) in counts.iter_mut().enumerate() {
            *c = (16 - (i as i64 - 48).abs().min(16)) as u64;
        }
        let h = histogram("h", "Scores", &counts, Some(48.0), "score").into_string();
        let boxes = text_boxes(&h);
        let texts: Vec<&str> = boxes.iter().map(|(t, _)| t.as_str()).collect();
        for t in &texts {
            assert!(
                !t.contains(".0"),
                "no decimals on a count or score axis: {texts:?}"
            );
        }
        assert!(texts.contains(&"15") || texts.contains(&"16"), "{texts:?}");
        let bars = rect_boxes(&h);
        assert!(bars.len() > 20);
        let cut = &boxes
            .iter()
            .find(|(t, _)| t == "cut 48")
            .expect("the cut's label")
            .1;
        for b in &bars {
            assert!(!overlap(cut, b), "the cut label over a bar: {cut:?} {b:?}");
        }
        for (i, (ta, a)) in boxes.iter().enumerate() {
            for (tb, b) in &boxes[i + 1..] {
                assert!(!overlap(a, b), "{ta:?} overlaps {tb:?}");
            }
            assert!(a[0] >= 0.0 && a[1] <= W, "{ta:?} inside the chart");
        }
        // A cut near the right edge: the label goes to the line's left.
        let h = histogram("h", "Scores", &counts, Some(60.0), "score").into_string();
        let cut = &text_boxes(&h)
            .into_iter()
            .find(|(t, _)| t == "cut 60")
            .unwrap()
            .1;
        assert!(cut[1] <= W - RIGHT + 0.1, "{cut:?}");
    }

    #[test]
    fn the_scatter_has_a_visible_legend_with_counts() {
        let s = scatter(
            "s",
            "p and r",
            &[
                (0.5, 0.3, false, "A".into()),
                (0.9, -0.1, true, "B".into()),
                (0.2, 0.05, true, "C".into()),
            ],
            (0.0, 1.0),
            (-0.2, 0.8),
            ("p", "r"),
        )
        .into_string();
        let legend = s
            .split("class=\"legend\"")
            .nth(1)
            .expect("a legend")
            .split("</g></g>")
            .next()
            .unwrap()
            .to_string();
        assert!(
            legend.contains("not flagged (1)") && legend.contains("flagged (2)"),
            "{s}"
        );
        // Its marks are the points' marks: a filled dot and a hollow square.
        assert!(
            legend.contains("<circle") && legend.contains("fill=\"none\""),
            "{legend}"
        );
        let boxes = text_boxes(&s);
        for (i, (ta, a)) in boxes.iter().enumerate() {
            for (tb, b) in &boxes[i + 1..] {
                assert!(!overlap(a, b), "{ta:?} overlaps {tb:?}");
            }
        }
    }

    #[test]
    fn the_severity_bars_fill_their_chart() {
        let b = bars(
            "b",
            "severity",
            &[("r1".into(), -0.4), ("r2".into(), 0.2)],
            "points",
        )
        .into_string();
        // The axis runs from the lowest to the highest value, not symmetric about 0.
        assert!(b.contains("from -0.4 to 0.2"), "{b}");
        assert!(
            b.contains("viewBox=\"0 0 560 112.0\""),
            "as tall as its two bars: {b}"
        );
        let rects = rect_boxes(&b);
        assert_eq!(rects.len(), 2);
        let span = rects[0][1] - rects[0][0] + rects[1][1] - rects[1][0];
        assert!(
            span > 0.9 * (W - RIGHT - (LEFT + 56.0)),
            "the bars span the axis: {rects:?}"
        );
    }

    #[test]
    fn the_dif_chart_shades_the_ets_bands_and_draws_each_interval() {
        assert_eq!(ets_band(0.99), 'A');
        assert_eq!(ets_band(-1.0), 'B');
        assert_eq!(ets_band(1.49), 'B');
        assert_eq!(ets_band(-1.5), 'C');
        let items = vec![
            DifPoint {
                item: "X1".into(),
                d: 0.2,
                se: 0.3,
                class: Some('A'),
            },
            DifPoint {
                item: "X2".into(),
                d: -1.2,
                se: 0.2,
                class: Some('B'),
            },
            DifPoint {
                item: "X3".into(),
                d: 1.8,
                se: 0.25,
                class: Some('C'),
            },
            DifPoint {
                item: "X4".into(),
                d: f64::NAN,
                se: f64::NAN,
                class: None,
            },
        ];
        let svg = dif("dif", "D-DIF", &items).into_string();
        assert!(svg.contains("1 items in class A, 1 in B, 1 in C"), "{svg}");
        assert_eq!(
            svg.matches("class=\"dif-item\"").count(),
            3,
            "one mark per estimated item"
        );
        // The bands: green A between -1 and 1, amber B to ±1.5, red C beyond, on the D axis.
        let yt = nice_ticks(-2.0, 2.3, 6, false);
        let py = scale(yt[0], *yt.last().unwrap(), H - BOTTOM, TOP);
        let band = |fill: &str| -> Vec<(f64, f64)> {
            svg.split("<rect")
                .filter(|r| r.contains(&format!("fill=\"{fill}\"")) && !r.contains("width=\"12\""))
                .map(|r| {
                    let b = rect_boxes(&format!("<rect{r}"))[0];
                    (b[2], b[3])
                })
                .collect()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 0.2;
        let a = band("#e6f4ea");
        assert_eq!(a.len(), 1);
        assert!(close(a[0].0, py(1.0)) && close(a[0].1, py(-1.0)), "{a:?}");
        let b = band("#fff6e5");
        assert_eq!(b.len(), 2);
        assert!(
            b.iter().any(|r| close(r.0, py(1.5)) && close(r.1, py(1.0))),
            "{b:?}"
        );
        let c = band("#fdecec");
        assert_eq!(c.len(), 2);
        assert!(c.iter().any(|r| close(r.1, py(1.5))), "{c:?}");
        // The legend names the bands with their counts.
        assert!(
            svg.contains("A: |D| &lt; 1 (1)") && svg.contains("C: ≥ 1.5 (1)"),
            "{svg}"
        );
    }

    #[test]
    fn crowded_labels_are_moved_apart() {
        let at = spread_labels(&[100.0, 101.0, 100.5, 300.0, 299.0], 13.0, 20.0, 300.0);
        let mut sorted = at.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            sorted.windows(2).all(|w| w[1] - w[0] >= 13.0 - 1e-9),
            "{at:?}"
        );
        assert!(at.iter().all(|y| (20.0..=300.0).contains(y)), "{at:?}");
        // A label alone stays by its mark.
        assert_eq!(spread_labels(&[150.0], 13.0, 20.0, 300.0), vec![150.0]);
        // The severity map: raters of almost the same severity, labels not overlapping.
        let svg = facets_map(
            "f",
            "Severity map",
            &[-1.0, 0.0, 0.3, 1.2],
            &[
                ("Q1".into(), 0.10),
                ("Q2".into(), 0.11),
                ("Q3".into(), 0.12),
            ],
            &[
                ("rater1".into(), -0.2),
                ("rater2".into(), -0.21),
                ("rater3".into(), -0.19),
            ],
        )
        .into_string();
        let boxes = text_boxes(&svg);
        assert!(boxes.iter().any(|(t, _)| t == "rater2"), "{svg}");
        // Thirty questions: the map grows to hold their labels, none above or below it.
        let many: Vec<(String, f64)> = (0..30)
            .map(|i| (format!("Q{i}"), 0.01 * i as f64))
            .collect();
        let tall = facets_map("t", "Severity map", &[-1.0, 1.0], &many, &[]).into_string();
        let height: f64 = tall
            .split("viewBox=\"0 0 560 ")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let labels = text_boxes(&tall);
        for (t, b) in &labels {
            assert!(
                b[2] >= 0.0 && b[3] <= height,
                "{t:?} {b:?} outside 0..{height}"
            );
        }
        for (i, (ta, a)) in labels.iter().enumerate() {
            for (tb, b) in &labels[i + 1..] {
                assert!(!overlap(a, b), "{ta:?} overlaps {tb:?}");
            }
        }
        for (i, (ta, a)) in boxes.iter().enumerate() {
            for (tb, b) in &boxes[i + 1..] {
                assert!(!overlap(a, b), "{ta:?} overlaps {tb:?}");
            }
        }
    }

    #[test]
    fn the_item_maps_cut_label_is_clear_of_the_bars() {
        let bands = map_bands(&[0.1, 0.2, 0.3, 0.4], &[0.1, 0.2, 0.3, 0.35, 0.4]);
        let svg = item_map("m", "Item map", &bands, &[0.25]).into_string();
        let cut = text_boxes(&svg)
            .into_iter()
            .find(|(t, _)| t == "cut 0.25")
            .unwrap()
            .1;
        for r in rect_boxes(&svg) {
            assert!(!overlap(&cut, &r), "{cut:?} over {r:?}");
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
