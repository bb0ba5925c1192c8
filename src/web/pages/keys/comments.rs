//! A sitting's candidate comments on the key review: grouped by item, beside the item's figures
//! (difficulty, discrimination, flags), the ones on the item under review offered for citing;
//! and the sitting's comments as CSV. Committees see what was written and when, and what the
//! commenter chose, never who wrote it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};

use crate::stats::item_analysis;
use crate::store::audit::{self, Action};
use crate::store::comments::{self as comment_store, Comment};
use crate::store::sittings::{self, Sitting};
use crate::web::error::AppResult;
use crate::web::pages::item_stats::{flag_text, sitting_data};
use crate::web::pages::stats::{csv_response, off_runtime, show};
use crate::web::roles::Committee;
use crate::web::time;
use crate::web::AppState;

/// An item's figures in the sitting, as the item statistics page gives them.
pub(super) struct Figures {
    pub version: u32,
    pub n: u64,
    pub p: Option<f64>,
    pub pbis_rest: Option<f64>,
    pub flags: Vec<String>,
}

/// What the key review shows of a sitting: every sitting (to choose from), the one chosen, its
/// comments, its items' figures, and the item whose key the form is for.
#[derive(Default)]
pub(super) struct Review {
    pub sittings: Vec<Sitting>,
    pub sitting: Option<Sitting>,
    pub comments: Vec<Comment>,
    pub figures: BTreeMap<String, Figures>,
    pub item: Option<String>,
}

/// `ID` or `ID vN`, as the statistics label an item version, read back.
fn id_and_version(label: &str) -> (String, u32) {
    match label.split_once(" v") {
        Some((id, v)) => (id.to_string(), v.parse().unwrap_or(1)),
        None => (label.to_string(), 1),
    }
}

impl Review {
    pub async fn load(
        state: &AppState,
        sitting: Option<i64>,
        item: Option<&str>,
    ) -> AppResult<Review> {
        let sittings = sittings::list_sittings(&state.db).await?;
        let Some(id) = sitting else {
            return Ok(Review {
                sittings,
                item: item.map(str::to_string),
                ..Review::default()
            });
        };
        let sitting = super::the_sitting(state, id).await?;
        let comments = comment_store::of_sitting(&state.db, id).await?;
        let mut figures = BTreeMap::new();
        if comments.iter().any(|c| c.part == 1) {
            let data = sitting_data(&state.db, id).await?;
            let a = off_runtime(move || item_analysis(&data.responses)).await?;
            for s in a.items {
                let (item, version) = id_and_version(&s.item);
                // Where a sitting carried two versions, the newer one's figures.
                if figures
                    .get(&item)
                    .is_some_and(|f: &Figures| f.version > version)
                {
                    continue;
                }
                figures.insert(
                    item,
                    Figures {
                        version,
                        n: s.n,
                        p: s.p,
                        pbis_rest: s.pbis_rest,
                        flags: s.flags.iter().map(|f| flag_text(&f.to_string())).collect(),
                    },
                );
            }
        }
        Ok(Review {
            sittings,
            sitting: Some(sitting),
            comments,
            figures,
            item: item.map(str::to_string),
        })
    }

    /// The version of `item` the sitting's forms carried (1 when unknown).
    pub fn version_of(&self, item: &str) -> u32 {
        self.figures.get(item).map_or(1, |f| f.version)
    }

    /// The comments on the item under review.
    fn on_review(&self) -> Vec<&Comment> {
        match &self.item {
            Some(item) => self
                .comments
                .iter()
                .filter(|c| c.part == 1 && &c.target == item)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether the comment `(attempt, n)` is on the item under review in this sitting.
    pub fn on_item(&self, (attempt_id, n): (i64, i64)) -> bool {
        self.on_review()
            .iter()
            .any(|c| c.attempt_id == attempt_id && c.n == n)
    }
}

/// Comments as a list: the text (escaped, its line breaks kept), when, and what the commenter
/// chose on a Part One question.
pub(crate) fn comment_list(comments: &[&Comment], tz: &str) -> Markup {
    html! {
        ol class="comments" {
            @for c in comments {
                li {
                    p class="comment-text" { (c.text) }
                    p class="hint" {
                        @match c.chose.as_deref() {
                            Some("") => { "Left it unanswered · " }
                            Some(letter) => { "Chose " (letter) " · " }
                            None => {}
                        }
                        (time::local(c.at_ms, tz))
                    }
                }
            }
        }
    }
}

fn figures_of(f: Option<&Figures>) -> Markup {
    html! {
        @match f {
            Some(f) => {
                dl class="summary" {
                    dt { "Presented to" } dd { (f.n) " candidates" }
                    dt { "p" } dd { (show(f.p)) }
                    dt { "pbis_rest" } dd { (show(f.pbis_rest)) }
                    dt { "Flags" } dd { @if f.flags.is_empty() { "none" } @else { strong class="flag" { (f.flags.join(", ")) } } }
                }
            }
            None => { p class="hint" { "No statistics: a pretest item, dropped, or on no submitted form yet." } }
        }
    }
}

/// The comments section: a sitting to choose, then its comments by item beside the figures.
pub(super) fn section(review: &Review) -> Markup {
    let chosen = review.sitting.as_ref().map(|s| s.id);
    html! {
        section aria-labelledby="comments-title" {
            h2 id="comments-title" { "Candidates' comments" }
            p { "Candidates may comment on any question or vignette during the exam. Choose a sitting to read its comments beside each item's figures; a key change can cite them." }
            form method="get" action="/keys#comments-title" class="inline" {
                label for="sitting" { "Sitting" }
                select id="sitting" name="sitting" {
                    @for s in &review.sittings {
                        option value=(s.id) selected[chosen == Some(s.id)] { (s.name) }
                    }
                }
                button type="submit" class="secondary" { "Show its comments" }
            }
            @if let Some(s) = &review.sitting {
                @let grouped = comment_store::by_target(&review.comments);
                @if grouped.is_empty() {
                    p { "No candidate commented in " (s.name) "." }
                } @else {
                    p {
                        (review.comments.len()) " comment(s) on " (grouped.len()) " question(s) and vignette(s) in " (s.name) ". "
                        a href={ "/scoring/" (s.id) "/comments.csv" } { "Download them as CSV" }
                    }
                    @for ((part, target), list) in &grouped {
                        @let part = *part;
                        article class="item-comments" aria-labelledby={ "c-" (target) } {
                            h3 id={ "c-" (target) } {
                                @if part == 1 { "Question " (target) } @else { "Part Two vignette " (target) }
                                " (" (list.len()) ")"
                            }
                            @if part == 1 {
                                (figures_of(review.figures.get(*target)))
                                p {
                                    a href={ "/stats/" (s.id) "/items/" (target) } { "Item statistics of " (target) } " · "
                                    a href={ "/keys?sitting=" (s.id) "&item=" (target) "#change" } { "Change the key of " (target) ", citing these comments" }
                                }
                            }
                            (comment_list(list, &s.time_zone))
                        }
                    }
                }
            }
        }
    }
}

/// The form's comments to cite: the sitting's comments on the item under review.
pub(super) fn cite_fields(review: &Review, cited: &BTreeSet<String>) -> Markup {
    let (Some(s), Some(item)) = (&review.sitting, &review.item) else {
        return html! {};
    };
    let on = review.on_review();
    html! {
        input type="hidden" name="sitting" value=(s.id);
        @if on.is_empty() {
            p class="hint" { "No comment on " (item) " in " (s.name) " to cite." }
        } @else {
            fieldset class="cite" {
                legend { "Comments to cite: those on " (item) " in " (s.name) }
                @for c in &on {
                    @let id = c.cite_id();
                    div class="option" {
                        input type="checkbox" name="cite" id={ "cite-" (id) } value=(id) checked[cited.contains(&id)];
                        label for={ "cite-" (id) } {
                            span class="comment-text" { (c.text) }
                            " "
                            span class="hint" {
                                "(" @match c.chose.as_deref() { Some("") => { "left it unanswered, " } Some(l) => { "chose " (l) ", " } None => {} }
                                (time::local_text(c.at_ms, &s.time_zone)) ")"
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /scoring/{id}/comments.csv`: the sitting's comments, one a row; the download is
/// audited (it carries what candidates wrote).
pub async fn comments_csv(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let sitting = super::the_sitting(&state, id).await?;
    let comments = comment_store::of_sitting(&state.db, id).await?;
    let mut w = crate::csv_safe::Writer::new();
    w.write_record(["comment", "part", "on", "chose", "at_utc", "text"]);
    for c in &comments {
        w.write_record([
            c.cite_id(),
            c.part.to_string(),
            c.target.clone(),
            c.chose.clone().unwrap_or_default(),
            time::utc_text(c.at_ms),
            c.text.clone(),
        ]);
    }
    audit::record(
        &state.db,
        &me.username,
        Action::CommentsExport,
        &format!(
            "sitting {id} ({}): {} comment(s)",
            sitting.name,
            comments.len()
        ),
    )
    .await?;
    Ok(csv_response(&format!("comments-{id}.csv"), w.into_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statistics_label_gives_the_item_and_its_version() {
        assert_eq!(id_and_version("TF-0004"), ("TF-0004".into(), 1));
        assert_eq!(id_and_version("TF-0004 v3"), ("TF-0004".into(), 3));
    }
}
