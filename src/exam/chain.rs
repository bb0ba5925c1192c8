//! Responses as events: every save is appended to a log with a SHA-256 hash chain per
//! attempt, and the current answers are derived from the log.
//!
//! A save carries the browser's sequence number. The same number twice is one save (a retry),
//! stored once; a save older than the newest one for its item is kept in the log (it did
//! arrive) but never becomes the current answer. The head of the chain is the candidate's
//! receipt: it commits to every save in order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One save as the server received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Save {
    pub item_id: String,
    /// The answer as text: an option's canonical letter, an open response's prose, or a
    /// marker such as a flag; the exam layer gives it meaning.
    pub answer: String,
    /// The browser's sequence number, increasing with every edit in that browser.
    pub seq: u64,
    /// Server time of arrival, milliseconds since the epoch.
    pub at_ms: i64,
}

/// A save in the log, linked to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the attempt's log, from 0.
    pub n: u64,
    pub save: Save,
    pub prev_hash: String,
    pub hash: String,
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// The hash a chain starts from, distinct for every attempt.
pub fn genesis(attempt: &str) -> String {
    sha256_hex(&[b"imh-exam response chain v1", attempt.as_bytes()])
}

/// The hash of `save` appended after `prev` at position `n`. Every field is length-prefixed,
/// so no two different saves can produce the same input.
pub fn link(prev: &str, n: u64, save: &Save) -> String {
    sha256_hex(&[
        prev.as_bytes(),
        &n.to_be_bytes(),
        save.item_id.as_bytes(),
        save.answer.as_bytes(),
        &save.seq.to_be_bytes(),
        &save.at_ms.to_be_bytes(),
    ])
}

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// A new save: store this event.
    New { event: Event, current: bool },
    /// The same sequence number was stored before: nothing to store. `same` is false when
    /// the retry carried a different answer (the first one stands).
    Duplicate { same: bool },
}

/// An attempt's chain as far as it goes, with the current answer per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub attempt: String,
    pub head: String,
    pub len: u64,
    seqs: BTreeMap<u64, (String, String)>,
    current: BTreeMap<String, (u64, String)>,
}

/// Where and why a stored chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {n}: {reason}")]
pub struct Break {
    pub n: u64,
    pub reason: String,
}

impl Chain {
    pub fn new(attempt: &str) -> Self {
        Chain {
            attempt: attempt.to_string(),
            head: genesis(attempt),
            len: 0,
            seqs: BTreeMap::new(),
            current: BTreeMap::new(),
        }
    }

    /// Appends a save, unless its sequence number was seen before.
    pub fn append(&mut self, save: Save) -> Appended {
        if let Some((item, answer)) = self.seqs.get(&save.seq) {
            return Appended::Duplicate {
                same: *item == save.item_id && *answer == save.answer,
            };
        }
        let hash = link(&self.head, self.len, &save);
        let event = Event {
            n: self.len,
            save,
            prev_hash: self.head.clone(),
            hash: hash.clone(),
        };
        let current = self.apply(&event.save);
        self.head = hash;
        self.len += 1;
        Appended::New { event, current }
    }

    fn apply(&mut self, save: &Save) -> bool {
        self.seqs
            .insert(save.seq, (save.item_id.clone(), save.answer.clone()));
        let newer = self
            .current
            .get(&save.item_id)
            .is_none_or(|(seq, _)| save.seq > *seq);
        if newer {
            self.current
                .insert(save.item_id.clone(), (save.seq, save.answer.clone()));
        }
        newer
    }

    /// Rebuilds a chain from its stored events, checking every link.
    pub fn replay(attempt: &str, events: &[Event]) -> Result<Chain, Break> {
        let mut chain = Chain::new(attempt);
        for e in events {
            let brk = |reason: String| Break { n: e.n, reason };
            if e.n != chain.len {
                return Err(brk(format!("expected event {}, found {}", chain.len, e.n)));
            }
            if e.prev_hash != chain.head {
                return Err(brk(
                    "its previous hash is not the hash of the event before it".into(),
                ));
            }
            if chain.seqs.contains_key(&e.save.seq) {
                return Err(brk(format!(
                    "sequence number {} is stored twice",
                    e.save.seq
                )));
            }
            let expected = link(&chain.head, chain.len, &e.save);
            if e.hash != expected {
                return Err(brk("its content does not match its hash".into()));
            }
            chain.apply(&e.save);
            chain.head = expected;
            chain.len += 1;
        }
        Ok(chain)
    }

    /// The current answer of every item that has one.
    pub fn answers(&self) -> BTreeMap<String, String> {
        self.current
            .iter()
            .map(|(item, (_, answer))| (item.clone(), answer.clone()))
            .collect()
    }

    pub fn answer(&self, item: &str) -> Option<&str> {
        self.current.get(item).map(|(_, a)| a.as_str())
    }

    /// The highest sequence number stored: where a browser that lost its state resumes.
    pub fn last_seq(&self) -> Option<u64> {
        self.seqs.keys().next_back().copied()
    }

    pub fn seqs(&self) -> BTreeSet<u64> {
        self.seqs.keys().copied().collect()
    }
}

/// The receipt shown to a candidate: the chain's head, grouped for reading aloud.
pub fn receipt(head: &str) -> String {
    head[..20]
        .to_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(item: &str, answer: &str, seq: u64) -> Save {
        Save {
            item_id: item.into(),
            answer: answer.into(),
            seq,
            at_ms: 1_000 + seq as i64,
        }
    }

    fn events(chain: &mut Chain, saves: Vec<Save>) -> Vec<Event> {
        saves
            .into_iter()
            .filter_map(|s| match chain.append(s) {
                Appended::New { event, .. } => Some(event),
                Appended::Duplicate { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_retried_save_is_stored_once() {
        let mut c = Chain::new("a1");
        assert!(matches!(
            c.append(save("TF-0001", "B", 1)),
            Appended::New { current: true, .. }
        ));
        assert_eq!(
            c.append(save("TF-0001", "B", 1)),
            Appended::Duplicate { same: true }
        );
        assert_eq!(
            c.append(save("TF-0001", "C", 1)),
            Appended::Duplicate { same: false }
        );
        assert_eq!(c.len, 1);
        assert_eq!(c.answer("TF-0001"), Some("B"));
    }

    #[test]
    fn an_older_save_never_overwrites_a_newer_one() {
        let mut c = Chain::new("a1");
        c.append(save("TF-0001", "C", 5));
        let late = c.append(save("TF-0001", "A", 3));
        assert!(
            matches!(late, Appended::New { current: false, .. }),
            "kept in the log, not current"
        );
        assert_eq!(c.answer("TF-0001"), Some("C"));
        assert_eq!(c.len, 2);
        assert_eq!(c.last_seq(), Some(5));
    }

    #[test]
    fn replay_rebuilds_the_same_head_and_answers() {
        let mut c = Chain::new("a1");
        let log = events(
            &mut c,
            vec![
                save("A", "1", 1),
                save("B", "2", 2),
                save("A", "3", 3),
                save("B", "0", 1),
            ],
        );
        let r = Chain::replay("a1", &log).unwrap();
        assert_eq!(r.head, c.head);
        assert_eq!(r.answers(), c.answers());
        assert_eq!(r.answer("A"), Some("3"));
        assert_eq!(r.answer("B"), Some("2"));
        assert_ne!(c.head, genesis("a1"));
        assert_eq!(receipt(&c.head).len(), 24);
    }

    #[test]
    fn every_kind_of_tampering_is_named() {
        let mut c = Chain::new("a1");
        let log = events(
            &mut c,
            vec![save("A", "1", 1), save("B", "2", 2), save("C", "3", 3)],
        );

        let mut changed = log.clone();
        changed[1].save.answer = "9".into();
        assert_eq!(
            Chain::replay("a1", &changed).unwrap_err(),
            Break {
                n: 1,
                reason: "its content does not match its hash".into()
            }
        );

        let mut dropped = log.clone();
        dropped.remove(1);
        assert_eq!(Chain::replay("a1", &dropped).unwrap_err().n, 2);

        let mut relinked = log.clone();
        relinked[2].prev_hash = log[0].hash.clone();
        assert_eq!(
            Chain::replay("a1", &relinked).unwrap_err().reason,
            "its previous hash is not the hash of the event before it"
        );

        // Another attempt's log does not verify as this one's.
        assert_eq!(Chain::replay("a2", &log).unwrap_err().n, 0);
    }
}
