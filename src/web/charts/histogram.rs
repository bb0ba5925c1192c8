//! The histogram of scores, with the cut score.

use maud::{html, Markup};

use super::{axes, fmt, frame_h, nice_ticks, scale, text_width, tick_label};
use super::{ACCENT, BAD, BOTTOM, H, LEFT, RIGHT, SMALL, TOP, W};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::charts::boxes::{overlap, rect_boxes, text_boxes};

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
}
