//! The heat map of a square table: first against second reading.

use maud::{html, Markup, PreEscaped};

use super::{fmt, frame};
use super::{BOTTOM, H, LEFT, TOP};

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
