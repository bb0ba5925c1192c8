//! One item file (QTI 3.0 `qti-assessment-item` or 2.1 `assessmentItem`) read into what a
//! bank item says, or the one reason it cannot be, at its line.

use roxmltree::Node;

use super::html;
use super::node::{attr, child, children, descendants, has_class, name, plain, XmlFile};
use crate::bank::model::{Diagnostic, ScorePoint};
use crate::bank::parse::MAX_RUBRIC_SCORE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Choice {
        stem: String,
        options: Vec<String>,
        /// Index of the key among the options (0 for A).
        key: usize,
        rationale: String,
    },
    Open {
        prompt: String,
        max_score: u32,
        rubric: Vec<ScorePoint>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemXml {
    pub identifier: String,
    /// The stimulus it refers to: the href as written and its line.
    pub stimulus: Option<(String, usize)>,
    pub content: Content,
}

/// Elements the stem or prompt leaves out: read on their own, or feedback.
fn not_stem(n: Node) -> bool {
    let n = name(n);
    n.ends_with("-interaction")
        || matches!(
            n.as_ref(),
            "qti-rubric-block" | "qti-feedback-block" | "qti-feedback-inline" | "xi:include"
        )
}

pub fn read(file: &XmlFile) -> Result<ItemXml, Diagnostic> {
    let root = file.doc.root_element();
    if name(root) != "qti-assessment-item" {
        return Err(file.error(
            root,
            format!(
                "the root element is <{}>, not an assessment item",
                root.tag_name().name()
            ),
        ));
    }
    let identifier = root.attribute("identifier").unwrap_or_default().to_string();
    let Some(body) = child(root, "qti-item-body") else {
        return Err(file.error(root, "the item has no item body"));
    };
    let refs: Vec<Node> = children(root, "qti-assessment-stimulus-ref")
        .chain(descendants(body, "xi:include"))
        .collect();
    if refs.len() > 1 {
        return Err(file.error(
            refs[1],
            format!(
                "{} stimuli are referred to: a bank item hangs off one vignette",
                refs.len()
            ),
        ));
    }
    let stimulus = refs.first().map(|r| {
        (
            r.attribute("href").unwrap_or_default().to_string(),
            file.line(*r),
        )
    });
    let interactions: Vec<Node> = body
        .descendants()
        .skip(1)
        .filter(|n| n.is_element() && name(*n).ends_with("-interaction"))
        .collect();
    let interaction = match interactions.as_slice() {
        [] => return Err(file.error(body, "the item has no interaction")),
        [one] => *one,
        [_, second, ..] => {
            return Err(file.error(
                *second,
                format!(
                    "{} interactions in one item: a bank item has one",
                    interactions.len()
                ),
            ))
        }
    };
    let mut stem = html::text(file, body, &not_stem)?;
    if let Some(p) = child(interaction, "qti-prompt") {
        let prompt = html::text(file, p, &|_| false)?;
        if !prompt.is_empty() {
            stem = if stem.is_empty() {
                prompt
            } else {
                format!("{stem}\n\n{prompt}")
            };
        }
    }
    let content = match name(interaction).as_ref() {
        "qti-choice-interaction" => choice(file, root, body, interaction, stem)?,
        "qti-extended-text-interaction" => open(file, root, body, interaction, stem)?,
        _ => {
            return Err(file.error(
                interaction,
                format!(
                    "<{}> cannot be represented: the bank holds single-answer choice items and extended-text items only",
                    interaction.tag_name().name()
                ),
            ))
        }
    };
    Ok(ItemXml {
        identifier,
        stimulus,
        content,
    })
}

fn response_declaration<'a, 'i>(root: Node<'a, 'i>, interaction: Node) -> Option<Node<'a, 'i>> {
    let id = attr(interaction, "response-identifier")?;
    children(root, "qti-response-declaration").find(|d| d.attribute("identifier") == Some(id))
}

fn choice(
    file: &XmlFile,
    root: Node,
    body: Node,
    interaction: Node,
    stem: String,
) -> Result<Content, Diagnostic> {
    let multiple = |what: String| {
        file.error(
            interaction,
            format!("a multiple-response choice interaction ({what}): a bank choice item has exactly one key"),
        )
    };
    // Named as the file spells it: max-choices (3.0) or maxChoices (2.1).
    let max_name = if interaction.attribute("maxChoices").is_some() {
        "maxChoices"
    } else {
        "max-choices"
    };
    let max = attr(interaction, "max-choices").unwrap_or("1");
    if max.trim() != "1" {
        return Err(multiple(format!("{max_name}=\"{max}\"")));
    }
    let declaration = response_declaration(root, interaction).ok_or_else(|| {
        file.error(
            interaction,
            "the interaction's response has no declaration, so no correct response: the bank never guesses a key",
        )
    })?;
    match declaration.attribute("cardinality") {
        Some("single") | None => {}
        Some(c) => return Err(multiple(format!("cardinality=\"{c}\""))),
    }
    let choices: Vec<Node> = children(interaction, "qti-simple-choice").collect();
    if choices.len() != 4 {
        return Err(file.error(
            interaction,
            format!(
                "{} choices: a bank choice item has exactly four (A-D)",
                choices.len()
            ),
        ));
    }
    let values: Vec<String> = child(declaration, "qti-correct-response")
        .map(|c| children(c, "qti-value").map(plain).collect())
        .unwrap_or_default();
    let value = match values.as_slice() {
        [] => {
            return Err(file.error(
                declaration,
                "no correct response: the bank never guesses a key; give the response declaration a qti-correct-response",
            ))
        }
        [one] => one,
        more => return Err(multiple(format!("{} correct values", more.len()))),
    };
    let key = choices
        .iter()
        .position(|c| c.attribute("identifier") == Some(value.as_str()))
        .ok_or_else(|| {
            file.error(
                declaration,
                format!("the correct response \"{value}\" is not one of the choices"),
            )
        })?;
    let mut options = Vec::new();
    for c in &choices {
        let text = html::text(file, *c, &not_stem)?;
        if text.is_empty() {
            return Err(file.error(*c, "a choice has no text"));
        }
        options.push(text);
    }
    if stem.is_empty() {
        return Err(file.error(body, "the item has no stem (no text before its choices)"));
    }
    Ok(Content::Choice {
        stem,
        options,
        key,
        rationale: rationale(file, root, body)?,
    })
}

/// A rubric block of class `rationale`, else the item's feedback, else a refusal.
fn rationale(file: &XmlFile, root: Node, body: Node) -> Result<String, Diagnostic> {
    if let Some(block) = descendants(body, "qti-rubric-block").find(|b| has_class(*b, "rationale"))
    {
        return html::text(file, block, &|_| false);
    }
    let mut parts = Vec::new();
    for f in children(root, "qti-modal-feedback").chain(descendants(body, "qti-feedback-block")) {
        let t = html::text(file, f, &|_| false)?;
        if !t.is_empty() {
            parts.push(t);
        }
    }
    if parts.is_empty() {
        return Err(file.error(
            body,
            "no rationale: the bank keeps one with every choice item; give it a qti-rubric-block view=\"scorer\" class=\"rationale\", or feedback",
        ));
    }
    Ok(parts.join("\n\n"))
}

fn open(
    file: &XmlFile,
    root: Node,
    body: Node,
    interaction: Node,
    prompt: String,
) -> Result<Content, Diagnostic> {
    if prompt.is_empty() {
        return Err(file.error(
            body,
            "the item has no prompt (no text with its interaction)",
        ));
    }
    let scorer = descendants(body, "qti-rubric-block").find(|b| {
        !has_class(*b, "rationale")
            && b.attribute("view")
                .is_some_and(|v| v.split_whitespace().any(|t| t == "scorer"))
    });
    let Some(block) = scorer else {
        return Err(file.error(
            interaction,
            "an extended-text item needs a rubric: the bank keeps a descriptor and an anchor answer for every score point; give it a qti-rubric-block view=\"scorer\" of <div class=\"score-point\"> (docs/qti.md)",
        ));
    };
    let mut rubric: Vec<ScorePoint> = Vec::new();
    for point in block
        .descendants()
        .filter(|n| n.is_element() && has_class(*n, "score-point"))
    {
        rubric.push(score_point(file, point)?);
    }
    if rubric.is_empty() {
        return Err(file.error(
            block,
            "the scorer rubric has no <div class=\"score-point\">: the bank needs a descriptor and an anchor answer for every score point (docs/qti.md)",
        ));
    }
    rubric.sort_by_key(|p| p.score);
    let max_score = rubric.last().map_or(0, |p| p.score);
    if max_score == 0 || max_score > MAX_RUBRIC_SCORE {
        return Err(file.error(
            block,
            format!("the rubric's highest score point is {max_score}: a bank rubric runs from 0 to 1..{MAX_RUBRIC_SCORE}"),
        ));
    }
    for (expected, p) in (0..).zip(&rubric) {
        if p.score != expected {
            let what = if p.score < expected {
                "given twice"
            } else {
                "missing"
            };
            let n = if p.score < expected {
                p.score
            } else {
                expected
            };
            return Err(file.error(
                block,
                format!("the rubric's score point {n} is {what}: a bank rubric has each of 0..{max_score} once"),
            ));
        }
    }
    let declared = children(root, "qti-outcome-declaration")
        .find(|o| o.attribute("identifier") == Some("SCORE"))
        .and_then(|o| attr(o, "normal-maximum"));
    if let Some(m) = declared {
        if m.trim().parse::<f64>().ok() != Some(f64::from(max_score)) {
            return Err(file.error(
                block,
                format!("SCORE's normal-maximum is {m} but the rubric's highest score point is {max_score}"),
            ));
        }
    }
    Ok(Content::Open {
        prompt,
        max_score,
        rubric,
    })
}

fn score_point(file: &XmlFile, point: Node) -> Result<ScorePoint, Diagnostic> {
    let heading = point.descendants().find(|n| {
        n.is_element() && matches!(name(*n).as_ref(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
    });
    let head = heading.map(plain).unwrap_or_default();
    let score = head
        .strip_prefix("Score")
        .unwrap_or(&head)
        .trim()
        .parse::<u32>()
        .map_err(|_| {
            file.error(
                point,
                format!("a score point's heading must be \"Score N\", found \"{head}\""),
            )
        })?;
    let skip = |n: Node| matches!(name(n).as_ref(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
    let descriptor = match point
        .descendants()
        .find(|n| n.is_element() && has_class(*n, "descriptor"))
    {
        Some(d) => html::text(file, d, &skip)?,
        None => String::new(),
    };
    if descriptor.is_empty() {
        return Err(file.error(
            point,
            format!("score point {score} has no descriptor (class=\"descriptor\")"),
        ));
    }
    let mut anchors = Vec::new();
    for a in point
        .descendants()
        .filter(|n| n.is_element() && has_class(*n, "anchor"))
    {
        let t = html::text(file, a, &skip)?;
        if !t.is_empty() {
            anchors.push(t);
        }
    }
    if anchors.is_empty() {
        return Err(file.error(
            point,
            format!("score point {score} has no anchor answer (class=\"anchor\")"),
        ));
    }
    Ok(ScorePoint {
        score,
        descriptor,
        anchors,
    })
}
