//! The text of a table's cells: full precision for the CSV, three decimals on the page.

pub(super) fn is_number(c: &str) -> bool {
    !c.is_empty() && c.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A cell's number as people read it on the page: three decimals, so a column's points line
/// up (the CSV keeps every digit, and the cell's title holds it too); a p-value below
/// 0.001 as "< 0.001". None for a cell that is not a number with a fraction (ids, counts,
/// words stay as they are).
pub(super) fn shown(code: &str, cell: &str) -> Option<String> {
    if !cell.contains(['.', 'e', 'E']) {
        return None;
    }
    let x: f64 = cell.parse().ok().filter(|x: &f64| x.is_finite())?;
    if code == "p_value" && (0.0..0.001).contains(&x) {
        return Some("< 0.001".into());
    }
    let s = format!("{x:.3}");
    Some(if s == "-0.000" { "0.000".into() } else { s })
}

pub(crate) fn heads(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A statistic for a table: full precision (it is also the CSV's), empty when undefined.
pub(crate) fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A statistic for reading: three decimals, "–" when undefined.
pub(crate) fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_to_three_decimals_and_words_as_they_are() {
        let shown = |c| shown("p", c);
        assert_eq!(shown("0.28571428571428575").as_deref(), Some("0.286"));
        assert_eq!(shown("12.5").as_deref(), Some("12.500"));
        assert_eq!(shown("-0.0001").as_deref(), Some("0.000"));
        assert_eq!(shown("2.5e-7").as_deref(), Some("0.000"));
        assert_eq!(shown("1.0").as_deref(), Some("1.000"));
        assert_eq!(
            super::shown("p_value", "0.00002").as_deref(),
            Some("< 0.001")
        );
        assert_eq!(super::shown("p_value", "0.0412").as_deref(), Some("0.041"));
        for kept in [
            "42", "TF-0001", "CL01-Q2", "rater1", "", "AA", "inf", "NaN", "set 1",
        ] {
            assert_eq!(shown(kept), None, "{kept}");
        }
    }
}
