//! Crypto-shredding a profile (D8, account cancellation): the data key is destroyed first, so
//! that whatever a later step fails to delete (a file the OS still holds, a backup of the disk)
//! is sealed under a key that no longer exists; then every keyring entry of the profile is
//! deleted and every file of its data directory removed, the directory last.
//!
//! The order, and what survives a crash:
//!
//! 1. `shred.pending` is written (and synced) with the names of every keyring entry of the
//!    profile: from here on the profile is being destroyed, whatever happens;
//! 2. the data key is destroyed: the keyring entry `store-key/<profile id>`, or, for a
//!    passphrase profile, `key.json` overwritten with zeros, synced and removed;
//! 3. the profile's other keyring entries (tokens, cookies, plugin secrets, …) are deleted;
//! 4. the store is closed and every file of the directory removed, then the marker, the lock
//!    file and the directory itself.
//!
//! A process killed between 1 and 4 leaves the marker: the next [`Profile::open`] of that
//! directory finishes the job (steps 2–4 from the marker's list) before it creates a new, empty
//! profile, so a cancelled account never comes back.
//!
//! Secret names are not secrets (`platform-tokens/<profile id>`): the marker holds names only.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{CoreError, Result};
use crate::keys::{self, KeyFile, KeyVault};
use crate::profile::{KeyMode, Profile};
use crate::storage::{Batch, Tree};

/// The marker of a shred in progress.
pub const SHRED_MARKER: &str = "shred.pending";

/// Where the names of the profile's keyring secrets are registered (meta tree), so that a
/// shred finds every one of them.
pub(crate) const SECRET_NAMES_PREFIX: &str = "secret-names/";

/// What a shred did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShredReport {
    /// The profile that was destroyed.
    pub profile_id: String,
    /// Time from the start to the moment the data key no longer existed, in microseconds.
    pub key_destroyed_after_us: u64,
    /// Time for the whole shred, in microseconds.
    pub total_us: u64,
    /// Keyring entries deleted (the data key included; 0 for a passphrase profile's key).
    pub keyring_entries_deleted: u32,
    /// Files removed from the data directory, and their bytes.
    pub files_removed: u64,
    pub bytes_removed: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    profile_id: String,
    /// Full keyring entry names (the data key's included).
    keyring_entries: Vec<String>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Profile {
    /// Registers a keyring secret's name, so that [`Profile::shred`] deletes it.
    pub(crate) fn register_secret_name(&self, name: &str) -> Result<()> {
        let mut b = Batch::default();
        b.put(Tree::Meta, format!("{SECRET_NAMES_PREFIX}{name}"), Vec::new());
        self.storage().commit(b)
    }

    /// The names of the profile's secrets that a shred deletes: every registered one, every
    /// plugin's, and `also` (names the layers above know, for secrets stored before names were
    /// registered).
    fn secret_names(&self, also: &[&str]) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .storage()
            .keys_prefix(Tree::Meta, SECRET_NAMES_PREFIX.as_bytes())?
            .into_iter()
            .map(|k| String::from_utf8_lossy(&k[SECRET_NAMES_PREFIX.len()..]).into_owned())
            .collect();
        names.extend(self.plugins().list()?.iter().map(|p| crate::plugins::secret_name(&p.id)));
        names.extend(also.iter().map(|s| s.to_string()));
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Destroys this profile: its data key first, then its keyring entries and every file of its
    /// data directory (see the module documentation for the order and crash behaviour).
    /// `also_secrets` are secret names (as given to [`Profile::put_secret`]) to delete besides
    /// the registered ones. Irreversible.
    pub fn shred(self, also_secrets: &[&str]) -> Result<ShredReport> {
        let started = Instant::now();
        let dir = self.data_dir().to_path_buf();
        let profile_id = self.profile_id().to_string();
        let mut entries = vec![keys::entry_name(&profile_id)];
        if self.key_mode() == KeyMode::Keyring {
            // In passphrase mode the secrets are sealed in the store: they go with its key.
            entries.extend(self.secret_names(also_secrets)?.iter().map(|n| format!("{n}/{profile_id}")));
        }
        write_marker(&dir, &Marker { profile_id: profile_id.clone(), keyring_entries: entries.clone() })?;

        let (vault, lock) = self.into_parts();
        let key_entries = destroy_key(&dir, vault.as_ref(), &entries[0])?;
        let key_destroyed_after_us = micros(started.elapsed());
        let mut deleted = key_entries;
        for name in &entries[1..] {
            vault.delete(name)?;
            deleted += 1;
        }
        let (files_removed, bytes_removed) = remove_dir_contents(&dir, &[SHRED_MARKER, "studio.lock"])?;
        remove_file(&dir.join(SHRED_MARKER))?;
        drop(lock);
        remove_file(&dir.join("studio.lock"))?;
        std::fs::remove_dir(&dir).map_err(|e| CoreError::io("removing the data directory", &dir, e))?;
        Ok(ShredReport {
            profile_id,
            key_destroyed_after_us,
            total_us: micros(started.elapsed()),
            keyring_entries_deleted: deleted,
            files_removed: files_removed + 2,
            bytes_removed,
        })
    }
}

/// Finishes a shred that a killed process left behind in `dir` (its lock held by the caller):
/// the key and the keyring entries named in the marker, then every file but the lock.
/// `Ok(false)` when there was none.
pub(crate) fn finish_pending(dir: &Path, vault: &dyn KeyVault) -> Result<bool> {
    let marker_path = dir.join(SHRED_MARKER);
    let text = match std::fs::read(&marker_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(CoreError::io("reading the shred marker", &marker_path, e)),
    };
    // An unreadable marker still means "destroy": only the keyring entries are then unknown
    // beyond the data key named in key.json.
    let marker: Option<Marker> = serde_json::from_slice(&text).ok();
    let mut entries = marker.map(|m| m.keyring_entries).unwrap_or_default();
    if let Ok(Some(file)) = keys::read_key_file(&dir.join("key.json")) {
        entries.push(keys::entry_name(file.profile_id()));
    }
    entries.sort();
    entries.dedup();
    let key_name = entries.iter().find(|e| e.starts_with("store-key/")).cloned();
    if let Some(key_name) = key_name {
        destroy_key(dir, vault, &key_name)?;
    }
    for name in &entries {
        vault.delete(name)?;
    }
    remove_dir_contents(dir, &[SHRED_MARKER, "studio.lock"])?;
    remove_file(&marker_path)?;
    Ok(true)
}

fn write_marker(dir: &Path, marker: &Marker) -> Result<()> {
    let path = dir.join(SHRED_MARKER);
    let json = serde_json::to_vec(marker).expect("a marker serialises");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&path)?;
        f.write_all(&json)?;
        f.sync_all()?;
        keys::sync_dir(dir)
    };
    write().map_err(|e| CoreError::io("writing the shred marker", &path, e))
}

/// Destroys the data key: the keyring entry (keyring profiles) and `key.json`, overwritten with
/// zeros and synced before it is removed (for a passphrase profile it holds the wrapped key).
/// Returns the keyring entries deleted (1 for a keyring profile).
fn destroy_key(dir: &Path, vault: &dyn KeyVault, key_entry: &str) -> Result<u32> {
    let path = dir.join("key.json");
    let keyring = matches!(keys::read_key_file(&path), Ok(Some(KeyFile::Keyring { .. })));
    vault.delete(key_entry)?;
    if let Ok(meta) = std::fs::metadata(&path) {
        let wipe = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
            f.write_all(&vec![0u8; usize::try_from(meta.len()).unwrap_or(0)])?;
            f.sync_all()
        };
        wipe().map_err(|e| CoreError::io("overwriting the key file", &path, e))?;
        remove_file(&path)?;
        keys::sync_dir(dir).map_err(|e| CoreError::io("syncing the data directory", dir, e))?;
    }
    Ok(u32::from(keyring))
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CoreError::io("removing a profile file", path, e)),
    }
}

/// Removes everything in `dir` except the top-level names in `keep`; returns files and bytes.
fn remove_dir_contents(dir: &Path, keep: &[&str]) -> Result<(u64, u64)> {
    let mut files = 0u64;
    let mut bytes = 0u64;
    fn walk(p: &Path, files: &mut u64, bytes: &mut u64) {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path(), files, bytes),
                    _ => {
                        *files += 1;
                        *bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                    }
                }
            }
        }
    }
    let read = std::fs::read_dir(dir).map_err(|e| CoreError::io("listing the data directory", dir, e))?;
    let mut doomed: Vec<PathBuf> = Vec::new();
    for e in read {
        let e = e.map_err(|e| CoreError::io("listing the data directory", dir, e))?;
        if keep.iter().any(|k| e.file_name() == *k) {
            continue;
        }
        doomed.push(e.path());
    }
    for p in doomed {
        let is_dir = std::fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir {
            walk(&p, &mut files, &mut bytes);
            std::fs::remove_dir_all(&p).map_err(|e| CoreError::io("removing profile files", &p, e))?;
        } else {
            files += 1;
            bytes += std::fs::symlink_metadata(&p).map(|m| m.len()).unwrap_or(0);
            remove_file(&p)?;
        }
    }
    Ok((files, bytes))
}
