//! The deletion ledger (D7): one hash-chained entry per deletion the developer asked for — what,
//! when, what was deleted on this machine, and the platform's signed receipt when the platform
//! took part. Like the consent ledger, each entry's hash covers its content and the previous
//! entry's hash, and the head is written in the same transaction; [`DeletionLedger::verify`]
//! names the first entry that was edited, removed or moved.
//!
//! The entries live in the meta tree (`deletion/<seq>` and `deletion-head`), sealed like every
//! record. An account cancellation destroys the whole profile, this ledger included: its receipt
//! is handed to the developer to keep instead (D8).

use std::collections::BTreeMap;

use awf_platform_api::DeletionReceipt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};
use crate::ledger::{LedgerHead, LedgerProblem, GENESIS};
use crate::storage::{Batch, Storage, Tree};

const PREFIX: &str = "deletion/";
const HEAD: &[u8] = b"deletion-head";

/// One deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeletionEntry {
    /// 1-based position.
    pub seq: u64,
    /// RFC 3339.
    pub at: String,
    /// What was asked, in words ("agent 01J… (Support bot)", "everything the platform holds").
    pub what: String,
    /// Items deleted on this machine, per category.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub local: BTreeMap<String, u64>,
    /// The platform's signed receipt, when it took part.
    pub platform: Option<DeletionReceipt>,
    pub prev_hash: String,
    pub hash: String,
}

fn entry_hash(e: &DeletionEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"awf-deletion-ledger/v1\n");
    let platform = e.platform.as_ref().map(|r| serde_json::to_string(r).expect("receipts serialise"));
    let local = serde_json::to_string(&e.local).expect("maps serialise");
    for field in [e.seq.to_string(), e.at.clone(), e.what.clone(), local, platform.unwrap_or_default()] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.update(e.prev_hash.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn key(seq: u64) -> String {
    format!("{PREFIX}{seq:020}")
}

/// The deletion ledger of a profile.
pub struct DeletionLedger<'a> {
    pub(crate) storage: &'a Storage,
}

impl DeletionLedger<'_> {
    fn head(&self) -> Result<Option<LedgerHead>> {
        match self.storage.get(Tree::Meta, HEAD)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| CoreError::Corrupt { detail: format!("deletion ledger head: {e}") }),
        }
    }

    /// Appends an entry (now).
    pub fn append(
        &self,
        what: impl Into<String>,
        local: BTreeMap<String, u64>,
        platform: Option<DeletionReceipt>,
    ) -> Result<DeletionEntry> {
        let head = self.head()?;
        let (seq, prev_hash) = head.map_or((1, GENESIS.to_string()), |h| (h.seq + 1, h.hash));
        let mut e = DeletionEntry {
            seq,
            at: crate::clock::now(),
            what: what.into(),
            local,
            platform,
            prev_hash,
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        let mut b = Batch::default();
        b.put(Tree::Meta, key(seq), serde_json::to_vec(&e).expect("entries serialise"));
        let head = LedgerHead { seq, hash: e.hash.clone() };
        b.put(Tree::Meta, HEAD, serde_json::to_vec(&head).expect("heads serialise"));
        self.storage.commit(b)?;
        Ok(e)
    }

    /// Every entry, oldest first.
    pub fn list(&self) -> Result<Vec<DeletionEntry>> {
        self.storage
            .scan_prefix(Tree::Meta, PREFIX.as_bytes())?
            .into_iter()
            .map(|(k, v)| {
                serde_json::from_slice(&v).map_err(|e| CoreError::Corrupt {
                    detail: format!("deletion ledger entry {}: {e}", String::from_utf8_lossy(&k)),
                })
            })
            .collect()
    }

    /// Walks the chain; names the first entry that does not hold.
    pub fn verify(&self) -> Result<std::result::Result<(), LedgerProblem>> {
        let entries = self.list()?;
        let head = self.head()?;
        let mut prev = GENESIS.to_string();
        for (i, e) in entries.iter().enumerate() {
            let expected = i as u64 + 1;
            if e.seq != expected {
                return Ok(Err(if e.seq > expected {
                    LedgerProblem::Removed { seq: e.seq }
                } else {
                    LedgerProblem::Reordered { seq: e.seq }
                }));
            }
            if e.prev_hash != prev {
                return Ok(Err(LedgerProblem::Removed { seq: e.seq }));
            }
            if entry_hash(e) != e.hash {
                return Ok(Err(LedgerProblem::Edited { seq: e.seq }));
            }
            prev = e.hash.clone();
        }
        let last = entries.len() as u64;
        match head {
            Some(h) if h.seq != last || h.hash != prev => {
                Ok(Err(LedgerProblem::Truncated { expected_last: h.seq, found_last: last }))
            }
            None if last > 0 => Ok(Err(LedgerProblem::Truncated { expected_last: 0, found_last: last })),
            _ => Ok(Ok(())),
        }
    }

    /// Writes raw bytes over an entry (tests of the tamper evidence only).
    #[doc(hidden)]
    pub fn overwrite_raw(&self, seq: u64, value: &[u8]) -> Result<()> {
        let mut b = Batch::default();
        b.put(Tree::Meta, key(seq), value.to_vec());
        self.storage.commit(b)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::keys::MemoryVault;
    use crate::{OpenOptions, Profile};

    fn receipt() -> DeletionReceipt {
        DeletionReceipt {
            receipt_id: "del_0123456789abcdef0123456789abcdef".into(),
            account_id: "acc_1".into(),
            scope: awf_platform_api::DeletionScope::Item { kind: "agent".into(), id: "a1".into() },
            deleted: BTreeMap::from([("agents".to_string(), 1)]),
            completed_at: "2026-12-03T10:00:00Z".into(),
            key_id: "k1".into(),
            signature: "c2ln".into(),
        }
    }

    #[test]
    fn entries_chain_and_any_edit_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open(OpenOptions::new(dir.path()).vault(Arc::new(MemoryVault::default()))).unwrap();
        let d = p.deletions();
        assert_eq!(d.verify().unwrap(), Ok(()));
        let first = d.append("agent a1", BTreeMap::from([("agents".into(), 1)]), Some(receipt())).unwrap();
        d.append("everything the platform holds", BTreeMap::new(), None).unwrap();
        d.append("dataset d1", BTreeMap::from([("datasets".into(), 1)]), None).unwrap();
        assert_eq!(first.prev_hash, GENESIS);
        let all = d.list().unwrap();
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(all[0].platform, Some(receipt()), "the platform's receipt is kept as it came");
        assert_eq!(d.verify().unwrap(), Ok(()));

        // The platform's receipt swapped for another: the entry's hash no longer holds.
        let mut edited = all[0].clone();
        edited.platform.as_mut().unwrap().deleted.insert("agents".into(), 0);
        d.overwrite_raw(1, &serde_json::to_vec(&edited).unwrap()).unwrap();
        assert_eq!(d.verify().unwrap(), Err(LedgerProblem::Edited { seq: 1 }));
        d.overwrite_raw(1, &serde_json::to_vec(&all[0]).unwrap()).unwrap();
        assert_eq!(d.verify().unwrap(), Ok(()));

        // The last entry removed: the head still names it.
        let mut b = Batch::default();
        b.delete(Tree::Meta, key(3));
        p.storage().commit(b).unwrap();
        assert_eq!(d.verify().unwrap(), Err(LedgerProblem::Truncated { expected_last: 3, found_last: 2 }));
    }
}
