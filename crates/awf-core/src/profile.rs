//! A profile: one data directory holding `studio.lock`, `key.json`, the sled store under
//! `store/` and dataset text as sealed files under `datasets/`. Opening takes the lock, obtains
//! the data key, opens the store, checks that the key matches, migrates the schema and removes
//! the text files of datasets that do not exist.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::agents::Agents;
use crate::consent::Consents;
use crate::error::{CoreError, Result};
use crate::keys::{self, KeyFile, KeyVault, OsKeyring};
use crate::lock::ProfileLock;
use crate::migrate;
use crate::secret::{DataKey, SecretString};
use crate::settings::Settings;
use crate::storage::{Batch, Storage, Tree};
use crate::transmissions::Transmissions;

const KEY_CHECK: &[u8] = b"key_check";
const KEY_CHECK_VALUE: &[u8] = b"aiwellflow-studio";

/// How to open a profile.
pub struct OpenOptions {
    pub data_dir: PathBuf,
    /// Required to open a passphrase-mode profile; when creating a profile, selects passphrase mode.
    pub passphrase: Option<SecretString>,
    pub vault: Arc<dyn KeyVault>,
}

impl OpenOptions {
    /// Keyring mode with the OS keyring.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        OpenOptions { data_dir: data_dir.into(), passphrase: None, vault: Arc::new(OsKeyring) }
    }

    pub fn passphrase(mut self, pass: Option<SecretString>) -> Self {
        self.passphrase = pass;
        self
    }

    pub fn vault(mut self, vault: Arc<dyn KeyVault>) -> Self {
        self.vault = vault;
        self
    }
}

/// How the data key of a profile is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    Keyring,
    Passphrase,
}

/// What is known about a data directory without opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// No profile yet.
    Empty,
    /// A profile whose key is in the keyring.
    Keyring,
    /// A profile whose key is wrapped by a passphrase.
    Passphrase,
}

/// What [`Profile::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PurgeReport {
    pub transmissions: u64,
    pub telemetry: u64,
}

/// One category of local data (D5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LocalCategory {
    pub category: String,
    pub count: u64,
    /// Sealed bytes in the store (0 for keyring items).
    pub bytes: u64,
    /// Where it lives.
    pub location: String,
    pub retention: String,
}

/// How long opening a profile waits for a process that holds it to let go (one that was just
/// closed may still be exiting).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// An open profile. Dropping it releases the lock.
pub struct Profile {
    dir: PathBuf,
    storage: Storage,
    key_mode: KeyMode,
    profile_id: String,
    migrated_from: Option<u32>,
    agent_state: crate::agents::AgentState,
    log_state: crate::transmissions::LogState,
    telemetry_ids: std::sync::Mutex<ulid::Generator>,
    /// Keyring secrets read or written by this process (absent ones too). One process holds a
    /// profile (its lock), so nothing else changes them meanwhile; without the cache every
    /// platform request opened a D-Bus connection to the Secret Service (13 ms of 15 ms per
    /// synced change). Values are zeroised when replaced or dropped.
    secret_cache: std::sync::Mutex<std::collections::HashMap<String, Option<SecretString>>>,
    vault: Arc<dyn KeyVault>,
    _lock: ProfileLock,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile").field("dir", &self.dir).field("key_mode", &self.key_mode).finish_non_exhaustive()
    }
}

impl Profile {
    /// Looks at `key.json` only; takes no lock.
    pub fn probe(dir: &Path) -> Result<Probe> {
        Ok(match keys::read_key_file(&dir.join("key.json"))? {
            None => Probe::Empty,
            Some(KeyFile::Keyring { .. }) => Probe::Keyring,
            Some(KeyFile::Passphrase { .. }) => Probe::Passphrase,
        })
    }

    /// Opens the profile in `opts.data_dir`, creating it when the directory holds none.
    pub fn open(opts: OpenOptions) -> Result<Profile> {
        let dir = opts.data_dir;
        std::fs::create_dir_all(&dir).map_err(|e| CoreError::io("creating the data directory", &dir, e))?;
        let lock = ProfileLock::acquire_waiting(&dir, LOCK_WAIT)?;
        // A cancelled account's profile whose shred was interrupted is finished off first.
        crate::shred::finish_pending(&dir, opts.vault.as_ref())?;
        let key_path = dir.join("key.json");
        let store_path = dir.join("store");
        let (file, key, is_new) = match keys::read_key_file(&key_path)? {
            Some(file) => {
                let key = match &file {
                    KeyFile::Keyring { profile_id, .. } => {
                        opts.vault.get(&keys::entry_name(profile_id))?.ok_or(CoreError::KeyMissing)?
                    }
                    KeyFile::Passphrase { .. } => {
                        let pass = opts.passphrase.as_ref().ok_or(CoreError::PassphraseRequired)?;
                        keys::unwrap_with_passphrase(&file, pass)?
                    }
                };
                let is_new = !store_path.exists();
                (file, key, is_new)
            }
            None => {
                if store_path.exists() {
                    return Err(CoreError::Corrupt {
                        detail: format!(
                            "{} exists but key.json is missing: the store cannot be read",
                            store_path.display()
                        ),
                    });
                }
                let profile_id = ulid::Ulid::new().to_string();
                let key = DataKey::random();
                let file = match &opts.passphrase {
                    Some(pass) => keys::wrap_with_passphrase(profile_id, &key, pass)?,
                    None => {
                        opts.vault.put(&keys::entry_name(&profile_id), &key)?;
                        KeyFile::Keyring { version: 1, profile_id }
                    }
                };
                keys::write_key_file(&key_path, &file)?;
                (file, key, true)
            }
        };
        let key_mode = match file {
            KeyFile::Keyring { .. } => KeyMode::Keyring,
            KeyFile::Passphrase { .. } => KeyMode::Passphrase,
        };
        let storage = Storage::open(&store_path, &key)?;
        match storage.get(Tree::Meta, KEY_CHECK) {
            Ok(Some(v)) if v == KEY_CHECK_VALUE => {}
            Ok(None) if is_new || storage.len(Tree::Meta) == 0 => {
                let mut b = Batch::default();
                b.put(Tree::Meta, KEY_CHECK, KEY_CHECK_VALUE.to_vec());
                storage.commit(b)?;
            }
            Ok(_) => {
                return Err(CoreError::Corrupt { detail: "the store's key check record is missing or wrong".into() })
            }
            Err(CoreError::Corrupt { .. }) => {
                return Err(CoreError::Corrupt {
                    detail: "the key does not open this store (was the keyring entry replaced?)".into(),
                })
            }
            Err(e) => return Err(e),
        }
        let found = migrate::run(&storage, is_new)?;
        // Nothing can be importing yet: text files of datasets that do not exist are left-overs.
        crate::datasets::remove_orphans(&storage);
        Ok(Profile {
            dir,
            storage,
            key_mode,
            profile_id: file.profile_id().to_string(),
            migrated_from: (found < migrate::SCHEMA_VERSION).then_some(found),
            agent_state: Default::default(),
            log_state: Default::default(),
            telemetry_ids: std::sync::Mutex::new(ulid::Generator::new()),
            secret_cache: Default::default(),
            vault: opts.vault,
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Closes the store and returns what a shred still needs: the vault and the lock.
    pub(crate) fn into_parts(self) -> (Arc<dyn KeyVault>, ProfileLock) {
        let Profile { storage, vault, _lock, .. } = self;
        drop(storage);
        (vault, _lock)
    }

    pub fn key_mode(&self) -> KeyMode {
        self.key_mode
    }

    /// The random id of this profile (names its keyring entries).
    pub fn profile_id(&self) -> &str {
        &self.profile_id
    }

    /// The schema version this open migrated from, if it migrated.
    pub fn migrated_from(&self) -> Option<u32> {
        self.migrated_from
    }

    /// The schema version of the store.
    pub fn schema_version() -> u32 {
        migrate::SCHEMA_VERSION
    }

    /// Agent operations.
    pub fn agents(&self) -> Agents<'_> {
        Agents { storage: &self.storage, state: &self.agent_state }
    }

    /// The sync outbox, per-item sync state and history.
    pub fn sync(&self) -> crate::sync::Sync<'_> {
        crate::sync::Sync { storage: &self.storage }
    }

    /// Plugins of this profile (B2).
    pub fn plugins(&self) -> crate::plugins::Plugins<'_> {
        crate::plugins::Plugins { storage: &self.storage, profile: self }
    }

    /// Datasets of this profile (B3).
    pub fn datasets(&self) -> crate::datasets::Datasets<'_> {
        crate::datasets::Datasets { storage: &self.storage, profile: self }
    }

    /// Tables of this profile (B3).
    pub fn tables(&self) -> crate::tables::Tables<'_> {
        crate::tables::Tables { storage: &self.storage, profile: self }
    }

    /// Search and the local search history (B4).
    pub fn search(&self) -> crate::search::Search<'_> {
        crate::search::Search { storage: &self.storage, profile: self }
    }

    /// Bytes the store occupies on disk.
    pub fn store_size(&self) -> u64 {
        self.storage.size_on_disk()
    }

    /// Consent state per purpose.
    pub fn consents(&self) -> Consents<'_> {
        Consents { storage: &self.storage }
    }

    /// The telemetry queue.
    pub fn telemetry(&self) -> crate::telemetry::Telemetry<'_> {
        crate::telemetry::Telemetry { storage: &self.storage, consents: self.consents(), ids: &self.telemetry_ids }
    }

    /// The deletion ledger (D7).
    pub fn deletions(&self) -> crate::receipts::DeletionLedger<'_> {
        crate::receipts::DeletionLedger { storage: &self.storage }
    }

    /// The transmission log.
    pub fn transmissions(&self) -> Transmissions<'_> {
        Transmissions { storage: &self.storage, state: &self.log_state }
    }

    /// The profile's settings.
    pub fn settings(&self) -> Result<Settings> {
        crate::settings::load(&self.storage)
    }

    /// Saves the profile's settings.
    pub fn save_settings(&self, settings: &Settings) -> Result<()> {
        crate::settings::save(&self.storage, settings)
    }

    /// Reads a secret (an access token, say) of this profile. In keyring mode it lives in the OS
    /// keyring as `<name>/<profile id>`; in passphrase mode (no keyring service) it is sealed in
    /// the store under the passphrase-derived key: never in plaintext either way.
    pub fn secret(&self, name: &str) -> Result<Option<SecretString>> {
        match self.key_mode {
            KeyMode::Keyring => {
                let copy = |s: &SecretString| SecretString::new(s.expose().to_string());
                let mut cache = self.secret_cache.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(cached) = cache.get(name) {
                    return Ok(cached.as_ref().map(copy));
                }
                let read = self.vault.get_secret(&self.secret_entry(name))?;
                let answer = read.as_ref().map(copy);
                cache.insert(name.to_string(), read);
                Ok(answer)
            }
            KeyMode::Passphrase => Ok(self
                .storage
                .get(Tree::Meta, self.secret_key(name).as_bytes())?
                .map(|v| SecretString::new(String::from_utf8_lossy(&zeroize::Zeroizing::new(v)).into_owned()))),
        }
    }

    /// Stores a secret of this profile (see [`Profile::secret`]).
    pub fn put_secret(&self, name: &str, value: &SecretString) -> Result<()> {
        match self.key_mode {
            KeyMode::Keyring => {
                // Registered first: a shred must find every entry that may exist.
                self.register_secret_name(name)?;
                let mut cache = self.secret_cache.lock().unwrap_or_else(|p| p.into_inner());
                cache.remove(name);
                self.vault.put_secret(&self.secret_entry(name), value)?;
                cache.insert(name.to_string(), Some(SecretString::new(value.expose().to_string())));
                Ok(())
            }
            KeyMode::Passphrase => {
                let mut b = Batch::default();
                b.put(Tree::Meta, self.secret_key(name), value.expose().as_bytes().to_vec());
                self.storage.commit(b)
            }
        }
    }

    /// Deletes a secret of this profile; deleting a missing one is not an error.
    pub fn delete_secret(&self, name: &str) -> Result<()> {
        match self.key_mode {
            KeyMode::Keyring => {
                let mut cache = self.secret_cache.lock().unwrap_or_else(|p| p.into_inner());
                cache.remove(name);
                self.vault.delete(&self.secret_entry(name))?;
                cache.insert(name.to_string(), None);
                Ok(())
            }
            KeyMode::Passphrase => {
                let mut b = Batch::default();
                b.delete(Tree::Meta, self.secret_key(name));
                self.storage.commit(b)
            }
        }
    }

    /// The installation identifier: a random id of this profile, sent only inside device
    /// information (with its consent). Created on first use; [`Profile::reset_installation_id`]
    /// replaces it.
    pub fn installation_id(&self) -> Result<String> {
        if let Some(id) = self.record::<String>("installation-id")? {
            return Ok(id);
        }
        self.reset_installation_id()
    }

    /// Replaces the installation identifier with a new random one.
    pub fn reset_installation_id(&self) -> Result<String> {
        let id = ulid::Ulid::new().to_string();
        self.save_record("installation-id", Some(&id))?;
        Ok(id)
    }

    /// Applies the local retention settings as of `now`: transmission-log records and queued
    /// telemetry older than their set ages are deleted. The clock is a parameter so tests can
    /// move it instead of sleeping.
    pub fn purge_expired(&self, now: time::OffsetDateTime) -> Result<PurgeReport> {
        let r = self.settings()?.retention;
        let cutoff = |days: u32| crate::clock::format(now - time::Duration::days(i64::from(days)));
        Ok(PurgeReport {
            transmissions: self.transmissions().purge_older_than(&cutoff(r.transmission_log_days))? as u64,
            telemetry: self.telemetry().purge_older_than(&cutoff(r.telemetry_queue_days))? as u64,
        })
    }

    /// What this profile keeps on this machine, by category, with sizes and retention (D5).
    pub fn inventory(&self) -> Result<Vec<LocalCategory>> {
        let store = self.dir.join("store").display().to_string();
        let r = self.settings()?.retention;
        let cat = |category: &str, t: Tree, retention: String| LocalCategory {
            category: category.into(),
            count: self.storage.len(t) as u64,
            bytes: self.storage.tree_bytes(t),
            location: store.clone(),
            retention,
        };
        let keyring = match self.key_mode {
            KeyMode::Keyring => format!("OS keyring, service {}", crate::keys::KEYRING_SERVICE),
            KeyMode::Passphrase => format!("{} (sealed under the passphrase key)", store),
        };
        let secret_count = |name: &str| -> u64 { self.secret(name).ok().flatten().map_or(0, |_| 1) };
        Ok(vec![
            cat("agents", Tree::Agents, "until you delete them".into()),
            cat("instruction_revisions", Tree::Revisions, "the newest 500 per agent".into()),
            cat("consent_ledger", Tree::ConsentLedger, "kept for the life of the profile (proof of consent)".into()),
            cat("transmission_log", Tree::Transmissions, format!("{} days", r.transmission_log_days)),
            cat(
                "telemetry_queue",
                Tree::TelemetryQueue,
                format!("{} days, or until sent or withdrawn", r.telemetry_queue_days),
            ),
            LocalCategory {
                category: "platform_tokens".into(),
                count: secret_count("platform-tokens"),
                bytes: 0,
                location: keyring.clone(),
                retention: "until log-out".into(),
            },
            LocalCategory {
                category: "platform_cookies".into(),
                count: secret_count("platform-cookies"),
                bytes: 0,
                location: keyring.clone(),
                retention: "until deleted, log-out, or refused in settings".into(),
            },
            cat("plugins", Tree::Plugins, "until you delete them".into()),
            LocalCategory {
                category: "plugin_secrets".into(),
                count: self.plugins().list()?.iter().filter(|p| p.secret_set).count() as u64,
                bytes: 0,
                location: keyring.clone(),
                retention: "until you remove the secret or delete the plugin".into(),
            },
            LocalCategory {
                category: "datasets".into(),
                count: self.storage.len(Tree::Datasets) as u64,
                bytes: self.storage.tree_bytes(Tree::Datasets)
                    + self.storage.tree_bytes(Tree::DatasetText)
                    + crate::datasets::text_files_bytes(&self.storage),
                location: format!(
                    "{store} (descriptions) and {} (text, sealed files)",
                    self.dir.join(crate::datasets::TEXT_DIR).display()
                ),
                retention: "until you delete them".into(),
            },
            LocalCategory {
                category: "tables".into(),
                count: self.storage.len(Tree::Tables) as u64,
                bytes: self.storage.tree_bytes(Tree::Tables) + self.storage.tree_bytes(Tree::TableRows),
                location: store.clone(),
                retention: "until you delete them".into(),
            },
            cat(
                "search_history",
                Tree::SearchHistory,
                format!("the newest {} searches, until you clear them", crate::search::HISTORY_KEPT),
            ),
        ])
    }

    /// Reads a small JSON record kept in the store (a cached account profile, say).
    pub fn record<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.storage.get(Tree::Meta, format!("record/{name}").as_bytes())? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| CoreError::Corrupt { detail: format!("record `{name}`: {e}") }),
        }
    }

    /// Saves (or with `None`, deletes) a small JSON record durably.
    pub fn save_record<T: serde::Serialize>(&self, name: &str, value: Option<&T>) -> Result<()> {
        let key = format!("record/{name}");
        let mut b = Batch::default();
        match value {
            Some(v) => b.put(Tree::Meta, key, serde_json::to_vec(v).expect("records serialise")),
            None => b.delete(Tree::Meta, key),
        };
        self.storage.commit(b)
    }

    fn secret_entry(&self, name: &str) -> String {
        format!("{name}/{}", self.profile_id)
    }

    fn secret_key(&self, name: &str) -> String {
        format!("secret/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{Agent, AgentDraft};
    use crate::keys::MemoryVault;

    fn opts(dir: &Path, vault: &Arc<MemoryVault>) -> OpenOptions {
        OpenOptions::new(dir).vault(vault.clone())
    }

    #[test]
    fn migrating_to_v6_queues_every_existing_agent_for_sync() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let ids: Vec<String> = {
            let p = Profile::open(opts(dir.path(), &vault)).unwrap();
            let ids: Vec<String> =
                (0..3).map(|i| p.agents().create(AgentDraft::named(format!("agent {i}"))).unwrap().id).collect();
            // As schema v5 left it: no outbox.
            let mut b = Batch::default();
            for k in p.storage.keys_prefix(Tree::Outbox, b"").unwrap() {
                b.delete(Tree::Outbox, k);
            }
            migrate::set_version(&mut b, 5);
            p.storage.commit(b).unwrap();
            assert!(p.sync().outbox().unwrap().is_empty());
            ids
        };
        let p = Profile::open(opts(dir.path(), &vault)).unwrap();
        assert_eq!(p.migrated_from(), Some(5));
        let mut queued: Vec<String> = p.sync().outbox().unwrap().into_iter().map(|e| e.id).collect();
        queued.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(queued, expected);
    }

    #[test]
    fn migrates_a_v1_store_to_v2() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let ids: Vec<String> = {
            let p = Profile::open(opts(dir.path(), &vault)).unwrap();
            let ids = (0..3).map(|i| p.agents().create(AgentDraft::named(format!("agent {i}"))).unwrap().id).collect();
            // Rewrite the store as schema v1 wrote it: no summaries tree, version 1.
            let mut b = Batch::default();
            for k in p.storage.keys_prefix(Tree::AgentSummaries, b"").unwrap() {
                b.delete(Tree::AgentSummaries, k);
            }
            migrate::set_version(&mut b, 1);
            p.storage.commit(b).unwrap();
            assert!(p.agents().list(&Default::default()).unwrap().is_empty());
            ids
        };
        let p = Profile::open(opts(dir.path(), &vault)).unwrap();
        assert_eq!(p.migrated_from(), Some(1));
        let listed: Vec<String> = p.agents().list(&Default::default()).unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(listed.len(), 3);
        for id in &ids {
            assert!(listed.contains(id));
        }
        assert_eq!(migrate::read_version(&p.storage).unwrap(), Some(migrate::SCHEMA_VERSION));
        drop(p);
        assert_eq!(Profile::open(opts(dir.path(), &vault)).unwrap().migrated_from(), None);
        let _unused: Option<Agent> = None;
    }

    #[test]
    fn migrates_v3_consent_state_into_the_v4_ledger() {
        use crate::consent::{ConsentMethod, ConsentRecord, Purpose};
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        {
            let p = Profile::open(opts(dir.path(), &vault)).unwrap();
            // A v3 store: consent state, no ledger.
            let mut b = Batch::default();
            for (purpose, granted) in [(Purpose::AccountOperation, true), (Purpose::Marketing, false)] {
                let r = ConsentRecord {
                    purpose,
                    granted,
                    at: "2026-11-01T00:00:00.000Z".into(),
                    policy_version: 1,
                    method: ConsentMethod::SignUpForm,
                };
                b.put(Tree::Consents, purpose.as_str(), serde_json::to_vec(&r).unwrap());
            }
            migrate::set_version(&mut b, 3);
            p.storage.commit(b).unwrap();
        }
        let p = Profile::open(opts(dir.path(), &vault)).unwrap();
        assert_eq!(p.migrated_from(), Some(3));
        let ledger = p.consents().ledger().unwrap();
        assert_eq!(
            ledger.iter().map(|e| (e.purpose, e.granted)).collect::<Vec<_>>(),
            vec![(Purpose::AccountOperation, true), (Purpose::Marketing, false)]
        );
        assert!(p.consents().verify().unwrap().intact);
        p.consents().set(Purpose::Research, true, 1, ConsentMethod::Cli).unwrap();
        assert_eq!(p.consents().ledger().unwrap().last().unwrap().seq, 3);
        assert!(p.consents().verify().unwrap().intact);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        {
            let p = Profile::open(opts(dir.path(), &vault)).unwrap();
            let mut b = Batch::default();
            migrate::set_version(&mut b, migrate::SCHEMA_VERSION + 1);
            p.storage.commit(b).unwrap();
        }
        let err = Profile::open(opts(dir.path(), &vault)).unwrap_err();
        assert!(matches!(err, CoreError::SchemaTooNew { found, .. } if found == migrate::SCHEMA_VERSION + 1));
    }

    #[test]
    fn lost_key_is_reported_not_papered_over() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let id = Profile::open(opts(dir.path(), &vault)).unwrap().profile_id().to_string();
        vault.delete(&keys::entry_name(&id)).unwrap();
        assert!(matches!(Profile::open(opts(dir.path(), &vault)).unwrap_err(), CoreError::KeyMissing));
    }

    #[test]
    fn passphrase_profile_needs_its_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let pass = || Some(SecretString::new("a long passphrase".into()));
        {
            let p = Profile::open(opts(dir.path(), &vault).passphrase(pass())).unwrap();
            assert_eq!(p.key_mode(), KeyMode::Passphrase);
            p.agents().create(AgentDraft::named("x")).unwrap();
        }
        assert_eq!(Profile::probe(dir.path()).unwrap(), Probe::Passphrase);
        assert!(matches!(Profile::open(opts(dir.path(), &vault)).unwrap_err(), CoreError::PassphraseRequired));
        let wrong = Some(SecretString::new("not the passphrase".into()));
        assert!(matches!(
            Profile::open(opts(dir.path(), &vault).passphrase(wrong)).unwrap_err(),
            CoreError::WrongPassphrase
        ));
        let p = Profile::open(opts(dir.path(), &vault).passphrase(pass())).unwrap();
        assert_eq!(p.agents().count(), 1);
    }

    #[test]
    fn concurrent_saves_of_one_version_admit_exactly_one() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let p = Profile::open(opts(dir.path(), &vault)).unwrap();
        let a = p.agents().create(AgentDraft::named("shared")).unwrap();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (p, a) = (&p, &a);
                    s.spawn(move || {
                        let mut d = a.draft.clone();
                        d.instructions = format!("writer {i}");
                        p.agents().update(&a.id, d, Some(a.version))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, CoreError::Conflict { .. })));
        assert_eq!(p.agents().get(&a.id).unwrap().version, 2);
    }

    #[test]
    fn the_list_index_follows_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let p = Profile::open(opts(dir.path(), &vault)).unwrap();
        let names = |q: &str| -> Vec<String> {
            let q = crate::agents::ListQuery { filter: q.into(), include_archived: false };
            p.agents().list(&q).unwrap().into_iter().map(|s| s.name).collect()
        };
        let a = p.agents().create(AgentDraft::named("Alpha")).unwrap();
        assert_eq!(names(""), vec!["Alpha"]);
        let mut d = a.draft.clone();
        d.name = "Beta".into();
        let a = p.agents().update(&a.id, d, None).unwrap();
        assert_eq!(names("alp"), Vec::<String>::new());
        assert_eq!(names("BET"), vec!["Beta"]);
        let copy = p.agents().duplicate(&a.id).unwrap();
        assert_eq!(names("beta"), vec!["Beta (copy)", "Beta"]);
        p.agents().set_archived(&copy.id, true).unwrap();
        assert_eq!(names("beta"), vec!["Beta"]);
        p.agents().delete(&a.id).unwrap();
        assert!(names("").is_empty());
    }
}

#[cfg(test)]
mod egress_state_tests {
    use super::*;
    use crate::consent::{ConsentMethod, Purpose};
    use crate::keys::MemoryVault;
    use crate::transmissions::{LogQuery, Outcome, TransmissionRecord};

    fn record(purpose: Purpose, outcome: Outcome) -> TransmissionRecord {
        TransmissionRecord {
            seq: 0,
            at: crate::clock::now(),
            method: "POST".into(),
            path: "/v1/auth/login".into(),
            host: "127.0.0.1:1".into(),
            purpose,
            outcome,
            status: None,
            bytes_up: 10,
            bytes_down: 0,
            preview: "{}".into(),
            error: None,
        }
    }

    #[test]
    fn consent_is_off_until_granted_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        {
            let p = Profile::open(OpenOptions::new(dir.path()).vault(vault.clone())).unwrap();
            assert!(p.consents().allows(Purpose::ServiceInformation).unwrap());
            assert!(!p.consents().allows(Purpose::AccountOperation).unwrap());
            p.consents().set(Purpose::AccountOperation, true, 1, ConsentMethod::SignUpForm).unwrap();
            p.consents().set(Purpose::Marketing, false, 1, ConsentMethod::ConsentCentre).unwrap();
            assert!(p.consents().set(Purpose::ServiceInformation, false, 1, ConsentMethod::Cli).is_err());
        }
        let p = Profile::open(OpenOptions::new(dir.path()).vault(vault)).unwrap();
        assert!(p.consents().allows(Purpose::AccountOperation).unwrap());
        assert!(!p.consents().allows(Purpose::Marketing).unwrap());
        assert_eq!(p.consents().list().unwrap().len(), 2);
    }

    #[test]
    fn consent_changes_are_chained_in_the_ledger_and_tampering_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        {
            let p = Profile::open(OpenOptions::new(dir.path()).vault(vault.clone())).unwrap();
            p.consents().set(Purpose::AccountOperation, true, 1, ConsentMethod::SignUpForm).unwrap();
            p.consents().set(Purpose::Marketing, true, 1, ConsentMethod::ConsentCentre).unwrap();
            p.consents().set(Purpose::Marketing, false, 1, ConsentMethod::ConsentCentre).unwrap();
        }
        let p = Profile::open(OpenOptions::new(dir.path()).vault(vault)).unwrap();
        let ledger = p.consents().ledger().unwrap();
        assert_eq!(
            ledger.iter().map(|e| (e.seq, e.granted)).collect::<Vec<_>>(),
            vec![(1, true), (2, true), (3, false)]
        );
        assert_eq!(ledger[1].prev_hash, ledger[0].hash);
        let report = p.consents().verify().unwrap();
        assert!(report.intact && report.entries == 3, "{report:?}");
        assert_eq!(p.consents().unacknowledged().unwrap().len(), 3);
        p.consents().set_acknowledged(2).unwrap();
        assert_eq!(p.consents().unacknowledged().unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);

        let mut edited = ledger[1].clone();
        edited.granted = false;
        p.consents().tamper_for_test(2, Some(&edited)).unwrap();
        let report = p.consents().verify().unwrap();
        assert_eq!(report.problem, Some(crate::ledger::LedgerProblem::Edited { seq: 2 }));
        assert!(report.message.unwrap().contains("entry 2"));
        p.consents().tamper_for_test(2, None).unwrap();
        assert_eq!(p.consents().verify().unwrap().problem, Some(crate::ledger::LedgerProblem::Removed { seq: 3 }));
    }

    #[test]
    fn telemetry_is_queued_only_with_consent_and_purged_on_withdrawal() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap();
        let t = p.telemetry();
        let q = t.offer(Purpose::UsageAnalytics, "agent_created", serde_json::json!({"n": 1})).unwrap();
        assert_eq!(q, crate::telemetry::Queued::NoConsent);
        assert!(t.pending(None).unwrap().is_empty(), "nothing is collected without consent");
        assert!(t.offer(Purpose::Marketing, "x", serde_json::json!({})).is_err(), "not a telemetry purpose");
        p.consents().set(Purpose::UsageAnalytics, true, 1, ConsentMethod::ConsentCentre).unwrap();
        p.consents().set(Purpose::CrashReports, true, 1, ConsentMethod::ConsentCentre).unwrap();
        for i in 0..3 {
            t.offer(Purpose::UsageAnalytics, "agent_created", serde_json::json!({"n": i})).unwrap();
        }
        t.offer(Purpose::CrashReports, "panic", serde_json::json!({"message": "boom"})).unwrap();
        let usage = t.pending(Some(Purpose::UsageAnalytics)).unwrap();
        assert_eq!(usage.iter().map(|i| i.data["n"].as_i64().unwrap()).collect::<Vec<_>>(), vec![0, 1, 2]);
        let big = serde_json::json!({"s": "x".repeat(crate::telemetry::MAX_ITEM_BYTES)});
        assert!(matches!(t.offer(Purpose::UsageAnalytics, "big", big), Err(CoreError::TooLarge { .. })));
        assert_eq!(t.purge(Purpose::UsageAnalytics).unwrap(), 3);
        assert_eq!(t.pending(None).unwrap().len(), 1, "other purposes keep their queue");
        let cutoff = crate::clock::format(time::OffsetDateTime::now_utc() + time::Duration::seconds(1));
        assert_eq!(t.purge_older_than(&cutoff).unwrap(), 1);
        assert!(t.pending(None).unwrap().is_empty());
    }

    #[test]
    fn a_purpose_whose_wording_changed_is_blocked_until_consent_is_given_again() {
        use crate::consent::PolicyTerms;
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap();
        let c = p.consents();
        c.set(Purpose::UsageAnalytics, true, 1, ConsentMethod::ConsentCentre).unwrap();
        c.set(Purpose::CrashReports, true, 1, ConsentMethod::ConsentCentre).unwrap();
        let v2 = PolicyTerms {
            version: 2,
            purposes: vec![(Purpose::UsageAnalytics, 2), (Purpose::CrashReports, 1), (Purpose::Marketing, 2)],
        };
        c.set_terms(&v2).unwrap();
        assert!(!c.allows(Purpose::UsageAnalytics).unwrap(), "widened purpose blocked");
        assert!(c.allows(Purpose::CrashReports).unwrap(), "unchanged purpose keeps its consent");
        assert!(!c.allows(Purpose::Marketing).unwrap(), "a purpose never granted stays off");
        assert_eq!(c.needing_reconsent().unwrap(), vec![Purpose::UsageAnalytics]);
        // Nothing of the blocked purpose is even queued.
        let q = p.telemetry().offer(Purpose::UsageAnalytics, "agent_created", serde_json::json!({})).unwrap();
        assert_eq!(q, crate::telemetry::Queued::NoConsent);
        c.set(Purpose::UsageAnalytics, true, 2, ConsentMethod::ConsentCentre).unwrap();
        assert!(c.allows(Purpose::UsageAnalytics).unwrap());
        assert!(c.needing_reconsent().unwrap().is_empty());
        // Older terms never replace newer ones.
        c.set_terms(&PolicyTerms { version: 1, purposes: vec![] }).unwrap();
        assert_eq!(c.terms().unwrap().version, 2);
    }

    #[test]
    fn retention_purges_what_is_older_than_its_age_with_an_injected_clock() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap();
        p.consents().set(Purpose::UsageAnalytics, true, 1, ConsentMethod::ConsentCentre).unwrap();
        for _ in 0..4 {
            p.transmissions().append(record(Purpose::AccountOperation, Outcome::Sent)).unwrap();
        }
        p.telemetry().offer(Purpose::UsageAnalytics, "agent_created", serde_json::json!({})).unwrap();
        let now = time::OffsetDateTime::now_utc();
        // Today nothing is old enough.
        assert_eq!(p.purge_expired(now).unwrap(), PurgeReport { transmissions: 0, telemetry: 0 });
        // 31 days on, the queue (30 days) goes; the log (90 days) stays.
        let report = p.purge_expired(now + time::Duration::days(31)).unwrap();
        assert_eq!(report, PurgeReport { transmissions: 0, telemetry: 1 });
        assert_eq!(p.transmissions().len(), 4);
        // 91 days on, the log goes too.
        assert_eq!(p.purge_expired(now + time::Duration::days(91)).unwrap().transmissions, 4);
        assert!(p.transmissions().is_empty());
        // Shorter settings apply at once; newer records survive.
        let mut s = p.settings().unwrap();
        s.retention.transmission_log_days = 1;
        p.save_settings(&s).unwrap();
        p.transmissions().append(record(Purpose::AccountOperation, Outcome::Sent)).unwrap();
        assert_eq!(p.purge_expired(now).unwrap().transmissions, 0);
        assert_eq!(p.purge_expired(now + time::Duration::hours(25)).unwrap().transmissions, 1);
        let inventory = p.inventory().unwrap();
        let log = inventory.iter().find(|c| c.category == "transmission_log").unwrap();
        assert_eq!((log.count, log.retention.as_str()), (0, "1 days"));
    }

    #[test]
    fn installation_id_is_stable_until_reset() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap();
        let a = p.installation_id().unwrap();
        assert_eq!(p.installation_id().unwrap(), a);
        let b = p.reset_installation_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(p.installation_id().unwrap(), b);
    }

    #[test]
    fn transmission_log_numbers_filters_and_continues_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        {
            let p = Profile::open(OpenOptions::new(dir.path()).vault(vault.clone())).unwrap();
            for i in 0..300 {
                let purpose = if i % 3 == 0 { Purpose::Marketing } else { Purpose::AccountOperation };
                p.transmissions().append(record(purpose, Outcome::Sent)).unwrap();
            }
        }
        let p = Profile::open(OpenOptions::new(dir.path()).vault(vault)).unwrap();
        let r = p.transmissions().append(record(Purpose::AccountOperation, Outcome::Refused)).unwrap();
        assert_eq!(r.seq, 301);
        let all = p.transmissions().list(&LogQuery { limit: Some(5000), ..Default::default() }).unwrap();
        assert_eq!(all.len(), 301);
        assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
        let marketing = p
            .transmissions()
            .list(&LogQuery { purpose: Some(Purpose::Marketing), limit: Some(5000), ..Default::default() })
            .unwrap();
        assert_eq!(marketing.len(), 100);
        let refused =
            p.transmissions().list(&LogQuery { outcome: Some(Outcome::Refused), ..Default::default() }).unwrap();
        assert_eq!(refused.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![301]);
        let page = p.transmissions().list(&LogQuery { before_seq: Some(10), ..Default::default() }).unwrap();
        assert_eq!(page.first().map(|r| r.seq), Some(9));
    }

    #[test]
    fn secrets_in_passphrase_mode_are_sealed_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let pass = || Some(SecretString::new("a long passphrase".into()));
        {
            let p = Profile::open(OpenOptions::new(dir.path()).passphrase(pass())).unwrap();
            p.put_secret("platform-tokens", &SecretString::new("awfa_marker_token_value".into())).unwrap();
        }
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(!bytes.windows(18).any(|w| w == b"awfa_marker_token_"), "token in {}", entry.display());
        }
        let p = Profile::open(OpenOptions::new(dir.path()).passphrase(pass())).unwrap();
        assert_eq!(p.secret("platform-tokens").unwrap().unwrap().expose(), "awfa_marker_token_value");
        p.delete_secret("platform-tokens").unwrap();
        assert!(p.secret("platform-tokens").unwrap().is_none());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
