//! The item map (a Wright map) and the bands it counts measures in.

use maud::{html, Markup};

use super::{fmt, frame};
use super::{BOTTOM, H, LEFT, RIGHT, TOP, W};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::charts::boxes::{overlap, rect_boxes, text_boxes};

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
