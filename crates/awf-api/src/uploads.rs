//! Uploads in progress (SPEC C4): the sync engine's dataset uploads running in this process,
//! with how far each has come and a cancel flag. The engine updates an upload's bytes after
//! every chunk the platform accepted and checks the flag before every chunk; `sync_uploads`
//! lists them (memory only, cheap enough to poll every second) and `sync_cancel_upload` raises
//! the flag. Nothing here is persisted: an upload's resumable state is the item's
//! [`awf_core::sync::ItemSync::upload`], and the platform's offset is the truth.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use awf_core::sync::ItemKind;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One upload in progress, for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UploadView {
    pub kind: ItemKind,
    pub id: String,
    /// The dataset's name.
    pub name: String,
    /// Bytes the platform holds (its offset).
    #[ts(type = "number")]
    pub sent: u64,
    #[ts(type = "number")]
    pub total: u64,
    /// When this pass started the upload (RFC 3339).
    pub started_at: String,
    /// A cancel was asked for; the upload stops before its next chunk.
    pub cancelling: bool,
}

/// `sync_cancel_upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CancelUploadRequest {
    pub kind: ItemKind,
    pub id: String,
}

struct Entry {
    /// Tells this registration from a later one of the same item.
    token: u64,
    name: String,
    sent: AtomicU64,
    total: u64,
    started_at: String,
    cancel: AtomicBool,
}

/// The registry, held by [`crate::Api`].
#[derive(Default, Clone)]
pub(crate) struct Uploads {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    running: BTreeMap<(ItemKind, String), Arc<Entry>>,
}

impl Uploads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers an upload starting at `sent` of `total` bytes; it is listed until the returned
    /// handle is dropped.
    pub(crate) fn start(&self, kind: ItemKind, id: &str, name: &str, sent: u64, total: u64) -> UploadHandle {
        let mut inner = self.lock();
        inner.next += 1;
        let entry = Arc::new(Entry {
            token: inner.next,
            name: name.to_string(),
            sent: AtomicU64::new(sent),
            total,
            started_at: awf_core::clock::now(),
            cancel: AtomicBool::new(false),
        });
        inner.running.insert((kind, id.to_string()), entry.clone());
        UploadHandle { uploads: self.clone(), kind, id: id.to_string(), entry }
    }

    /// Every upload in progress, by kind and id.
    pub(crate) fn list(&self) -> Vec<UploadView> {
        self.lock()
            .running
            .iter()
            .map(|((kind, id), e)| UploadView {
                kind: *kind,
                id: id.clone(),
                name: e.name.clone(),
                sent: e.sent.load(Ordering::Relaxed),
                total: e.total,
                started_at: e.started_at.clone(),
                cancelling: e.cancel.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Asks the upload of an item to stop before its next chunk; false when none runs.
    pub(crate) fn cancel(&self, kind: ItemKind, id: &str) -> bool {
        match self.lock().running.get(&(kind, id.to_string())) {
            Some(e) => {
                e.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// An upload's registration: the engine reports progress and reads the cancel flag through it;
/// dropping it removes the upload from the list.
pub(crate) struct UploadHandle {
    uploads: Uploads,
    kind: ItemKind,
    id: String,
    entry: Arc<Entry>,
}

impl UploadHandle {
    pub(crate) fn sent(&self, bytes: u64) {
        self.entry.sent.store(bytes, Ordering::Relaxed);
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.entry.cancel.load(Ordering::Relaxed)
    }
}

impl Drop for UploadHandle {
    fn drop(&mut self) {
        let mut inner = self.uploads.lock();
        let key = (self.kind, std::mem::take(&mut self.id));
        if inner.running.get(&key).is_some_and(|e| e.token == self.entry.token) {
            inner.running.remove(&key);
        }
    }
}

impl crate::Api {
    /// The dataset uploads running in this process, with the bytes the platform holds.
    pub fn sync_uploads(&self) -> Vec<UploadView> {
        self.uploads.list()
    }

    /// Asks a running upload to stop before its next chunk (the pass then parks the item with
    /// sync switched off, keeping the upload to resume); `not_found` when none runs.
    pub fn sync_cancel_upload(&self, kind: ItemKind, id: &str) -> Result<(), crate::ApiError> {
        if self.uploads.cancel(kind, id) {
            Ok(())
        } else {
            Err(crate::ApiError::new(
                crate::ErrorCode::NotFound,
                format!("No upload of {} {id} is running.", kind.as_str()),
            )
            .hint("It may have finished or stopped already; refresh the sync status."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_listed_while_its_handle_lives_and_a_cancel_reaches_it() {
        let u = Uploads::default();
        assert!(!u.cancel(ItemKind::Dataset, "d1"), "nothing runs");
        let h = u.start(ItemKind::Dataset, "d1", "corpus", 0, 100);
        h.sent(40);
        let list = u.list();
        assert_eq!((list.len(), list[0].sent, list[0].total, list[0].cancelling), (1, 40, 100, false));
        assert!(!h.cancelled());
        assert!(u.cancel(ItemKind::Dataset, "d1"));
        assert!(h.cancelled() && u.list()[0].cancelling);
        // A later registration of the same item outlives the earlier handle.
        let h2 = u.start(ItemKind::Dataset, "d1", "corpus", 40, 100);
        drop(h);
        assert_eq!(u.list().len(), 1);
        assert!(!h2.cancelled());
        drop(h2);
        assert!(u.list().is_empty());
    }
}
