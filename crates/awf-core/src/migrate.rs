//! Schema versions and forward migrations. The version lives (sealed) in the `meta` tree.
//! A store newer than this build is refused rather than misread; older stores are migrated
//! step by step, each step committed with its new version number in one transaction.

use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};

/// The schema this build writes.
pub const SCHEMA_VERSION: u32 = 8;

const VERSION_KEY: &[u8] = b"schema_version";

/// One forward step: builds the batch that takes a store from version `n` to `n + 1`.
type Step = fn(&Storage) -> Result<Batch>;

/// `STEPS[n - 1]` migrates from version `n`.
const STEPS: [Step; (SCHEMA_VERSION - 1) as usize] =
    [v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7, v7_to_v8];

pub(crate) fn read_version(s: &Storage) -> Result<Option<u32>> {
    match s.get(Tree::Meta, VERSION_KEY)? {
        None => Ok(None),
        Some(b) => {
            let arr: [u8; 4] = b
                .as_slice()
                .try_into()
                .map_err(|_| CoreError::Corrupt { detail: "schema version has the wrong size".into() })?;
            Ok(Some(u32::from_be_bytes(arr)))
        }
    }
}

pub(crate) fn set_version(batch: &mut Batch, v: u32) {
    batch.put(Tree::Meta, VERSION_KEY, v.to_be_bytes().to_vec());
}

/// Brings the store to [`SCHEMA_VERSION`]. A brand-new store is stamped directly.
pub(crate) fn run(s: &Storage, is_new: bool) -> Result<u32> {
    let found = match read_version(s)? {
        Some(v) => v,
        None if is_new => {
            let mut b = Batch::default();
            set_version(&mut b, SCHEMA_VERSION);
            s.commit(b)?;
            return Ok(SCHEMA_VERSION);
        }
        None => return Err(CoreError::Corrupt { detail: "the store has no schema version".into() }),
    };
    if found > SCHEMA_VERSION {
        return Err(CoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    if found == 0 {
        return Err(CoreError::Corrupt { detail: "schema version 0 does not exist".into() });
    }
    for v in found..SCHEMA_VERSION {
        let mut batch = STEPS[(v - 1) as usize](s)?;
        set_version(&mut batch, v + 1);
        s.commit(batch)?;
    }
    Ok(found)
}

/// v2 adds `agent_summaries`: a small sealed record per agent, so listing 10,000 agents does
/// not open 10,000 full agents with their instructions.
fn v1_to_v2(s: &Storage) -> Result<Batch> {
    let mut batch = Batch::default();
    for (key, value) in s.scan_prefix(Tree::Agents, b"")? {
        let agent: crate::agents::Agent = serde_json::from_slice(&value)
            .map_err(|e| CoreError::Corrupt { detail: format!("agent record during migration: {e}") })?;
        batch.put(Tree::AgentSummaries, key, serde_json::to_vec(&agent.summary()).expect("summary serialises"));
    }
    Ok(batch)
}

/// v3 adds the `consents` and `transmissions` trees (egress gate). Both start empty: an older
/// profile has never sent anything and has given no consent.
fn v2_to_v3(_: &Storage) -> Result<Batch> {
    Ok(Batch::default())
}

/// v4 adds the hash-chained `consent_ledger` and the (empty) `telemetry_queue`. Consents recorded under v3 (state only) are
/// written into it as its first entries, in the order of the purposes, so the ledger explains
/// every current state.
fn v3_to_v4(s: &Storage) -> Result<Batch> {
    let mut batch = Batch::default();
    let mut head: Option<crate::ledger::LedgerHead> = None;
    for (_, value) in s.scan_prefix(Tree::Consents, b"")? {
        let r: crate::consent::ConsentRecord = serde_json::from_slice(&value)
            .map_err(|e| CoreError::Corrupt { detail: format!("consent record during migration: {e}") })?;
        let e = crate::ledger::next_entry(head.as_ref(), r.purpose, r.granted, r.at, r.policy_version, r.method);
        head = Some(crate::ledger::LedgerHead { seq: e.seq, hash: e.hash.clone() });
        batch.put(Tree::ConsentLedger, e.seq.to_be_bytes().to_vec(), serde_json::to_vec(&e).expect("serialises"));
    }
    if let Some(h) = head {
        batch.put(Tree::Meta, crate::consent::LEDGER_HEAD_KEY, serde_json::to_vec(&h).expect("serialises"));
    }
    Ok(batch)
}

/// v5 adds plugins, datasets (with their text), tables (with their rows) and the local search
/// history. All start empty: nothing of the kind existed before.
fn v4_to_v5(_: &Storage) -> Result<Batch> {
    Ok(Batch::default())
}

/// v6 adds sync: the outbox, the per-item sync state and the sync history. Every agent and dataset that
/// exists is queued, so that the first sync (once the developer consents to hosting) sends what
/// was authored before; nothing is sent while the outbox merely holds it.
fn v5_to_v6(s: &Storage) -> Result<Batch> {
    let mut batch = Batch::default();
    for key in s.keys_prefix(Tree::Agents, b"")? {
        let id =
            String::from_utf8(key).map_err(|_| CoreError::Corrupt { detail: "an agent id is not UTF-8".into() })?;
        crate::sync::enqueue(&mut batch, crate::sync::ItemKind::Agent, &id, crate::sync::SyncOp::Upsert);
    }
    for key in s.keys_prefix(Tree::Datasets, b"")? {
        let id =
            String::from_utf8(key).map_err(|_| CoreError::Corrupt { detail: "a dataset id is not UTF-8".into() })?;
        crate::sync::enqueue(&mut batch, crate::sync::ItemKind::Dataset, &id, crate::sync::SyncOp::Upsert);
    }
    Ok(batch)
}

/// v7 moves dataset text out of sled (`dataset_text`) into sealed piece files under
/// `<data dir>/datasets/` (see `datasets.rs`: sled kept every piece it read, so exporting 256 MB
/// of text held 450 MB). Each dataset's pieces are written to its files (synced) before the batch
/// that deletes them from sled commits with the new version, so a crash re-runs the step, which
/// rewrites the same files. Pieces of no dataset are dropped.
fn v6_to_v7(s: &Storage) -> Result<Batch> {
    let mut batch = Batch::default();
    for (key, value) in s.scan_prefix(Tree::Datasets, b"")? {
        let ds: crate::datasets::Dataset = crate::plugins::decode("dataset", &value)?;
        if key != ds.id.as_bytes() {
            return Err(CoreError::Corrupt { detail: format!("dataset `{}` is stored under another key", ds.id) });
        }
        let prefix = crate::datasets::legacy_piece_prefix(&ds.id);
        // Keys are `<id>/<piece u32 BE>`, so key order is piece order (and a key of another
        // length belongs to an id that merely starts like this one).
        let keys: Vec<Vec<u8>> =
            s.keys_prefix(Tree::DatasetText, &prefix)?.into_iter().filter(|k| k.len() == prefix.len() + 4).collect();
        if keys.is_empty() && ds.bytes > 0 {
            continue; // nothing in sled: its files (if any) are left as they are
        }
        let mut w = crate::datasets::PieceWriter::new(s, &ds)?;
        // One piece in memory at a time.
        for piece_key in keys {
            if let Some(piece) = s.get(Tree::DatasetText, &piece_key)? {
                w.push(&piece)?;
            }
        }
        // A text that no longer matches its record stays as it was: reading it reports the damage.
        w.finish()?;
    }
    for key in s.keys_prefix(Tree::DatasetText, b"")? {
        batch.delete(Tree::DatasetText, key);
    }
    Ok(batch)
}

/// v8 syncs plugins and tables: every one that exists is queued once, so that the first sync
/// (once the developer consents to hosting) sends what was authored before; from then on each of
/// their writes queues itself in its own batch.
fn v7_to_v8(s: &Storage) -> Result<Batch> {
    crate::sync::queue_plugins_and_tables(s)
}
