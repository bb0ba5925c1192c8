//! The scatter plot: flagged points as hollow squares, the rest as filled dots.

use maud::{html, Markup};

use super::{axes, fmt, frame_h, legend, nice_ticks, scale, tick_label};
use super::{ACCENT, BAD, BOTTOM, H, LEFT, RIGHT, TOP, W};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::charts::boxes::{overlap, text_boxes};

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
}
