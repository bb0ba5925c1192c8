//! The many-facet severity map: candidates, questions and raters on one logit axis.

use maud::{html, Markup};

use super::item_map::map_bands;
use super::{fmt, frame_h, spread_labels};
use super::{BAD, BOTTOM, H, LEFT, MUTED, TOP};

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
    use crate::web::charts::boxes::{overlap, text_boxes};

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
}
