//! One clock for every server process: the database's.
//!
//! Behind a load balancer several processes share one PostgreSQL; an instant that decides a
//! deadline, a pause or a chain timestamp must not depend on which process received the
//! request. Each process measures how far its own clock is from the database's (the query with
//! the shortest round trip of three, every few seconds) and reads every instant as its own
//! clock plus that offset. A measurement is off by at most half its round trip (well under a
//! millisecond on a local network, a few milliseconds across a data centre); clocks kept by
//! NTP drift far less than that between two measurements. So two processes agree to within
//! the sum of their two bounds, whatever their own clocks say; `bound_ms` tells the current
//! one. On SQLite (one process, the file on this machine) the database's clock is this
//! machine's, read through SQLite, by the same code.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::OnceLock;

use super::{Backend, Db, Result};

/// The database's clock minus this process's, in milliseconds.
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);
/// Half the round trip of the measurement behind `OFFSET_MS`.
static BOUND_MS: AtomicI64 = AtomicI64::new(i64::MAX);
static MEASURED: AtomicBool = AtomicBool::new(false);

/// For tests only: the environment variable `IMH_TEST_CLOCK_SKEW_MS` sets this process's own
/// clock that far off, to show that the database's clock wins (a process whose clock is wrong
/// still reads the right time once it has measured).
fn skew_ms() -> i64 {
    static SKEW: OnceLock<i64> = OnceLock::new();
    *SKEW.get_or_init(|| {
        std::env::var("IMH_TEST_CLOCK_SKEW_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// This process's own clock, in milliseconds since the Unix epoch.
pub fn local_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(d.as_millis()).expect("milliseconds fit in i64") + skew_ms()
}

/// The database's time now, in milliseconds since the Unix epoch: how every instant is taken.
pub fn now_ms() -> i64 {
    local_ms() + OFFSET_MS.load(Ordering::Relaxed)
}

/// How far `now_ms` may be from the database's clock, by the last measurement (None before
/// the first).
pub fn bound_ms() -> Option<i64> {
    MEASURED
        .load(Ordering::Relaxed)
        .then(|| BOUND_MS.load(Ordering::Relaxed))
}

impl Db {
    /// The database's clock, read once.
    async fn database_ms(&self) -> Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
            }
            Backend::Postgres => {
                "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
            }
        };
        Ok(sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Measures this process's clock against the database's and keeps the offset. A new
    /// offset replaces the old one only when it differs by more than the new measurement's
    /// bound (a real change), so instants do not jitter with each measurement.
    pub async fn sync_clock(&self) -> Result<()> {
        let mut best: Option<(i64, i64)> = None;
        for _ in 0..3 {
            let before = local_ms();
            let db_ms = self.database_ms().await?;
            let after = local_ms();
            let half_trip = (after - before + 1) / 2;
            let offset = db_ms - (before + after) / 2;
            if best.is_none_or(|(_, b)| half_trip < b) {
                best = Some((offset, half_trip));
            }
        }
        let (offset, bound) = best.expect("three measurements");
        let old = OFFSET_MS.load(Ordering::Relaxed);
        if !MEASURED.load(Ordering::Relaxed) || (offset - old).abs() > bound.max(1) {
            OFFSET_MS.store(offset, Ordering::Relaxed);
        }
        BOUND_MS.store(bound, Ordering::Relaxed);
        MEASURED.store(true, Ordering::Relaxed);
        Ok(())
    }
}
