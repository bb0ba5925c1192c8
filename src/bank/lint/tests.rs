//! Each rule on a small bank built to trip it: the exact `path:line: rule:` it prints.

use super::*;
use crate::bank::{from_files, BankFiles, SourceFile};

const TAXONOMY: &str = r#"
[[domain]]
code = "TF"
name = "Theoretical foundations"
areas = [{ code = "attachment", name = "Attachment" }]
[[domain]]
code = "REF"
name = "Reflection"
areas = [{ code = "curiosity", name = "Curiosity" }]
"#;

const BLUEPRINT: &str = r#"
id = "level-iii"
name = "Level III"
level = "III"
retake_wait_days = 365

[part_one]
name = "Part One"
minutes = 60
pass_percent = 80
pretest_items = 0

[[part_one.draw]]
domain = "TF"
count = 1

[part_two]
name = "Part Two"
minutes = 60
pass_percent = 75
answer = 1

[[part_two.present]]
kind = "clinical"
count = 1
"#;

const VIGNETTE: &str = "id: CL01\nversion: 1\nkind: clinical\ntitle: A visit\nlevels: III\nstatus: operational\n\n## Text\nA home visit.\n";

/// An open question on CL01 with one anchor per score point.
fn open(id: &str, anchors: [&str; 3]) -> SourceFile {
    SourceFile {
        path: format!("bank/items/{id}.md"),
        text: format!(
            "id: {id}\nversion: 1\nkind: open\ndomain: REF\narea: curiosity\nlevels: III\nstatus: operational\nvignette: CL01\nmax-score: 2\n\n## Prompt\nWhat do you wonder about {id}?\n\n## Rubric\n### 0\nDescriptor: Nothing.\nAnchor: {}\n### 1\nDescriptor: Some.\nAnchor: {}\n### 2\nDescriptor: All.\nAnchor: {}\n",
            anchors[0], anchors[1], anchors[2]
        ),
    }
}

/// A multiple-choice item file: `options` as (letter, text), `key` its letter.
fn mcq(id: &str, stem: &str, options: &[(&str, &str)], key: &str, extra: &str) -> SourceFile {
    let opts: Vec<String> = options.iter().map(|(l, t)| format!("{l}. {t}")).collect();
    SourceFile {
        path: format!("bank/items/{id}.md"),
        text: format!(
            "id: {id}\nversion: 1\nkind: mcq\ndomain: TF\narea: attachment\nlevels: all\nstatus: operational\n{extra}\n## Stem\n{stem}\n\n## Options\n{}\n\n## Key\n{key}\n\n## Rationale\nBecause.\n",
            opts.join("\n")
        ),
    }
}

/// A bank of `items`, one vignette CL01 with a question of even anchors, and `bank_toml`'s
/// lines after its name.
fn bank_with(mut items: Vec<SourceFile>, bank_toml: &str) -> (Bank, BankFiles) {
    if !items.iter().any(|f| f.path.contains("CL01-")) {
        items.push(open(
            "CL01-Q9",
            [
                "Ask her gently.",
                "Ask her what she saw.",
                "Wonder with her.",
            ],
        ));
    }
    let files = BankFiles {
        bank: Some(SourceFile {
            path: "bank/bank.toml".into(),
            text: format!("name = \"test\"\n{bank_toml}"),
        }),
        taxonomy: Some(SourceFile {
            path: "bank/taxonomy.toml".into(),
            text: TAXONOMY.into(),
        }),
        blueprints: vec![SourceFile {
            path: "bank/blueprints/level-iii.toml".into(),
            text: BLUEPRINT.into(),
        }],
        vignettes: vec![SourceFile {
            path: "bank/vignettes/CL01.md".into(),
            text: VIGNETTE.into(),
        }],
        items,
        unreadable: vec![],
        root: "bank".into(),
    };
    let bank = from_files(&files).unwrap_or_else(|e| panic!("{e:?}"));
    (bank, files)
}

fn lines_of(report: &Report, rule: Rule) -> Vec<String> {
    report
        .warnings
        .iter()
        .filter(|w| w.rule == rule)
        .map(|w| w.to_string())
        .collect()
}

/// Twelve plain items whose options read alike; `tweak` changes item i's options and key.
fn plain(i: usize) -> SourceFile {
    let letters = ["A", "B", "C", "D"];
    let key = letters[i % 4];
    mcq(
        &format!("TF-{i:04}"),
        &format!("Question number {i} about attachment?"),
        &[
            (
                "A",
                &format!("An answer about topic {i} and one more plain word"),
            ),
            (
                "B",
                &format!("Another answer about topic {i} with other plain words"),
            ),
            (
                "C",
                &format!("A third answer on topic {i} with similar plain words"),
            ),
            (
                "D",
                &format!("A fourth answer on topic {i} in the same plain way"),
            ),
        ],
        key,
        "",
    )
}

fn plain_bank(extra: Vec<SourceFile>, bank_toml: &str) -> (Bank, BankFiles) {
    let mut items: Vec<SourceFile> = (0..12).map(plain).collect();
    items.extend(extra);
    bank_with(items, bank_toml)
}

#[test]
fn a_bank_whose_options_read_alike_has_no_cue_warnings() {
    let (bank, files) = plain_bank(vec![], "");
    let report = lint(&bank, &files);
    assert_eq!(report.warnings, vec![], "{}", report.render());
    assert_eq!(report.guesser.items, 12);
    assert!(report.guesser.percent() <= 35.0, "{:?}", report.guesser);
}

#[test]
fn option_cue_finds_keys_written_in_their_own_voice() {
    let letters = ["A", "B", "C", "D"];
    let items: Vec<SourceFile> = (0..12)
        .map(|i| {
            let key = i % 4;
            let options: Vec<(&str, String)> = (0..4)
                .map(|o| {
                    let text = if o == key {
                        format!("Wonder together with the parent about moment {i}")
                    } else {
                        format!("Tell the parent what moment {i} means, since it is {o}")
                    };
                    (letters[o], text)
                })
                .collect();
            let opts: Vec<(&str, &str)> = options.iter().map(|(l, t)| (*l, t.as_str())).collect();
            mcq(
                &format!("TF-{i:04}"),
                "Which response?",
                &opts,
                letters[key],
                "",
            )
        })
        .collect();
    let (bank, files) = bank_with(items, "");
    let report = lint(&bank, &files);
    let found = lines_of(&report, Rule::OptionCue);
    assert_eq!(report.guesser.found, 12, "{}", report.render());
    assert!(
        found.contains(&"bank/bank.toml:1: option-cue: a guesser that reads only the options finds 12 of 12 keys (100.0%; chance 25.0%, allowed 35%)".to_string()),
        "{found:#?}"
    );
    // Each item's key is named at its option's line (options start on line 13).
    assert!(
        found.iter().any(|l| l.starts_with(
            "bank/items/TF-0002.md:15: option-cue: TF-0002: the options alone give the key C away"
        )),
        "{found:#?}"
    );
    // The words of the keys' voice are named too.
    let words = lines_of(&report, Rule::CueWord);
    assert!(
        words.iter().any(|l| l.starts_with("bank/items/TF-0000.md:13: cue-word: \"wonder\" is mostly in keys: 12 of its 12 options are keys")),
        "{words:#?}"
    );
    assert!(
        words.iter().any(|l| l.starts_with("bank/items/TF-0000.md:14: cue-word: \"since\" is mostly in distractors: 0 of its 36 options are keys")),
        "{words:#?}"
    );
}

#[test]
fn length_cue_notices_the_longest_option_is_the_key() {
    let letters = ["A", "B", "C", "D"];
    let items: Vec<SourceFile> = (0..12)
        .map(|i| {
            let key = (i * 3 + 1) % 4;
            let options: Vec<(&str, String)> = (0..4)
                .map(|o| {
                    let text = if o == key {
                        format!("Plain answer {i} option {o} said at a good deal of extra length")
                    } else {
                        format!("Plain answer {i} option {o}")
                    };
                    (letters[o], text)
                })
                .collect();
            let opts: Vec<(&str, &str)> = options.iter().map(|(l, t)| (*l, t.as_str())).collect();
            mcq(&format!("TF-{i:04}"), "Which?", &opts, letters[key], "")
        })
        .collect();
    let (bank, files) = bank_with(items, "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::LengthCue),
        vec!["bank/bank.toml:1: length-cue: the key is the strictly longest option in 12 of 12 items where one option is longest; chance gives 3.0 (z = +6.0): vary which option is longest"]
    );
}

#[test]
fn key_balance_notices_one_letter_keyed_too_often() {
    let items: Vec<SourceFile> = (0..12)
        .map(|i| {
            let mut f = plain(i);
            f.text = f.text.replace(
                &format!("## Key\n{}", ["A", "B", "C", "D"][i % 4]),
                "## Key\nA",
            );
            f
        })
        .collect();
    let (bank, files) = bank_with(items, "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::KeyBalance),
        vec!["bank/bank.toml:1: key-balance: A is the key of 12 items; chance gives 3.0 (z = +6.0): move some keys to other letters"]
    );
}

#[test]
fn all_none_both_and_negative_stems_are_named_at_their_lines() {
    let odd = mcq(
        "TF-0100",
        "The baby cries often.\nWhich response is not helpful?",
        &[
            ("A", "Listening first"),
            ("B", "Both A and C"),
            ("C", "Naming the feeling"),
            ("D", "All of the above."),
        ],
        "B",
        "",
    );
    let capital = mcq(
        "TF-0101",
        "She does not sleep.\nWhich response is NOT helpful?",
        &[
            ("A", "One"),
            ("B", "Two"),
            ("C", "Three"),
            ("D", "None of these"),
        ],
        "A",
        "",
    );
    let (bank, files) = plain_bank(vec![odd, capital], "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::AllNone),
        vec![
            "bank/items/TF-0100.md:17: all-none: TF-0100: option D is \"all of the above\": a candidate who sees two true options knows the answer without the rest; write a full option",
            "bank/items/TF-0101.md:17: all-none: TF-0101: option D is \"none of the above\": a candidate who sees two true options knows the answer without the rest; write a full option",
        ]
    );
    assert_eq!(
        lines_of(&report, Rule::Both),
        vec!["bank/items/TF-0100.md:15: both: TF-0100: option B combines other options (\"Both A and C\"): it cues the options it names; write a full option"]
    );
    // The stem's question is on line 11; the narrative's "not" (TF-0101 line 10) is no question.
    assert_eq!(
        lines_of(&report, Rule::NegativeStem),
        vec!["bank/items/TF-0100.md:11: negative-stem: TF-0100: the question turns on \"not\" in lower case; write NOT in capitals or ask it positively"]
    );
}

#[test]
fn near_duplicates_are_named_unless_enemies_or_acknowledged() {
    let twin = |id: &str, extra: &str| {
        mcq(
            id,
            "A toddler bites at child care after a new sibling arrives. What does the biting most likely communicate?",
            &[
                ("A", "Distress about the change, put into action"),
                ("B", "A sensory need for oral input"),
                ("C", "Copying an older child"),
                ("D", "Teething pain"),
            ],
            "A",
            extra,
        )
    };
    let (bank, files) = plain_bank(vec![twin("TF-0200", ""), twin("TF-0201", "")], "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::NearDuplicate),
        vec!["bank/items/TF-0201.md:1: near-duplicate: TF-0201 and TF-0200 (bank/items/TF-0200.md:1) are 100% alike in stem and key: merge or separate them, or declare them enemies (`enemies: TF-0200`) or acknowledge the pair in bank.toml's [lint]"]
    );
    let (bank, files) = plain_bank(
        vec![twin("TF-0200", ""), twin("TF-0201", "enemies: TF-0200")],
        "",
    );
    assert_eq!(
        lines_of(&lint(&bank, &files), Rule::NearDuplicate),
        Vec::<String>::new()
    );
    let (bank, files) = plain_bank(
        vec![twin("TF-0200", ""), twin("TF-0201", "")],
        "[lint]\nacknowledged = [[\"TF-0201\", \"TF-0200\"]]\n",
    );
    assert_eq!(
        lines_of(&lint(&bank, &files), Rule::NearDuplicate),
        Vec::<String>::new()
    );
}

#[test]
fn one_name_for_two_people_and_an_age_given_two_ways() {
    let first = mcq(
        "TF-0300",
        "Maya, 18 months, cries at every drop-off.\nWhat is she most likely showing?",
        &[
            ("A", "Distress"),
            ("B", "Hunger"),
            ("C", "Fatigue"),
            ("D", "Boredom"),
        ],
        "A",
        "",
    );
    let second = mcq(
        "TF-0301",
        "At the clinic you meet a new family.\nMaya, 22 months, will not eat. What do you ask first?",
        &[("A", "Meals"), ("B", "Sleep"), ("C", "Play"), ("D", "Naps")],
        "A",
        "",
    );
    let (bank, files) = plain_bank(vec![first, second], "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::NameReuse),
        vec!["bank/items/TF-0301.md:11: name-reuse: \"Maya\" in TF-0301 is a different person from \"Maya\" in TF-0300 (bank/items/TF-0300.md:10): give each person their own name"]
    );
    assert_eq!(
        lines_of(&report, Rule::NameDetails),
        vec!["bank/items/TF-0301.md:11: name-details: \"Maya\" is 22 months here but 18 months in TF-0300 (bank/items/TF-0300.md:10): make the details agree or the names differ"]
    );
    // Listed as not a name: nothing.
    let (bank, files) = plain_bank(
        vec![
            mcq(
                "TF-0300",
                "Maya, 18 months, cries.\nWhy?",
                &[("A", "a"), ("B", "b"), ("C", "c"), ("D", "d")],
                "A",
                "",
            ),
            mcq(
                "TF-0301",
                "Then Maya, 22 months, cries.\nWhy?",
                &[("A", "a"), ("B", "b"), ("C", "c"), ("D", "d")],
                "A",
                "",
            ),
        ],
        "[lint]\nnot_names = [\"Maya\"]\n",
    );
    assert_eq!(
        lines_of(&lint(&bank, &files), Rule::NameReuse),
        Vec::<String>::new()
    );
}

#[test]
fn anchors_growing_with_the_score_are_named_at_the_rubric() {
    let mut items: Vec<SourceFile> = (0..12).map(plain).collect();
    items.push(open(
        "CL01-Q1",
        [
            "Tell her.",
            "I would ask her how it felt.",
            "I would wonder with her what the baby felt and what she felt then.",
        ],
    ));
    items.push(open(
        "CL01-Q2",
        [
            "I would tell her what the baby needs and how to do it.",
            "Ask her.",
            "Wonder with her.",
        ],
    ));
    let (bank, files) = bank_with(items, "");
    let report = lint(&bank, &files);
    assert_eq!(
        lines_of(&report, Rule::AnchorLength),
        vec!["bank/items/CL01-Q1.md:14: anchor-length: CL01-Q1: the anchors grow longer with the score (mean words by score 0: 2, 1: 7, 2: 14; +600%): give every score point short and long anchors"]
    );
}

#[test]
fn thresholds_come_from_bank_toml_and_bad_ones_are_named() {
    let (bank, _) = plain_bank(vec![], "[lint]\nguesser_max_percent = 30\nchance_z = 2\n");
    assert_eq!(bank.meta.lint.guesser_max_percent, 30);
    assert_eq!(bank.meta.lint.chance_z, 2);
    assert_eq!(
        bank.meta.lint.duplicate_percent,
        Thresholds::default().duplicate_percent
    );
    let text = "name = \"x\"\n\n[lint]\nguesser_max_percent = 300\n";
    let err = crate::bank::toml_files::bank_meta("bank.toml", text).unwrap_err();
    assert_eq!(
        err.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        vec!["bank.toml:3: [lint] guesser_max_percent = 300: give a percent from 1 to 100"]
    );
    let err =
        crate::bank::toml_files::bank_meta("bank.toml", "name = \"x\"\n[lint]\nguesser = 3\n")
            .unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(err[0].to_string().starts_with("bank.toml:3: "), "{err:?}");
}
