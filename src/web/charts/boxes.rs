//! Test helpers: where a chart's texts and rectangles are drawn, to check that nothing
//! overlaps and everything is inside the chart.

use super::text_width;

/// Every `<text>` of a chart (not turned) as its box: x from, x to, y from, y to.
pub(super) fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
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

pub(super) fn overlap(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[1] && b[0] < a[1] && a[2] < b[3] && b[2] < a[3]
}

/// Every `<rect>` of a chart as its box.
pub(super) fn rect_boxes(svg: &str) -> Vec<[f64; 4]> {
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
