//! The telemetry queue: usage events, crash reports, performance samples and device information
//! wait here, per purpose, until they are sent in a batch through the egress gate.
//!
//! Invariant: nothing is queued for a purpose without its consent (collecting is already
//! processing), and withdrawing a purpose purges its queue at once ([`Telemetry::purge`]).
//! Queued items are previewable exactly as they will be sent.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::consent::{Consents, Purpose};
use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};

/// The purposes whose data goes through this queue: the contract's list, the same one the
/// platform's `/v1/telemetry/{purpose}` accepts.
pub use awf_platform_api::openapi::TELEMETRY_PURPOSES;

/// Largest payload of one item, serialised.
pub const MAX_ITEM_BYTES: usize = 16 * 1024;
/// Items kept per purpose; the oldest are dropped beyond this.
pub const MAX_QUEUED_PER_PURPOSE: usize = 5_000;

/// One queued item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TelemetryItem {
    /// A ULID; the platform stores each id once.
    pub id: String,
    pub purpose: Purpose,
    /// e.g. `agent_created`, `panic`, `ui_error`, `startup_ms`, `device_info`.
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    /// The payload, exactly as it will be sent.
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub data: serde_json::Value,
}

/// What happened to an item offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    Yes,
    /// The purpose has no consent: the item was dropped, never stored.
    NoConsent,
}

/// Telemetry-queue operations on an open profile.
pub struct Telemetry<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) consents: Consents<'a>,
    /// Monotonic ULIDs, so a purpose's queue reads in the order items were offered.
    pub(crate) ids: &'a Mutex<ulid::Generator>,
}

fn key(purpose: Purpose, id: &str) -> Vec<u8> {
    format!("{}/{id}", purpose.as_str()).into_bytes()
}

impl Telemetry<'_> {
    /// Queues an item of a telemetry purpose if that purpose is granted; drops it otherwise.
    pub fn offer(&self, purpose: Purpose, kind: &str, data: serde_json::Value) -> Result<Queued> {
        if !TELEMETRY_PURPOSES.contains(&purpose) {
            return Err(CoreError::invalid("purpose", format!("{} is not a telemetry purpose", purpose.as_str())));
        }
        if !self.consents.allows(purpose)? {
            return Ok(Queued::NoConsent);
        }
        let size = serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(usize::MAX);
        if size > MAX_ITEM_BYTES {
            return Err(CoreError::TooLarge { field: "data".into(), limit: MAX_ITEM_BYTES, actual: size });
        }
        let id =
            self.ids.lock().expect("id generator lock").generate().unwrap_or_else(|_| ulid::Ulid::new()).to_string();
        let item = TelemetryItem { id: id.clone(), purpose, kind: kind.to_string(), at: clock::now(), data };
        let mut b = Batch::default();
        b.put(Tree::TelemetryQueue, key(purpose, &id), serde_json::to_vec(&item).expect("serialises"));
        let keys = self.storage.keys_prefix(Tree::TelemetryQueue, format!("{}/", purpose.as_str()).as_bytes())?;
        if keys.len() >= MAX_QUEUED_PER_PURPOSE {
            for k in &keys[..=keys.len() - MAX_QUEUED_PER_PURPOSE] {
                b.delete(Tree::TelemetryQueue, k.clone());
            }
        }
        self.storage.commit(b)?;
        Ok(Queued::Yes)
    }

    /// Queued items of `purpose` (all purposes when `None`), oldest first.
    pub fn pending(&self, purpose: Option<Purpose>) -> Result<Vec<TelemetryItem>> {
        let prefix = purpose.map(|p| format!("{}/", p.as_str())).unwrap_or_default();
        self.storage
            .scan_prefix(Tree::TelemetryQueue, prefix.as_bytes())?
            .into_iter()
            .map(|(_, v)| {
                serde_json::from_slice(&v).map_err(|e| CoreError::Corrupt { detail: format!("telemetry item: {e}") })
            })
            .collect()
    }

    /// Removes items that were sent (or are no longer wanted).
    pub fn remove(&self, items: &[TelemetryItem]) -> Result<()> {
        let mut b = Batch::default();
        for i in items {
            b.delete(Tree::TelemetryQueue, key(i.purpose, &i.id));
        }
        self.storage.commit(b)
    }

    /// Deletes every queued item of `purpose`; returns how many.
    pub fn purge(&self, purpose: Purpose) -> Result<usize> {
        let keys = self.storage.keys_prefix(Tree::TelemetryQueue, format!("{}/", purpose.as_str()).as_bytes())?;
        let mut b = Batch::default();
        for k in &keys {
            b.delete(Tree::TelemetryQueue, k.clone());
        }
        self.storage.commit(b)?;
        Ok(keys.len())
    }

    /// Deletes queued items older than `cutoff` (RFC 3339); returns how many. Retention.
    pub fn purge_older_than(&self, cutoff: &str) -> Result<usize> {
        let old: Vec<TelemetryItem> = self.pending(None)?.into_iter().filter(|i| i.at.as_str() < cutoff).collect();
        self.remove(&old)?;
        Ok(old.len())
    }
}
