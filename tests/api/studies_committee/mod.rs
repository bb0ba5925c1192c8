//! Issue 14, the committee's side, on both engines: adopting a pass mark (`adoption`: audited
//! with its reason, the unreleased results of the blueprint's sittings re-decided in the same
//! transaction, released ones only when the committee decides for that sitting, the edges of an
//! adopted mark) and the committee's study pages over HTTP (`pages`).

mod adoption;
mod pages;
