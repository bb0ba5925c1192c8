//! The committee's statistics pages for a sitting: rater agreement (and, with the item module,
//! item statistics). Every table is built once as rows of text and rendered both as HTML and as
//! a CSV download, so the two never disagree; charts are SVG drawn by `crate::web::charts`.
//!
//! What is where: `table` is the table (sorting, sort links, its HTML and CSV), `cells` the
//! text of its cells (decimals as people read them), `columns` the human names of the code
//! names, `serve` how a page runs a statistic and sends a CSV, and `agreement` the rater
//! agreement page itself.

mod agreement;
mod cells;
mod columns;
mod serve;
mod table;

pub use agreement::{agreement_page, CsvQuery};
pub(crate) use cells::{heads, num, show};
pub(crate) use serve::{csv_response, off_runtime};
pub(crate) use table::{Sort, Table};
