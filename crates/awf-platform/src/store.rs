//! The platform's storage: a narrow interface over sled, so that another backend (PostgreSQL,
//! for several platform nodes) can replace it without touching the handlers.
//!
//! Trees: `accounts` (account id → [`AccountRecord`]), `names` (keyed hash of the lower-cased
//! account name → account id), `phones` (keyed hash of the phone digits → account id), `sms`
//! (keyed hash of the phone digits → [`SmsRecord`]): the log-in indexes' keys are HMAC-SHA256
//! under `<data dir>/index-key` ([`INDEX_KEY_FILE`]), so that no name or number is a sled key;
//! `sessions` (SHA-256 of the access token → [`SessionRecord`]), `refresh` (SHA-256 of the
//! refresh token → [`RefreshRecord`]), `cookies` (SHA-256 of the session cookie → access hash).
//!
//! The account's own data is keyed by account id first (`account \0 …`), so that everything
//! held for one account is one prefix scan away (for the data summary, export and
//! cancellation): `account_sessions` (`account \0 access hash` → empty: the account's
//! sessions), `receipts` (`account \0 receipt id` → [`StoredReceipt`]), `telemetry`
//! (`account \0 purpose \0 event id` → [`StoredEvent`]) and `telemetry_ages`
//! (`account \0 purpose \0 received-at (8 bytes, big-endian) event id` → empty: the same
//! items in arrival order, so that the retention purge reads only what has expired).
//! `requests` (`account \0 request id` → [`StoredRequest`]) with `request_files`
//! (`account \0 request id \0 index` → the attachment's bytes) and `request_owners` (request id
//! → account id, for the operator's answer) hold the rights requests. `cancellations`
//! (SHA-256 of the client's idempotency key → [`CancellationReplay`]) keeps, for
//! [`CANCELLATION_REPLAY_SECS`], the signed receipt of a cancellation so that a retried request
//! gets the same answer after the account is gone: the receipt (random account id, counts,
//! time) is the only trace of a cancelled account, and it is purged with age.
//! `policies` (policy version, 4 bytes big-endian → `PolicyDocument`) holds the published
//! versions after the first: version 1 is the text shipped in the binary and is never stored.
//! Values are JSON. Secrets never reach disk in clear: passwords are Argon2id hashes, tokens,
//! cookies and SMS codes are SHA-256 hashes. Writes that a client relies on are flushed before
//! the answer leaves.
//!
//! **Sealed with the account's key** (crypto-shredding, `keys.rs`): the values of `accounts`
//! (profile and password hash), `receipts`, `telemetry`, `requests` and `request_files`, and of
//! the sync trees `sync_items`, `sync_replays` and `sync_uploads` (and the upload files).
//! **Plain** (no account content): every key (account ids, request, event, item and upload ids,
//! purposes, times; the log-in indexes' keyed hashes), the values of `names`, `phones` and
//! `sms` (account ids, code hashes), `sessions`, `refresh`, `cookies`, `account_sessions`,
//! `telemetry_ages`, `request_owners`, `sync_feed` (kind and item id), `sync_cursors`,
//! `sync_replay_ages`, `cancellations` (a signed receipt: account id, counts, time) and
//! `policies`. Erasure replaces the account's key and cancellation destroys it, so what sled
//! still holds of deleted records in its segment files does not open. Writes of the account's
//! content and the key changes take the account's lock (`SyncStore::lock`), so that no record is
//! sealed with a key that is being replaced.

use std::path::Path;

use std::collections::BTreeMap;

use awf_platform_api::openapi::TELEMETRY_PURPOSES;
use awf_platform_api::{
    AccountProfile, ConsentReceipt, DeletionReceipt, PolicyDocument, Purpose, RightsRequest, TelemetryEvent,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::StoreError;
use crate::keys::{self, KeyStore};

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub profile: AccountProfile,
    /// Argon2id PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsRecord {
    /// SHA-256 (hex) of `phone digits ":" code`.
    pub code_hash: String,
    /// Unix seconds.
    pub sent_at: i64,
    pub expires_at: i64,
    /// Wrong codes tried so far; the code is void after five.
    pub attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub account_id: String,
    pub access_expires_at: i64,
    pub refresh_hash: String,
    pub cookie_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub account_id: String,
    pub access_hash: String,
    pub expires_at: i64,
}

/// A consent receipt as the platform stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReceipt {
    pub receipt: ConsentReceipt,
    /// RFC 3339: when the platform first stored it.
    pub stored_at: String,
    /// Arrival order across the store (sled's monotonic id): breaks ties between receipts of
    /// one ledger position.
    pub stored_seq: u64,
}

/// A telemetry item as the platform stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Unix seconds (the platform's clock): the retention period runs from here.
    pub received_at: i64,
    pub event: TelemetryEvent,
}

/// A rights request as the platform stores it (its attachments' bytes are in `request_files`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRequest {
    pub request: RightsRequest,
    /// Arrival order across the store.
    pub seq: u64,
}

/// The answer to a cancellation, kept for a retry of the same request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancellationReplay {
    pub receipt: DeletionReceipt,
    /// Unix seconds: when it was stored (purged [`CANCELLATION_REPLAY_SECS`] later).
    pub stored_at: i64,
}

/// How long the answer to a cancellation is kept for retries: 30 days.
pub const CANCELLATION_REPLAY_SECS: i64 = 30 * 86_400;

/// `parts` joined by NUL bytes, with a trailing NUL: a key prefix that no longer one extends.
fn prefix(parts: &[&str]) -> Vec<u8> {
    let mut key = Vec::new();
    for part in parts {
        key.extend_from_slice(part.as_bytes());
        key.push(0);
    }
    key
}

fn age_key(prefix: &[u8], received_at: i64, id: &str) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&(received_at.max(0) as u64).to_be_bytes());
    key.extend_from_slice(id.as_bytes());
    key
}

pub struct Store {
    db: sled::Db,
    account_sessions: sled::Tree,
    receipts: sled::Tree,
    telemetry: sled::Tree,
    telemetry_ages: sled::Tree,
    policies: sled::Tree,
    requests: sled::Tree,
    request_files: sled::Tree,
    request_owners: sled::Tree,
    cancellations: sled::Tree,
    /// Held while a policy version is validated against the latest and stored, so that two
    /// publications cannot both take the next version number.
    pub publishing: std::sync::Mutex<()>,
    accounts: sled::Tree,
    names: sled::Tree,
    phones: sled::Tree,
    sms: sled::Tree,
    sessions: sled::Tree,
    refresh: sled::Tree,
    cookies: sled::Tree,
    /// Consented sync: items, change feed, idempotency records, uploads (`sync_store.rs`).
    pub sync: crate::sync_store::SyncStore,
    /// The accounts' content keys (`keys.rs`), outside sled.
    keys: std::sync::Arc<KeyStore>,
    /// The key of the log-in indexes' keyed hashes (`<data dir>/index-key`, outside sled).
    index_key: keys::Key,
}

/// The file of the log-in indexes' key, in the data directory.
pub const INDEX_KEY_FILE: &str = "index-key";
/// The first bytes of an index key that is a keyed hash (account names and phone digits never
/// start with a NUL).
const INDEX_TAG: &[u8] = b"\0h";

/// Reads the index key, creating it (32 random bytes, mode 0600, temporary file, fsynced,
/// renamed) on first start.
fn load_or_create_index_key(dir: &Path) -> Result<keys::Key> {
    use rand::RngCore;
    use std::io::Write;
    let path = dir.join(INDEX_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(dir)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let tmp = dir.join(format!(".{INDEX_KEY_FILE}.tmp"));
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
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    std::fs::read(&path)?
        .try_into()
        .map_err(|_| StoreError::Sealed(format!("{}: the index key is 32 bytes", path.display())))
}

/// The key a new record of `account` is sealed with: its key, made now for an account that
/// exists but has none yet (one registered before sealing existed). An account that does not
/// exist (cancelled) gets no new key: its record is refused.
pub(crate) fn write_key(keys: &KeyStore, accounts: &sled::Tree, account: &str) -> Result<keys::Key> {
    if let Some(key) = keys.sealing_key(account)? {
        return Ok(key);
    }
    if accounts.contains_key(account.as_bytes())? {
        return keys.sealing_key_or_create(account);
    }
    Err(StoreError::Sealed("no such account: its records are not stored".into()))
}

/// Opens a value of `account` stored under `key` in `tree` and decodes it (a legacy plaintext
/// value is decoded as it is).
pub(crate) fn open_json<T: DeserializeOwned>(
    keys: &KeyStore,
    account: &str,
    tree: &str,
    key: &[u8],
    value: &[u8],
) -> Result<T> {
    if !keys::is_sealed(value) {
        return Ok(serde_json::from_slice(value)?);
    }
    Ok(serde_json::from_slice(&keys::open(&keys.keys(account)?, tree, key, value)?)?)
}

/// The account id a key of an account-first tree (`account \0 …`) starts with.
pub(crate) fn key_account(key: &[u8]) -> String {
    String::from_utf8_lossy(key.split(|b| *b == 0).next().unwrap_or_default()).into_owned()
}

fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>> {
    match tree.get(key.as_bytes())? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

fn put<T: Serialize>(tree: &sled::Tree, key: &str, value: &T) -> Result<()> {
    tree.insert(key.as_bytes(), serde_json::to_vec(value)?)?;
    Ok(())
}

fn get_str(tree: &sled::Tree, key: &str) -> Result<Option<String>> {
    Ok(tree.get(key.as_bytes())?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Inserts `key → value` only when `key` is absent; `false` when it was taken.
fn claim(tree: &sled::Tree, key: &[u8], value: &str) -> Result<bool> {
    Ok(tree.compare_and_swap(key, None::<&[u8]>, Some(value.as_bytes()))?.is_ok())
}

impl Store {
    /// Opens the store and its key store; finishes what a crash interrupted: an erasure whose key
    /// rotation had started is done again (its deletion, then the rotation), and the key of an
    /// account that no longer exists (a cancellation stopped between deleting the account and
    /// destroying its key) is destroyed.
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new().path(dir.join("store")).open()?;
        let keys = std::sync::Arc::new(KeyStore::open(dir)?);
        let index_key = load_or_create_index_key(dir)?;
        let store = Store {
            accounts: db.open_tree("accounts")?,
            names: db.open_tree("names")?,
            phones: db.open_tree("phones")?,
            sms: db.open_tree("sms")?,
            sessions: db.open_tree("sessions")?,
            refresh: db.open_tree("refresh")?,
            cookies: db.open_tree("cookies")?,
            account_sessions: db.open_tree("account_sessions")?,
            receipts: db.open_tree("receipts")?,
            telemetry: db.open_tree("telemetry")?,
            telemetry_ages: db.open_tree("telemetry_ages")?,
            policies: db.open_tree("policies")?,
            requests: db.open_tree("requests")?,
            request_files: db.open_tree("request_files")?,
            request_owners: db.open_tree("request_owners")?,
            cancellations: db.open_tree("cancellations")?,
            publishing: std::sync::Mutex::new(()),
            sync: crate::sync_store::SyncStore::open(&db, dir, keys.clone())?,
            keys,
            index_key,
            db,
        };
        // Index entries of a data directory from before the keyed hashes: hashed now.
        for tree in [&store.names, &store.phones, &store.sms] {
            let mut batch = sled::Batch::default();
            for entry in tree.iter() {
                let (key, value) = entry?;
                if !key.starts_with(INDEX_TAG) {
                    batch.remove(key.clone());
                    batch.insert(store.ix(&key), value);
                }
            }
            tree.apply_batch(batch)?;
        }
        store.flush()?;
        for account in store.keys.pending_rotations()? {
            if store.accounts.contains_key(account.as_bytes())? {
                store.delete_data(&account)?;
                store.finish_rotation(&account)?;
            }
        }
        for account in store.keys.accounts()? {
            if !store.accounts.contains_key(account.as_bytes())? {
                store.keys.destroy(&account)?;
            }
        }
        Ok(store)
    }

    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// The key of a log-in index entry (`names`, `phones`, `sms`): HMAC-SHA256 of the name or
    /// phone digits under the index key, so that what sled keeps of a deleted entry does not
    /// spell the name or number.
    fn ix(&self, value: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.index_key).expect("HMAC takes any key length");
        mac.update(value);
        [INDEX_TAG, &mac.finalize().into_bytes()].concat()
    }

    // Accounts.

    /// The account record (profile and password hash), sealed with the account's key.
    pub fn account(&self, id: &str) -> Result<Option<AccountRecord>> {
        match self.accounts.get(id.as_bytes())? {
            Some(bytes) => Ok(Some(open_json(&self.keys, id, "accounts", id.as_bytes(), &bytes)?)),
            None => Ok(None),
        }
    }

    /// Stores the account record sealed with the account's key (made now for a new account).
    pub fn put_account(&self, record: &AccountRecord) -> Result<()> {
        let id = record.profile.account_id.as_str();
        let _guard = self.sync.lock(id);
        let key = self.keys.sealing_key_or_create(id)?;
        self.accounts
            .insert(id.as_bytes(), keys::seal(&key, "accounts", id.as_bytes(), &serde_json::to_vec(record)?))?;
        self.flush()
    }

    pub fn account_id_by_name(&self, name: &str) -> Result<Option<String>> {
        Ok(self.names.get(self.ix(name.to_lowercase().as_bytes()))?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn account_id_by_phone(&self, phone_key: &str) -> Result<Option<String>> {
        Ok(self.phones.get(self.ix(phone_key.as_bytes()))?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Reserves an account name (case-insensitively); `false` when it is taken.
    pub fn claim_name(&self, name: &str, account_id: &str) -> Result<bool> {
        claim(&self.names, &self.ix(name.to_lowercase().as_bytes()), account_id)
    }

    pub fn release_name(&self, name: &str) -> Result<()> {
        self.names.remove(self.ix(name.to_lowercase().as_bytes()))?;
        Ok(())
    }

    pub fn claim_phone(&self, phone_key: &str, account_id: &str) -> Result<bool> {
        claim(&self.phones, &self.ix(phone_key.as_bytes()), account_id)
    }

    // SMS codes.

    pub fn sms(&self, phone_key: &str) -> Result<Option<SmsRecord>> {
        match self.sms.get(self.ix(phone_key.as_bytes()))? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    pub fn put_sms(&self, phone_key: &str, record: &SmsRecord) -> Result<()> {
        self.sms.insert(self.ix(phone_key.as_bytes()), serde_json::to_vec(record)?)?;
        self.flush()
    }

    pub fn remove_sms(&self, phone_key: &str) -> Result<()> {
        self.sms.remove(self.ix(phone_key.as_bytes()))?;
        self.flush()
    }

    // Sessions.

    pub fn put_session(&self, access_hash: &str, session: &SessionRecord, refresh: &RefreshRecord) -> Result<()> {
        put(&self.sessions, access_hash, session)?;
        put(&self.refresh, &session.refresh_hash, refresh)?;
        self.cookies.insert(session.cookie_hash.as_bytes(), access_hash.as_bytes())?;
        self.account_sessions.insert(prefix(&[&session.account_id, access_hash]), &[])?;
        self.flush()
    }

    pub fn session(&self, access_hash: &str) -> Result<Option<SessionRecord>> {
        get(&self.sessions, access_hash)
    }

    /// The access hash the session cookie (hashed) belongs to.
    pub fn access_hash_by_cookie(&self, cookie_hash: &str) -> Result<Option<String>> {
        get_str(&self.cookies, cookie_hash)
    }

    /// Removes and returns a refresh record: of two concurrent uses of one refresh token only
    /// one gets it.
    pub fn take_refresh(&self, refresh_hash: &str) -> Result<Option<RefreshRecord>> {
        match self.refresh.remove(refresh_hash.as_bytes())? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Revokes a session: its access token, refresh token and cookie.
    pub fn revoke_session(&self, access_hash: &str) -> Result<()> {
        if let Some(bytes) = self.sessions.remove(access_hash.as_bytes())? {
            let session: SessionRecord = serde_json::from_slice(&bytes)?;
            self.refresh.remove(session.refresh_hash.as_bytes())?;
            self.cookies.remove(session.cookie_hash.as_bytes())?;
            self.account_sessions.remove(prefix(&[&session.account_id, access_hash]))?;
        }
        self.flush()
    }

    /// The account's sessions that can still be used or refreshed at `now` (unix seconds).
    /// Sessions whose refresh token has expired are revoked on the way (lazy expiry).
    pub fn active_sessions(&self, account_id: &str, now: i64) -> Result<u64> {
        let p = prefix(&[account_id]);
        let mut active = 0;
        let mut stale = Vec::new();
        for entry in self.account_sessions.scan_prefix(&p) {
            let (key, _) = entry?;
            let access_hash = String::from_utf8_lossy(&key[p.len()..key.len().saturating_sub(1)]).into_owned();
            let live = match self.session(&access_hash)? {
                Some(session) => get::<RefreshRecord>(&self.refresh, &session.refresh_hash)?
                    .is_some_and(|r| now < r.expires_at || now < session.access_expires_at),
                None => false,
            };
            if live {
                active += 1;
            } else {
                stale.push((key, access_hash));
            }
        }
        if !stale.is_empty() {
            for (key, access_hash) in stale {
                self.revoke_session(&access_hash)?;
                self.account_sessions.remove(key)?;
            }
            self.flush()?;
        }
        Ok(active)
    }

    // Consent receipts.

    /// Stores a receipt unless one with its id is already stored for the account; returns the
    /// one that was there first (`None` when this one is new).
    pub fn put_receipt(
        &self,
        account_id: &str,
        receipt: &ConsentReceipt,
        stored_at: &str,
    ) -> Result<Option<StoredReceipt>> {
        let key = prefix(&[account_id, &receipt.receipt_id]);
        let open = |bytes: &[u8]| open_json::<StoredReceipt>(&self.keys, account_id, "receipts", &key, bytes);
        let _guard = self.sync.lock(account_id);
        if let Some(existing) = self.receipts.get(&key)? {
            return Ok(Some(open(&existing)?));
        }
        let stored = StoredReceipt {
            receipt: receipt.clone(),
            stored_at: stored_at.to_string(),
            stored_seq: self.db.generate_id()?,
        };
        let sealed = keys::seal(
            &write_key(&self.keys, &self.accounts, account_id)?,
            "receipts",
            &key,
            &serde_json::to_vec(&stored)?,
        );
        match self.receipts.compare_and_swap(&key, None::<&[u8]>, Some(sealed))? {
            Ok(()) => {
                self.flush()?;
                Ok(None)
            }
            // A concurrent request with the same id won.
            Err(e) => match e.current {
                Some(current) => Ok(Some(open(&current)?)),
                None => Ok(None),
            },
        }
    }

    /// The account's receipts, by ledger position then arrival.
    pub fn receipts(&self, account_id: &str) -> Result<Vec<StoredReceipt>> {
        let mut out = Vec::new();
        for entry in self.receipts.scan_prefix(prefix(&[account_id])) {
            let (key, value) = entry?;
            out.push(open_json::<StoredReceipt>(&self.keys, account_id, "receipts", &key, &value)?);
        }
        out.sort_by_key(|r| (r.receipt.ledger_seq, r.stored_seq));
        Ok(out)
    }

    /// Every account's receipts, grouped by account id (for the dev marketing list).
    pub fn all_receipts(&self) -> Result<Vec<(String, StoredReceipt)>> {
        let mut out = Vec::new();
        for entry in self.receipts.iter() {
            let (key, value) = entry?;
            let account = key_account(&key);
            let receipt = open_json(&self.keys, &account, "receipts", &key, &value)?;
            out.push((account, receipt));
        }
        Ok(out)
    }

    // Policy versions (after the first).

    /// The stored policy `version` (never version 1: it is not stored).
    pub fn policy(&self, version: u32) -> Result<Option<PolicyDocument>> {
        match self.policies.get(version.to_be_bytes())? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The highest stored policy version, if any was published.
    pub fn latest_policy(&self) -> Result<Option<PolicyDocument>> {
        match self.policies.last()? {
            Some((_, bytes)) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Stores a policy version unless that version is already stored (`false` then), and
    /// flushes it before returning.
    pub fn insert_policy(&self, document: &PolicyDocument) -> Result<bool> {
        let value = serde_json::to_vec(document)?;
        let taken =
            self.policies.compare_and_swap(document.version.to_be_bytes(), None::<&[u8]>, Some(value))?.is_err();
        if !taken {
            self.flush()?;
        }
        Ok(!taken)
    }

    // Telemetry.

    /// Stores the items whose id is not yet stored for the account and purpose, received at
    /// `now`; returns how many were new. One transaction: a failure stores none of them.
    pub fn ingest(&self, account_id: &str, purpose: Purpose, events: &[TelemetryEvent], now: i64) -> Result<u32> {
        let p = prefix(&[account_id, purpose.as_str()]);
        let _guard = self.sync.lock(account_id);
        let seal_key = write_key(&self.keys, &self.accounts, account_id)?;
        let mut values = Vec::with_capacity(events.len());
        for event in events {
            let stored = StoredEvent { received_at: now, event: event.clone() };
            let mut key = p.clone();
            key.extend_from_slice(event.id.as_bytes());
            values.push((event.id.as_str(), keys::seal(&seal_key, "telemetry", &key, &serde_json::to_vec(&stored)?)));
        }
        let result = (&self.telemetry, &self.telemetry_ages).transaction(|(items, ages)| {
            let mut accepted = 0u32;
            for (id, value) in &values {
                let mut key = p.clone();
                key.extend_from_slice(id.as_bytes());
                if items.get(&key)?.is_some() {
                    continue;
                }
                items.insert(key, value.as_slice())?;
                ages.insert(age_key(&p, now, id), &[])?;
                accepted += 1;
            }
            Ok::<_, ConflictableTransactionError<()>>(accepted)
        });
        let accepted = match result {
            Ok(n) => n,
            Err(TransactionError::Storage(e)) => return Err(e.into()),
            Err(TransactionError::Abort(())) => 0,
        };
        if accepted > 0 {
            self.flush()?;
        }
        Ok(accepted)
    }

    /// How many items are held for the account and purpose.
    pub fn telemetry_count(&self, account_id: &str, purpose: Purpose) -> Result<u64> {
        let mut n = 0;
        for entry in self.telemetry_ages.scan_prefix(prefix(&[account_id, purpose.as_str()])) {
            entry?;
            n += 1;
        }
        Ok(n)
    }

    /// The items held for the account and purpose, oldest first (the export will read them).
    #[cfg(test)]
    pub fn telemetry(&self, account_id: &str, purpose: Purpose) -> Result<Vec<StoredEvent>> {
        let p = prefix(&[account_id, purpose.as_str()]);
        let mut out = Vec::new();
        for entry in self.telemetry_ages.scan_prefix(&p) {
            let (key, _) = entry?;
            let mut item = p.clone();
            item.extend_from_slice(&key[p.len() + 8..]);
            if let Some(value) = self.telemetry.get(&item)? {
                out.push(open_json(&self.keys, account_id, "telemetry", &item, &value)?);
            }
        }
        Ok(out)
    }

    /// Deletes the items received before `cutoff` (unix seconds); returns how many.
    pub fn purge_telemetry_before(&self, account_id: &str, purpose: Purpose, cutoff: i64) -> Result<u64> {
        let p = prefix(&[account_id, purpose.as_str()]);
        let end = age_key(&p, cutoff, "");
        let mut batch_ages = sled::Batch::default();
        let mut batch_items = sled::Batch::default();
        let mut n = 0;
        for entry in self.telemetry_ages.range(p.clone()..end) {
            let (key, _) = entry?;
            let mut item = p.clone();
            item.extend_from_slice(&key[p.len() + 8..]);
            batch_items.remove(item);
            batch_ages.remove(key);
            n += 1;
        }
        if n > 0 {
            self.telemetry.apply_batch(batch_items)?;
            self.telemetry_ages.apply_batch(batch_ages)?;
            self.flush()?;
        }
        Ok(n)
    }

    /// Deletes everything held for the account and purpose; returns how many items.
    pub fn delete_telemetry(&self, account_id: &str, purpose: Purpose) -> Result<u64> {
        let p = prefix(&[account_id, purpose.as_str()]);
        let mut batch_items = sled::Batch::default();
        let mut n = 0;
        for entry in self.telemetry.scan_prefix(&p) {
            let (key, _) = entry?;
            batch_items.remove(key);
            n += 1;
        }
        let mut batch_ages = sled::Batch::default();
        for entry in self.telemetry_ages.scan_prefix(&p) {
            let (key, _) = entry?;
            batch_ages.remove(key);
        }
        self.telemetry.apply_batch(batch_items)?;
        self.telemetry_ages.apply_batch(batch_ages)?;
        self.flush()?;
        Ok(n)
    }
}

/// Removes every key under `p` in `tree`; returns how many.
fn remove_prefix(tree: &sled::Tree, p: &[u8]) -> Result<u64> {
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for entry in tree.scan_prefix(p) {
        let (key, _) = entry?;
        batch.remove(key);
        n += 1;
    }
    tree.apply_batch(batch)?;
    Ok(n)
}

impl Store {
    // Rights requests.

    /// Stores a new request and its attachments' bytes.
    pub fn put_request(&self, account_id: &str, request: &RightsRequest, files: &[Vec<u8>]) -> Result<()> {
        let _guard = self.sync.lock(account_id);
        let seal_key = write_key(&self.keys, &self.accounts, account_id)?;
        for (i, bytes) in files.iter().enumerate() {
            let mut key = prefix(&[account_id, &request.id]);
            key.extend_from_slice(&(i as u32).to_be_bytes());
            let sealed = keys::seal(&seal_key, "request_files", &key, bytes);
            self.request_files.insert(key, sealed)?;
        }
        let stored = StoredRequest { request: request.clone(), seq: self.db.generate_id()? };
        let key = prefix(&[account_id, &request.id]);
        let sealed = keys::seal(&seal_key, "requests", &key, &serde_json::to_vec(&stored)?);
        self.requests.insert(key, sealed)?;
        self.request_owners.insert(request.id.as_bytes(), account_id.as_bytes())?;
        self.flush()
    }

    /// Replaces a stored request's record (status and answer).
    pub fn update_request(&self, account_id: &str, request: &RightsRequest) -> Result<()> {
        let key = prefix(&[account_id, &request.id]);
        let _guard = self.sync.lock(account_id);
        let Some(bytes) = self.requests.get(&key)? else { return Ok(()) };
        let mut stored: StoredRequest = open_json(&self.keys, account_id, "requests", &key, &bytes)?;
        stored.request = request.clone();
        let seal_key = write_key(&self.keys, &self.accounts, account_id)?;
        self.requests.insert(key.as_slice(), keys::seal(&seal_key, "requests", &key, &serde_json::to_vec(&stored)?))?;
        self.flush()
    }

    /// The account's requests, oldest first.
    pub fn requests(&self, account_id: &str) -> Result<Vec<RightsRequest>> {
        let mut out = Vec::new();
        for entry in self.requests.scan_prefix(prefix(&[account_id])) {
            let (key, value) = entry?;
            out.push(open_json::<StoredRequest>(&self.keys, account_id, "requests", &key, &value)?);
        }
        out.sort_by_key(|r| r.seq);
        Ok(out.into_iter().map(|r| r.request).collect())
    }

    /// One of the account's requests.
    pub fn request(&self, account_id: &str, id: &str) -> Result<Option<RightsRequest>> {
        let key = prefix(&[account_id, id]);
        match self.requests.get(&key)? {
            Some(bytes) => {
                Ok(Some(open_json::<StoredRequest>(&self.keys, account_id, "requests", &key, &bytes)?.request))
            }
            None => Ok(None),
        }
    }

    /// The account a request belongs to.
    pub fn request_owner(&self, id: &str) -> Result<Option<String>> {
        get_str(&self.request_owners, id)
    }

    /// Every account's requests, oldest first (for the operator).
    pub fn all_requests(&self) -> Result<Vec<(String, RightsRequest)>> {
        let mut out = Vec::new();
        for entry in self.requests.iter() {
            let (key, value) = entry?;
            let account = key_account(&key);
            let stored: StoredRequest = open_json(&self.keys, &account, "requests", &key, &value)?;
            out.push((stored.seq, account, stored.request));
        }
        out.sort_by_key(|(seq, _, _)| *seq);
        Ok(out.into_iter().map(|(_, a, r)| (a, r)).collect())
    }

    /// How many requests the account has.
    pub fn request_count(&self, account_id: &str) -> Result<u64> {
        Ok(self.requests.scan_prefix(prefix(&[account_id])).count() as u64)
    }

    /// Deletes one of the account's requests and its attachments; `false` when it has none of
    /// that id.
    pub fn delete_request(&self, account_id: &str, id: &str) -> Result<bool> {
        let key = prefix(&[account_id, id]);
        if self.requests.remove(&key)?.is_none() {
            return Ok(false);
        }
        remove_prefix(&self.request_files, &key)?;
        self.request_owners.remove(id.as_bytes())?;
        self.flush()?;
        Ok(true)
    }

    fn delete_requests(&self, account_id: &str) -> Result<u64> {
        let p = prefix(&[account_id]);
        let mut ids = Vec::new();
        for entry in self.requests.scan_prefix(&p) {
            let (key, _) = entry?;
            ids.push(key[p.len()..key.len().saturating_sub(1)].to_vec());
        }
        for id in &ids {
            self.request_owners.remove(id)?;
        }
        remove_prefix(&self.request_files, &p)?;
        remove_prefix(&self.requests, &p)
    }

    // Erasure and cancellation.

    /// Deletes everything held for the account except the account itself, its sessions and its
    /// consent receipts: telemetry of every purpose, the rights requests (with their files), and
    /// the synced items, change feed, idempotency records and uploads (with their files).
    /// Returns the count per category (every category it covers, zeros included), after a flush.
    ///
    /// The account's key is replaced (see `keys.rs`): a new key seals from the start, the
    /// account record and receipts are sealed again with it after the deletion, and the old key
    /// is destroyed, so that nothing deleted can be read from what sled still holds.
    pub fn erase_account_data(&self, account_id: &str) -> Result<BTreeMap<String, u64>> {
        {
            // Not while a write of the account is sealing with the old key.
            let _guard = self.sync.lock(account_id);
            if self.accounts.contains_key(account_id.as_bytes())? {
                self.keys.begin_rotation(account_id)?;
            }
        }
        let deleted = self.delete_data(account_id)?;
        self.finish_rotation(account_id)?;
        Ok(deleted)
    }

    /// Seals what erasure keeps (the account record, the consent receipts) with the account's new
    /// key, flushes, then destroys the old key (no-op without a rotation started).
    fn finish_rotation(&self, account_id: &str) -> Result<()> {
        let _guard = self.sync.lock(account_id);
        let keys = self.keys.keys(account_id)?;
        let Some(new) = self.keys.sealing_key(account_id)? else { return Ok(()) };
        let id = account_id.as_bytes();
        if let Some(bytes) = self.accounts.get(id)? {
            let plain = keys::open(&keys, "accounts", id, &bytes)?;
            self.accounts.insert(id, keys::seal(&new, "accounts", id, &plain))?;
        }
        for entry in self.receipts.scan_prefix(prefix(&[account_id])) {
            let (key, value) = entry?;
            let plain = keys::open(&keys, "receipts", &key, &value)?;
            self.receipts.insert(&key, keys::seal(&new, "receipts", &key, &plain))?;
        }
        self.flush()?;
        self.keys.finish_rotation(account_id)
    }

    /// The deletion of [`Store::erase_account_data`], without the key rotation.
    fn delete_data(&self, account_id: &str) -> Result<BTreeMap<String, u64>> {
        let mut deleted = BTreeMap::new();
        for purpose in TELEMETRY_PURPOSES {
            deleted.insert(format!("telemetry:{}", purpose.as_str()), self.delete_telemetry(account_id, purpose)?);
        }
        deleted.insert("rights_requests".into(), self.delete_requests(account_id)?);
        deleted.extend(self.sync.erase(account_id, false)?);
        self.flush()?;
        Ok(deleted)
    }

    /// Deletes the account and every record keyed by it or pointing to it: its data (as
    /// [`Store::erase_account_data`]), consent receipts, sessions (access, refresh, cookie), the
    /// SMS code of its phone, its name and phone reservations, and the account record last (so
    /// that an interrupted deletion can be asked again), then destroys the account's keys, so
    /// that what sled still holds of its records in its files no longer opens. Returns the count
    /// per category, after a flush.
    pub fn delete_account(&self, account_id: &str, phone_key: &str) -> Result<BTreeMap<String, u64>> {
        let mut deleted = self.delete_data(account_id)?;
        self.sync.erase(account_id, true)?;
        deleted.insert("consent_receipts".into(), remove_prefix(&self.receipts, &prefix(&[account_id]))?);

        // Sessions: every one listed for the account, then any stray record naming it.
        let p = prefix(&[account_id]);
        let mut access_hashes = Vec::new();
        for entry in self.account_sessions.scan_prefix(&p) {
            let (key, _) = entry?;
            access_hashes.push(String::from_utf8_lossy(&key[p.len()..key.len().saturating_sub(1)]).into_owned());
        }
        for entry in self.sessions.iter() {
            let (key, value) = entry?;
            let session: SessionRecord = serde_json::from_slice(&value)?;
            let hash = String::from_utf8_lossy(&key).into_owned();
            if session.account_id == account_id && !access_hashes.contains(&hash) {
                access_hashes.push(hash);
            }
        }
        let mut sessions = 0;
        for hash in &access_hashes {
            if self.sessions.contains_key(hash.as_bytes())? {
                sessions += 1;
            }
            self.revoke_session(hash)?;
        }
        remove_prefix(&self.account_sessions, &p)?;
        for entry in self.refresh.iter() {
            let (key, value) = entry?;
            let record: RefreshRecord = serde_json::from_slice(&value)?;
            if record.account_id == account_id {
                self.refresh.remove(key)?;
            }
        }
        deleted.insert("sessions".into(), sessions);

        self.sms.remove(self.ix(phone_key.as_bytes()))?;
        if let Some(record) = self.account(account_id)? {
            self.names.remove(self.ix(record.profile.account_name.to_lowercase().as_bytes()))?;
        }
        // Any other reservation pointing to the account (a name released by a rename is gone
        // already; this is the belt to those braces).
        for tree in [&self.names, &self.phones] {
            let mut batch = sled::Batch::default();
            for entry in tree.iter() {
                let (key, value) = entry?;
                if value.as_ref() == account_id.as_bytes() {
                    batch.remove(key);
                }
            }
            tree.apply_batch(batch)?;
        }
        let removed = self.accounts.remove(account_id.as_bytes())?;
        deleted.insert("account".into(), u64::from(removed.is_some()));
        self.flush()?;
        {
            let _guard = self.sync.lock(account_id);
            self.keys.destroy(account_id)?;
        }
        Ok(deleted)
    }

    /// The stored answer to a cancellation with this idempotency key hash, if any (and not
    /// older than [`CANCELLATION_REPLAY_SECS`] at `now`).
    pub fn cancellation(&self, key_hash: &str, now: i64) -> Result<Option<DeletionReceipt>> {
        Ok(get::<CancellationReplay>(&self.cancellations, key_hash)?
            .filter(|r| now < r.stored_at.saturating_add(CANCELLATION_REPLAY_SECS))
            .map(|r| r.receipt))
    }

    pub fn put_cancellation(&self, key_hash: &str, receipt: &DeletionReceipt, now: i64) -> Result<()> {
        put(&self.cancellations, key_hash, &CancellationReplay { receipt: receipt.clone(), stored_at: now })?;
        self.flush()
    }

    /// Deletes the cancellation answers older than [`CANCELLATION_REPLAY_SECS`]; returns how many.
    pub fn purge_cancellations(&self, now: i64) -> Result<u64> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in self.cancellations.iter() {
            let (key, value) = entry?;
            let replay: CancellationReplay = serde_json::from_slice(&value)?;
            if now >= replay.stored_at.saturating_add(CANCELLATION_REPLAY_SECS) {
                batch.remove(key);
                n += 1;
            }
        }
        if n > 0 {
            self.cancellations.apply_batch(batch)?;
            self.flush()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_plaintext_records_are_read_and_sealed_when_next_written() {
        let dir = tempfile::tempdir().unwrap();
        let profile: AccountProfile = serde_json::from_value(serde_json::json!({
            "account_id": "acc_old", "account_name": "oldtimer", "phone": "+8613800000009",
            "display_name": "LEGACY-MARKER", "email": null, "organisation": null, "date_of_birth": "1990-01-01",
            "age_band": "adult", "sensitive_personal_information": false, "guardian": null, "region": "local",
            "policy_version_accepted": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let record = AccountRecord { profile, password_hash: "phc".into() };
        {
            // A data directory of a platform from before sealing: plain JSON, no key file.
            let db = sled::Config::new().path(dir.path().join("store")).open().unwrap();
            db.open_tree("accounts").unwrap().insert("acc_old", serde_json::to_vec(&record).unwrap()).unwrap();
            let stored = StoredEvent { received_at: 1, event: event("e1") };
            let key = [prefix(&["acc_old", "usage_analytics"]), b"e1".to_vec()].concat();
            db.open_tree("telemetry").unwrap().insert(key, serde_json::to_vec(&stored).unwrap()).unwrap();
            let age = age_key(&prefix(&["acc_old", "usage_analytics"]), 1, "e1");
            db.open_tree("telemetry_ages").unwrap().insert(age, &[]).unwrap();
            db.open_tree("names").unwrap().insert("oldtimer", "acc_old").unwrap();
            db.open_tree("phones").unwrap().insert("8613800000009", "acc_old").unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store.keys.keys("acc_old").unwrap().is_empty());
        // The log-in indexes were hashed when the store opened.
        assert_eq!(store.account_id_by_name("OldTimer").unwrap().as_deref(), Some("acc_old"));
        assert_eq!(store.account_id_by_phone("8613800000009").unwrap().as_deref(), Some("acc_old"));
        assert!(!store.claim_name("oldtimer", "acc_new").unwrap());
        for tree in [&store.names, &store.phones] {
            assert!(tree.iter().all(|e| e.unwrap().0.starts_with(INDEX_TAG)));
        }
        let read = store.account("acc_old").unwrap().unwrap();
        assert_eq!(read.profile.display_name.as_deref(), Some("LEGACY-MARKER"));
        assert_eq!(store.telemetry("acc_old", Purpose::UsageAnalytics).unwrap().len(), 1);
        // The next write seals it, with a key made for the account then.
        store.put_account(&read).unwrap();
        let raw = store.accounts.get("acc_old").unwrap().unwrap();
        assert!(keys::is_sealed(&raw));
        assert_eq!(store.keys.keys("acc_old").unwrap().len(), 1);
        assert_eq!(store.account("acc_old").unwrap().unwrap().profile.display_name.as_deref(), Some("LEGACY-MARKER"));
        // New records of a legacy account are sealed; the old plain ones still read.
        store.ingest("acc_old", Purpose::UsageAnalytics, &[event("e2")], 2).unwrap();
        assert_eq!(store.telemetry("acc_old", Purpose::UsageAnalytics).unwrap().len(), 2);
        // Erasure rotates the key of a legacy account as of any other.
        store.erase_account_data("acc_old").unwrap();
        assert_eq!(store.telemetry("acc_old", Purpose::UsageAnalytics).unwrap().len(), 0);
        assert_eq!(store.account("acc_old").unwrap().unwrap().profile.display_name.as_deref(), Some("LEGACY-MARKER"));
        // An account that does not exist gets no key: its records are refused.
        assert!(matches!(
            store.ingest("acc_gone", Purpose::UsageAnalytics, &[event("e1")], 1),
            Err(StoreError::Sealed(_))
        ));
        assert!(store.keys.keys("acc_gone").unwrap().is_empty());
    }

    #[test]
    fn an_interrupted_erasure_or_cancellation_is_finished_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let profile: AccountProfile = serde_json::from_value(serde_json::json!({
                "account_id": "acc_a", "account_name": "a", "phone": "+8613800000008",
                "display_name": "kept", "email": null, "organisation": null, "date_of_birth": "1990-01-01",
                "age_band": "adult", "sensitive_personal_information": false, "guardian": null, "region": "local",
                "policy_version_accepted": 1, "created_at": "", "updated_at": "",
            }))
            .unwrap();
            store.put_account(&AccountRecord { profile, password_hash: "phc".into() }).unwrap();
            store.ingest("acc_a", Purpose::UsageAnalytics, &[event("e1")], 1).unwrap();
            // An erasure stopped right after its new key was written.
            store.keys.begin_rotation("acc_a").unwrap();
            // A cancellation stopped after the account was deleted, before its key was.
            store.keys.sealing_key_or_create("acc_gone").unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store.keys.pending_rotations().unwrap().is_empty());
        assert_eq!(store.keys.keys("acc_a").unwrap().len(), 1);
        assert_eq!(store.telemetry_count("acc_a", Purpose::UsageAnalytics).unwrap(), 0);
        assert_eq!(store.account("acc_a").unwrap().unwrap().profile.display_name.as_deref(), Some("kept"));
        assert!(store.keys.keys("acc_gone").unwrap().is_empty());
        assert!(!dir.path().join("account-keys/acc_gone.key").exists());
    }

    fn event(id: &str) -> TelemetryEvent {
        TelemetryEvent {
            id: id.into(),
            kind: "k".into(),
            at: "2026-01-01T00:00:00Z".into(),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn telemetry_is_kept_per_account_and_purpose_and_purged_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for account in ["acc_a", "acc_ab"] {
            store.keys.sealing_key_or_create(account).unwrap();
        }
        let ua = Purpose::UsageAnalytics;
        assert_eq!(store.ingest("acc_a", ua, &[event("1"), event("2"), event("1")], 100).unwrap(), 2);
        assert_eq!(store.ingest("acc_a", ua, &[event("2"), event("3")], 200).unwrap(), 1);
        assert_eq!(store.ingest("acc_a", Purpose::CrashReports, &[event("1")], 100).unwrap(), 1);
        // An account id that extends another's is still another account.
        assert_eq!(store.ingest("acc_ab", ua, &[event("1")], 100).unwrap(), 1);
        assert_eq!(store.telemetry_count("acc_a", ua).unwrap(), 3);
        let ids: Vec<_> = store.telemetry("acc_a", ua).unwrap().into_iter().map(|e| e.event.id).collect();
        assert_eq!(ids, ["1", "2", "3"]);

        assert_eq!(store.purge_telemetry_before("acc_a", ua, 100).unwrap(), 0, "the cutoff is exclusive");
        assert_eq!(store.purge_telemetry_before("acc_a", ua, 101).unwrap(), 2);
        assert_eq!(store.telemetry_count("acc_a", ua).unwrap(), 1);
        assert_eq!(store.telemetry_count("acc_a", Purpose::CrashReports).unwrap(), 1);
        assert_eq!(store.telemetry_count("acc_ab", ua).unwrap(), 1);
        // A purged id may arrive again (it is new data).
        assert_eq!(store.ingest("acc_a", ua, &[event("1")], 300).unwrap(), 1);

        assert_eq!(store.delete_telemetry("acc_a", ua).unwrap(), 2);
        assert_eq!(store.telemetry_count("acc_a", ua).unwrap(), 0);
        assert!(store.telemetry("acc_a", ua).unwrap().is_empty());
        assert_eq!(store.telemetry_count("acc_ab", ua).unwrap(), 1);
        assert_eq!(store.delete_telemetry("acc_a", ua).unwrap(), 0);
    }
}
