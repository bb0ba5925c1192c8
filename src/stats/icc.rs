//! Intraclass correlations of a complete targets × judges table, from its two-way analysis of
//! variance: Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing rater
//! reliability", Psychological Bulletin 86(2), 420-428.

use serde::Serialize;

use super::ratio;

/// ICC(2,1): two-way random effects, absolute agreement, single rater; ICC(3,1): two-way mixed
/// effects, consistency, single rater. `None` when undefined (fewer than 2 targets or judges, or
/// no variance at all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Icc {
    pub icc_2_1: Option<f64>,
    pub icc_3_1: Option<f64>,
}

/// The sums of squares of an n × k table. Any common positive factor may scale all three: the
/// ICCs are ratios of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anova {
    pub n: f64,
    pub k: f64,
    pub ss_rows: f64,
    pub ss_cols: f64,
    pub ss_error: f64,
}

impl Anova {
    /// BMS = SSR/(n−1), JMS = SSC/(k−1), EMS = SSE/((n−1)(k−1));
    /// ICC(2,1) = (BMS − EMS) / (BMS + (k−1)·EMS + k·(JMS − EMS)/n),
    /// ICC(3,1) = (BMS − EMS) / (BMS + (k−1)·EMS).
    pub(crate) fn icc(&self) -> Icc {
        let Anova {
            n,
            k,
            ss_rows,
            ss_cols,
            ss_error,
        } = *self;
        if n < 2.0 || k < 2.0 {
            return Icc::default();
        }
        let bms = ss_rows / (n - 1.0);
        let jms = ss_cols / (k - 1.0);
        // Rounding can leave a tiny negative residual when the error is really zero.
        let ems = (ss_error / ((n - 1.0) * (k - 1.0))).max(0.0);
        Icc {
            icc_2_1: ratio(bms - ems, bms + (k - 1.0) * ems + k * (jms - ems) / n),
            icc_3_1: ratio(bms - ems, bms + (k - 1.0) * ems),
        }
    }
}

/// ICC(2,1) and ICC(3,1) of a table whose rows are targets and columns judges. Both `None`
/// unless there are at least 2 rows, every row has the same number (at least 2) of values, and
/// every value is finite.
pub fn icc<R: AsRef<[f64]>>(table: &[R]) -> Icc {
    let n = table.len();
    let k = table.first().map_or(0, |r| r.as_ref().len());
    let complete = table
        .iter()
        .all(|r| r.as_ref().len() == k && r.as_ref().iter().all(|x| x.is_finite()));
    if n < 2 || k < 2 || !complete {
        return Icc::default();
    }
    let total: f64 = table.iter().flat_map(|r| r.as_ref()).sum();
    let grand = total / (n * k) as f64;
    let mut col_sums = vec![0.0; k];
    let (mut ss_total, mut ss_rows) = (0.0, 0.0);
    for row in table {
        let row = row.as_ref();
        let mut row_sum = 0.0;
        for (j, &x) in row.iter().enumerate() {
            col_sums[j] += x;
            row_sum += x;
            ss_total += (x - grand) * (x - grand);
        }
        let d = row_sum / k as f64 - grand;
        ss_rows += k as f64 * d * d;
    }
    let ss_cols: f64 = col_sums
        .iter()
        .map(|s| {
            let d = s / n as f64 - grand;
            n as f64 * d * d
        })
        .sum();
    Anova {
        n: n as f64,
        k: k as f64,
        ss_rows,
        ss_cols,
        ss_error: ss_total - ss_rows - ss_cols,
    }
    .icc()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shrout & Fleiss (1979), Table 2: six targets rated by four judges. Published ICC(2,1) =
    /// .29 and ICC(3,1) = .71; full digits 0.289764 and 0.714841, and exactly 184/635 and
    /// 920/1287 from the table's mean squares (BMS 11.2417, JMS 32.4861, EMS 1.0194).
    #[test]
    fn shrout_and_fleiss_table_2() {
        let table = [
            [9.0, 2.0, 5.0, 8.0],
            [6.0, 1.0, 3.0, 2.0],
            [8.0, 4.0, 6.0, 8.0],
            [7.0, 1.0, 2.0, 6.0],
            [10.0, 5.0, 6.0, 9.0],
            [6.0, 2.0, 4.0, 7.0],
        ];
        let r = icc(&table);
        let (i21, i31) = (r.icc_2_1.unwrap(), r.icc_3_1.unwrap());
        assert_eq!((i21 * 100.0).round() / 100.0, 0.29);
        assert_eq!((i31 * 100.0).round() / 100.0, 0.71);
        assert!((i21 - 0.289764).abs() < 5e-7);
        assert!((i31 - 0.714841).abs() < 5e-7);
        assert!((i21 - 0.289763779527559).abs() < 1e-12, "{i21}");
        assert!((i31 - 0.7148407148407147).abs() < 1e-12, "{i31}");
    }

    #[test]
    fn degenerate_tables_give_none() {
        let none = Icc::default();
        assert_eq!(icc::<[f64; 2]>(&[]), none);
        assert_eq!(icc(&[[1.0, 2.0]]), none);
        assert_eq!(icc(&[[1.0], [2.0]]), none);
        assert_eq!(icc(&[vec![1.0, 2.0], vec![1.0]]), none);
        assert_eq!(icc(&[[1.0, f64::NAN], [1.0, 2.0]]), none);
        assert_eq!(icc(&[[3.0, 3.0], [3.0, 3.0]]), none);
        // Perfect agreement with variance between targets.
        let r = icc(&[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]);
        assert_eq!((r.icc_2_1, r.icc_3_1), (Some(1.0), Some(1.0)));
    }
}
