//! Storage of consented sync (`sync.rs` has the HTTP side): per-account items with revisions,
//! the change feed, idempotency records and resumable uploads.
//!
//! Trees (keys start with the account id and a NUL, so that one prefix scan finds everything of
//! an account): `sync_items` (`account \0 kind \0 id` → [`StoredItem`], live items and
//! tombstones), `sync_feed` (`account \0 cursor (8 bytes, big-endian)` → `kind \0 id`: one entry
//! per item, at its latest cursor; the entry of the previous revision is removed in the same
//! transaction), `sync_cursors` (`account` → the last cursor given, 8 bytes big-endian),
//! `sync_replays` (`account \0 idempotency key` → [`Replay`]) with `sync_replay_ages`
//! (`account \0 stored-at (8 bytes) key` → empty, for the 30-day purge), and `sync_uploads`
//! (`account \0 upload id` → [`UploadRecord`]).
//!
//! An accepted write changes the item, its feed entry, the account's cursor and its idempotency
//! record in **one sled transaction**, flushed before the answer leaves: after a crash either all
//! of it is there or none. Writes of one account are also serialised by a lock (one of
//! [`LOCK_STRIPES`]), so that of two writes expecting the same revision exactly one wins. A
//! batch (`POST /v1/items/batch`, [`SyncStore::write_many`]) takes the lock once and applies its
//! writes in order, each in its own transaction as above, then flushes once, before the batch's
//! answer leaves: after a crash each write is there whole or not at all, and a retry with the
//! same idempotency keys replays the writes that are there and applies the others.
//!
//! Upload bytes are files, `<data dir>/uploads/<account>/<upload id>`, never in sled (they reach
//! 1 GiB): each chunk is encrypted (XChaCha20 under a key derived from the account's key, the
//! nonce in the sealed upload record: no expansion), appended and synced before the answer, so the
//! file's length is the upload's offset, across restarts too.
//!
//! The values of `sync_items`, `sync_replays` (their answers hold item bodies) and `sync_uploads`
//! are sealed with the account's key (`keys.rs`); keys, feed entries (kind and item id), cursors
//! and replay ages are plain.
//!
//! Erasure keeps the account's cursor counter (a number, no content), so that a device holding
//! an older cursor still sees later changes; cancellation removes it with the rest.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use awf_platform_api::{ItemKind, ItemState, PiiAttestation, SyncConflict, SyncStats, UploadState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use crate::error::StoreError;
use crate::keys::{self, Key, KeyStore};
use crate::store::{key_account, open_json, write_key};

type Result<T> = std::result::Result<T, StoreError>;

/// Locks that serialise the writes of one account (accounts hash onto them).
pub const LOCK_STRIPES: usize = 64;
/// How long an idempotency record answers a retry: 30 days.
pub const REPLAY_SECS: i64 = 30 * 86_400;

/// An item as stored: its state and, with the revision, what the client declared of PII.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredItem {
    pub state: ItemState,
    #[serde(default)]
    pub pii_findings: u32,
    #[serde(default)]
    pub attestation: Option<PiiAttestation>,
}

/// The first answer to an idempotent write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replay {
    /// SHA-256 (hex) of the request: method, item, expected revision and body.
    pub fingerprint: String,
    pub status: u16,
    pub body: Value,
    /// Unix seconds.
    pub stored_at: i64,
}

/// An upload as stored (its bytes are in the upload's file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: String,
    pub dataset_id: String,
    pub length: u64,
    pub sha256: String,
    pub complete: bool,
    pub created_at: String,
    /// Unix seconds: an unfinished upload is purged [`UNFINISHED_UPLOAD_SECS`] after it.
    #[serde(default)]
    pub created_unix: i64,
    /// The nonce (hex) of the file's stream cipher under the account's key (`keys.rs`); none for
    /// an upload stored before upload files were encrypted (its file is plain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_nonce: Option<String>,
}

/// How long an unfinished upload is kept: 7 days.
pub const UNFINISHED_UPLOAD_SECS: i64 = 7 * 86_400;

/// What a write is.
pub enum WriteOp {
    Put { body: Value, pii_findings: u32, attestation: Option<PiiAttestation>, origin: Option<String> },
    Delete,
}

/// One write of [`SyncStore::write_many`]: what [`SyncStore::write`] takes besides the account.
pub struct PendingWrite {
    pub kind: ItemKind,
    pub id: String,
    /// The revision the write expects (0: the item must not exist).
    pub expected: u64,
    /// The idempotency key and the request's fingerprint.
    pub idempotency: Option<(String, String)>,
    pub op: WriteOp,
}

/// How a write ended.
pub enum WriteOutcome {
    /// The idempotency key was seen with this request: its first answer.
    Replay { status: u16, body: Value },
    /// The idempotency key was seen with another request.
    KeyReused,
    /// The expected revision is not the current one.
    Conflict(SyncConflict),
    /// A delete of an item that does not exist (or is already deleted).
    NotFound,
    /// Applied: the answer's status and body (as stored for replays), and the new state.
    Applied { status: u16, body: Value },
}

#[derive(Default)]
struct Counters {
    writes_applied: AtomicU64,
    replays: AtomicU64,
    conflicts: AtomicU64,
    upload_bytes: AtomicU64,
    uploads_completed: AtomicU64,
    /// The origins (`<device>/<change>`) of the writes applied since start, to count a change
    /// applied twice (a dev statistic for the convergence tests).
    origins: Mutex<std::collections::HashSet<String>>,
    duplicate_origins: AtomicU64,
}

pub struct SyncStore {
    db: sled::Db,
    items: sled::Tree,
    feed: sled::Tree,
    cursors: sled::Tree,
    replays: sled::Tree,
    replay_ages: sled::Tree,
    uploads: sled::Tree,
    /// The accounts tree (read only: whether an account exists, for [`write_key`]).
    accounts: sled::Tree,
    keys: std::sync::Arc<KeyStore>,
    upload_dir: PathBuf,
    locks: Vec<Mutex<()>>,
    counters: Counters,
}

fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

/// `account \0`: the prefix of everything of an account.
fn account_prefix(account: &str) -> Vec<u8> {
    let mut k = account.as_bytes().to_vec();
    k.push(0);
    k
}

fn feed_key(account: &str, cursor: u64) -> Vec<u8> {
    let mut k = account_prefix(account);
    k.extend_from_slice(&cursor.to_be_bytes());
    k
}

fn age_key(account: &str, at: i64, idem: &str) -> Vec<u8> {
    let mut k = account_prefix(account);
    k.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    k.extend_from_slice(idem.as_bytes());
    k
}

fn be_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

type TxError = ConflictableTransactionError<String>;

fn tx_json<T: Serialize>(v: &T) -> std::result::Result<Vec<u8>, TxError> {
    serde_json::to_vec(v).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))
}

/// Opens a sealed value (with one of `keys`) and decodes it, inside a transaction.
fn tx_open<T: for<'de> Deserialize<'de>>(
    keys: &[Key],
    tree: &str,
    key: &[u8],
    bytes: &[u8],
) -> std::result::Result<T, TxError> {
    let plain = keys::open(keys, tree, key, bytes).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
    serde_json::from_slice(&plain).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))
}

fn tx_result<T>(r: std::result::Result<T, TransactionError<String>>) -> Result<T> {
    match r {
        Ok(v) => Ok(v),
        Err(TransactionError::Storage(e)) => Err(e.into()),
        Err(TransactionError::Abort(detail)) => {
            Err(StoreError::Decode(serde_json::Error::io(std::io::Error::other(detail))))
        }
    }
}

impl SyncStore {
    pub fn open(db: &sled::Db, data_dir: &Path, keys: std::sync::Arc<KeyStore>) -> Result<SyncStore> {
        Ok(SyncStore {
            accounts: db.open_tree("accounts")?,
            keys,
            db: db.clone(),
            items: db.open_tree("sync_items")?,
            feed: db.open_tree("sync_feed")?,
            cursors: db.open_tree("sync_cursors")?,
            replays: db.open_tree("sync_replays")?,
            replay_ages: db.open_tree("sync_replay_ages")?,
            uploads: db.open_tree("sync_uploads")?,
            upload_dir: data_dir.join("uploads"),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            counters: Counters::default(),
        })
    }

    /// The lock serialising the account's writes.
    pub fn lock(&self, account: &str) -> MutexGuard<'_, ()> {
        let hash = Sha256::digest(account.as_bytes());
        let i = usize::from(hash[0]) % LOCK_STRIPES;
        self.locks[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn count_conflict(&self) {
        self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    // Items.

    pub fn item(&self, account: &str, kind: ItemKind, id: &str) -> Result<Option<StoredItem>> {
        let k = key(&[account, kind.as_str(), id]);
        match self.items.get(&k)? {
            Some(bytes) => Ok(Some(open_json(&self.keys, account, "sync_items", &k, &bytes)?)),
            None => Ok(None),
        }
    }

    /// The idempotency record of `idem` for the account, unless older than [`REPLAY_SECS`].
    fn live_replay(
        tree: &sled::transaction::TransactionalTree,
        keys: &[Key],
        k: &[u8],
        now: i64,
    ) -> std::result::Result<Option<Replay>, TxError> {
        match tree.get(k)? {
            Some(bytes) => {
                let r: Replay = tx_open(keys, "sync_replays", k, &bytes)?;
                Ok((now < r.stored_at.saturating_add(REPLAY_SECS)).then_some(r))
            }
            None => Ok(None),
        }
    }

    /// Applies a write expecting revision `expected` (0: the item must not exist), atomically
    /// with its feed entry, the account's cursor and the idempotency record (see the module
    /// documentation), and flushes. `answer` makes the body of a successful answer from the new
    /// state (it may run more than once when sled retries the transaction).
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        account: &str,
        kind: ItemKind,
        id: &str,
        expected: u64,
        idempotency: Option<(&str, &str)>,
        op: WriteOp,
        updated_at: &str,
        now: i64,
        answer: &dyn Fn(&ItemState) -> Value,
    ) -> Result<WriteOutcome> {
        let _guard = self.lock(account);
        self.purge_replays(account, now)?;
        let keys = self.account_keys(account)?;
        let outcome = self.apply(account, &keys, kind, id, expected, idempotency, &op, updated_at, now, answer)?;
        if matches!(outcome, WriteOutcome::Applied { .. }) {
            self.db.flush()?;
        }
        self.count(&outcome, &op);
        Ok(outcome)
    }

    /// Applies `writes` in order, each as [`SyncStore::write`] would (its own transaction with
    /// its feed entry, the cursor and its idempotency record; a conflict or a reused key does not
    /// stop the others), under one take of the account's lock, and flushes once, when any was
    /// applied, before returning: one outcome per write, in order. When the storage fails midway,
    /// what was applied before is flushed and counted, and the error returned (a retry with the
    /// same keys replays those).
    pub fn write_many(
        &self,
        account: &str,
        writes: &[PendingWrite],
        updated_at: &str,
        now: i64,
        answer: &dyn Fn(&ItemState) -> Value,
    ) -> Result<Vec<WriteOutcome>> {
        let _guard = self.lock(account);
        self.purge_replays(account, now)?;
        let keys = self.account_keys(account)?;
        let mut outcomes = Vec::with_capacity(writes.len());
        let mut failure = None;
        for w in writes {
            let idempotency = w.idempotency.as_ref().map(|(k, f)| (k.as_str(), f.as_str()));
            match self.apply(account, &keys, w.kind, &w.id, w.expected, idempotency, &w.op, updated_at, now, answer) {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if outcomes.iter().any(|o| matches!(o, WriteOutcome::Applied { .. })) {
            self.db.flush()?;
        }
        for (outcome, w) in outcomes.iter().zip(writes) {
            self.count(outcome, &w.op);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// The account's key to seal with and the keys to open with.
    fn account_keys(&self, account: &str) -> Result<(Key, Vec<Key>)> {
        Ok((write_key(&self.keys, &self.accounts, account)?, self.keys.keys(account)?))
    }

    /// One write's transaction (see [`SyncStore::write`]), without the lock, the purge of old
    /// idempotency records, the flush or the counters.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        account: &str,
        (seal_key, open_keys): &(Key, Vec<Key>),
        kind: ItemKind,
        id: &str,
        expected: u64,
        idempotency: Option<(&str, &str)>,
        op: &WriteOp,
        updated_at: &str,
        now: i64,
        answer: &dyn Fn(&ItemState) -> Value,
    ) -> Result<WriteOutcome> {
        let item_key = key(&[account, kind.as_str(), id]);
        let replay_key = idempotency.map(|(k, _)| key(&[account, k]));
        let cursor_key = account.as_bytes().to_vec();
        let outcome = (&self.items, &self.feed, &self.cursors, &self.replays, &self.replay_ages).transaction(
            |(items, feed, cursors, replays, ages)| {
                if let (Some(rk), Some((_, fingerprint))) = (&replay_key, idempotency) {
                    if let Some(r) = Self::live_replay(replays, open_keys, rk, now)? {
                        if r.fingerprint != fingerprint {
                            return Ok(WriteOutcome::KeyReused);
                        }
                        return Ok(WriteOutcome::Replay { status: r.status, body: r.body });
                    }
                }
                let previous: Option<StoredItem> = match items.get(&item_key)? {
                    Some(bytes) => Some(tx_open(open_keys, "sync_items", &item_key, &bytes)?),
                    None => None,
                };
                let current = previous.as_ref().map_or(0, |p| p.state.revision);
                if expected != current {
                    return Ok(WriteOutcome::Conflict(SyncConflict {
                        error: "revision_mismatch".into(),
                        expected,
                        current: previous.map(|p| p.state),
                    }));
                }
                if matches!(op, WriteOp::Delete) && previous.as_ref().is_none_or(|p| p.state.deleted) {
                    return Ok(WriteOutcome::NotFound);
                }
                let cursor = cursors.get(&cursor_key)?.map_or(0, |c| be_u64(&c)) + 1;
                cursors.insert(cursor_key.as_slice(), &cursor.to_be_bytes())?;
                if let Some(p) = &previous {
                    feed.remove(feed_key(account, p.state.cursor))?;
                }
                feed.insert(feed_key(account, cursor), key(&[kind.as_str(), id]))?;
                let (stored, status) = match op {
                    WriteOp::Put { body, pii_findings, attestation, origin } => (
                        StoredItem {
                            state: ItemState {
                                kind,
                                id: id.to_string(),
                                revision: current + 1,
                                deleted: false,
                                body: Some(body.clone()),
                                cursor,
                                updated_at: updated_at.to_string(),
                                origin: origin.clone(),
                            },
                            pii_findings: *pii_findings,
                            attestation: attestation.clone(),
                        },
                        if previous.is_none() { 201 } else { 200 },
                    ),
                    WriteOp::Delete => (
                        StoredItem {
                            state: ItemState {
                                kind,
                                id: id.to_string(),
                                revision: current + 1,
                                deleted: true,
                                body: None,
                                cursor,
                                updated_at: updated_at.to_string(),
                                origin: None,
                            },
                            pii_findings: 0,
                            attestation: None,
                        },
                        200,
                    ),
                };
                items.insert(item_key.as_slice(), keys::seal(seal_key, "sync_items", &item_key, &tx_json(&stored)?))?;
                let body = answer(&stored.state);
                if let (Some(rk), Some((idem, fingerprint))) = (&replay_key, idempotency) {
                    let replay =
                        Replay { fingerprint: fingerprint.to_string(), status, body: body.clone(), stored_at: now };
                    replays.insert(rk.as_slice(), keys::seal(seal_key, "sync_replays", rk, &tx_json(&replay)?))?;
                    ages.insert(age_key(account, now, idem), &[])?;
                }
                Ok(WriteOutcome::Applied { status, body })
            },
        );
        tx_result(outcome)
    }

    /// Counts a write's outcome in the dev statistics.
    fn count(&self, outcome: &WriteOutcome, op: &WriteOp) {
        match outcome {
            WriteOutcome::Applied { .. } => {
                self.counters.writes_applied.fetch_add(1, Ordering::Relaxed);
                if let WriteOp::Put { origin: Some(o), .. } = op {
                    let fresh = self.counters.origins.lock().unwrap_or_else(|p| p.into_inner()).insert(o.clone());
                    if !fresh {
                        self.counters.duplicate_origins.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            WriteOutcome::Replay { .. } => {
                self.counters.replays.fetch_add(1, Ordering::Relaxed);
            }
            WriteOutcome::Conflict(_) => self.count_conflict(),
            WriteOutcome::KeyReused | WriteOutcome::NotFound => {}
        }
    }
    /// Deletes the account's idempotency records older than [`REPLAY_SECS`].
    fn purge_replays(&self, account: &str, now: i64) -> Result<()> {
        let start = account_prefix(account);
        let end = age_key(account, now.saturating_sub(REPLAY_SECS).saturating_add(1), "");
        let mut n = 0;
        for entry in self.replay_ages.range(start.clone()..end) {
            let (k, _) = entry?;
            let idem = String::from_utf8_lossy(&k[start.len() + 8..]).into_owned();
            // Only if the record is that old (a key reused after expiry has a newer record).
            let rk = key(&[account, &idem]);
            if let Some(bytes) = self.replays.get(&rk)? {
                let r: Replay = open_json(&self.keys, account, "sync_replays", &rk, &bytes)?;
                if now >= r.stored_at.saturating_add(REPLAY_SECS) {
                    self.replays.remove(&rk)?;
                }
            }
            self.replay_ages.remove(k)?;
            n += 1;
        }
        if n > 0 {
            self.db.flush()?;
        }
        Ok(())
    }

    /// The latest state of the items changed after `after`, oldest change first, at most
    /// `limit`; and whether more follow.
    pub fn changes(&self, account: &str, after: u64, limit: usize) -> Result<(Vec<ItemState>, bool)> {
        let start = feed_key(account, after.saturating_add(1));
        let prefix = account_prefix(account);
        let mut out = Vec::new();
        let mut more = false;
        if after == u64::MAX {
            return Ok((out, false));
        }
        for entry in self.feed.range(start..) {
            let (k, v) = entry?;
            if !k.starts_with(&prefix) {
                break;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            let item_key = [prefix.as_slice(), &v].concat();
            if let Some(bytes) = self.items.get(&item_key)? {
                out.push(open_json::<StoredItem>(&self.keys, account, "sync_items", &item_key, &bytes)?.state);
            }
        }
        Ok((out, more))
    }

    /// Live items per kind (`items:<kind>`), tombstones (`item_tombstones`), idempotency records
    /// (`sync_replays`) and uploads (`uploads`) of the account.
    pub fn counts(&self, account: &str) -> Result<BTreeMap<String, u64>> {
        let mut counts: BTreeMap<String, u64> =
            ItemKind::ALL.iter().map(|k| (format!("items:{}", k.as_str()), 0)).collect();
        counts.insert("item_tombstones".into(), 0);
        let p = account_prefix(account);
        for entry in self.items.scan_prefix(&p) {
            let (k, v) = entry?;
            let item: StoredItem = open_json(&self.keys, account, "sync_items", &k, &v)?;
            let name = if item.state.deleted {
                "item_tombstones".to_string()
            } else {
                format!("items:{}", item.state.kind.as_str())
            };
            *counts.entry(name).or_default() += 1;
        }
        counts.insert("sync_replays".into(), self.replays.scan_prefix(&p).count() as u64);
        counts.insert("uploads".into(), self.uploads.scan_prefix(&p).count() as u64);
        Ok(counts)
    }

    /// Deletes every item, feed entry, idempotency record and upload (with its file) of the
    /// account; the counts per category (as [`SyncStore::counts`]), after a flush. With
    /// `forget_cursor` (cancellation) the cursor counter goes too.
    pub fn erase(&self, account: &str, forget_cursor: bool) -> Result<BTreeMap<String, u64>> {
        let _guard = self.lock(account);
        let counts = self.counts(account)?;
        let p = account_prefix(account);
        for tree in [&self.items, &self.feed, &self.replays, &self.replay_ages, &self.uploads] {
            let mut batch = sled::Batch::default();
            for entry in tree.scan_prefix(&p) {
                batch.remove(entry?.0);
            }
            tree.apply_batch(batch)?;
        }
        if forget_cursor {
            self.cursors.remove(account.as_bytes())?;
        }
        let dir = self.upload_dir.join(account);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io(e)),
        }
        self.db.flush()?;
        Ok(counts)
    }

    /// Server-wide counts for `GET /v1/dev/sync-stats`.
    pub fn stats(&self) -> Result<SyncStats> {
        let (mut live, mut tombstones) = (0, 0);
        for entry in self.items.iter() {
            let (k, v) = entry?;
            let item: StoredItem = open_json(&self.keys, &key_account(&k), "sync_items", &k, &v)?;
            if item.state.deleted {
                tombstones += 1;
            } else {
                live += 1;
            }
        }
        let c = &self.counters;
        Ok(SyncStats {
            writes_applied: c.writes_applied.load(Ordering::Relaxed),
            idempotent_replays: c.replays.load(Ordering::Relaxed),
            conflicts: c.conflicts.load(Ordering::Relaxed),
            live_items: live,
            tombstones,
            upload_bytes_received: c.upload_bytes.load(Ordering::Relaxed),
            uploads_completed: c.uploads_completed.load(Ordering::Relaxed),
            duplicate_origins: c.duplicate_origins.load(Ordering::Relaxed),
        })
    }

    // Uploads.

    fn upload_path(&self, account: &str, upload_id: &str) -> PathBuf {
        self.upload_dir.join(account).join(upload_id)
    }

    pub fn upload(&self, account: &str, upload_id: &str) -> Result<Option<UploadRecord>> {
        let k = key(&[account, upload_id]);
        match self.uploads.get(&k)? {
            Some(bytes) => Ok(Some(open_json(&self.keys, account, "sync_uploads", &k, &bytes)?)),
            None => Ok(None),
        }
    }

    /// The bytes received so far: the file's length.
    pub fn upload_offset(&self, account: &str, record: &UploadRecord) -> Result<u64> {
        if record.complete {
            return Ok(record.length);
        }
        match std::fs::metadata(self.upload_path(account, &record.upload_id)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(StoreError::Io(e)),
        }
    }

    /// A finished upload's content from byte `start`: its file, positioned there, and the
    /// cipher that decrypts it from there (none for a file stored plain). `None` when the file
    /// does not hold the upload's length.
    pub fn upload_content(
        &self,
        account: &str,
        record: &UploadRecord,
        start: u64,
    ) -> Result<Option<(std::fs::File, Option<chacha20::XChaCha20>)>> {
        use std::io::{Seek, SeekFrom};
        let mut file = match std::fs::File::open(self.upload_path(account, &record.upload_id)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Io(e)),
        };
        if file.metadata()?.len() != record.length || start > record.length {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(start))?;
        let cipher = match &record.file_nonce {
            Some(nonce) => Some(keys::file_cipher(&write_key(&self.keys, &self.accounts, account)?, nonce, start)?),
            None => None,
        };
        Ok(Some((file, cipher)))
    }

    pub fn upload_state(&self, account: &str, record: &UploadRecord) -> Result<UploadState> {
        Ok(UploadState {
            upload_id: record.upload_id.clone(),
            dataset_id: record.dataset_id.clone(),
            length: record.length,
            offset: self.upload_offset(account, record)?,
            sha256: record.sha256.clone(),
            complete: record.complete,
        })
    }

    /// Opens an upload: its empty file, then its record. The account's unfinished uploads older
    /// than [`UNFINISHED_UPLOAD_SECS`] are purged first.
    pub fn create_upload(&self, account: &str, record: &UploadRecord) -> Result<()> {
        let _guard = self.lock(account);
        let mut stale = Vec::new();
        for entry in self.uploads.scan_prefix(account_prefix(account)) {
            let (k, v) = entry?;
            let old: UploadRecord = open_json(&self.keys, account, "sync_uploads", &k, &v)?;
            if !old.complete && record.created_unix >= old.created_unix.saturating_add(UNFINISHED_UPLOAD_SECS) {
                stale.push(old.upload_id);
            }
        }
        for id in &stale {
            self.discard_upload(account, id)?;
        }
        let path = self.upload_path(account, &record.upload_id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        file.sync_all()?;
        if let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        // The file's bytes are encrypted with the account's key (a nonce of its own).
        let mut record = record.clone();
        record.file_nonce = Some(keys::new_file_nonce());
        self.put_upload(account, &record)?;
        self.db.flush()?;
        Ok(())
    }

    /// Appends `bytes` at `offset` (which the caller checked under [`SyncStore::lock`]), synced.
    /// When the upload is then whole, checks its SHA-256: `Ok(Err(()))` when it does not match
    /// (the upload is discarded).
    pub fn append_upload(
        &self,
        account: &str,
        record: &mut UploadRecord,
        bytes: &[u8],
    ) -> Result<std::result::Result<u64, ()>> {
        let path = self.upload_path(account, &record.upload_id);
        let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
        let file_key = match &record.file_nonce {
            Some(nonce) => Some((write_key(&self.keys, &self.accounts, account)?, nonce.clone())),
            None => None,
        };
        match &file_key {
            Some((k, nonce)) => {
                let mut sealed = bytes.to_vec();
                keys::apply(&mut keys::file_cipher(k, nonce, file.metadata()?.len())?, &mut sealed);
                file.write_all(&sealed)?;
            }
            None => file.write_all(bytes)?,
        }
        file.sync_data()?;
        self.counters.upload_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let offset = file.metadata()?.len();
        if offset < record.length {
            return Ok(Ok(offset));
        }
        let mut hasher = Sha256::new();
        let mut f = std::fs::File::open(&path)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut cipher = match &file_key {
            Some((k, nonce)) => Some(keys::file_cipher(k, nonce, 0)?),
            None => None,
        };
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if let Some(c) = &mut cipher {
                keys::apply(c, &mut buf[..n]);
            }
            hasher.update(&buf[..n]);
        }
        if hex::encode(hasher.finalize()) != record.sha256 || offset != record.length {
            self.discard_upload(account, &record.upload_id)?;
            return Ok(Err(()));
        }
        record.complete = true;
        self.put_upload(account, record)?;
        self.db.flush()?;
        self.counters.uploads_completed.fetch_add(1, Ordering::Relaxed);
        Ok(Ok(offset))
    }

    /// Stores an upload's record, sealed with the account's key.
    fn put_upload(&self, account: &str, record: &UploadRecord) -> Result<()> {
        let k = key(&[account, &record.upload_id]);
        let sealed = keys::seal(
            &write_key(&self.keys, &self.accounts, account)?,
            "sync_uploads",
            &k,
            &serde_json::to_vec(record)?,
        );
        self.uploads.insert(k, sealed)?;
        Ok(())
    }

    fn discard_upload(&self, account: &str, upload_id: &str) -> Result<()> {
        self.uploads.remove(key(&[account, upload_id]))?;
        match std::fs::remove_file(self.upload_path(account, upload_id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io(e)),
        }
        self.db.flush()?;
        Ok(())
    }

    /// How many uploads the dataset has.
    pub fn dataset_upload_count(&self, account: &str, dataset_id: &str) -> Result<u64> {
        let mut n = 0;
        for entry in self.uploads.scan_prefix(account_prefix(account)) {
            let (k, v) = entry?;
            n += u64::from(
                open_json::<UploadRecord>(&self.keys, account, "sync_uploads", &k, &v)?.dataset_id == dataset_id,
            );
        }
        Ok(n)
    }

    /// Deletes the uploads of a dataset (when the dataset item is deleted); how many.
    pub fn delete_dataset_uploads(&self, account: &str, dataset_id: &str) -> Result<u64> {
        // Not while a chunk of the account is being appended.
        let _guard = self.lock(account);
        let mut ids = Vec::new();
        for entry in self.uploads.scan_prefix(account_prefix(account)) {
            let (k, v) = entry?;
            let record: UploadRecord = open_json(&self.keys, account, "sync_uploads", &k, &v)?;
            if record.dataset_id == dataset_id {
                ids.push(record.upload_id);
            }
        }
        for id in &ids {
            self.discard_upload(account, id)?;
        }
        Ok(ids.len() as u64)
    }
}

/// Makes a new directory entry durable (best effort: not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, created_unix: i64) -> UploadRecord {
        UploadRecord {
            upload_id: id.into(),
            dataset_id: "D".into(),
            length: 10,
            sha256: "0".repeat(64),
            complete: false,
            created_at: String::new(),
            created_unix,
            file_nonce: None,
        }
    }

    #[test]
    fn unfinished_uploads_are_purged_after_seven_days() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path().join("store")).unwrap();
        let keys = std::sync::Arc::new(KeyStore::open(dir.path()).unwrap());
        for account in ["acc_a", "acc_b"] {
            keys.sealing_key_or_create(account).unwrap();
        }
        let store = SyncStore::open(&db, dir.path(), keys).unwrap();
        store.create_upload("acc_a", &record("upl_old", 0)).unwrap();
        store.create_upload("acc_b", &record("upl_other", 0)).unwrap();
        store.create_upload("acc_a", &record("upl_new", UNFINISHED_UPLOAD_SECS - 1)).unwrap();
        assert!(store.upload("acc_a", "upl_old").unwrap().is_some(), "not yet 7 days");
        store.create_upload("acc_a", &record("upl_newest", UNFINISHED_UPLOAD_SECS)).unwrap();
        assert!(store.upload("acc_a", "upl_old").unwrap().is_none());
        assert!(!dir.path().join("uploads/acc_a/upl_old").exists());
        assert!(store.upload("acc_a", "upl_new").unwrap().is_some());
        assert!(store.upload("acc_b", "upl_other").unwrap().is_some(), "per account");
    }
}
