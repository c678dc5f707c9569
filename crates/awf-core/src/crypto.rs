//! Record sealing: XChaCha20-Poly1305 with a random 192-bit nonce per write. The associated data
//! binds every value to its tree and key, so a value moved to another record fails to open.
//!
//! Sealed layout: `[format version = 1][24-byte nonce][ciphertext + 16-byte tag]`.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::secret::DataKey;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// Seals and opens record values with one data key.
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

/// Opening failed: wrong key, tampered value, or a value moved between records.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value failed authentication")]
pub struct OpenError;

impl Cipher {
    pub fn new(key: &DataKey) -> Self {
        Cipher { aead: XChaCha20Poly1305::new(key.expose().into()) }
    }

    fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(8 + tree.len() + key.len());
        aad.extend_from_slice(b"awf/v1\0");
        aad.extend_from_slice(tree.as_bytes());
        aad.push(0);
        aad.extend_from_slice(key);
        aad
    }

    /// Seals `plaintext` as the value of `key` in `tree`.
    pub fn seal(&self, tree: &str, key: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(tree, key);
        let ct = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens a value sealed by [`Cipher::seal`] for the same tree and key.
    pub fn open(&self, tree: &str, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != FORMAT_V1 {
            return Err(OpenError);
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        let aad = Self::aad(tree, key);
        self.aead.decrypt(nonce, Payload { msg: &sealed[1 + NONCE_LEN..], aad: &aad }).map_err(|_| OpenError)
    }

    /// Opens, inside `buf` itself, a value sealed by [`Cipher::seal`] for the same tree and key,
    /// and returns where the plaintext now is in `buf`. Allocates nothing: large values (dataset
    /// pieces) are read into one reused buffer.
    pub fn open_in_place(&self, tree: &str, key: &[u8], buf: &mut [u8]) -> Result<std::ops::Range<usize>, OpenError> {
        if buf.len() < 1 + NONCE_LEN + 16 || buf[0] != FORMAT_V1 {
            return Err(OpenError);
        }
        let aad = Self::aad(tree, key);
        let (head, body) = buf.split_at_mut(1 + NONCE_LEN);
        let (ct, tag) = body.split_at_mut(body.len() - 16);
        self.aead
            .decrypt_in_place_detached(XNonce::from_slice(&head[1..]), &aad, ct, Tag::from_slice(tag))
            .map_err(|_| OpenError)?;
        Ok(1 + NONCE_LEN..buf.len() - 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..2048), key in proptest::collection::vec(any::<u8>(), 0..40)) {
            let c = Cipher::new(&DataKey::random());
            let sealed = c.seal("agents", &key, &data);
            prop_assert_eq!(c.open("agents", &key, &sealed).unwrap(), data.clone());
            let mut buf = sealed.clone();
            let at = c.open_in_place("agents", &key, &mut buf).unwrap();
            prop_assert_eq!(&buf[at], &data[..]);
        }
    }

    #[test]
    fn value_is_bound_to_its_record() {
        let c = Cipher::new(&DataKey::random());
        let sealed = c.seal("agents", b"a1", b"secret instructions");
        assert!(c.open("agents", b"a2", &sealed).is_err(), "moved to another key");
        assert!(c.open("revisions", b"a1", &sealed).is_err(), "moved to another tree");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(c.open("agents", b"a1", &tampered).is_err(), "tampered");
        assert!(c.open_in_place("agents", b"a1", &mut tampered.clone()).is_err(), "tampered, in place");
        assert!(c.open_in_place("agents", b"a2", &mut sealed.clone()).is_err(), "moved, in place");
        assert!(c.open_in_place("agents", b"a1", &mut sealed[..sealed.len() - 1].to_vec()).is_err(), "truncated");
        assert!(Cipher::new(&DataKey::random()).open("agents", b"a1", &sealed).is_err(), "other key");
        assert!(!sealed.windows(6).any(|w| w == b"secret"), "plaintext visible");
    }
}
