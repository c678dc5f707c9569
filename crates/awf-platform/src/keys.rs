//! Crypto-shredding: every account has a random 256-bit content key, and every record of the
//! account's content that the platform stores is sealed with it (XChaCha20-Poly1305, a random
//! 192-bit nonce per record, the tree's name and the record's sled key as associated data, so
//! that a sealed value moved to another key, tree or account does not open). Destroying the key
//! makes whatever sled still holds of the account in its segment files (deleted records stay there
//! until sled rewrites the segment) unreadable.
//!
//! The keys are kept **outside** sled, one small file per account:
//! `<data dir>/account-keys/<account id>.key` (32 raw bytes, mode 0600, written to a temporary
//! file, synced, renamed, the directory synced). Destroying a key overwrites its file with zeros,
//! syncs it, unlinks it and syncs the directory.
//!
//! Erasure replaces the key: the new key is written as `<account id>.key.new` first (from then on
//! new records are sealed with it), the records erasure keeps are sealed again with it, then the
//! old key is destroyed and the new one renamed into place. Reading tries both while both exist;
//! a rotation interrupted by a crash is finished when the store opens ([`crate::store::Store::open`]).
//!
//! A value that does not start with [`MAGIC`] is a record written before sealing existed (older
//! development data directories): it is read as it is and sealed when next written.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// The directory of the key files, under the data directory.
pub const KEY_DIR: &str = "account-keys";
/// The first bytes of a sealed value (then the 24-byte nonce, then the ciphertext and its tag).
pub const MAGIC: &[u8; 5] = b"AWFS\x01";
const NONCE_LEN: usize = 24;

/// An account's content key.
pub type Key = [u8; 32];

/// Whether `value` is sealed (else it is a legacy plaintext record).
pub fn is_sealed(value: &[u8]) -> bool {
    value.len() >= MAGIC.len() + NONCE_LEN + 16 && value.starts_with(MAGIC)
}

fn aad(tree: &str, record_key: &[u8]) -> Vec<u8> {
    let mut aad = b"awf-platform sealed record v1\0".to_vec();
    aad.extend_from_slice(tree.as_bytes());
    aad.push(0);
    aad.extend_from_slice(record_key);
    aad
}

/// Seals `plain`, stored under `record_key` in `tree`, with `key`.
pub fn seal(key: &Key, tree: &str, record_key: &[u8], plain: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aead = XChaCha20Poly1305::new(key.into());
    let aad = aad(tree, record_key);
    let ciphertext = aead
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: &aad })
        .expect("XChaCha20-Poly1305 encrypts any length a sled value can have");
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ciphertext.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Opens a value sealed by [`seal`] with one of `keys` (a legacy plaintext value is returned as
/// it is). Fails when no key opens it: another key (a destroyed one), tree, record or account,
/// or altered bytes.
pub fn open(keys: &[Key], tree: &str, record_key: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
    if !is_sealed(value) {
        return Ok(value.to_vec());
    }
    let nonce = XNonce::from_slice(&value[MAGIC.len()..MAGIC.len() + NONCE_LEN]);
    let aad = aad(tree, record_key);
    for key in keys {
        let aead = XChaCha20Poly1305::new(key.into());
        if let Ok(plain) = aead.decrypt(nonce, Payload { msg: &value[MAGIC.len() + NONCE_LEN..], aad: &aad }) {
            return Ok(plain);
        }
    }
    Err(StoreError::Sealed(format!("a record of {tree} does not open with its account's key")))
}

/// A random nonce for an upload file's stream cipher (hex, kept in the sealed upload record).
pub fn new_file_nonce() -> String {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    hex::encode(nonce)
}

/// The XChaCha20 keystream of an upload file, positioned at `offset`: upload files are appended
/// chunk by chunk and their length is the upload's offset, so they are encrypted without
/// expansion (their integrity is the upload's SHA-256, checked when it is whole). The key is
/// derived from the account's key (domain-separated from the record AEAD).
pub fn file_cipher(key: &Key, nonce_hex: &str, offset: u64) -> Result<chacha20::XChaCha20, StoreError> {
    let nonce: [u8; NONCE_LEN] = hex::decode(nonce_hex)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| StoreError::Sealed("an upload's file nonce is not 24 bytes of hex".into()))?;
    let mut h = Sha256::new();
    h.update(b"awf-platform upload file v1\0");
    h.update(key);
    let file_key: [u8; 32] = h.finalize().into();
    let mut cipher = chacha20::XChaCha20::new(&file_key.into(), &nonce.into());
    cipher.try_seek(offset).map_err(|_| StoreError::Sealed("an upload file is too long to seek".into()))?;
    Ok(cipher)
}

/// Applies `cipher` to `bytes` in place (encrypts or decrypts).
pub fn apply(cipher: &mut chacha20::XChaCha20, bytes: &mut [u8]) {
    cipher.apply_keystream(bytes);
}

#[derive(Default, Clone)]
struct Slots {
    current: Option<Key>,
    pending: Option<Key>,
}

/// The key files of the accounts, with a cache of what they hold (the store is used by one
/// process: sled locks it).
pub struct KeyStore {
    dir: PathBuf,
    cache: Mutex<HashMap<String, Slots>>,
}

fn file_name_ok(account: &str) -> bool {
    (1..=128).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        // Not every platform can open a directory.
        Err(_) => Ok(()),
    }
}

fn read_key(path: &Path) -> Result<Option<Key>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(
            bytes
                .try_into()
                .map_err(|_| StoreError::Sealed(format!("{}: a key file holds 32 bytes", path.display())))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Overwrites the file with zeros, syncs it and unlinks it (nothing when it does not exist).
fn destroy_file(path: &Path) -> Result<(), StoreError> {
    let mut file = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let len = file.metadata()?.len() as usize;
    file.write_all(&vec![0u8; len.max(32)])?;
    file.sync_all()?;
    drop(file);
    std::fs::remove_file(path)?;
    Ok(())
}

impl KeyStore {
    pub fn open(data_dir: &Path) -> Result<KeyStore, StoreError> {
        let dir = data_dir.join(KEY_DIR);
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(KeyStore { dir, cache: Mutex::new(HashMap::new()) })
    }

    fn path(&self, account: &str, pending: bool) -> Result<PathBuf, StoreError> {
        if !file_name_ok(account) {
            return Err(StoreError::Sealed("an account id that cannot name a key file".into()));
        }
        Ok(self.dir.join(if pending { format!("{account}.key.new") } else { format!("{account}.key") }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slots>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn slots(&self, cache: &mut HashMap<String, Slots>, account: &str) -> Result<Slots, StoreError> {
        if let Some(s) = cache.get(account) {
            return Ok(s.clone());
        }
        let slots =
            Slots { current: read_key(&self.path(account, false)?)?, pending: read_key(&self.path(account, true)?)? };
        cache.insert(account.to_string(), slots.clone());
        Ok(slots)
    }

    /// Writes a new random key as the account's `.key` or `.key.new` file (temporary file,
    /// synced, renamed, directory synced).
    fn write_new(&self, account: &str, pending: bool) -> Result<Key, StoreError> {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let path = self.path(account, pending)?;
        let tmp = self.dir.join(format!(".{account}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(&key)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)?;
        Ok(key)
    }

    /// The keys a record of the account may be sealed with (none when the account has no key).
    pub fn keys(&self, account: &str) -> Result<Vec<Key>, StoreError> {
        let mut cache = self.lock();
        let s = self.slots(&mut cache, account)?;
        Ok(s.pending.into_iter().chain(s.current).collect())
    }

    /// The key new records of the account are sealed with (the new one during a rotation), if it
    /// has one.
    pub fn sealing_key(&self, account: &str) -> Result<Option<Key>, StoreError> {
        let mut cache = self.lock();
        let s = self.slots(&mut cache, account)?;
        Ok(s.pending.or(s.current))
    }

    /// The sealing key, made now when the account has none.
    pub fn sealing_key_or_create(&self, account: &str) -> Result<Key, StoreError> {
        let mut cache = self.lock();
        let s = self.slots(&mut cache, account)?;
        if let Some(k) = s.pending.or(s.current) {
            return Ok(k);
        }
        let key = self.write_new(account, false)?;
        cache.insert(account.to_string(), Slots { current: Some(key), pending: None });
        Ok(key)
    }

    /// Starts a rotation: writes the new key (`.key.new`), which seals from now on. A rotation
    /// already started keeps its new key.
    pub fn begin_rotation(&self, account: &str) -> Result<Key, StoreError> {
        let mut cache = self.lock();
        let mut s = self.slots(&mut cache, account)?;
        if let Some(k) = s.pending {
            return Ok(k);
        }
        let key = self.write_new(account, true)?;
        s.pending = Some(key);
        cache.insert(account.to_string(), s);
        Ok(key)
    }

    /// Ends a rotation: destroys the old key and renames the new one into its place.
    pub fn finish_rotation(&self, account: &str) -> Result<(), StoreError> {
        let mut cache = self.lock();
        let s = self.slots(&mut cache, account)?;
        let Some(pending) = s.pending else { return Ok(()) };
        destroy_file(&self.path(account, false)?)?;
        std::fs::rename(self.path(account, true)?, self.path(account, false)?)?;
        sync_dir(&self.dir)?;
        cache.insert(account.to_string(), Slots { current: Some(pending), pending: None });
        Ok(())
    }

    /// Destroys every key of the account (cancellation): what remains of its records anywhere
    /// no longer opens.
    pub fn destroy(&self, account: &str) -> Result<(), StoreError> {
        let mut cache = self.lock();
        destroy_file(&self.path(account, true)?)?;
        destroy_file(&self.path(account, false)?)?;
        sync_dir(&self.dir)?;
        cache.remove(account);
        Ok(())
    }

    /// The accounts that have a key file.
    pub fn accounts(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(account) = name.strip_suffix(".key").or_else(|| name.strip_suffix(".key.new")) {
                if !out.iter().any(|a| a == account) {
                    out.push(account.to_string());
                }
            }
        }
        Ok(out)
    }

    /// The accounts with a rotation started and not finished (a crash in the middle).
    pub fn pending_rotations(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some(account) = name.to_str().and_then(|n| n.strip_suffix(".key.new")) {
                out.push(account.to_string());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_only_with_its_key_tree_and_record_key() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        let a = keys.sealing_key_or_create("acc_a").unwrap();
        let b = keys.sealing_key_or_create("acc_b").unwrap();
        assert_ne!(a, b);
        let plain = br#"{"display_name":"MARKER"}"#;
        let sealed = seal(&a, "accounts", b"acc_a", plain);
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(6).any(|w| w == b"MARKER"));
        assert_eq!(open(&keys.keys("acc_a").unwrap(), "accounts", b"acc_a", &sealed).unwrap(), plain);
        // Copied to another account (its key, its record key): it does not authenticate.
        let other = keys.keys("acc_b").unwrap();
        assert!(matches!(open(&other, "accounts", b"acc_a", &sealed), Err(StoreError::Sealed(_))));
        assert!(matches!(open(&other, "accounts", b"acc_b", &sealed), Err(StoreError::Sealed(_))));
        // Moved within the account, to another record or tree: neither.
        assert!(open(&[a], "accounts", b"acc_b", &sealed).is_err());
        assert!(open(&[a], "receipts", b"acc_a", &sealed).is_err());
        // Altered: neither.
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(open(&[a], "accounts", b"acc_a", &altered).is_err());
        // A legacy plaintext record reads as it is.
        assert_eq!(open(&[], "accounts", b"acc_a", plain).unwrap(), plain);
    }

    #[test]
    fn rotation_and_destruction_replace_and_remove_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        let old = keys.sealing_key_or_create("acc_a").unwrap();
        let path = dir.path().join(KEY_DIR).join("acc_a.key");
        assert_eq!(std::fs::read(&path).unwrap(), old);
        let sealed_old = seal(&old, "t", b"k", b"old");
        let new = keys.begin_rotation("acc_a").unwrap();
        assert_eq!(keys.sealing_key("acc_a").unwrap(), Some(new));
        assert_eq!(keys.pending_rotations().unwrap(), ["acc_a"]);
        // Both open while the rotation runs.
        assert_eq!(open(&keys.keys("acc_a").unwrap(), "t", b"k", &sealed_old).unwrap(), b"old");
        keys.finish_rotation("acc_a").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), new);
        assert!(keys.pending_rotations().unwrap().is_empty());
        assert!(open(&keys.keys("acc_a").unwrap(), "t", b"k", &sealed_old).is_err());
        // A fresh store (no cache) reads the same.
        let again = KeyStore::open(dir.path()).unwrap();
        assert_eq!(again.keys("acc_a").unwrap(), [new]);
        keys.destroy("acc_a").unwrap();
        assert!(!path.exists());
        assert!(keys.keys("acc_a").unwrap().is_empty());
        assert!(keys.sealing_key("acc_a").unwrap().is_none());
    }

    #[test]
    fn upload_files_are_encrypted_at_any_offset_without_expansion() {
        let key = [7u8; 32];
        let nonce = new_file_nonce();
        let plain: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut whole = plain.clone();
        apply(&mut file_cipher(&key, &nonce, 0).unwrap(), &mut whole);
        // In two chunks, the second at its offset: the same bytes.
        let (mut a, mut b) = (plain[..333].to_vec(), plain[333..].to_vec());
        apply(&mut file_cipher(&key, &nonce, 0).unwrap(), &mut a);
        apply(&mut file_cipher(&key, &nonce, 333).unwrap(), &mut b);
        assert_eq!([a, b].concat(), whole);
        assert_ne!(whole, plain);
        apply(&mut file_cipher(&key, &nonce, 0).unwrap(), &mut whole);
        assert_eq!(whole, plain);
    }
}
