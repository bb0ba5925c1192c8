//! The shapes of a batch's statements: placeholders, rows and chunks, so that a handful of
//! statement shapes serve every batch size and stay in the statement cache.

/// `$from, $from+1, …` for `n` values.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most rows one statement of a batch carries. A statement's parameters are bound by name,
/// which costs SQLite a scan of all of them for each (quadratic in their number: 12% of the
/// writer's time at 128 saves × 8 values); and every size is a statement of its own to prepare
/// and cache. So a batch is cut into chunks of power-of-two sizes up to this.
const CHUNK: usize = 32;

/// `items` in chunks of 32, 16, 8, 4, 2 and 1 (largest first): six statement shapes serve
/// every batch, each with at most `CHUNK` rows.
pub(super) fn in_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !items.is_empty() {
        let n = CHUNK.min(1 << items.len().ilog2());
        let (head, rest) = items.split_at(n);
        out.push(head);
        items = rest;
    }
    out
}

/// `($1, $2, $3), ($4, $5, $6), …`: `rows` rows of `width` parameters.
pub(super) fn rows_of(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", placeholders(i * width + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A list for `IN (…)`, padded to a power of two with its last value (which changes nothing), so
/// a handful of statement shapes serve every batch size and stay in the statement cache.
pub(super) fn padded<T: Clone>(mut values: Vec<T>) -> Vec<T> {
    if let Some(last) = values.last().cloned() {
        values.resize(values.len().next_power_of_two(), last);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_few_power_of_two_chunks_in_order() {
        for n in 0..=300usize {
            let items: Vec<usize> = (0..n).collect();
            let chunks = in_chunks(&items);
            let sizes: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
            assert!(
                sizes.iter().all(|s| s.is_power_of_two() && *s <= CHUNK),
                "{n}: {sizes:?}"
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n}: {sizes:?}");
            let flat: Vec<usize> = chunks.concat();
            assert_eq!(flat, items, "{n}: every item once, in order");
            // Full chunks, then at most one of each smaller size.
            assert!(sizes.len() <= n / CHUNK + 5, "{n}: {sizes:?}");
        }
    }

    #[test]
    fn rows_of_numbers_the_parameters_row_by_row() {
        assert_eq!(rows_of(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(rows_of(1, 1), "($1)");
    }
}
