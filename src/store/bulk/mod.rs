//! A whole sitting written at once: its candidates registered, admitted, both parts taken and
//! submitted, Part Two's responses coded, then read round by round until every one is settled,
//! in a few large transactions of multi-row INSERTs. For the demo's simulated sitting and the
//! committee benchmark, where 200 (or 10,000) candidates written one save at a time through the
//! exam's own path take seconds (or hours).
//!
//! What decides content is the real path's: forms drawn by `store::forms` (fair where the pool
//! is calibrated, the sitting's one form where the blueprint says so) from the same history
//! (what each person saw in other sittings, how often every item has been used), registrations
//! through `batches::register_batch`, each part's saves linked by `exam::chain` as the save
//! queue links them (never earlier than the save before), refused where the clock would refuse
//! them, Part Two coded as a submission codes it, readings assigned by `ratings::assign_sitting`
//! and settled by `scoring::rules::resolve`. `imh-exam audit verify` finds every chain intact.

use sqlx::any::AnyArguments;
use sqlx::Any;

use super::{Backend, Result, StoreError, WriteTx};

mod forms;
mod read;
mod write;

pub use forms::Forms;
pub use read::{read_sitting, Read, ToRead};
pub use write::{blueprint_for, write_sitting, Candidate, TakenPart, Written};

/// Values bound per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 16_000;

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// Something the real path would refuse: the candidate, the part and why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BulkError {
    fn from(e: sqlx::Error) -> Self {
        BulkError::Store(StoreError::Sqlx(e))
    }
}

/// A value to bind.
#[derive(Debug, Clone)]
pub(super) enum V {
    Int(i64),
    Text(String),
}

impl From<i64> for V {
    fn from(v: i64) -> Self {
        V::Int(v)
    }
}

impl From<&str> for V {
    fn from(v: &str) -> Self {
        V::Text(v.to_string())
    }
}

impl From<String> for V {
    fn from(v: String) -> Self {
        V::Text(v)
    }
}

pub(super) fn bind_all<'q>(
    mut args: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    values: &'q [V],
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for v in values {
        args = match v {
            V::Int(i) => args.bind(*i),
            V::Text(s) => args.bind(s.as_str()),
        };
    }
    args
}

/// Placeholders for a statement's values, numbered in the order they are bound.
///
/// `$1, $2` everywhere else in the store; here, on SQLite, plain `?`. SQLite finds a numbered
/// parameter's name by a linear scan of the statement's parameters, when it prepares the
/// statement and again when sqlx binds each value, so a statement of n `$N` values costs n²:
/// a second for 12,000 values. A plain `?` is positional and costs nothing to find.
pub(super) struct Marks {
    backend: Backend,
    n: usize,
}

impl Marks {
    pub(super) fn new(backend: Backend) -> Self {
        Marks { backend, n: 0 }
    }

    /// The next placeholder.
    pub(super) fn next(&mut self) -> String {
        self.n += 1;
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.n),
        }
    }

    /// The next `n` placeholders, separated by commas.
    pub(super) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }
}

/// `head VALUES (…), (…) tail` for `rows` rows of `cols` values.
pub(super) fn statement(
    backend: Backend,
    head: &str,
    rows: usize,
    cols: usize,
    tail: &str,
) -> String {
    let mut marks = Marks::new(backend);
    let values: Vec<String> = (0..rows)
        .map(|_| format!("({})", marks.list(cols)))
        .collect();
    format!("{head} VALUES {} {tail}", values.join(", "))
}

/// Inserts `values` (rows of `cols`) in as few statements as the bind limit allows.
pub(super) async fn insert(
    tx: &mut WriteTx,
    backend: Backend,
    head: &str,
    cols: usize,
    values: &[V],
) -> Result<()> {
    for chunk in values.chunks(MAX_BINDS / cols * cols) {
        let sql = statement(backend, head, chunk.len() / cols, cols, "");
        bind_all(sqlx::query(&sql), chunk)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_every_value() {
        assert_eq!(
            statement(
                Backend::Postgres,
                "INSERT INTO t (a, b)",
                2,
                2,
                "RETURNING a"
            ),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING a"
        );
        assert_eq!(
            statement(Backend::Sqlite, "INSERT INTO t (a)", 2, 1, ""),
            "INSERT INTO t (a) VALUES (?), (?) "
        );
    }
}
