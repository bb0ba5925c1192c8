//! The names people read for the tables' code names (the CSV keeps the code names).

/// The name people read for a column's (or a statistic's) code name, which stays the CSV's.
pub(crate) fn label(table: &str, code: &str) -> String {
    let special = match (table, code) {
        ("bias", "p") => Some("p-value"),
        ("bias", "observed") => Some("Observed score"),
        ("bias", "expected") => Some("Expected score"),
        ("bias", "se") => Some("SE of bias"),
        ("facets_raters", "severity") => Some("Severity (logits)"),
        ("raters", "mean") => Some("Mean score"),
        ("days", "mean") => Some("Mean score"),
        ("form" | "domains", "mean") => Some("Mean score"),
        ("part_two", "reference") | ("dif", "reference") => Some("Reference group (n)"),
        ("part_two", "focal") | ("dif", "focal") => Some("Focal group (n)"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_string();
    }
    let known = match code {
        "ratings" => "Readings",
        "pairs" => "Pairs",
        "exact" => "Exact agreement",
        "adjacent" => "Adjacent agreement",
        "kappa" => "Cohen's kappa",
        "kappa_se" => "SE of kappa",
        "kappa_linear" => "Weighted kappa, linear",
        "kappa_quadratic" => "Weighted kappa, quadratic",
        "kappa_low" => "Kappa, 95% low",
        "kappa_high" => "Kappa, 95% high",
        "icc_2_1" => "ICC(2,1)",
        "icc_3_1" => "ICC(3,1)",
        "alpha_ordinal" => "Krippendorff's alpha, ordinal",
        "alpha_interval" => "Krippendorff's alpha, interval",
        "fleiss_kappa" => "Fleiss' kappa",
        "gwet_ac1" => "Gwet's AC1",
        "gwet_ac1_se" => "SE of AC1",
        "gwet_ac2_quadratic" => "Gwet's AC2, quadratic",
        "gwet_ac2_quadratic_se" => "SE of AC2",
        "rater" => "Rater",
        "raters" => "Raters",
        "scored" => "Scored",
        "mean" => "Mean",
        "severity" => "Severity (points)",
        "validity" => "Validity responses",
        "accuracy" => "Accuracy on validity",
        "read_behind" => "Read behind",
        "overridden" => "Overridden",
        "item" => "Item",
        "day" => "Day",
        "domain" => "Domain",
        "n" => "Candidates",
        "exposure_all_sittings" => "Exposure, all sittings",
        "omitted" => "Omitted",
        "p" => "Difficulty (p)",
        "pbis" => "Point-biserial",
        "pbis_rest" => "Point-biserial (rest score)",
        "disc_27" => "Discrimination, upper − lower 27%",
        "alpha_if_deleted" => "Alpha if deleted",
        "flags" => "Flags",
        "flag" => "Flag",
        "statistic" => "Statistic",
        "value" => "Value",
        "meaning" => "Meaning",
        "candidates" => "Candidates",
        "items" => "Items",
        "sd" => "SD",
        "kr20" => "KR-20",
        "kr21" => "KR-21",
        "alpha" => "Cronbach's alpha",
        "alpha_low" => "Alpha, 95% low",
        "alpha_high" => "Alpha, 95% high",
        "sem" => "SEM",
        "sitting" => "Sitting",
        "opened" => "Opened",
        "option" => "Option",
        "key" => "Key",
        "chosen" => "Chosen",
        "proportion" => "Proportion",
        "upper_27" => "Upper 27%",
        "lower_27" => "Lower 27%",
        "strata" => "Score strata",
        "reference" => "Reference",
        "focal" => "Focal",
        "alpha_mh" => "MH odds ratio",
        "chi2_mh" => "MH chi-square",
        "p_value" => "p-value",
        "d_dif" => "D-DIF",
        "d_dif_se" => "SE of D-DIF",
        "ets_class" => "ETS class",
        "question" => "Question",
        "mantel_chi2" => "Mantel chi-square",
        "smd_points" => "SMD (points)",
        "smd_sd" => "SMD / SD",
        "version" => "Version",
        "difficulty" => "Difficulty (logits)",
        "se" => "SE",
        "infit" => "Infit MNSQ",
        "outfit" => "Outfit MNSQ",
        "infit_z" => "Infit z",
        "outfit_z" => "Outfit z",
        "presented" => "Presented",
        "correct" => "Correct",
        "excluded" => "Excluded",
        "earlier" => "Earlier difficulty",
        "drift" => "Drift",
        "blueprint" => "Blueprint",
        "forms" => "Forms",
        "theta_cut" => "θ cut (logits)",
        "target" => "Target (%)",
        "tolerance" => "Tolerance",
        "min" => "Min",
        "max" => "Max",
        "within_tolerance" => "Within tolerance",
        "partial_forms" => "Partial forms",
        "cut_on" => "θ cut taken on",
        "observed_average" => "Observed average",
        "fair_average" => "Fair average",
        "group" => "Group",
        "observed" => "Observed",
        "expected" => "Expected",
        "bias" => "Bias (logits)",
        "t" => "t",
        "effect" => "Effect",
        "variance" => "Variance",
        "percent" => "Percent",
        "questions" => "Questions",
        "phi" => "Φ (dependability)",
        "e_rho2" => "Eρ² (generalizability)",
        "absolute_error" => "Absolute error variance",
        "relative_error" => "Relative error variance",
        "cut" => "Cut score",
        "pass_rate" => "Pass rate",
        "subkoviak_p0" => "Subkoviak agreement p₀",
        "subkoviak_kappa" => "Subkoviak kappa",
        "ll_accuracy" => "Livingston & Lewis accuracy",
        "ll_consistency" => "Livingston & Lewis consistency",
        "ll_false_pass" => "False pass (Livingston & Lewis)",
        "ll_false_fail" => "False fail (Livingston & Lewis)",
        "csem_binomial_at_cut" => "CSEM at the cut, binomial (items)",
        "rudner_accuracy" => "Rudner accuracy",
        "rudner_consistency" => "Rudner consistency",
        "rudner_kappa" => "Rudner kappa",
        "rudner_persons" => "Candidates measured (Rudner)",
        "csem_rasch_at_cut" => "CSEM at the cut, Rasch (logits)",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Anything else ("score 12", a question's name): as it is, underscores as spaces.
    code.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_read_as_words() {
        assert_eq!(label("items", "pbis_rest"), "Point-biserial (rest score)");
        assert_eq!(
            label("items", "exposure_all_sittings"),
            "Exposure, all sittings"
        );
        assert_eq!(label("dif", "d_dif_se"), "SE of D-DIF");
        assert_eq!(label("bias", "p"), "p-value");
        assert_eq!(label("items", "p"), "Difficulty (p)");
        assert_eq!(label("form", "score 12"), "score 12");
        assert_eq!(label("x", "some_new_thing"), "some new thing");
    }
}
