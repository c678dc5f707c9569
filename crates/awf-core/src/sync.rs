//! The local half of consented sync (SPEC C1–C5): the outbox, what the platform holds of each
//! item as last agreed, and the sync history. The engine that talks to the platform lives in
//! `awf-api` (`sync.rs`); this module only keeps durable state and never sends anything.
//!
//! Invariants:
//! - every local change to a syncable item writes its outbox entry **in the same batch** as the
//!   change (see `Agents::commit`), so a change is never stored without being queued, nor queued
//!   without being stored;
//! - the outbox holds one entry per item, the latest change; its `change` id (a ULID) is also the
//!   request's idempotency key, so a retry after a crash or a lost answer replays instead of
//!   writing twice;
//! - an entry leaves the outbox only when the platform acknowledged that very change
//!   (compare-and-delete on `change`, in the batch that records the new revision);
//! - remote changes are applied without queuing anything.

use serde::{Deserialize, Serialize};

pub use awf_platform_api::sync::ItemKind;

use crate::clock;
use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};

/// Sync history entries kept (oldest pruned).
pub const HISTORY_KEPT: usize = 1000;
/// First retry delay's upper bound, doubled per attempt (full jitter).
pub const BACKOFF_BASE_MS: u64 = 500;
/// The largest retry delay.
pub const BACKOFF_CAP_MS: u64 = 60_000;

const CURSOR_KEY: &[u8] = b"sync/cursor";

/// What an outbox entry asks of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SyncOp {
    /// Create or replace the item with the local state.
    Upsert,
    /// Delete it (a tombstone at the platform).
    Delete,
}

/// One queued change (the latest of its item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxEntry {
    pub kind: ItemKind,
    pub id: String,
    pub op: SyncOp,
    /// A ULID naming this change; also its idempotency key.
    pub change: String,
    pub queued_at: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not to be tried before this time (Unix milliseconds; 0: now).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub not_before_ms: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Waiting for the user (a conflict, an attestation, a consent, sync off): not retried until
    /// the item changes again or the engine is told the obstacle is gone.
    pub parked: bool,
}

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Never synced and nothing queued.
    #[default]
    Local,
    /// The platform holds the local state.
    Synced,
    /// A change waits to be sent.
    Pending,
    /// The platform holds a revision the local change did not start from; the user decides.
    Conflict,
    /// The platform refused the change (see the reason); retried after the next change.
    Error,
    /// Held back until the user acts (consent, attestation): the reason says which.
    HeldBack,
    /// Sync is off for this item.
    Off,
}

/// What the platform holds of one item, as last agreed, and the item's sync status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ItemSync {
    /// The platform's revision of the local state's base (0: never synced).
    pub server_rev: u64,
    /// The body at `server_rev` (the merge base of a conflict).
    pub base: Option<serde_json::Value>,
    pub status: ItemStatus,
    /// Why the status is `conflict`, `error` or `held_back`.
    pub reason: Option<String>,
    /// In a conflict: the platform's revision and body (`None` body: deleted there).
    pub theirs_rev: u64,
    pub theirs: Option<serde_json::Value>,
    pub synced_at: Option<String>,
    /// The user turned sync off for this item.
    pub off: bool,
    /// The developer's PII attestation for this item's content (datasets, tables).
    #[serde(default)]
    pub attestation: Option<Attested>,
    /// The resumable upload of this item's content, once opened at the platform.
    #[serde(default)]
    pub upload: Option<UploadProgress>,
}

/// A PII attestation and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attested {
    /// `<kind>/<id>@<sha256>#<findings>`: a new content needs a new attestation.
    pub subject: String,
    pub attestation: awf_platform_api::PiiAttestation,
}

/// The attestation subject of an item's content.
pub fn attestation_subject(kind: ItemKind, id: &str, sha256: &str, findings: u64) -> String {
    format!("{}/{id}@{sha256}#{findings}", kind.as_str())
}

/// An upload opened at the platform for an item's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadProgress {
    pub upload_id: String,
    pub sha256: String,
    pub length: u64,
    /// All bytes arrived and the platform checked the digest.
    pub complete: bool,
}

/// One line of the sync history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncEvent {
    pub at: String,
    pub kind: ItemKind,
    pub id: String,
    /// `pushed`, `deleted`, `pulled`, `pulled_delete`, `conflict`, `merged`, `resolved`,
    /// `error`, `held_back`.
    pub event: String,
    pub detail: String,
}

pub(crate) fn item_key(kind: ItemKind, id: &str) -> Vec<u8> {
    format!("{}/{id}", kind.as_str()).into_bytes()
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Corrupt { detail: format!("{what} record: {e}") })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("sync records serialise")
}

/// Queues `op` for an item in `batch`, replacing any earlier entry of the item.
pub(crate) fn enqueue(batch: &mut Batch, kind: ItemKind, id: &str, op: SyncOp) {
    let entry = OutboxEntry {
        kind,
        id: id.to_string(),
        op,
        change: ulid::Ulid::new().to_string(),
        queued_at: clock::now(),
        attempts: 0,
        not_before_ms: 0,
        last_error: None,
        parked: false,
    };
    batch.put(Tree::Outbox, item_key(kind, id), encode(&entry));
}

/// Queues every stored plugin and table once (schema 8: they sync from then on, and what was
/// authored before is sent on the first sync once the developer consents to hosting).
pub(crate) fn queue_plugins_and_tables(s: &Storage) -> Result<Batch> {
    let mut batch = Batch::default();
    for (tree, kind) in [(Tree::Plugins, ItemKind::Plugin), (Tree::Tables, ItemKind::Table)] {
        for key in s.keys_prefix(tree, b"")? {
            let id = String::from_utf8(key)
                .map_err(|_| CoreError::Corrupt { detail: format!("a {} id is not UTF-8", kind.as_str()) })?;
            enqueue(&mut batch, kind, &id, SyncOp::Upsert);
        }
    }
    Ok(batch)
}

/// Full-jitter exponential backoff: a uniformly random delay in `0..=min(cap, base·2^attempts)`
/// milliseconds, from a caller-supplied random `u64` (so that tests can fix it).
pub fn backoff_ms(attempts: u32, random: u64, cap_ms: u64) -> u64 {
    let ceiling = BACKOFF_BASE_MS.saturating_mul(1u64 << attempts.min(32)).min(cap_ms);
    random % (ceiling + 1)
}

/// Counts for the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    pub pending: u32,
    pub conflicts: u32,
    pub errors: u32,
    pub held_back: u32,
    pub synced: u32,
    /// The change-feed cursor reached.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub cursor: u64,
}

/// The sync state of a profile (`Profile::sync`).
pub struct Sync<'a> {
    pub(crate) storage: &'a Storage,
}

impl Sync<'_> {
    /// The queued change of an item.
    pub fn entry(&self, kind: ItemKind, id: &str) -> Result<Option<OutboxEntry>> {
        self.storage.get(Tree::Outbox, &item_key(kind, id))?.map(|v| decode("outbox", &v)).transpose()
    }

    /// Every queued change, in key order.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.storage.scan_prefix(Tree::Outbox, b"")?.into_iter().map(|(_, v)| decode("outbox", &v)).collect()
    }

    /// Queued changes due at `now_ms` and not parked, at most `limit`.
    pub fn due(&self, now_ms: u64, limit: usize) -> Result<Vec<OutboxEntry>> {
        let mut out = Vec::new();
        for e in self.outbox()? {
            if !e.parked && e.not_before_ms <= now_ms {
                out.push(e);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The earliest time a queued, unparked change is due (Unix ms), if any.
    pub fn next_due(&self) -> Result<Option<u64>> {
        Ok(self.outbox()?.into_iter().filter(|e| !e.parked).map(|e| e.not_before_ms).min())
    }

    /// What the platform holds of an item as last agreed.
    pub fn state(&self, kind: ItemKind, id: &str) -> Result<ItemSync> {
        Ok(self
            .storage
            .get(Tree::SyncState, &item_key(kind, id))?
            .map(|v| decode("sync state", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Every item's sync state.
    pub fn states(&self) -> Result<Vec<(ItemKind, String, ItemSync)>> {
        let mut out = Vec::new();
        for (k, v) in self.storage.scan_prefix(Tree::SyncState, b"")? {
            let key = String::from_utf8_lossy(&k).into_owned();
            let (kind, id) =
                key.split_once('/').ok_or_else(|| CoreError::Corrupt { detail: format!("sync state key `{key}`") })?;
            let kind = ItemKind::parse(kind)
                .ok_or_else(|| CoreError::Corrupt { detail: format!("sync state kind `{kind}`") })?;
            out.push((kind, id.to_string(), decode("sync state", &v)?));
        }
        Ok(out)
    }

    /// Whether `entry` is still the item's queued change.
    fn still_queued(&self, entry: &OutboxEntry) -> Result<bool> {
        Ok(self.entry(entry.kind, &entry.id)?.is_some_and(|e| e.change == entry.change))
    }

    /// Records outcomes in one durable batch: for each, the item's new state, the entry removed
    /// when it is still the item's queued change (`done`) or rewritten (`Some(updated)`), and a
    /// history line.
    pub fn record(&self, outcomes: Vec<Outcome>) -> Result<()> {
        let mut batch = Batch::default();
        let mut history = Vec::new();
        for o in outcomes {
            let key = item_key(o.entry.kind, &o.entry.id);
            if self.still_queued(&o.entry)? {
                match &o.requeue {
                    None => {
                        batch.delete(Tree::Outbox, key.clone());
                    }
                    Some(updated) => {
                        batch.put(Tree::Outbox, key.clone(), encode(updated));
                    }
                }
            }
            if let Some(state) = &o.state {
                batch.put(Tree::SyncState, key, encode(state));
            }
            if let Some(h) = o.history {
                history.push(h);
            }
        }
        self.push_history(&mut batch, history)?;
        self.storage.commit(batch)
    }

    fn push_history(&self, batch: &mut Batch, entries: Vec<SyncEvent>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let n = entries.len();
        let mut gen = ulid::Generator::new();
        for h in entries {
            let id = gen.generate().map_err(|_| CoreError::Corrupt { detail: "history ids ran out".into() })?;
            batch.put(Tree::SyncHistory, id.to_string().into_bytes(), encode(&h));
        }
        let stored = self.storage.len(Tree::SyncHistory);
        let excess = (stored + n).saturating_sub(HISTORY_KEPT);
        if excess > 0 {
            for k in self.storage.keys_prefix(Tree::SyncHistory, b"")?.into_iter().take(excess) {
                batch.delete(Tree::SyncHistory, k);
            }
        }
        Ok(())
    }

    /// Saves an item's state and a history line (no outbox change).
    pub fn set_state(&self, kind: ItemKind, id: &str, state: &ItemSync, history: Option<SyncEvent>) -> Result<()> {
        let mut batch = Batch::default();
        batch.put(Tree::SyncState, item_key(kind, id), encode(state));
        self.push_history(&mut batch, history.into_iter().collect())?;
        self.storage.commit(batch)
    }

    /// Queues `op` for an item anew (a resolved conflict) with its new state and a history line,
    /// in one batch.
    pub fn requeue(&self, kind: ItemKind, id: &str, op: SyncOp, state: &ItemSync, history: SyncEvent) -> Result<()> {
        let mut batch = Batch::default();
        enqueue(&mut batch, kind, id, op);
        batch.put(Tree::SyncState, item_key(kind, id), encode(state));
        self.push_history(&mut batch, vec![history])?;
        self.storage.commit(batch)
    }

    /// Unparks every parked entry (of one kind, or all): the obstacle (a consent, an
    /// attestation) may be gone. Returns how many.
    pub fn unpark(&self, kind: Option<ItemKind>) -> Result<usize> {
        let mut batch = Batch::default();
        let mut n = 0;
        for mut e in self.outbox()? {
            if e.parked && kind.is_none_or(|k| k == e.kind) {
                let st = self.state(e.kind, &e.id)?;
                if st.off || st.status == ItemStatus::Conflict {
                    continue;
                }
                e.parked = false;
                e.not_before_ms = 0;
                batch.put(Tree::Outbox, item_key(e.kind, &e.id), encode(&e));
                n += 1;
            }
        }
        self.storage.commit(batch)?;
        Ok(n)
    }

    /// Turns sync on or off for one item. Turning it on queues the item's current state.
    pub fn set_enabled(&self, kind: ItemKind, id: &str, on: bool) -> Result<ItemSync> {
        let mut st = self.state(kind, id)?;
        st.off = !on;
        let mut batch = Batch::default();
        if on {
            if matches!(st.status, ItemStatus::Off) {
                st.status = ItemStatus::Pending;
            }
            enqueue(&mut batch, kind, id, SyncOp::Upsert);
        } else {
            st.status = ItemStatus::Off;
            batch.delete(Tree::Outbox, item_key(kind, id));
        }
        batch.put(Tree::SyncState, item_key(kind, id), encode(&st));
        self.storage.commit(batch)?;
        Ok(st)
    }

    /// The change-feed cursor reached (0 before the first pull).
    pub fn cursor(&self) -> Result<u64> {
        match self.storage.get(Tree::Meta, CURSOR_KEY)? {
            None => Ok(0),
            Some(b) => {
                let arr: [u8; 8] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| CoreError::Corrupt { detail: "sync cursor has the wrong size".into() })?;
                Ok(u64::from_be_bytes(arr))
            }
        }
    }

    pub fn set_cursor(&self, cursor: u64) -> Result<()> {
        let mut batch = Batch::default();
        batch.put(Tree::Meta, CURSOR_KEY, cursor.to_be_bytes().to_vec());
        self.storage.commit(batch)
    }

    /// The newest history lines first, at most `limit`.
    pub fn history(&self, limit: usize) -> Result<Vec<SyncEvent>> {
        self.storage
            .scan_back(Tree::SyncHistory, None, limit)?
            .into_iter()
            .map(|(_, v)| decode("sync history", &v))
            .collect()
    }

    /// Counts for the status line.
    pub fn overview(&self) -> Result<Overview> {
        let mut o = Overview { cursor: self.cursor()?, ..Overview::default() };
        let queued: std::collections::HashSet<Vec<u8>> =
            self.storage.keys_prefix(Tree::Outbox, b"")?.into_iter().collect();
        for (kind, id, st) in self.states()? {
            match st.status {
                ItemStatus::Conflict => o.conflicts += 1,
                ItemStatus::Error => o.errors += 1,
                ItemStatus::HeldBack => o.held_back += 1,
                ItemStatus::Synced if !queued.contains(&item_key(kind, &id)) => o.synced += 1,
                _ => {}
            }
        }
        o.pending = self.outbox()?.iter().filter(|e| !e.parked).count() as u32;
        Ok(o)
    }
}

/// What became of one queued change (see [`Sync::record`]).
pub struct Outcome {
    pub entry: OutboxEntry,
    /// `None`: the change is done, remove it (if still queued). `Some`: keep it, rewritten
    /// (attempts, delay, parked).
    pub requeue: Option<OutboxEntry>,
    pub state: Option<ItemSync>,
    pub history: Option<SyncEvent>,
}

/// A history line stamped now.
pub fn event(kind: ItemKind, id: &str, event: &str, detail: impl Into<String>) -> SyncEvent {
    SyncEvent { at: clock::now(), kind, id: id.to_string(), event: event.to_string(), detail: detail.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MemoryVault;
    use crate::{OpenOptions, Profile};
    use std::sync::Arc;

    const SPEC: &str = r#"{"openapi": "3.0.0", "info": {"title": "Pets", "version": "1"},
      "servers": [{"url": "https://pets.example.com"}],
      "components": {"securitySchemes": {"key": {"type": "apiKey", "name": "X-Key", "in": "header"}}},
      "paths": {"/pets": {"get": {"operationId": "listPets", "responses": {"200": {"description": "ok"}}}}}}"#;

    fn profile(dir: &std::path::Path) -> Profile {
        Profile::open(OpenOptions::new(dir).vault(Arc::new(MemoryVault::default()))).unwrap()
    }

    fn columns() -> Vec<awf_ingest::table::Column> {
        serde_json::from_value(serde_json::json!([{"name": "city", "type": "text"}, {"name": "n", "type": "integer"}]))
            .unwrap()
    }

    /// The entry of an item, after a write that must have queued `op` for it.
    fn queued(p: &Profile, kind: ItemKind, id: &str, op: SyncOp) -> String {
        let e = p.sync().entry(kind, id).unwrap().unwrap_or_else(|| panic!("{} {id} is queued", kind.as_str()));
        assert_eq!(e.op, op);
        e.change
    }

    /// A storage commit that fails after the change was staged leaves neither the change nor its
    /// entry: both are in one batch. Here: every write of a plugin or table leaves exactly its
    /// entry (a new change id each time), and a remote apply leaves none.
    #[test]
    fn plugin_and_table_writes_queue_their_entry_and_remote_applies_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path());
        let plugin = p.plugins().import("pets.json", SPEC).unwrap();
        let c1 = queued(&p, ItemKind::Plugin, &plugin.id, SyncOp::Upsert);
        let mut draft = plugin.draft.clone();
        draft.description = "edited".into();
        p.plugins().update(&plugin.id, draft, None).unwrap();
        let c2 = queued(&p, ItemKind::Plugin, &plugin.id, SyncOp::Upsert);
        assert_ne!(c1, c2);

        let t = p.tables().create("cities", "", columns()).unwrap();
        let c3 = queued(&p, ItemKind::Table, &t.id, SyncOp::Upsert);
        p.tables()
            .replace_rows(&t.id, None, vec![vec![serde_json::json!("Paris"), serde_json::json!(2)]], None)
            .unwrap();
        let c4 = queued(&p, ItemKind::Table, &t.id, SyncOp::Upsert);
        assert_ne!(c3, c4);
        p.tables().update_meta(&t.id, "towns", "").unwrap();
        let csv = p.tables().import_csv("x.csv", b"a,b\n1,2\n", None).unwrap();
        queued(&p, ItemKind::Table, &csv.id, SyncOp::Upsert);

        p.plugins().delete(&plugin.id).unwrap();
        queued(&p, ItemKind::Plugin, &plugin.id, SyncOp::Delete);
        p.tables().delete(&t.id).unwrap();
        queued(&p, ItemKind::Table, &t.id, SyncOp::Delete);
        assert_eq!(p.sync().outbox().unwrap().len(), 3, "one entry per item");

        // From the platform: applied and recorded, never queued.
        let mut batch = Batch::default();
        for k in p.storage().keys_prefix(Tree::Outbox, b"").unwrap() {
            batch.delete(Tree::Outbox, k);
        }
        p.storage().commit(batch).unwrap();
        let st = ItemSync { server_rev: 2, status: ItemStatus::Synced, ..ItemSync::default() };
        let body = crate::plugins::SyncedPlugin::of(&plugin);
        let pulled = p.plugins().apply_remote("01JREMOTEPLUGIN00000000000", &body, &st).unwrap();
        assert!(!pulled.secret_set, "a pulled plugin has no secret on this device");
        let tb = p.tables().synced(&csv.id).unwrap();
        let pulled_t = p.tables().apply_remote("01JREMOTETABLE000000000000", &tb, &st).unwrap();
        assert_eq!(pulled_t.row_count, 1);
        assert!(p.sync().outbox().unwrap().is_empty(), "{:?}", p.sync().outbox().unwrap());
        assert_eq!(p.sync().state(ItemKind::Table, "01JREMOTETABLE000000000000").unwrap().server_rev, 2);
        p.plugins().delete_remote("01JREMOTEPLUGIN00000000000", &st).unwrap();
        p.tables().delete_remote("01JREMOTETABLE000000000000", &st).unwrap();
        assert!(p.plugins().get("01JREMOTEPLUGIN00000000000").is_err());
        assert!(p.tables().get("01JREMOTETABLE000000000000").is_err());
        assert!(p.sync().outbox().unwrap().is_empty());
    }

    #[test]
    fn migrating_to_v8_queues_every_existing_plugin_and_table_for_sync() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let open = || Profile::open(OpenOptions::new(dir.path()).vault(vault.clone())).unwrap();
        let (plugin, table, agent) = {
            let p = open();
            let plugin = p.plugins().import("pets.json", SPEC).unwrap().id;
            let table = p.tables().create("cities", "", columns()).unwrap().id;
            let agent = p.agents().create(crate::AgentDraft::named("queued since v6")).unwrap().id;
            // As schema v7 left it: the agent queued, plugins and tables never.
            let mut b = Batch::default();
            for k in p.storage().keys_prefix(Tree::Outbox, b"").unwrap() {
                if !k.starts_with(b"agent/") {
                    b.delete(Tree::Outbox, k);
                }
            }
            crate::migrate::set_version(&mut b, 7);
            p.storage().commit(b).unwrap();
            assert_eq!(p.sync().outbox().unwrap().len(), 1);
            (plugin, table, agent)
        };
        let p = open();
        assert_eq!(p.migrated_from(), Some(7));
        let mut queued: Vec<(ItemKind, String, SyncOp)> =
            p.sync().outbox().unwrap().into_iter().map(|e| (e.kind, e.id, e.op)).collect();
        queued.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        assert_eq!(
            queued,
            vec![
                (ItemKind::Agent, agent, SyncOp::Upsert),
                (ItemKind::Plugin, plugin, SyncOp::Upsert),
                (ItemKind::Table, table, SyncOp::Upsert)
            ]
        );
        drop(p);
        assert_eq!(open().migrated_from(), None, "the step runs once");
    }

    #[test]
    fn queue_plugins_and_tables_queues_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path());
        let plugin = p.plugins().import("pets.json", SPEC).unwrap();
        let t = p.tables().create("cities", "", columns()).unwrap();
        p.agents().create(crate::AgentDraft::named("not queued by this step")).unwrap();
        let mut batch = Batch::default();
        for k in p.storage().keys_prefix(Tree::Outbox, b"").unwrap() {
            batch.delete(Tree::Outbox, k);
        }
        p.storage().commit(batch).unwrap();
        p.storage().commit(queue_plugins_and_tables(p.storage()).unwrap()).unwrap();
        let mut queued: Vec<(ItemKind, String)> =
            p.sync().outbox().unwrap().into_iter().map(|e| (e.kind, e.id)).collect();
        queued.sort();
        assert_eq!(queued, vec![(ItemKind::Plugin, plugin.id), (ItemKind::Table, t.id)]);
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_ceiling_and_the_cap() {
        let cap = BACKOFF_CAP_MS;
        assert_eq!(backoff_ms(0, u64::MAX, cap), u64::MAX % (BACKOFF_BASE_MS + 1));
        assert!(backoff_ms(3, 7_999, cap) <= 4_000);
        assert_eq!(backoff_ms(3, 4_000, cap), 4_000);
        assert_eq!(backoff_ms(3, 4_001, cap), 0);
        for attempts in [10, 31, 32, 40, u32::MAX] {
            assert!(backoff_ms(attempts, u64::MAX - 1, cap) <= cap);
            assert_eq!(backoff_ms(attempts, cap, cap), cap);
        }
        assert_eq!(backoff_ms(5, 0, cap), 0, "full jitter reaches zero");
        assert!(backoff_ms(9, u64::MAX, 1_000) <= 1_000, "a lower cap holds");
    }
}
