//! Verification: every attempt's chain replayed from its stored events, and checked against the
//! receipts candidates were given.

use crate::exam::chain::{self, Save};
use crate::store::{Db, Result};

use super::chain_key;

/// Recomputes every attempt's chain from its stored events. Returns, per attempt, where its
/// chain breaks (empty when every chain holds) and how many attempts were checked.
pub async fn verify_chains(db: &Db) -> Result<(usize, Vec<(i64, String)>)> {
    let attempts: Vec<VerifyRow> = sqlx::query_as(
        "SELECT a.id, a.registration_id, a.part, a.chain_head, a.chain_len, a.submitted_at,
                r.receipt_hash, r.receipt_len
         FROM attempts a LEFT JOIN attempt_receipts r ON r.attempt_id = a.id ORDER BY a.id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut breaks = Vec::new();
    for a in &attempts {
        let rows: Vec<(i64, String, String, i64, i64, String, String)> = sqlx::query_as(
            "SELECT n, item_id, answer, seq, at_ms, prev_hash, hash FROM response_events WHERE attempt_id = $1 ORDER BY n",
        )
        .bind(a.id)
        .fetch_all(&db.pool)
        .await?;
        let events: Vec<chain::Event> = rows
            .into_iter()
            .map(
                |(n, item_id, answer, seq, at_ms, prev_hash, hash)| chain::Event {
                    n: u64::try_from(n).unwrap_or(u64::MAX),
                    save: Save {
                        item_id,
                        answer,
                        seq: u64::try_from(seq).unwrap_or(0),
                        at_ms,
                    },
                    prev_hash,
                    hash,
                },
            )
            .collect();
        let key = chain_key(a.registration_id, u8::try_from(a.part).unwrap_or(0));
        let c = match chain::Chain::replay(&key, &events) {
            Err(b) => {
                breaks.push((a.id, b.to_string()));
                continue;
            }
            Ok(c) => c,
        };
        let len = i64::try_from(c.len).ok();
        // A submitted attempt's receipt must be the head of exactly the events stored.
        if a.submitted_at.is_some() && (c.head != a.chain_head || len != Some(a.chain_len)) {
            breaks.push((
                a.id,
                format!("the receipt does not match the {} events stored", c.len),
            ));
        } else if let (Some(hash), Some(n)) = (&a.receipt_hash, a.receipt_len) {
            // The last receipt a candidate was given: the chain must end exactly there, so a
            // lost newest save (or a deleted tail) is reported, not taken as intact.
            if *hash != c.head || len != Some(n) {
                breaks.push((
                    a.id,
                    format!(
                        "the chain ends at event {} but the candidate's last receipt was for {} events",
                        c.len, n
                    ),
                ));
            }
        }
    }
    Ok((attempts.len(), breaks))
}

#[derive(sqlx::FromRow)]
struct VerifyRow {
    id: i64,
    registration_id: i64,
    part: i64,
    chain_head: String,
    chain_len: i64,
    submitted_at: Option<i64>,
    receipt_hash: Option<String>,
    receipt_len: Option<i64>,
}
