//! Which candidates the console lists: every one, or those in one state or with a problem.

use super::*;

/// Which candidates the console lists: every one, or those in one state or with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(in crate::web::pages) enum Filter {
    #[default]
    All,
    Waiting,
    InProgress,
    Paused,
    Submitted,
    Absent,
    Problems,
}

impl Filter {
    pub(super) const ALL: [Filter; 7] = [
        Filter::All,
        Filter::Waiting,
        Filter::InProgress,
        Filter::Paused,
        Filter::Submitted,
        Filter::Absent,
        Filter::Problems,
    ];

    /// The query parameter's value.
    pub(super) fn key(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Waiting => "waiting",
            Filter::InProgress => "in-progress",
            Filter::Paused => "paused",
            Filter::Submitted => "submitted",
            Filter::Absent => "absent",
            Filter::Problems => "problems",
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Filter::All => "All",
            Filter::Waiting => "Waiting",
            Filter::InProgress => "In progress",
            Filter::Paused => "Paused",
            Filter::Submitted => "Submitted",
            Filter::Absent => "Absent",
            Filter::Problems => "Problems",
        }
    }

    pub(in crate::web::pages) fn parse(s: &str) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| f.key() == s)
            .unwrap_or_default()
    }

    pub(super) fn admits(self, v: &RowView) -> bool {
        match self {
            Filter::All => true,
            Filter::Problems => !v.problems.is_empty(),
            f => v.state == f,
        }
    }
}
