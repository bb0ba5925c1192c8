//! Times as people read them: in a sitting's own time zone (an IANA name such as
//! `America/Detroit`, kept per sitting), with the UTC time on hover.
//!
//! The time zone database is compiled into the binary (jiff's bundled copy), so a server whose
//! host has no `/usr/share/zoneinfo` shows the same times.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use maud::{html, Markup};

/// The zone of a sitting scheduled without one.
pub const DEFAULT_ZONE: &str = "UTC";

/// The time zone named `name` (case as the database spells it, or not), with its canonical
/// name; an empty name is UTC. The error is a sentence for the form's field.
pub fn zone(name: &str) -> Result<(TimeZone, String), String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok((TimeZone::UTC, DEFAULT_ZONE.to_string()));
    }
    match TimeZone::get(name) {
        Ok(tz) => {
            let canonical = tz.iana_name().unwrap_or(name).to_string();
            Ok((tz, canonical))
        }
        Err(_) => Err(format!(
            "\"{name}\" is not a time zone of the IANA database; write its name as in America/Detroit, Europe/Madrid, Asia/Kolkata or UTC"
        )),
    }
}

/// The zone a sitting keeps (checked when it was scheduled); UTC if it is somehow unknown.
fn stored(name: &str) -> TimeZone {
    zone(name).map(|(tz, _)| tz).unwrap_or(TimeZone::UTC)
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `2026-11-23 09:05 EST`: the time in the zone named `tz`, as plain text.
pub fn local_text(ms: i64, tz: &str) -> String {
    timestamp(ms)
        .to_zoned(stored(tz))
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `2026-11-23 14:05 UTC`.
pub fn utc_text(ms: i64) -> String {
    timestamp(ms)
        .to_zoned(TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// The time in the zone named `tz`, in a `<time>` element whose `datetime` is the instant in
/// UTC and whose title (shown on hover) is the UTC time.
pub fn local(ms: i64, tz: &str) -> Markup {
    let ts = timestamp(ms);
    html! {
        time datetime=(ts.strftime("%Y-%m-%dT%H:%M:%SZ")) title={ "UTC: " (utc_text(ms)) } {
            (local_text(ms, tz))
        }
    }
}

/// Reads a date-and-time field (`2026-11-23T14:05`, as `datetime-local` inputs send it) as a
/// time in the zone named `tz`; returns milliseconds since the epoch. A time that a clock
/// change skips or repeats is read as the later offset would have it (the usual rule).
pub fn parse_local(s: &str, tz: &str) -> Result<i64, String> {
    let bad = || format!("\"{s}\" is not a date and time such as 2026-11-23T14:00");
    let dt: DateTime = s.trim().parse().map_err(|_| bad())?;
    let zoned = dt.to_zoned(stored(tz)).map_err(|_| bad())?;
    Ok(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23 14:05 UTC.
    const MS: i64 = 1_795_442_700_000;

    #[test]
    fn a_time_shows_in_the_sittings_zone_with_utc_on_hover() {
        assert_eq!(utc_text(MS), "2026-11-23 14:05 UTC");
        assert_eq!(local_text(MS, "America/Detroit"), "2026-11-23 09:05 EST");
        assert_eq!(local_text(MS, "UTC"), "2026-11-23 14:05 UTC");
        let m = local(MS, "Asia/Kolkata").into_string();
        assert_eq!(
            m,
            "<time datetime=\"2026-11-23T14:05:00Z\" title=\"UTC: 2026-11-23 14:05 UTC\">2026-11-23 19:35 IST</time>"
        );
    }

    #[test]
    fn summer_time_is_the_zones_own() {
        // 2026-07-01 12:00 UTC is 08:00 in Detroit (EDT, UTC-4).
        let july = 1_782_907_200_000;
        assert_eq!(local_text(july, "America/Detroit"), "2026-07-01 08:00 EDT");
    }

    #[test]
    fn a_zone_name_is_checked_and_made_canonical() {
        assert_eq!(zone("america/detroit").unwrap().1, "America/Detroit");
        assert_eq!(zone("").unwrap().1, "UTC");
        let e = zone("Mars/Olympus").unwrap_err();
        assert!(e.contains("Mars/Olympus") && e.contains("IANA"), "{e}");
        assert!(zone("EST+5").is_err());
    }

    #[test]
    fn a_form_time_is_read_in_the_zone() {
        assert_eq!(parse_local("2026-11-23T09:05", "America/Detroit"), Ok(MS));
        assert_eq!(parse_local("2026-11-23T14:05", "UTC"), Ok(MS));
        assert_eq!(parse_local("2026-11-23T14:05:00", "UTC"), Ok(MS));
        assert!(parse_local("tomorrow", "UTC").is_err());
    }
}
