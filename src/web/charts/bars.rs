//! Horizontal bars from zero: the raters' severity.

use maud::{html, Markup};

use super::{fmt, frame_h, nice_ticks, scale, tick_label};
use super::{ACCENT, BOTTOM, INK, LEFT, MUTED, RIGHT, SMALL, W, WARN};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::charts::boxes::rect_boxes;

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
}
