//! Roles, passwords, tokens and access codes. Pure: no I/O.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a staff account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Proctor,
    Rater,
    Committee,
    /// A subject-matter expert invited onto a standard-setting panel: sees only the studies
    /// whose panel they sit on.
    Panelist,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Proctor,
        Role::Rater,
        Role::Committee,
        Role::Panelist,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Proctor => "proctor",
            Role::Rater => "rater",
            Role::Committee => "committee",
            Role::Panelist => "panelist",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Proctor => "Proctor",
            Role::Rater => "Rater",
            Role::Committee => "Exam committee",
            Role::Panelist => "Panelist",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown role \"{s}\"; expected admin, proctor, rater, committee or panelist"
                )
            })
    }
}

/// A login name: 3-64 characters of lower-case letters, digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        // Length first, so a megabyte of junk is refused before it is copied.
        if !(3..=64).contains(&s.len()) {
            return Err("a username has 3 to 64 characters".into());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err("a username may hold only letters, digits, `.`, `_` and `-`".into());
        }
        Ok(Username(s.to_ascii_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shortest password accepted for a staff account.
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest: a sign-in with more is refused before any work is done on it.
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn check_password_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "a password has at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    check_password_length(password)
}

/// The bound every password typed at sign-in must keep.
pub fn check_password_length(password: &str) -> Result<(), String> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!(
            "a password has at most {MAX_PASSWORD_LEN} characters"
        ));
    }
    Ok(())
}

/// The longest text from a visitor that a log line repeats.
pub const LOGGABLE_LEN: usize = 64;

/// Text a visitor sent, made safe for one log line: control characters (newlines included)
/// become `\u{..}` escapes so nobody can forge a line, and anything past `LOGGABLE_LEN`
/// characters is cut, with how much was cut.
pub fn loggable(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars().take(LOGGABLE_LEN) {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    let rest = raw.chars().count().saturating_sub(LOGGABLE_LEN);
    if rest > 0 {
        out.push_str(&format!("…(+{rest} characters)"));
    }
    out
}

/// An argon2id hash in PHC string form, with a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password with default parameters")
        .to_string()
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the username is unknown, so that a wrong username takes as
/// long as a wrong password and does not reveal which accounts exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password, only for timing"))
}

/// 32 random bytes as hex: session tokens and CSRF tokens.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied.
pub(crate) const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A candidate's access code, `XXXX-XXXX-XXXX` (60 bits of randomness).
pub fn new_access_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..12)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// An open response's code for raters, `R-XXXX-XXXX` (40 bits of randomness): it says nothing
/// about the candidate, the sitting or the time.
pub fn new_response_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..8)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!(
        "R-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..].iter().collect::<String>()
    )
}

/// An access code as typed: case, spaces and dashes do not matter.
pub fn normalise_access_code(s: &str) -> String {
    let c: Vec<char> = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    c.chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A random password for accounts made without one, 16 characters of the code alphabet.
pub fn random_password() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn access_codes_are_typed_forgivingly() {
        let code = new_access_code();
        assert_eq!(code.len(), 14);
        assert_eq!(
            normalise_access_code(&code.to_lowercase().replace('-', " ")),
            code
        );
    }

    #[test]
    fn usernames_and_roles_parse() {
        assert_eq!(Username::parse(" Ada.L ").unwrap().as_str(), "ada.l");
        assert!(Username::parse("a").is_err());
        assert!(Username::parse("bad name").is_err());
        assert!(Username::parse("ada\nINFO forged").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse(&"a".repeat(2_000_000)).is_err());
        assert!(Username::parse("adé").is_err());
        assert_eq!("rater".parse::<Role>().unwrap(), Role::Rater);
        assert_eq!("panelist".parse::<Role>().unwrap(), Role::Panelist);
        assert_eq!(Role::Panelist.title(), "Panelist");
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength(&"x".repeat(MAX_PASSWORD_LEN)).is_ok());
        let err = check_password_length(&"x".repeat(MAX_PASSWORD_LEN + 1)).unwrap_err();
        assert_eq!(err, "a password has at most 1024 characters");
    }

    #[test]
    fn loggable_text_cannot_forge_a_line_and_is_bounded() {
        assert_eq!(loggable("ada"), "ada");
        let forged =
            loggable("ada\n2026-01-01T00:00:00Z  INFO imh_exam: admin signed in\r\t\u{7f}");
        assert!(!forged.chars().any(char::is_control), "{forged}");
        assert_eq!(
            forged,
            "ada\\u{a}2026-01-01T00:00:00Z  INFO imh_exam: admin signed in\\u{d}\\u{9}\\u{7f}"
        );
        let long = loggable(&"é".repeat(1_000_000));
        assert_eq!(
            long,
            format!("{}…(+999936 characters)", "é".repeat(LOGGABLE_LEN))
        );
        assert_eq!(
            loggable(&"x".repeat(LOGGABLE_LEN)),
            "x".repeat(LOGGABLE_LEN)
        );
    }
}
