//! The Hofstee chart: the sitting's failure rate at every cut score, the panel's acceptable
//! box of cuts and failure rates, the compromise line across it and the cut where they meet.

use maud::{html, Markup};

use super::{axes, fmt, frame_h, legend, nice_ticks, scale, text_width, tick_label};
use super::{ACCENT, BAD, BOTTOM, H, INK, LEFT, MUTED, RIGHT, SMALL, TOP, W, WARN};
use crate::stats::standard_setting::{failure_curve, Hofstee, HofsteeBounds};

/// A share as a percent for a label: whole percents without decimals, else one.
fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

/// Why there is no compromise, in words for the chart's description.
fn no_compromise(result: &Hofstee, curve: &[f64], b: &HofsteeBounds) -> String {
    let at = |c: f64| {
        curve
            .get(c.max(0.0) as usize)
            .copied()
            .map_or(String::new(), |f| {
                format!(" ({} at a cut of {c})", percent(f))
            })
    };
    match result {
        Hofstee::CurveBelowLine => format!(
            "There is no compromise within the panel's bounds: the failure rate stays below the compromise line over the whole range; even the highest acceptable cut fails fewer{} than the panel would accept, so no cut is drawn and the panel should revisit its bounds.",
            at(b.cut_max.floor())
        ),
        Hofstee::CurveAboveLine => format!(
            "There is no compromise within the panel's bounds: already at the lowest acceptable cut more candidates fail{} than the compromise line allows, so no cut is drawn and the panel should revisit its bounds.",
            at(b.cut_min.ceil())
        ),
        Hofstee::Cut { .. } => String::new(),
    }
}

/// The Hofstee chart of a sitting's `scores` (raw, 0 to `max`) under the panel's mean
/// `bounds` (failure rates as shares), with the compromise `result` of
/// `stats::standard_setting::hofstee`. The curve is F(c), the share scoring below c, at every
/// whole score; the box spans the acceptable cuts (horizontally) and failure rates
/// (vertically); the compromise line runs from its top left to its bottom right. A cut is
/// marked with its value and failure rate; without one the description says why.
pub fn hofstee(
    id: &str,
    title: &str,
    scores: &[f64],
    max: f64,
    bounds: &HofsteeBounds,
    result: &Hofstee,
) -> Markup {
    let curve = failure_curve(scores, max);
    let top_score = (curve.len().max(2) - 1) as f64;
    let xt = nice_ticks(0.0, top_score, 6, true);
    let x1 = xt[xt.len() - 1];
    let yt = nice_ticks(0.0, 100.0, 5, true);
    let bottom = H - BOTTOM;
    let px = scale(0.0, x1, LEFT, W - RIGHT);
    let py = scale(0.0, 100.0, bottom, TOP);
    let xticks: Vec<(f64, String)> = xt.iter().map(|v| (px(*v), tick_label(*v, &xt))).collect();
    let points: Vec<String> = curve
        .iter()
        .enumerate()
        .map(|(c, f)| format!("{},{}", fmt(px(c as f64)), fmt(py(100.0 * f))))
        .collect();
    let b = bounds;
    let (bx0, bx1) = (px(b.cut_min), px(b.cut_max));
    let (by0, by1) = (py(100.0 * b.fail_max), py(100.0 * b.fail_min));
    let outcome = match result {
        Hofstee::Cut { cut, fail_rate } => format!(
            "The compromise line meets the curve at a cut of {cut}, where {} fail.",
            percent(*fail_rate)
        ),
        _ => no_compromise(result, &curve, b),
    };
    let desc = format!(
        "The share of {} candidates who would fail at each cut score from 0 to {}. The panel accepts cuts from {} to {} and failure rates from {} to {}; the compromise line runs from the lowest cut at the highest failure rate to the highest cut at the lowest. {outcome}",
        scores.len(),
        curve.len().saturating_sub(1),
        b.cut_min,
        b.cut_max,
        percent(b.fail_min),
        percent(b.fail_max),
    );
    frame_h(
        id,
        title,
        &desc,
        H,
        html! {
            (axes(&xticks, &yt, &py, ("cut score", "failing (%)"), bottom))
            (legend(&[
                (html! { line x1="0" y1="0" x2="12" y2="0" stroke=(ACCENT) stroke-width="2" {} }, "failing at the cut".to_string()),
                (html! { rect x="0" y="-5" width="12" height="10" fill="none" stroke=(MUTED) stroke-dasharray="3 2" {} }, "panel's bounds".to_string()),
                (html! { line x1="0" y1="-5" x2="12" y2="5" stroke=(WARN) stroke-width="2" {} }, "compromise line".to_string()),
            ]))
            rect class="hofstee-bounds" x=(fmt(bx0)) y=(fmt(by0)) width=(fmt(bx1 - bx0)) height=(fmt(by1 - by0))
                fill="none" stroke=(MUTED) stroke-dasharray="3 2" {}
            line class="hofstee-line" x1=(fmt(bx0)) y1=(fmt(by0)) x2=(fmt(bx1)) y2=(fmt(by1)) stroke=(WARN) stroke-width="2" {}
            @if !points.is_empty() {
                polyline class="hofstee-curve" points=(points.join(" ")) fill="none" stroke=(ACCENT) stroke-width="2" {}
            }
            @if let Hofstee::Cut { cut, fail_rate } = result {
                @let x = px(*cut);
                @let text = format!("cut {cut} ({} fail)", percent(*fail_rate));
                // Beside the line, on the side with room for it.
                @let right = x + 4.0 + text_width(&text, SMALL) <= W - RIGHT;
                line x1=(fmt(x)) y1=(fmt(TOP - 14.0)) x2=(fmt(x)) y2=(fmt(bottom)) stroke=(BAD) stroke-width="2" stroke-dasharray="6 3" {}
                circle cx=(fmt(x)) cy=(fmt(py(100.0 * fail_rate))) r="4" fill=(BAD) stroke=(INK) stroke-width="0.5" {}
                text x=(fmt(if right { x + 4.0 } else { x - 4.0 })) y=(fmt(TOP - 4.0)) text-anchor=(if right { "start" } else { "end" })
                    font-size=(SMALL) fill=(BAD) { (text) }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::standard_setting::hofstee as compromise;
    use crate::web::charts::boxes::{overlap, text_boxes};

    const SCORES: [f64; 10] = [2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0];
    const BOUNDS: HofsteeBounds = HofsteeBounds {
        cut_min: 4.0,
        cut_max: 8.0,
        fail_min: 0.1,
        fail_max: 0.5,
    };

    fn attr(svg: &str, class: &str, name: &str) -> String {
        let tag = svg
            .split(&format!("class=\"{class}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {class} in {svg}"))
            .split('>')
            .next()
            .unwrap();
        let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        tag[at..at + tag[at..].find('"').unwrap()].to_string()
    }

    /// The hand-worked example of `stats::standard_setting::hofstee`: scores 2..9, cuts 4 to 8,
    /// 10% to 50% failing; the compromise is a cut of 6 with half failing. The plot runs from
    /// x 56 to 544 (scores 0 to 10, 48.8 a point) and y 276 (0%) to 34 (100%, 2.42 a percent).
    #[test]
    fn the_curve_the_box_the_line_and_the_cut_are_where_they_must_be() {
        let result = compromise(&SCORES, &BOUNDS).unwrap();
        let svg = hofstee("h", "Hofstee", &SCORES, 10.0, &BOUNDS, &result).into_string();
        // F(c) at every whole score: 0 0 0 .1 .2 .3 .5 .7 .8 .9 1.
        assert_eq!(
            attr(&svg, "hofstee-curve", "points"),
            "56.0,276.0 104.8,276.0 153.6,276.0 202.4,251.8 251.2,227.6 300.0,203.4 \
             348.8,155.0 397.6,106.6 446.4,82.4 495.2,58.2 544.0,34.0"
        );
        // The box: cuts 4 to 8 (x 251.2 to 446.4), failing 50% to 10% (y 155 to 251.8).
        assert_eq!(attr(&svg, "hofstee-bounds", "x"), "251.2");
        assert_eq!(attr(&svg, "hofstee-bounds", "width"), "195.2");
        assert_eq!(attr(&svg, "hofstee-bounds", "y"), "155.0");
        assert_eq!(attr(&svg, "hofstee-bounds", "height"), "96.8");
        // The line from (4, 50%) to (8, 10%).
        for (name, want) in [
            ("x1", "251.2"),
            ("y1", "155.0"),
            ("x2", "446.4"),
            ("y2", "251.8"),
        ] {
            assert_eq!(attr(&svg, "hofstee-line", name), want, "{name}");
        }
        // The cut: its label, a mark on the curve at (6, 50%), and the description.
        assert!(svg.contains(">cut 6 (50% fail)</text>"), "{svg}");
        assert!(svg.contains("cx=\"348.8\" cy=\"155.0\""), "{svg}");
        assert!(
            svg.contains("meets the curve at a cut of 6, where 50% fail."),
            "{svg}"
        );
        assert!(svg.contains("accepts cuts from 4 to 8 and failure rates from 10% to 50%"));
        let boxes = text_boxes(&svg);
        for (i, (ta, a)) in boxes.iter().enumerate() {
            for (tb, b) in &boxes[i + 1..] {
                assert!(!overlap(a, b), "{ta:?} overlaps {tb:?}");
            }
            assert!(a[0] >= 0.0 && a[1] <= W, "{ta:?} inside the chart");
        }
    }

    #[test]
    fn without_a_compromise_no_cut_is_drawn_and_the_description_says_why() {
        let lenient = HofsteeBounds {
            fail_min: 0.9,
            fail_max: 1.0,
            ..BOUNDS
        };
        let result = compromise(&SCORES, &lenient).unwrap();
        assert_eq!(result, Hofstee::CurveBelowLine);
        let svg = hofstee("h", "Hofstee", &SCORES, 10.0, &lenient, &result).into_string();
        // No cut's label, line or mark.
        assert!(!svg.contains("fail)</text>"), "{svg}");
        assert!(!svg.contains("stroke-dasharray=\"6 3\"") && !svg.contains("<circle"));
        assert!(
            svg.contains("no compromise within the panel's bounds: the failure rate stays below")
                && svg.contains("fails fewer (80% at a cut of 8)"),
            "{svg}"
        );
        let harsh = HofsteeBounds {
            cut_min: 9.0,
            cut_max: 10.0,
            fail_min: 0.0,
            fail_max: 0.1,
        };
        let result = compromise(&SCORES, &harsh).unwrap();
        let svg = hofstee("h", "Hofstee", &SCORES, 10.0, &harsh, &result).into_string();
        assert!(
            svg.contains(
                "more candidates fail (90% at a cut of 9) than the compromise line allows"
            ),
            "{svg}"
        );
        assert!(!svg.contains("<circle"), "{svg}");
    }

    #[test]
    fn words_are_escaped_and_a_cut_near_the_right_edge_is_labelled_on_its_left() {
        let scores: Vec<f64> = (0..=20).map(f64::from).collect();
        let b = HofsteeBounds {
            cut_min: 16.0,
            cut_max: 20.0,
            fail_min: 0.0,
            fail_max: 1.0,
        };
        let result = compromise(&scores, &b).unwrap();
        let Hofstee::Cut { cut, .. } = result else {
            panic!("{result:?}")
        };
        let svg = hofstee("h", "<b>Level & III</b>", &scores, 20.0, &b, &result).into_string();
        assert!(svg.contains("&lt;b&gt;Level &amp; III&lt;/b&gt;"), "{svg}");
        assert!(!svg.contains("<b>"));
        let label = text_boxes(&svg)
            .into_iter()
            .find(|(t, _)| t.starts_with(&format!("cut {cut} (")))
            .expect("the cut's label");
        assert!(label.1[1] <= W - RIGHT + 0.1, "{label:?}");
        // No scores: an empty curve, still a chart.
        let empty = hofstee("e", "none", &[], 20.0, &b, &Hofstee::CurveBelowLine).into_string();
        assert!(empty.contains("<svg") && !empty.contains("hofstee-curve"));
    }
}
