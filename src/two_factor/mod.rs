//! Two-factor sign-in for staff: time-based one-time codes (TOTP, RFC 6238) and single-use
//! recovery codes. Pure: no I/O, no clock (every check is given the time).
//!
//! Codes are the ones every authenticator app makes: HMAC-SHA-1, 6 digits, a new one every 30
//! seconds, computed by `totp-rs`. A code is accepted one step either side of the server's
//! (a phone's clock a little off, a code typed as it changed), and only for a step later than
//! the last one accepted for that person, so a code seen over someone's shoulder, or sent twice,
//! does not sign anyone in again ([`check_code`]).
//!
//! Recovery codes are 16 characters of the access codes' alphabet (80 random bits), kept only
//! as their SHA-256 ([`recovery_hash`]). A slow password hash is not needed: it protects
//! passwords people choose, which are guessable; 80 random bits are not, with SHA-256 or any
//! other hash (at 10^10 guesses a second, 10^14 seconds for one code), and a code is good once.
//! The secret the codes come from is kept sealed with the server's key ([`seal`]).

pub mod seal;

use std::fmt;

use rand::Rng;
use totp_rs::{Algorithm, TOTP};

pub use seal::{SealKey, Sealed};

/// Digits in a code.
pub const DIGITS: usize = 6;
/// Seconds a code lasts (one time step).
pub const STEP_SECS: i64 = 30;
/// Steps either side of the server's that are still accepted.
pub const SKEW_STEPS: i64 = 1;
/// Bytes of a new secret: 160 bits, what RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "IMH-E exam";
/// Recovery codes given at once.
pub const RECOVERY_CODES: usize = 10;
/// Characters in a recovery code (without its dashes): 16 × 5 bits = 80 random bits.
pub const RECOVERY_CODE_LEN: usize = 16;

/// The shared secret codes are computed from. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A new random secret of `SECRET_BYTES`.
    pub fn generate() -> Self {
        let bytes: [u8; SECRET_BYTES] = rand::thread_rng().gen();
        Secret(bytes.to_vec())
    }

    /// A secret from its bytes (at least 16: RFC 4226's minimum).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 16 {
            return Err(format!(
                "a two-factor secret has at least 16 bytes, not {}",
                bytes.len()
            ));
        }
        Ok(Secret(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account: &str) -> TOTP {
        // Skew 0 here: `check_code` tries the neighbouring steps itself, to know which step a
        // code was for. An account name with `:` would be refused; usernames have none.
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS as u64,
            self.0.clone(),
            Some(ISSUER.to_string()),
            account.replace(':', "."),
        )
    }

    /// The secret in base32 (RFC 4648, no padding), as apps take it when typed in.
    pub fn base32(&self) -> String {
        self.totp("").get_secret_base32()
    }

    /// The base32 secret in groups of four, for reading and typing by hand.
    pub fn base32_grouped(&self) -> String {
        let b32 = self.base32();
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `otpauth://totp/...` address that a QR code hands to an app, naming `account`.
    pub fn otpauth_url(&self, account: &str) -> String {
        self.totp(account).get_url()
    }

    /// The code for time step `step`.
    pub fn code_at_step(&self, step: i64) -> String {
        self.totp("")
            .generate(u64::try_from(step.max(0)).unwrap_or(0) * STEP_SECS as u64)
    }
}

/// The time step of an instant in seconds since the Unix epoch.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// Why a typed code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not six digits (spaces aside).
    NotACode,
    /// Six digits, but not the code of any step near now.
    Wrong,
    /// The code of a step already used: it was accepted once.
    Replayed,
}

impl Refusal {
    /// What the person is told.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotACode => "Type the 6 digits your authenticator app shows now.",
            Refusal::Wrong => "That code is not right. Type the code your authenticator app shows now; if it keeps failing, check that the phone's clock is set automatically.",
            Refusal::Replayed => "That code has already been used. Wait for your app to show a new one, then type it.",
        }
    }
}

/// `typed` without spaces or dashes, if that is six digits.
pub fn six_digits(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Checks `typed` against `secret` at `unix_secs`: the step it is the code of, which must be
/// later than `last_step` (the last step accepted for this person). The steps within
/// `SKEW_STEPS` of now are tried from the latest down, each compared in constant time.
pub fn check_code(
    secret: &Secret,
    typed: &str,
    unix_secs: i64,
    last_step: Option<i64>,
) -> Result<i64, Refusal> {
    let code = six_digits(typed).ok_or(Refusal::NotACode)?;
    let now = step_of(unix_secs);
    let totp = secret.totp("");
    let mut used = false;
    for step in (now - SKEW_STEPS..=now + SKEW_STEPS).rev() {
        let Ok(at) = u64::try_from(step * STEP_SECS) else {
            continue;
        };
        if totp.check(&code, at) {
            if last_step.is_some_and(|last| step <= last) {
                used = true;
            } else {
                return Ok(step);
            }
        }
    }
    Err(if used {
        Refusal::Replayed
    } else {
        Refusal::Wrong
    })
}

/// `RECOVERY_CODES` new recovery codes, `XXXX-XXXX-XXXX-XXXX`.
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::thread_rng();
    let alphabet = crate::auth::CODE_ALPHABET;
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_CODE_LEN)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
                .collect();
            crate::auth::normalise_access_code(&raw)
        })
        .collect()
}

/// A recovery code as typed, in its one canonical form (case, spaces and dashes do not
/// matter), or `None` when it cannot be one: the wrong length or a letter not in the alphabet.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    // Bounded before it is copied: nothing long is worth reading.
    if typed.len() > 4 * RECOVERY_CODE_LEN {
        return None;
    }
    let code = crate::auth::normalise_access_code(typed);
    let chars = code.bytes().filter(|b| *b != b'-');
    let ok = chars.clone().count() == RECOVERY_CODE_LEN
        && code
            .bytes()
            .all(|b| b == b'-' || crate::auth::CODE_ALPHABET.contains(&b));
    ok.then_some(code)
}

/// What is stored of a recovery code: the SHA-256 of its canonical form.
pub fn recovery_hash(normalised: &str) -> String {
    crate::auth::sha256_hex(normalised)
}

/// The longest reason for a reset kept.
pub const MAX_REASON_CHARS: usize = 500;

/// The reason an administrator gives for resetting someone's two-factor sign-in, as the audit
/// log keeps it (one line), or what is wrong with it.
pub fn parse_reason(raw: &str) -> Result<String, String> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err("Reason: say why (it goes in the audit log with your name).".into());
    }
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(format!(
            "Reason: at most {MAX_REASON_CHARS} characters; this one has {chars}."
        ));
    }
    Ok(crate::escape::controls(reason).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 key: "12345678901234567890".
    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn codes_are_rfc_6238s() {
        // Appendix B's SHA-1 values, cut to 6 digits (the last six of the 8-digit values).
        let s = rfc_secret();
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(s.code_at_step(step_of(t)), eight[2..], "t = {t}");
        }
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            s.base32_grouped(),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_says_which() {
        let s = rfc_secret();
        let now = 1_111_111_111;
        let step = step_of(now);
        for offset in [-1, 0, 1] {
            let code = s.code_at_step(step + offset);
            assert_eq!(check_code(&s, &code, now, None), Ok(step + offset));
        }
        for offset in [-2, 2] {
            let code = s.code_at_step(step + offset);
            assert_eq!(
                check_code(&s, &code, now, None),
                Err(Refusal::Wrong),
                "{offset}"
            );
        }
        // Spaces as an app groups the digits are fine.
        let code = s.code_at_step(step);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check_code(&s, &spaced, now, None), Ok(step));
    }

    #[test]
    fn a_code_for_a_step_already_used_is_a_replay() {
        let s = rfc_secret();
        let now = 1_111_111_111;
        let step = step_of(now);
        let code = s.code_at_step(step);
        assert_eq!(
            check_code(&s, &code, now, Some(step)),
            Err(Refusal::Replayed)
        );
        assert_eq!(
            check_code(&s, &s.code_at_step(step - 1), now, Some(step)),
            Err(Refusal::Replayed)
        );
        // The next step's code is still good after this one was used.
        assert_eq!(
            check_code(&s, &s.code_at_step(step + 1), now, Some(step)),
            Ok(step + 1)
        );
        // And a step before the last one used never is, even when it is near now.
        assert_eq!(
            check_code(&s, &code, now, Some(step + 1)),
            Err(Refusal::Replayed)
        );
    }

    #[test]
    fn what_is_not_six_digits_is_not_a_code() {
        let s = rfc_secret();
        for typed in [
            "",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
            &"1".repeat(10_000),
        ] {
            assert_eq!(
                check_code(&s, typed, 59, None),
                Err(Refusal::NotACode),
                "{typed:?}"
            );
        }
        assert_eq!(six_digits(" 123-456 "), Some("123456".into()));
    }

    #[test]
    fn the_url_for_apps_names_the_issuer_and_account() {
        let url = rfc_secret().otpauth_url("ada");
        assert_eq!(
            url,
            "otpauth://totp/IMH-E%20exam:ada?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=IMH-E%20exam"
        );
    }

    #[test]
    fn new_secrets_are_random_and_long_enough() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), SECRET_BYTES);
        assert_eq!(format!("{a:?}"), "Secret(..)");
        assert!(Secret::from_bytes(vec![0; 15]).is_err());
    }

    #[test]
    fn recovery_codes_are_many_distinct_and_typed_forgivingly() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), RECOVERY_CODE_LEN + 3, "{code}");
            assert_eq!(
                normalise_recovery_code(code).as_deref(),
                Some(code.as_str())
            );
            let typed = code.to_lowercase().replace('-', " ");
            assert_eq!(
                normalise_recovery_code(&typed).as_deref(),
                Some(code.as_str())
            );
        }
        for bad in [
            "",
            "ABCD-EFGH-JKLM",
            "ABCD-EFGH-JKLM-NPQRS",
            "ABCD-EFGH-JKLM-NPQ1",
            "123456",
        ] {
            assert_eq!(normalise_recovery_code(bad), None, "{bad}");
        }
        assert_eq!(normalise_recovery_code(&"A".repeat(100_000)), None);
    }

    #[test]
    fn only_a_hash_of_a_recovery_code_is_kept() {
        let h = recovery_hash("ABCD-EFGH-JKLM-NPQR");
        assert_eq!(h.len(), 64);
        assert_ne!(h, recovery_hash("ABCD-EFGH-JKLM-NPQS"));
        assert!(!h.contains("ABCD"));
    }

    #[test]
    fn a_reason_is_required_bounded_and_one_line() {
        assert!(parse_reason("  ")
            .unwrap_err()
            .starts_with("Reason: say why"));
        let long = parse_reason(&"x".repeat(MAX_REASON_CHARS + 1)).unwrap_err();
        assert!(long.contains("this one has 501"), "{long}");
        assert_eq!(parse_reason(" lost phone ").unwrap(), "lost phone");
        let forged = parse_reason("lost phone\n2026 INFO admin did x").unwrap();
        assert_eq!(forged, "lost phone\\n2026 INFO admin did x");
    }
}
