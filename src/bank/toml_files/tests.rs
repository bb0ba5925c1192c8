use super::*;

#[test]
fn lines_from_offsets() {
    assert_eq!(line_of("a\nb\nc", 0), 1);
    assert_eq!(line_of("a\nb\nc", 2), 2);
    assert_eq!(line_of("a\nb\nc", 4), 3);
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let e = taxonomy("taxonomy.toml", "[[domain]]\ncode = \"TF\"\nname = \n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].source.line, 3, "{}", e[0]);
}

#[test]
fn rating_rules_default_and_a_bad_one_is_named() {
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let bp = blueprint("blueprints/level-iii.toml", sample).unwrap();
    // The sample sets every rule at its default but the closer look near the cut (off by
    // default), which it turns on.
    assert_eq!(
        bp.part_two.rating,
        RatingRules {
            near_cut_margin: NearCutMargin::from_points(1.0).unwrap(),
            ..RatingRules::default()
        }
    );
    let without = sample.split("[part_two.rating]").next().unwrap();
    let bp = blueprint("blueprints/level-iii.toml", without).unwrap();
    assert_eq!(bp.part_two.rating, RatingRules::default());
    let bad = format!("{without}[part_two.rating]\ncombine = \"median\"\n");
    let line = bad.lines().count();
    let e = blueprint("blueprints/level-iii.toml", &bad).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        format!("blueprints/level-iii.toml:{line}: part_two.rating.combine must be \"mean\", \"lower\" or \"higher\", found \"median\"")
    );
    let lower = format!("{without}[part_two.rating]\nagree_within = 0\ncombine = \"lower\"\n");
    let bp = blueprint("blueprints/level-iii.toml", &lower).unwrap();
    assert_eq!(bp.part_two.rating.agree_within, 0);
    assert_eq!(bp.part_two.rating.combine, Combine::Lower);
}

#[test]
fn rater_standards_parse_and_a_bad_one_is_named() {
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let without = sample.split("[part_two.rating]").next().unwrap();
    let set = format!(
        "{without}[part_two.rating]\nqualify_exact_percent = 80\nqualify_adjacent_percent = 100\nqualify_sets = 1\nread_behind_percent = 25\nnear_cut_margin = 1.5\n"
    );
    let r = blueprint("blueprints/level-iii.toml", &set)
        .unwrap()
        .part_two
        .rating;
    assert_eq!(
        (
            r.qualify_exact_percent,
            r.qualify_adjacent_percent,
            r.qualify_sets,
            r.read_behind_percent
        ),
        (80, 100, 1, 25)
    );
    assert_eq!(r.near_cut_margin.points(), 1.5);
    for (line, message) in [
        (
            "qualify_exact_percent = 101",
            "part_two.rating.qualify_exact_percent must be from 0 to 100, found 101",
        ),
        (
            "read_behind_percent = 200",
            "part_two.rating.read_behind_percent must be from 0 to 100, found 200",
        ),
        (
            "qualify_sets = 0",
            "part_two.rating.qualify_sets must be from 1 to 5, found 0",
        ),
        (
            "near_cut_margin = -1.0",
            "part_two.rating.near_cut_margin must be points from 0 to 100, found -1",
        ),
    ] {
        let bad = format!("{without}[part_two.rating]\n{line}\n");
        let at = bad.lines().count();
        let e = blueprint("blueprints/level-iii.toml", &bad).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            format!("blueprints/level-iii.toml:{at}: {message}")
        );
    }
}

#[test]
fn response_and_break_limits_default_and_a_bad_one_is_named() {
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let path = "blueprints/level-iii.toml";
    let bp = blueprint(path, sample).unwrap();
    assert_eq!((bp.part_two.max_characters, bp.break_minutes), (6_000, 15));
    let without: String = sample
        .lines()
        .filter(|l| !l.starts_with("max_characters") && !l.starts_with("break_minutes"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, sample, "the sample sets both explicitly");
    let bp = blueprint(path, &without).unwrap();
    assert_eq!(bp.part_two.max_characters, DEFAULT_MAX_CHARACTERS);
    assert_eq!(bp.break_minutes, DEFAULT_BREAK_MINUTES);
    let set = sample
        .replace("max_characters = 6000", "max_characters = 1200")
        .replace("break_minutes = 15", "break_minutes = 5");
    let bp = blueprint(path, &set).unwrap();
    assert_eq!((bp.part_two.max_characters, bp.break_minutes), (1_200, 5));
    let line_of_text =
        |t: &str, needle: &str| t[..t.find(needle).unwrap()].matches('\n').count() + 1;
    let bad = sample
        .replace("max_characters = 6000", "max_characters = 0")
        .replace("break_minutes = 15", "break_minutes = 999");
    let e: Vec<String> = blueprint(path, &bad)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        e,
        vec![
            format!(
                "{path}:{}: part_two.max_characters must be from 1 to 50000, found 0",
                line_of_text(&bad, "max_characters = 0")
            ),
            format!(
                "{path}:{}: break_minutes must be from 1 to 240, found 999",
                line_of_text(&bad, "break_minutes = 999")
            ),
        ]
    );
}

#[test]
fn form_policy_defaults_and_bad_values_are_named() {
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let path = "blueprints/level-iii.toml";
    let bp = blueprint(path, sample).unwrap();
    assert_eq!(bp.part_one.forms, FormsPolicy::PerCandidate);
    assert_eq!(bp.part_one.form_tolerance.points(), 2.0);
    assert_eq!(bp.part_one.pass_on, PassOn::Raw);
    let without: String = sample
        .lines()
        .filter(|l| {
            !l.starts_with("forms =")
                && !l.starts_with("form_tolerance")
                && !l.starts_with("pass_on")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, sample, "the sample sets all three explicitly");
    let bp = blueprint(path, &without).unwrap();
    assert_eq!(
        (
            bp.part_one.forms,
            bp.part_one.form_tolerance,
            bp.part_one.pass_on
        ),
        (
            FormsPolicy::PerCandidate,
            FormTolerance::default(),
            PassOn::Raw
        )
    );
    let set = sample
        .replace("forms = \"per-candidate\"", "forms = \"one\"")
        .replace("form_tolerance = 2.0", "form_tolerance = 3")
        .replace("pass_on = \"raw\"", "pass_on = \"equated\"");
    let bp = blueprint(path, &set).unwrap();
    assert_eq!(
        (
            bp.part_one.forms,
            bp.part_one.form_tolerance.points(),
            bp.part_one.pass_on
        ),
        (FormsPolicy::One, 3.0, PassOn::Equated)
    );
    let line_of_text =
        |t: &str, needle: &str| t[..t.find(needle).unwrap()].matches('\n').count() + 1;
    let bad = sample
        .replace("forms = \"per-candidate\"", "forms = \"each\"")
        .replace("form_tolerance = 2.0", "form_tolerance = 0")
        .replace("pass_on = \"raw\"", "pass_on = \"scaled\"");
    let e: Vec<String> = blueprint(path, &bad)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        e,
        vec![
            format!(
                "{path}:{}: part_one.forms must be \"per-candidate\" or \"one\", found \"each\"",
                line_of_text(&bad, "forms = \"each")
            ),
            format!(
                "{path}:{}: part_one.form_tolerance must be percentage points above 0 and at most 50, found 0",
                line_of_text(&bad, "form_tolerance = 0")
            ),
            format!(
                "{path}:{}: part_one.pass_on must be \"raw\" or \"equated\", found \"scaled\"",
                line_of_text(&bad, "pass_on = \"scaled")
            ),
        ]
    );
}

#[test]
fn a_control_character_is_named_at_its_line() {
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let path = "blueprints/level-iii.toml";
    let line_of_text =
        |needle: &str| sample[..sample.find(needle).unwrap()].matches('\n').count() + 1;
    // In a comment the parser itself gives no message at all; in a string a vague one.
    for (needle, broken, shown) in [
        ("# Days", "# Da\0ys", "\\0"),
        ("name = \"Part One", "name = \"Pa\0rt One", "\\0"),
        (
            "name = \"Part One",
            "name = \"Pa\u{1b}[31mrt One",
            "\\u{1b}",
        ),
        ("count = 4", "count = 4\u{7}", "\\u{7}"),
    ] {
        let text = sample.replacen(needle, broken, 1);
        let e = blueprint(path, &text).unwrap_err();
        assert_eq!(
            e.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![format!(
                "{path}:{}: control character {shown} is not allowed in TOML (only tab and line ends are)",
                line_of_text(needle)
            )],
            "{broken:?}"
        );
    }
}

#[test]
fn a_repeated_area_is_named() {
    let text = "[[domain]]\ncode = \"TF\"\nname = \"T\"\nareas = [\n  { code = \"a\", name = \"A\" },\n  { code = \"a\", name = \"B\" },\n]\n";
    let e = taxonomy("taxonomy.toml", text).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "taxonomy.toml:6: area code \"a\" is given twice in domain \"TF\""
    );
}

#[test]
fn appeal_settings_parse_default_and_a_bad_one_is_named_at_its_line() {
    use crate::bank::{AppealRules, PartTwoRule};
    let sample = include_str!("../../../item-bank/blueprints/level-iii.toml");
    let bp = blueprint("blueprints/level-iii.toml", sample).unwrap();
    assert_eq!(
        bp.appeals,
        AppealRules::default(),
        "the sample writes the defaults"
    );
    let without = sample.split("\n# Appeals:").next().unwrap();
    assert!(!without.contains("[appeals]"));
    let bp = blueprint("blueprints/level-iii.toml", without).unwrap();
    assert_eq!(bp.appeals, AppealRules::default());
    let mean = format!("{without}\n[appeals]\nwindow_days = 14\npart_two_rule = \"mean\"\n");
    let bp = blueprint("blueprints/level-iii.toml", &mean).unwrap();
    assert_eq!(
        bp.appeals,
        AppealRules {
            window_days: 14,
            part_two_rule: PartTwoRule::Mean
        }
    );
    // Both mistakes, each at its own line.
    let bad = format!("{without}\n[appeals]\nwindow_days = 0\npart_two_rule = \"median\"\n");
    let lines = bad.lines().count();
    let e = blueprint("blueprints/level-iii.toml", &bad).unwrap_err();
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        vec![
            format!(
                "blueprints/level-iii.toml:{}: appeals.window_days must be from 1 to 365, found 0",
                lines - 1
            ),
            format!("blueprints/level-iii.toml:{lines}: appeals.part_two_rule must be \"decision-change\" or \"mean\", found \"median\""),
        ]
    );
    let unknown = format!("{without}\n[appeals]\nwindow = 30\n");
    let e = blueprint("blueprints/level-iii.toml", &unknown).unwrap_err();
    assert!(
        e[0].to_string().contains("unknown field `window`"),
        "{}",
        e[0]
    );
}
