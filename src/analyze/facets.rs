//! `imh-exam analyze facets`: the ratings file of a many-facet design
//! (`candidate,question,rater,score`), and the report's tree and CSV.

use rustc_hash::FxHashMap;

use super::files::{Errors, FileError, Input, Records};
use super::output::{LongCsv, Node};
use super::ratings::Names;
use crate::stats::facets::{FacetsReport, Observation};
use crate::stats::Scale;

/// The ratings of a many-facet design with names numbered in order of first appearance.
pub struct FacetsFile {
    pub observations: Vec<Observation>,
    pub candidates: Vec<String>,
    pub questions: Vec<String>,
    pub raters: Vec<String>,
}

/// The file, header `candidate,question,rater,score`: each row one rater's score of one
/// candidate's answer to one question, a whole number on `scale` (stored from 0: the scale's
/// lowest point is 0). A rater scores a candidate's question once. Every problem is kept as
/// `file:line: message`.
pub fn ratings(input: &Input, scale: Scale, errors: &mut Errors) -> Option<FacetsFile> {
    let name = &input.name;
    let before = errors.len();
    let mut records = Records::open(input, errors)?;
    if let Some(problem) = records.header_problem(&[&["candidate", "question", "rater", "score"]]) {
        return records.refuse(errors, vec![problem]);
    }
    let (mut candidates, mut questions, mut raters) =
        (Names::default(), Names::default(), Names::default());
    let mut observations = Vec::new();
    // (candidate, question, rater) → the line that scored it first.
    let mut scored: FxHashMap<(u32, u32, u32), u64> = FxHashMap::default();
    let mut problems: Errors = Vec::new();
    while let Some(row) = records.next_row() {
        let f = row.fields;
        let mut wrong = Vec::new();
        for (i, what) in ["candidate", "question", "rater"].iter().enumerate() {
            if f[i].is_empty() {
                wrong.push(format!("the {what} is empty"));
            }
        }
        let score = match f[3].parse::<i64>() {
            Ok(s) => match scale.index(s) {
                Some(i) => Some(i as u32),
                None => {
                    wrong.push(format!("the score {s} is off the scale {scale}"));
                    None
                }
            },
            Err(_) => {
                wrong.push(format!("the score \"{}\" is not a whole number", &f[3]));
                None
            }
        };
        let Some(score) = score.filter(|_| wrong.is_empty()) else {
            problems.extend(wrong.into_iter().map(|p| FileError::at(name, row.line, p)));
            continue;
        };
        let key = (
            candidates.id(&f[0]).0,
            questions.id(&f[1]).0,
            raters.id(&f[2]).0,
        );
        if let Some(first) = scored.insert(key, row.line) {
            scored.insert(key, first);
            problems.push(FileError::at(
                name,
                row.line,
                format!(
                    "rater \"{}\" already scored candidate \"{}\" on question \"{}\" on line {first}",
                    &f[2], &f[0], &f[1]
                ),
            ));
            continue;
        }
        observations.push(Observation {
            candidate: key.0,
            question: key.1,
            rater: key.2,
            score,
        });
    }
    records
        .close(errors, before, problems, "ratings")
        .then_some(FacetsFile {
            observations,
            candidates: candidates.into_vec(),
            questions: questions.into_vec(),
            raters: raters.into_vec(),
        })
}

/// The report as one tree, each element named as in the file and its scores on the file's
/// scale (`min` added back to scale scores); each rater with the flags of
/// `stats::part_two::rater_flags` (`flag_misfit`, `flag_severity`).
pub fn report(report: &FacetsReport, file: &FacetsFile, min: i64) -> Node {
    let mut tree = Node::of(report);
    for (list, field, names) in [
        ("candidates", "candidate", &file.candidates),
        ("questions", "question", &file.questions),
        ("raters", "rater", &file.raters),
    ] {
        let rows = tree.get_mut(list).map_or(&mut [][..], Node::list_mut);
        for (i, row) in rows.iter_mut().enumerate() {
            let named = names.get(i).map_or(Node::Null, |s| Node::Str(s.clone()));
            if let Node::Map(fields) = row {
                fields.insert(0, (field.to_string(), named));
            }
        }
    }
    // The raters' flags, as the agreement page sets them (`stats::part_two`).
    let flags = crate::stats::part_two::rater_flags(report);
    let rows = tree.get_mut("raters").map_or(&mut [][..], Node::list_mut);
    for (row, f) in rows.iter_mut().zip(&flags) {
        if let Node::Map(fields) = row {
            fields.push(("flag_misfit".into(), Node::Bool(f.misfit)));
            fields.push(("flag_severity".into(), Node::Bool(f.severity)));
        }
    }
    let scales = tree.get_mut("scales").map_or(&mut [][..], Node::list_mut);
    for scale in scales {
        let question = scale
            .get("question")
            .as_i64()
            .and_then(|i| file.questions.get(i as usize))
            .map_or(Node::Null, |s| Node::Str(s.clone()));
        scale.set("question", question);
        let scores: Vec<Node> = scale
            .get("scores")
            .list()
            .iter()
            .map(|s| Node::of(&s.as_i64().map(|s| s + min)))
            .collect();
        scale.set("scores", Node::List(scores));
    }
    tree
}

/// Tables `estimation` (the model and convergence), `candidate_summary`, `question_summary`,
/// `rater_summary`, `candidate`, `question`, `rater` (id the element's name) and `threshold`
/// (id the question, or empty for the one rating scale; sub the score the threshold leads to).
pub fn csv(report: &Node) -> String {
    let mut out = LongCsv::new();
    out.scalars("estimation", "", "", report, &[]);
    for facet in ["candidate", "question", "rater"] {
        let summary = format!("{facet}_summary");
        out.scalars(&summary, "", "", report.get(&summary), &[]);
        for row in report.get(&format!("{facet}s")).list() {
            out.scalars(facet, &row.get(facet).text(), "", row, &[facet]);
        }
    }
    for scale in report.get("scales").list() {
        let question = scale.get("question").text();
        let scores = scale.get("scores").list();
        for (i, threshold) in scale.get("thresholds").list().iter().enumerate() {
            let to = scores.get(i + 1).map(Node::text).unwrap_or_default();
            out.row("threshold", &question, &to, "threshold", threshold);
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<FacetsFile, Vec<String>> {
        let input = Input {
            name: "F.csv".into(),
            bytes: text.as_bytes().to_vec(),
        };
        let mut errors = Vec::new();
        ratings(&input, Scale::new(1, 4).unwrap(), &mut errors)
            .ok_or_else(|| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn names_and_scores_follow_the_file() {
        let f =
            read("candidate,question,rater,score\nc1,q1,r1,4\nc2,q1,r2,1\nc1,q2,r2,2\n").unwrap();
        assert_eq!(f.candidates, vec!["c1", "c2"]);
        assert_eq!(f.questions, vec!["q1", "q2"]);
        assert_eq!(f.raters, vec!["r1", "r2"]);
        let seen: Vec<(u32, u32, u32, u32)> = f
            .observations
            .iter()
            .map(|o| (o.candidate, o.question, o.rater, o.score))
            .collect();
        assert_eq!(seen, vec![(0, 0, 0, 3), (1, 0, 1, 0), (0, 1, 1, 1)]);
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let errors = read(
            "candidate,question,rater,score\nc1,q1,r1,4\nc1,q1,r1,3\n,q1,r2,1\nc2,q1,r1,5\nc2,q2,r1,x\n",
        )
        .err()
        .unwrap();
        assert_eq!(
            errors,
            vec![
                "F.csv:3: rater \"r1\" already scored candidate \"c1\" on question \"q1\" on line 2",
                "F.csv:4: the candidate is empty",
                "F.csv:5: the score 5 is off the scale 1 to 4",
                "F.csv:6: the score \"x\" is not a whole number",
            ]
        );
        let header = read("candidate,item,rater,score\nc1,q1,r1,1\n")
            .err()
            .unwrap();
        assert_eq!(header.len(), 1, "{header:?}");
        assert!(
            header[0].starts_with("F.csv:1: the header must be"),
            "{header:?}"
        );
    }
}
