//! The server's key for two-factor secrets, and secrets sealed with it.
//!
//! A TOTP secret must be readable by the server (codes are computed from it), so it cannot be
//! hashed like a password. It is kept encrypted (XChaCha20-Poly1305, a random nonce each time)
//! under a key that lives outside the database, in a file of its own: a copy of the database
//! alone (a dump, a backup, a stolen disk image of the database server) gives away no secret.
//! The person's id is bound in as associated data, so a sealed secret copied onto another
//! account does not open there.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng;

use super::Secret;

/// Bytes of the key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// What a sealed secret starts with: the format, so another can follow.
const PREFIX: &str = "xc1:";

/// The key two-factor secrets are sealed with. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; KEY_BYTES]);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// A new random key.
    pub fn generate() -> Self {
        SealKey(rand::thread_rng().gen())
    }

    /// The key as its file holds it: 64 hexadecimal characters (surrounding whitespace,
    /// a final newline among it, does not matter).
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex_text = text.trim();
        let wanted = 2 * KEY_BYTES;
        if hex_text.len() != wanted {
            return Err(format!(
                "a two-factor key is {wanted} hexadecimal characters ({KEY_BYTES} random bytes); this one has {}",
                hex_text.chars().count()
            ));
        }
        let bytes = hex::decode(hex_text).map_err(|_| {
            "a two-factor key holds only the digits 0-9 and letters a-f".to_string()
        })?;
        let mut key = [0u8; KEY_BYTES];
        key.copy_from_slice(&bytes);
        Ok(SealKey(key))
    }

    /// The key as its file holds it, with a final newline.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", hex::encode(self.0))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.0))
    }

    /// `secret`, sealed for the account `user_id`.
    pub fn seal(&self, secret: &Secret, user_id: i64) -> Sealed {
        let nonce: [u8; NONCE_BYTES] = rand::thread_rng().gen();
        let aad = associated(user_id);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any message of this size");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Sealed(format!("{PREFIX}{}", hex::encode(out)))
    }

    /// The secret in `sealed`, if it was sealed with this key for `user_id` and is unchanged.
    pub fn open(&self, sealed: &Sealed, user_id: i64) -> Result<Secret, String> {
        let bytes = sealed
            .0
            .strip_prefix(PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or_else(|| "the stored two-factor secret is not in a known format".to_string())?;
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let aad = associated(user_id);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                "the stored two-factor secret does not open with this server's key (was the key file replaced, or the row copied from another account?)".to_string()
            })?;
        Secret::from_bytes(plain)
    }
}

fn associated(user_id: i64) -> Vec<u8> {
    format!("imh-exam two-factor secret of user {user_id}").into_bytes()
}

/// A secret as the database keeps it: sealed, in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_for_its_account_only() {
        let key = SealKey::generate();
        let secret = Secret::generate();
        let sealed = key.seal(&secret, 7);
        assert!(sealed.0.starts_with(PREFIX));
        assert!(!sealed.0.contains(&hex::encode(secret.as_bytes())));
        assert_eq!(key.open(&sealed, 7).unwrap(), secret);
        // Sealed twice, it reads differently (a new nonce each time).
        assert_ne!(key.seal(&secret, 7), sealed);
        // Another account, another key, or a changed byte: refused.
        assert!(key.open(&sealed, 8).unwrap_err().contains("does not open"));
        assert!(SealKey::generate().open(&sealed, 7).is_err());
        let mut tampered = sealed.0.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert!(key.open(&Sealed(tampered), 7).is_err());
        assert!(key
            .open(&Sealed("plain secret".into()), 7)
            .unwrap_err()
            .contains("not in a known format"));
    }

    #[test]
    fn a_key_file_is_64_hex_characters() {
        let key = SealKey::generate();
        let text = key.to_file_text();
        assert_eq!(text.len(), 65);
        assert_eq!(SealKey::parse(&text).unwrap(), key);
        assert_eq!(
            SealKey::parse(&format!("  {}\n\n", text.trim())).unwrap(),
            key
        );
        let short = SealKey::parse("abc").unwrap_err();
        assert!(short.contains("64 hexadecimal characters"), "{short}");
        assert!(short.contains("this one has 3"), "{short}");
        let not_hex = SealKey::parse(&"g".repeat(64)).unwrap_err();
        assert!(not_hex.contains("0-9 and letters a-f"), "{not_hex}");
        assert_eq!(format!("{key:?}"), "SealKey(..)");
    }
}
