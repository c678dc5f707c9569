//! Where a profile's data key lives.
//!
//! Two modes, chosen when a profile is created and recorded in `key.json` (which holds no
//! secret in keyring mode, and only a passphrase-wrapped key in passphrase mode):
//! - **keyring**: the key is a credential in the OS keyring (Secret Service, macOS Keychain,
//!   Windows Credential Manager). Missing keyring service → [`CoreError::KeyringUnavailable`]
//!   with a hint; never a silent plaintext fallback.
//! - **passphrase**: the key is sealed with a key derived by Argon2id from the passphrase.
//!
//! Destroying the key (keyring entry or `key.json`) makes the store unreadable: that is the
//! crypto-shred used by account cancellation.

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::crypto::Cipher;
use crate::error::{CoreError, Result};
use crate::secret::{DataKey, SecretString};

/// The keyring service name under which Studio keeps its credentials.
pub const KEYRING_SERVICE: &str = "ai.aiwellflow.studio";

/// A place that holds data keys by name. The OS keyring in the product; an in-memory
/// double exists only for unit tests.
pub trait KeyVault: Send + Sync {
    /// Reads a key; `Ok(None)` when no entry exists.
    fn get(&self, name: &str) -> Result<Option<DataKey>>;
    /// Stores a key, replacing any previous one.
    fn put(&self, name: &str, key: &DataKey) -> Result<()>;
    /// Deletes a key or secret; deleting a missing entry is not an error.
    fn delete(&self, name: &str) -> Result<()>;
    /// Reads a secret string (a token); `Ok(None)` when no entry exists.
    fn get_secret(&self, name: &str) -> Result<Option<SecretString>>;
    /// Stores a secret string, replacing any previous one.
    fn put_secret(&self, name: &str, value: &SecretString) -> Result<()>;
}

/// Windows caps a credential blob at 2,560 bytes; longer secrets are split into numbered parts
/// (`name#1`, `name#2`, …) with a header entry `name` = `awf-parts:N`, never truncated.
const SECRET_PART_BYTES: usize = 2_000;
const PARTS_PREFIX: &str = "awf-parts:";

/// The OS keyring, through the `keyring` crate with its platform stores enabled.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

fn keyring_error(e: keyring::Error) -> CoreError {
    CoreError::KeyringUnavailable { detail: e.to_string() }
}

fn keyring_get_password(name: &str) -> Result<Option<zeroize::Zeroizing<String>>> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)?;
    match entry.get_password() {
        Ok(v) => Ok(Some(zeroize::Zeroizing::new(v))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(e)),
    }
}

fn keyring_set_password(name: &str, value: &str) -> Result<()> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)?;
    entry.set_password(value).map_err(keyring_error)
}

fn keyring_delete(name: &str) -> Result<()> {
    let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error(e)),
    }
}

/// Splits a secret into keyring-sized parts on character boundaries.
pub(crate) fn split_secret(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = value;
    while rest.len() > SECRET_PART_BYTES {
        let mut cut = SECRET_PART_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head);
        rest = tail;
    }
    parts.push(rest);
    parts
}

impl KeyVault for OsKeyring {
    fn get_secret(&self, name: &str) -> Result<Option<SecretString>> {
        let Some(head) = keyring_get_password(name)? else { return Ok(None) };
        let Some(n) = head.strip_prefix(PARTS_PREFIX) else {
            return Ok(Some(SecretString::new(head.to_string())));
        };
        let n: usize = n.parse().map_err(|_| CoreError::Corrupt {
            detail: format!("the keyring entry `{name}` has a malformed part count"),
        })?;
        let mut whole = zeroize::Zeroizing::new(String::new());
        for i in 1..=n {
            let part = keyring_get_password(&format!("{name}#{i}"))?.ok_or_else(|| CoreError::Corrupt {
                detail: format!("part {i} of {n} of the keyring entry `{name}` is missing"),
            })?;
            whole.push_str(&part);
        }
        Ok(Some(SecretString::new(whole.to_string())))
    }

    fn put_secret(&self, name: &str, value: &SecretString) -> Result<()> {
        let old_parts = keyring_get_password(name)?
            .and_then(|h| h.strip_prefix(PARTS_PREFIX).and_then(|n| n.parse::<usize>().ok()))
            .unwrap_or(0);
        let parts = split_secret(value.expose());
        let new_parts = if parts.len() == 1 && !value.expose().starts_with(PARTS_PREFIX) {
            keyring_set_password(name, value.expose())?;
            0
        } else {
            for (i, part) in parts.iter().enumerate() {
                keyring_set_password(&format!("{name}#{}", i + 1), part)?;
            }
            keyring_set_password(name, &format!("{PARTS_PREFIX}{}", parts.len()))?;
            parts.len()
        };
        // Parts of a longer previous value are removed only once the new value is in place.
        for i in new_parts + 1..=old_parts {
            keyring_delete(&format!("{name}#{i}"))?;
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<DataKey>> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)?;
        match entry.get_secret() {
            Ok(bytes) => {
                let raw = B64.decode(&bytes).map_err(|_| CoreError::Corrupt {
                    detail: "the keyring entry for the store key is not base64".into(),
                })?;
                DataKey::from_slice(&raw).map(Some).ok_or_else(|| CoreError::Corrupt {
                    detail: "the keyring entry for the store key has the wrong length".into(),
                })
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn put(&self, name: &str, key: &DataKey) -> Result<()> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, name).map_err(keyring_error)?;
        let encoded = zeroize::Zeroizing::new(B64.encode(key.expose()));
        entry.set_secret(encoded.as_bytes()).map_err(keyring_error)?;
        // Read back: a backend that accepted the write but cannot return it would lose the store.
        match entry.get_secret() {
            Ok(back) if back == encoded.as_bytes() => Ok(()),
            Ok(_) => Err(CoreError::KeyringUnavailable {
                detail: "the keyring returned a different value than was stored".into(),
            }),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn delete(&self, name: &str) -> Result<()> {
        if let Some(head) = keyring_get_password(name).ok().flatten() {
            if let Some(n) = head.strip_prefix(PARTS_PREFIX).and_then(|n| n.parse::<usize>().ok()) {
                for i in 1..=n {
                    keyring_delete(&format!("{name}#{i}"))?;
                }
            }
        }
        keyring_delete(name)
    }
}

/// `key.json`: how this profile's data key is held. Contains no usable secret.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub(crate) enum KeyFile {
    Keyring { version: u32, profile_id: String },
    Passphrase { version: u32, profile_id: String, kdf: KdfParams, salt: String, wrapped_key: String },
}

/// Argon2id parameters, recorded so that they can be raised later without locking anyone out.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane).
    pub const DEFAULT: KdfParams = KdfParams { m_cost_kib: 19 * 1024, t_cost: 2, p_cost: 1 };
}

impl KeyFile {
    pub(crate) fn profile_id(&self) -> &str {
        match self {
            KeyFile::Keyring { profile_id, .. } | KeyFile::Passphrase { profile_id, .. } => profile_id,
        }
    }
}

/// The keyring entry name for a profile's store key.
pub(crate) fn entry_name(profile_id: &str) -> String {
    format!("store-key/{profile_id}")
}

fn derive_kek(pass: &SecretString, salt: &[u8], p: KdfParams) -> Result<DataKey> {
    let params = Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32))
        .map_err(|e| CoreError::Corrupt { detail: format!("key.json has invalid Argon2 parameters: {e}") })?;
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pass.expose().as_bytes(), salt, out.as_mut())
        .map_err(|e| CoreError::Corrupt { detail: format!("Argon2id failed: {e}") })?;
    Ok(DataKey::from_slice(out.as_ref()).expect("32 bytes"))
}

const WRAP_TREE: &str = "key.json";

/// Wraps a fresh data key with a passphrase.
pub(crate) fn wrap_with_passphrase(profile_id: String, key: &DataKey, pass: &SecretString) -> Result<KeyFile> {
    validate_passphrase(pass)?;
    use rand::RngCore;
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let kdf = KdfParams::DEFAULT;
    let kek = derive_kek(pass, &salt, kdf)?;
    let wrapped = Cipher::new(&kek).seal(WRAP_TREE, profile_id.as_bytes(), key.expose());
    Ok(KeyFile::Passphrase { version: 1, profile_id, kdf, salt: B64.encode(salt), wrapped_key: B64.encode(wrapped) })
}

/// Unwraps the data key of a passphrase-mode profile.
pub(crate) fn unwrap_with_passphrase(file: &KeyFile, pass: &SecretString) -> Result<DataKey> {
    let KeyFile::Passphrase { profile_id, kdf, salt, wrapped_key, .. } = file else {
        return Err(CoreError::Corrupt { detail: "key.json is not in passphrase mode".into() });
    };
    let bad = || CoreError::Corrupt { detail: "key.json is not valid base64".into() };
    let salt = B64.decode(salt).map_err(|_| bad())?;
    let wrapped = B64.decode(wrapped_key).map_err(|_| bad())?;
    let kek = derive_kek(pass, &salt, *kdf)?;
    let raw =
        Cipher::new(&kek).open(WRAP_TREE, profile_id.as_bytes(), &wrapped).map_err(|_| CoreError::WrongPassphrase)?;
    DataKey::from_slice(&raw)
        .ok_or_else(|| CoreError::Corrupt { detail: "the wrapped key has the wrong length".into() })
}

/// A passphrase must be long enough to resist offline guessing of `key.json`.
pub fn validate_passphrase(pass: &SecretString) -> Result<()> {
    if pass.expose().chars().count() < 8 {
        return Err(CoreError::invalid("passphrase", "must be at least 8 characters"));
    }
    Ok(())
}

pub(crate) fn read_key_file(path: &Path) -> Result<Option<KeyFile>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CoreError::Corrupt { detail: format!("{}: {e}", path.display()) }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CoreError::io("reading key.json", path, e)),
    }
}

/// Writes `key.json` atomically: temporary file, fsync, rename, fsync of the directory.
pub(crate) fn write_key_file(path: &Path, file: &KeyFile) -> Result<()> {
    let dir = path.parent().expect("key.json has a parent directory");
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(file).expect("KeyFile serialises");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    };
    write().map_err(|e| CoreError::io("writing key.json", dir, e))
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// An in-memory vault for unit tests only; the product and integration tests use the OS keyring.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemoryVault(std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>);

#[cfg(test)]
impl KeyVault for MemoryVault {
    fn get(&self, name: &str) -> Result<Option<DataKey>> {
        Ok(self.0.lock().unwrap().get(name).map(|k| DataKey::from_slice(k).unwrap()))
    }
    fn put(&self, name: &str, key: &DataKey) -> Result<()> {
        self.0.lock().unwrap().insert(name.to_string(), key.expose().to_vec());
        Ok(())
    }
    fn get_secret(&self, name: &str) -> Result<Option<SecretString>> {
        Ok(self.0.lock().unwrap().get(name).map(|v| SecretString::new(String::from_utf8(v.clone()).unwrap())))
    }
    fn put_secret(&self, name: &str, value: &SecretString) -> Result<()> {
        self.0.lock().unwrap().insert(name.to_string(), value.expose().as_bytes().to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.0.lock().unwrap().remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_secrets_split_on_char_boundaries_and_rejoin() {
        let long = "令牌".repeat(1_500) + "tail";
        let parts = split_secret(&long);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= SECRET_PART_BYTES));
        assert_eq!(parts.concat(), long);
        assert_eq!(split_secret("short"), vec!["short"]);
    }

    #[test]
    fn passphrase_wrap_round_trip_and_wrong_passphrase() {
        let key = DataKey::random();
        let pass = SecretString::new("correct horse battery".into());
        let file = wrap_with_passphrase("p1".into(), &key, &pass).unwrap();
        let json = serde_json::to_string(&file).unwrap();
        assert!(!json.contains("correct horse"));
        let back = unwrap_with_passphrase(&file, &pass).unwrap();
        assert_eq!(back.expose(), key.expose());
        let err = unwrap_with_passphrase(&file, &SecretString::new("wrong passphrase".into())).unwrap_err();
        assert!(matches!(err, CoreError::WrongPassphrase));
    }

    #[test]
    fn short_passphrase_is_refused() {
        let err = wrap_with_passphrase("p".into(), &DataKey::random(), &SecretString::new("short".into())).unwrap_err();
        assert!(matches!(err, CoreError::Invalid { .. }));
    }
}
