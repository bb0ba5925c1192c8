//! The DIF chart: each item's D-DIF with its interval, over the ETS bands.

use maud::{html, Markup};

use super::{axes, fmt, frame_h, legend, nice_ticks, scale};
use super::{ACCENT, BAD, BOTTOM, H, LEFT, MUTED, RIGHT, TOP, W, WARN};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::charts::boxes::rect_boxes;

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
}
