//! The narrow storage interface over sled. Everything above this module sees named trees,
//! byte keys and plaintext values; sealing, transactions and flushing happen here, so the engine
//! can be replaced without touching the domain.
//!
//! Invariant: [`Storage::commit`] returns only after the batch is durable (sled `flush`).
//!
//! Values too large for sled to hold well (dataset text: sled keeps what it reads, so a 256 MB
//! export peaked at 450 MB) live in sealed files of the data directory instead; this module
//! seals and opens them ([`Storage::seal_blob`], [`Storage::open_blob_in_place`]) with the same
//! key and format, under a domain (`file:<name>`) that no tree shares, so a sled value and a file
//! can never stand in for each other. Where such files live is their owner's business
//! (`datasets.rs`).

use std::path::{Path, PathBuf};

use sled::Transactional;

use crate::crypto::Cipher;
use crate::error::{CoreError, Result};
use crate::secret::DataKey;

/// The store's trees. Adding one is a schema change (see `migrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    Meta,
    Agents,
    AgentSummaries,
    Revisions,
    /// The current consent state per purpose (schema 3).
    Consents,
    /// The transmission log: every request the egress gate sent or refused (schema 3).
    Transmissions,
    /// The hash-chained consent ledger (schema 4).
    ConsentLedger,
    /// Telemetry waiting to be sent, per purpose (schema 4).
    TelemetryQueue,
    /// Plugins imported from OpenAPI documents, without their secrets (schema 5).
    Plugins,
    /// Dataset descriptions with their PII findings (schema 5).
    Datasets,
    /// Dataset text in 1 MiB pieces, keyed `<id>/<piece u32 BE>` (schema 5 and 6). Empty since
    /// schema 7, which moved the pieces to sealed files (`datasets.rs`); kept for the migration.
    DatasetText,
    /// Table descriptions (schema, row count, PII findings) (schema 5).
    Tables,
    /// Table rows in pages of [`crate::tables::ROWS_PER_PAGE`], keyed `<id>/<page u32 BE>` (schema 5).
    TableRows,
    /// Local search history (policy §2), keyed by time (schema 5).
    SearchHistory,
    /// Changes waiting to be synced, one per item (the latest), keyed `<kind>/<id>` (schema 6).
    Outbox,
    /// What the platform holds of each item as last agreed, keyed `<kind>/<id>` (schema 6).
    SyncState,
    /// The sync history, keyed by ULID (schema 6).
    SyncHistory,
}

impl Tree {
    pub const ALL: [Tree; 17] = [
        Tree::Meta,
        Tree::Agents,
        Tree::AgentSummaries,
        Tree::Revisions,
        Tree::Consents,
        Tree::Transmissions,
        Tree::ConsentLedger,
        Tree::TelemetryQueue,
        Tree::Plugins,
        Tree::Datasets,
        Tree::DatasetText,
        Tree::Tables,
        Tree::TableRows,
        Tree::SearchHistory,
        Tree::Outbox,
        Tree::SyncState,
        Tree::SyncHistory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Agents => "agents",
            Tree::AgentSummaries => "agent_summaries",
            Tree::Revisions => "revisions",
            Tree::Consents => "consents",
            Tree::Transmissions => "transmissions",
            Tree::ConsentLedger => "consent_ledger",
            Tree::TelemetryQueue => "telemetry_queue",
            Tree::Plugins => "plugins",
            Tree::Datasets => "datasets",
            Tree::DatasetText => "dataset_text",
            Tree::Tables => "tables",
            Tree::TableRows => "table_rows",
            Tree::SearchHistory => "search_history",
            Tree::Outbox => "outbox",
            Tree::SyncState => "sync_state",
            Tree::SyncHistory => "sync_history",
        }
    }

    fn index(self) -> usize {
        Tree::ALL.iter().position(|t| *t == self).expect("every tree is in ALL")
    }
}

/// A set of writes applied atomically by [`Storage::commit`].
#[derive(Default)]
pub struct Batch {
    ops: Vec<(Tree, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn put(&mut self, tree: Tree, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push((tree, key.into(), Some(value.into())));
        self
    }
    pub fn delete(&mut self, tree: Tree, key: impl Into<Vec<u8>>) -> &mut Self {
        self.ops.push((tree, key.into(), None));
        self
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Opens sled at `path`. The caller holds the profile's `studio.lock`, so no other process has
/// this store open; a lock sled still reports held is this process's previous handle, whose
/// background flusher releases the file a moment after the handle is dropped (sled's own tests
/// wait for it the same way). That is retried for up to 5 s instead of failing a reopen.
fn open_sled(path: &Path) -> Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::Config::new().path(path).open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.map_err(|e| CoreError::from_sled(path, e)),
        }
    }
}

/// The encrypted store of one profile.
pub struct Storage {
    db: sled::Db,
    /// sled's log file. sled's `flush` on Linux uses `sync_file_range`, which does not reach the
    /// drive's cache or the file's metadata; `fdatasync` on the log after each flush does.
    log: Option<std::fs::File>,
    trees: Vec<sled::Tree>,
    cipher: Cipher,
    path: PathBuf,
    /// The profile's data directory (the parent of the sled directory).
    data_dir: PathBuf,
}

impl Storage {
    /// Opens (creating if needed) the sled database at `path`, sealing values with `key`.
    pub fn open(path: &Path, key: &DataKey) -> Result<Self> {
        let db = open_sled(path)?;
        let trees = Tree::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| CoreError::from_sled(path, e))?;
        let log = std::fs::OpenOptions::new().read(true).write(true).open(path.join("db")).ok();
        let data_dir = path.parent().unwrap_or(path).to_path_buf();
        Ok(Storage { db, log, trees, cipher: Cipher::new(key), path: path.to_path_buf(), data_dir })
    }

    /// The profile's data directory, which holds the sled directory and the sealed files.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn blob_domain(domain: &str) -> String {
        format!("file:{domain}")
    }

    /// Seals the content of a file kept outside sled, bound to `domain` and `key` (associated
    /// data) exactly as a value is bound to its tree and key.
    pub fn seal_blob(&self, domain: &str, key: &[u8], plaintext: &[u8]) -> Vec<u8> {
        self.cipher.seal(&Self::blob_domain(domain), key, plaintext)
    }

    /// Opens, in place, what [`Storage::seal_blob`] sealed for the same domain and key; returns
    /// where the plaintext is in `buf`. Fails on a wrong key, a tampered or truncated file, or
    /// a file sealed for another key (moved or swapped).
    pub fn open_blob_in_place(
        &self,
        domain: &str,
        key: &[u8],
        buf: &mut [u8],
    ) -> std::result::Result<std::ops::Range<usize>, crate::crypto::OpenError> {
        self.cipher.open_in_place(&Self::blob_domain(domain), key, buf)
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t.index()]
    }

    fn sled_err(&self, e: sled::Error) -> CoreError {
        CoreError::from_sled(&self.path, e)
    }

    fn open_value(&self, t: Tree, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        self.cipher.open(t.name(), key, sealed).map_err(|_| CoreError::Corrupt {
            detail: format!("a record in `{}` failed authentication (wrong key or tampered data)", t.name()),
        })
    }

    /// Reads and opens one value.
    pub fn get(&self, t: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.tree(t).get(key).map_err(|e| self.sled_err(e))? {
            Some(sealed) => self.open_value(t, key, &sealed).map(Some),
            None => Ok(None),
        }
    }

    /// Reads and opens every value whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, t: Tree, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.tree(t)
            .scan_prefix(prefix)
            .map(|item| {
                let (k, v) = item.map_err(|e| self.sled_err(e))?;
                let plain = self.open_value(t, &k, &v)?;
                Ok((k.to_vec(), plain))
            })
            .collect()
    }

    /// Keys only, in key order (no decryption).
    pub fn keys_prefix(&self, t: Tree, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.tree(t).scan_prefix(prefix).keys().map(|k| k.map(|k| k.to_vec()).map_err(|e| self.sled_err(e))).collect()
    }

    /// The greatest key of a tree (no decryption).
    pub fn last_key(&self, t: Tree) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(t).last().map_err(|e| self.sled_err(e))?.map(|(k, _)| k.to_vec()))
    }

    /// Reads and opens up to `limit` values whose keys are below `before` (all when `None`),
    /// greatest key first.
    pub fn scan_back(&self, t: Tree, before: Option<&[u8]>, limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let iter = match before {
            Some(b) => self.tree(t).range(..b.to_vec()),
            None => self.tree(t).iter(),
        };
        iter.rev()
            .take(limit)
            .map(|item| {
                let (k, v) = item.map_err(|e| self.sled_err(e))?;
                let plain = self.open_value(t, &k, &v)?;
                Ok((k.to_vec(), plain))
            })
            .collect()
    }

    /// Bytes the sealed values and keys of a tree occupy (before sled's own overhead).
    pub fn tree_bytes(&self, t: Tree) -> u64 {
        self.tree(t).iter().filter_map(|i| i.ok()).map(|(k, v)| (k.len() + v.len()) as u64).sum()
    }

    /// Number of records in a tree.
    pub fn len(&self, t: Tree) -> usize {
        self.tree(t).len()
    }

    /// Applies the batch atomically across trees, then flushes. Returns once durable.
    pub fn commit(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sealed: Vec<(usize, Vec<u8>, Option<Vec<u8>>)> = batch
            .ops
            .into_iter()
            .map(|(t, k, v)| {
                let v = v.map(|v| self.cipher.seal(t.name(), &k, &v));
                (t.index(), k, v)
            })
            .collect();
        let trees: &[sled::Tree] = &self.trees;
        trees
            .transaction(|tx| {
                for (i, k, v) in &sealed {
                    match v {
                        Some(v) => {
                            tx[*i].insert(k.as_slice(), v.as_slice())?;
                        }
                        None => {
                            tx[*i].remove(k.as_slice())?;
                        }
                    }
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => self.sled_err(e),
                sled::transaction::TransactionError::Abort(()) => {
                    CoreError::Corrupt { detail: "transaction aborted".into() }
                }
            })?;
        self.flush()
    }

    /// Forces everything written so far to disk: sled's flush, then `fdatasync` of its log.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map_err(|e| self.sled_err(e))?;
        if let Some(log) = &self.log {
            log.sync_data().map_err(|e| CoreError::io("syncing the store log", &self.path, e))?;
        }
        Ok(())
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reopen right after the previous handle is dropped can find sled's file lock still held
    /// by that handle's flusher; the open waits for it instead of failing (a CI run failed a
    /// profile reopen with "could not acquire lock" before this).
    #[test]
    fn an_open_waits_for_a_lock_this_process_is_about_to_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let held = sled::Config::new().path(&path).open().unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let s = Storage::open(&path, &crate::secret::DataKey::random()).unwrap();
        releaser.join().unwrap();
        let mut b = Batch::default();
        b.put(Tree::Meta, b"k".to_vec(), b"v".to_vec());
        s.commit(b).unwrap();
        assert_eq!(s.get(Tree::Meta, b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}
