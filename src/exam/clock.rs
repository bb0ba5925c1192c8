//! The exam clock. Only the server's time counts: the browser is told what remains and can
//! neither add nor remove a second.
//!
//! allowed = section time × accommodation multiplier + time added by the proctor
//! used    = time since start − time spent paused
//! the deadline is start + allowed + time paused; while paused the clock stands still.
//!
//! A candidate's approved break is a pause with a maximum: past it the break has ended by
//! itself at its start plus the maximum, and the candidate is charged from then. A proctor's
//! pause has no maximum.

use serde::{Deserialize, Serialize};

/// An accommodation multiplier in thousandths (1500 for 1.5×), so the clock needs no floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Multiplier(u32);

impl Multiplier {
    pub const STANDARD: Multiplier = Multiplier(1000);

    /// Parses `1`, `1.5`, `2.0`, `1.25`: from 1 to 4, at most three decimals.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("time multiplier \"{s}\" is not a number from 1 to 4 such as 1.5");
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty()
            || frac.len() > 3
            || !whole
                .chars()
                .chain(frac.chars())
                .all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
        let permille = whole
            .checked_mul(1000)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        if !(1000..=4000).contains(&permille) {
            return Err(bad());
        }
        Ok(Multiplier(permille))
    }

    pub fn permille(self) -> u32 {
        self.0
    }

    pub fn from_permille(p: u32) -> Self {
        Multiplier(p)
    }
}

impl std::fmt::Display for Multiplier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{}.{:03}", self.0 / 1000, self.0 % 1000);
        f.write_str(s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A timed part of an attempt. All instants are milliseconds since the epoch, server time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub started_at: i64,
    pub section_ms: i64,
    pub multiplier: Multiplier,
    pub added_ms: i64,
    pub paused_ms: i64,
    pub paused_since: Option<i64>,
    /// The longest the current pause may last: `Some` while it is the candidate's break,
    /// `None` for a proctor's pause (or when running).
    #[serde(default)]
    pub pause_limit_ms: Option<i64>,
}

/// How long after the deadline a save that was on its way is still taken.
pub const GRACE_MS: i64 = 5_000;

impl Clock {
    pub fn start(now: i64, minutes: u32, multiplier: Multiplier) -> Self {
        Clock {
            started_at: now,
            section_ms: i64::from(minutes) * 60_000,
            multiplier,
            added_ms: 0,
            paused_ms: 0,
            paused_since: None,
            pause_limit_ms: None,
        }
    }

    /// When the current pause ends by itself (a break at its maximum), if it does.
    pub fn pause_ends_at(&self) -> Option<i64> {
        Some(self.paused_since? + self.pause_limit_ms?)
    }

    /// The clock as it stands at `now`: a break past its maximum has ended at its start plus
    /// the maximum. Every reading below goes through this, so a break that no one has ended yet
    /// counts exactly as one that was.
    pub fn settled(&self, now: i64) -> Clock {
        let mut c = self.clone();
        if let Some(end) = c.pause_ends_at() {
            if now >= end {
                c.resume(end);
            }
        }
        c
    }

    /// Section time × multiplier + added time, rounded down to the millisecond.
    pub fn allowed_ms(&self) -> i64 {
        self.section_ms * i64::from(self.multiplier.0) / 1000 + self.added_ms
    }

    fn paused_total(&self, now: i64) -> i64 {
        let c = self.settled(now);
        c.paused_ms + c.paused_since.map_or(0, |p| (now - p).max(0))
    }

    pub fn used_ms(&self, now: i64) -> i64 {
        (now - self.started_at - self.paused_total(now)).max(0)
    }

    /// Time left, never negative; it does not run while paused.
    pub fn remaining_ms(&self, now: i64) -> i64 {
        (self.allowed_ms() - self.used_ms(now)).max(0)
    }

    /// The instant the time runs out if nothing else happens (`None` while paused).
    pub fn deadline(&self, now: i64) -> Option<i64> {
        match self.settled(now).paused_since {
            Some(_) => None,
            None => Some(self.started_at + self.allowed_ms() + self.paused_total(now)),
        }
    }

    /// Whether the clock was stopped when last changed (see `is_paused_at` for now).
    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Whether the clock stands still at `now` (a break past its maximum does not).
    pub fn is_paused_at(&self, now: i64) -> bool {
        self.settled(now).is_paused()
    }

    /// True once the time has run out (a paused clock never runs out).
    pub fn expired(&self, now: i64) -> bool {
        !self.is_paused_at(now) && self.used_ms(now) >= self.allowed_ms()
    }

    /// Whether a save arriving `now` is still taken: before the deadline plus the grace.
    pub fn accepts_save(&self, now: i64) -> bool {
        self.is_paused_at(now) || self.used_ms(now) < self.allowed_ms() + GRACE_MS
    }

    /// A proctor's pause: no maximum. During a candidate's break it takes the break over, so
    /// the break's maximum no longer applies and only the proctor resumes.
    pub fn pause(&mut self, now: i64) {
        if self.paused_since.is_none() {
            self.paused_since = Some(now);
        }
        self.pause_limit_ms = None;
    }

    /// The candidate's approved break: a pause that ends by itself after `max_ms`.
    pub fn start_break(&mut self, now: i64, max_ms: i64) {
        if self.paused_since.is_none() {
            self.paused_since = Some(now);
            self.pause_limit_ms = Some(max_ms.max(0));
        }
    }

    pub fn resume(&mut self, now: i64) {
        if let Some(p) = self.paused_since.take() {
            self.paused_ms += (now - p).max(0);
        }
        self.pause_limit_ms = None;
    }

    /// Adds (or, with a negative amount, takes back) proctor time; never below zero in all.
    pub fn add_time(&mut self, ms: i64) {
        self.added_ms =
            (self.added_ms + ms).max(-self.section_ms * i64::from(self.multiplier.0) / 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn multipliers_parse_exactly() {
        assert_eq!(Multiplier::parse("1").unwrap().permille(), 1000);
        assert_eq!(Multiplier::parse("1.5").unwrap().permille(), 1500);
        assert_eq!(Multiplier::parse("2.0").unwrap().permille(), 2000);
        assert_eq!(Multiplier::parse("1.25").unwrap().to_string(), "1.25");
        assert_eq!(Multiplier::parse("2.0").unwrap().to_string(), "2");
        for bad in ["", "0.5", "x", "1.2345", "5", "-1", "1,5"] {
            assert!(Multiplier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_deadline_is_start_plus_time_times_multiplier_plus_added_plus_paused() {
        let t0 = 1_000_000;
        let mut c = Clock::start(t0, 90, Multiplier::parse("1.5").unwrap());
        assert_eq!(c.deadline(t0), Some(t0 + 135 * MIN));
        c.add_time(10 * MIN);
        assert_eq!(c.deadline(t0), Some(t0 + 145 * MIN));
        c.pause(t0 + 20 * MIN);
        assert_eq!(c.deadline(t0 + 25 * MIN), None);
        assert_eq!(c.remaining_ms(t0 + 20 * MIN), 125 * MIN);
        assert_eq!(
            c.remaining_ms(t0 + 50 * MIN),
            125 * MIN,
            "a paused clock stands still"
        );
        assert!(!c.expired(t0 + 500 * MIN));
        c.resume(t0 + 27 * MIN);
        assert_eq!(c.deadline(t0 + 27 * MIN), Some(t0 + 152 * MIN));
        assert_eq!(c.remaining_ms(t0 + 27 * MIN), 125 * MIN);
        assert!(!c.expired(t0 + 152 * MIN - 1));
        assert!(c.expired(t0 + 152 * MIN));
    }

    #[test]
    fn saves_are_taken_until_the_grace_runs_out() {
        let t0 = 0;
        let c = Clock::start(t0, 90, Multiplier::STANDARD);
        let deadline = c.deadline(t0).unwrap();
        assert!(c.accepts_save(deadline + GRACE_MS - 1));
        assert!(!c.accepts_save(deadline + GRACE_MS));
        assert_eq!(c.remaining_ms(deadline + 1), 0);
    }

    #[test]
    fn pausing_twice_or_resuming_a_running_clock_changes_nothing() {
        let mut c = Clock::start(0, 90, Multiplier::STANDARD);
        c.pause(10);
        c.pause(20);
        c.resume(30);
        c.resume(40);
        assert_eq!(c.paused_ms, 20);
        c.add_time(-200 * MIN);
        assert_eq!(c.allowed_ms(), 0);
    }

    #[test]
    fn a_break_past_its_maximum_ends_at_start_plus_maximum() {
        let t0 = 1_000_000;
        let mut c = Clock::start(t0, 90, Multiplier::STANDARD);
        c.start_break(t0 + 10 * MIN, 15 * MIN);
        assert_eq!(c.pause_ends_at(), Some(t0 + 25 * MIN));
        // Within the maximum the clock stands still, as for any pause.
        assert!(c.is_paused_at(t0 + 24 * MIN));
        assert_eq!(c.remaining_ms(t0 + 24 * MIN), 80 * MIN);
        assert_eq!(c.deadline(t0 + 24 * MIN), None);
        // Past it the candidate is charged from start + maximum, not from whenever anyone
        // notices: 5 minutes past the end, 5 minutes are gone.
        assert!(!c.is_paused_at(t0 + 25 * MIN));
        assert_eq!(c.remaining_ms(t0 + 30 * MIN), 75 * MIN);
        assert_eq!(c.deadline(t0 + 30 * MIN), Some(t0 + 105 * MIN));
        let settled = c.settled(t0 + 30 * MIN);
        assert_eq!(settled.paused_since, None);
        assert_eq!(settled.paused_ms, 15 * MIN);
        assert_eq!(settled.pause_limit_ms, None);
        assert_eq!(settled.remaining_ms(t0 + 30 * MIN), 75 * MIN);
        // Settling is the same whenever it happens.
        assert_eq!(settled, c.settled(t0 + 500 * MIN));
        // The deadline still runs out: a candidate who never comes back is submitted.
        assert!(!c.expired(t0 + 105 * MIN - 1));
        assert!(c.expired(t0 + 105 * MIN));
        assert!(!c.accepts_save(t0 + 105 * MIN + GRACE_MS));
    }

    #[test]
    fn a_break_ended_in_time_charges_only_its_length() {
        let mut c = Clock::start(0, 90, Multiplier::STANDARD);
        c.start_break(10 * MIN, 15 * MIN);
        c.resume(14 * MIN);
        assert_eq!(c.paused_ms, 4 * MIN);
        assert_eq!(c.pause_limit_ms, None);
        assert_eq!(c.deadline(20 * MIN), Some(94 * MIN));
        assert_eq!(c.settled(500 * MIN), c, "nothing left to settle");
    }

    #[test]
    fn a_proctors_pause_has_no_maximum_even_over_a_break() {
        let mut c = Clock::start(0, 90, Multiplier::STANDARD);
        c.pause(10 * MIN);
        assert_eq!(c.pause_ends_at(), None);
        assert!(c.is_paused_at(10_000 * MIN));
        assert!(!c.expired(10_000 * MIN));
        // A proctor's pause during a break takes it over: the break's maximum is gone.
        let mut b = Clock::start(0, 90, Multiplier::STANDARD);
        b.start_break(10 * MIN, 15 * MIN);
        b.pause(12 * MIN);
        assert_eq!(
            b.paused_since,
            Some(10 * MIN),
            "the stop began with the break"
        );
        assert!(b.is_paused_at(10_000 * MIN));
        // And a break cannot start over a proctor's pause.
        c.start_break(20 * MIN, 15 * MIN);
        assert_eq!(c.pause_limit_ms, None);
    }
}
