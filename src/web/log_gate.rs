//! Log lines that anyone can call up at will (a refused sign-in, a connection over the cap)
//! come at most once per interval per kind, each saying how many were held back since the
//! last. A flood of refusals must not become a flood of lines: the disk they fill and the CPU
//! that writes them are the attacker's to spend otherwise (the load harness's hostile mode
//! called up about 150 warnings a second, two per refused sign-in). The operator still sees
//! that it happens and how much, and every refusal is counted in the metrics regardless.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often a gated line may be written: often enough to show an attack as it goes on.
pub const EVERY: Duration = Duration::from_secs(10);

/// One kind of line, let through at most once per `every`.
pub struct LogGate {
    every_ms: u64,
    /// When the next line may be written, in ms since the process's first gated event.
    next_ms: AtomicU64,
    /// Events since the last line written.
    held: AtomicU64,
}

impl LogGate {
    pub const fn new(every: Duration) -> Self {
        LogGate {
            every_ms: every.as_millis() as u64,
            next_ms: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }

    /// `Some(held)` when this event is to be logged (with `held` events held back since the
    /// last line), `None` when it is only counted.
    pub fn due(&self) -> Option<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let now = START.get_or_init(Instant::now).elapsed().as_millis();
        self.due_at(u64::try_from(now).unwrap_or(u64::MAX))
    }

    fn due_at(&self, now_ms: u64) -> Option<u64> {
        let next = self.next_ms.load(Ordering::Acquire);
        if now_ms >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now_ms.saturating_add(self.every_ms),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok()
        {
            return Some(self.held.swap(0, Ordering::AcqRel));
        }
        self.held.fetch_add(1, Ordering::AcqRel);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_each_with_what_it_held_back() {
        let gate = LogGate::new(Duration::from_secs(10));
        assert_eq!(gate.due_at(0), Some(0), "the first event is logged");
        for t in [1, 500, 9_999] {
            assert_eq!(gate.due_at(t), None, "at {t} ms: only counted");
        }
        assert_eq!(
            gate.due_at(10_000),
            Some(3),
            "the next line says three were held back"
        );
        assert_eq!(gate.due_at(10_001), None);
        // A quiet spell: the next event is logged at once, with the one held back.
        assert_eq!(gate.due_at(60_000), Some(1));
        assert_eq!(gate.due_at(60_001), None);
    }

    #[test]
    fn a_flood_from_many_threads_writes_one_line_and_counts_the_rest() {
        let gate = std::sync::Arc::new(LogGate::new(Duration::from_secs(3600)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let gate = gate.clone();
                std::thread::spawn(move || (0..1000).filter(|_| gate.due_at(5).is_some()).count())
            })
            .collect();
        let written: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(written, 1, "one line for 8,000 events");
        assert_eq!(gate.due_at(3_600_005), Some(7_999));
    }
}
