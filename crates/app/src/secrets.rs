//! Secrets that wait in the database for a sender (a temporary password in the outbox) are
//! sealed: encrypted and authenticated with ChaCha20-Poly1305 under the server's key, so a
//! copy of the database alone gives no account away. The key comes from the configuration
//! (`LIBRARY_SECRET_KEY`) or a key file beside the database (`library-setup`).
//!
//! A sealed text is `v1:` and the base64 of a fresh 12-byte nonce followed by the
//! ciphertext and its tag. Opening fails, and says nothing more, for a text sealed under
//! another key, altered in any byte, or not sealed at all.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use library_credentials::PortError;

/// The length of a key, in bytes.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const PREFIX: &str = "v1:";

/// Seals and opens secrets under one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    /// A box under `key`.
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        SecretBox {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    /// A fresh random key.
    pub fn generate_key() -> Result<[u8; KEY_LEN], PortError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key)
            .map_err(|e| PortError::Failed(format!("no randomness for a key: {e}")))?;
        Ok(key)
    }

    /// A key as written in the configuration or the key file: base64 of 32 bytes.
    pub fn parse_key(text: &str) -> Option<[u8; KEY_LEN]> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        bytes.try_into().ok()
    }

    /// The text form of `key` ([`SecretBox::parse_key`] reads it back).
    pub fn key_text(key: &[u8; KEY_LEN]) -> String {
        STANDARD.encode(key)
    }

    /// `secret` sealed under this box's key, with a fresh nonce.
    pub fn seal(&self, secret: &str) -> Result<String, PortError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| PortError::Failed(format!("no randomness for a nonce: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), secret.as_bytes())
            .map_err(|_| PortError::Failed("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// The secret `sealed` holds; `None` if it was not sealed under this key or was
    /// altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_under_its_key_only_and_never_shows() {
        let key = SecretBox::generate_key().unwrap();
        let sealer = SecretBox::new(key);
        let sealed = sealer.seal("Kite-Lamp-73xQ").unwrap();
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains("Kite-Lamp-73xQ"));
        assert_eq!(sealer.open(&sealed).as_deref(), Some("Kite-Lamp-73xQ"));
        // A fresh nonce each time: the same secret never seals the same way twice.
        assert_ne!(sealed, sealer.seal("Kite-Lamp-73xQ").unwrap());
        // Another key, an altered byte, a text never sealed: nothing.
        let other = SecretBox::new(SecretBox::generate_key().unwrap());
        assert_eq!(other.open(&sealed), None);
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(sealer.open(&String::from_utf8(altered).unwrap()), None);
        assert_eq!(sealer.open("Kite-Lamp-73xQ"), None);
        assert_eq!(sealer.open("v1:"), None);
        assert_eq!(sealer.open("v1:!!"), None);
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        let key = [9u8; KEY_LEN];
        let text = SecretBox::key_text(&key);
        assert_eq!(SecretBox::parse_key(&text), Some(key));
        assert_eq!(SecretBox::parse_key(&format!(" {text}\n")), Some(key));
        assert_eq!(SecretBox::parse_key(&STANDARD.encode([9u8; 31])), None);
        assert_eq!(SecretBox::parse_key("not base64"), None);
        assert_eq!(format!("{:?}", SecretBox::new(key)), "SecretBox(…)");
    }
}
