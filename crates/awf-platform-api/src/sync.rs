//! Wire types of consented sync (SPEC C1–C6, policy §1.5, §3.1): the developer's agents,
//! plugins (never their secrets), datasets and tables hosted per account with revisions.
//!
//! # Items and revisions
//!
//! An item is addressed by its [`ItemKind`] and the id the client gave it (a ULID, so two
//! clients never pick the same id for different items). Every accepted write gives the item the
//! next revision, counted from 1; a delete leaves a tombstone (an [`ItemState`] with `deleted`
//! and no body) with its own revision, so that other devices learn of it from the change feed.
//!
//! # Writes: `PUT` and `DELETE /v1/items/{kind}/{id}`
//!
//! - `If-Match: "<revision>"` names the revision the client last saw; `"0"` (or
//!   `If-None-Match: *`) means "the item must not exist yet". A write whose revision is not the
//!   current one is refused **412** with a [`SyncConflict`] holding the current state: the client
//!   turns it into a conflict the user resolves, never a silent overwrite. A write without either
//!   header is refused 428.
//! - `Idempotency-Key` ([`crate::IDEMPOTENCY_HEADER`], 1–64 characters of `[A-Za-z0-9_-]`) makes
//!   a retry return the first answer (same status, same body) without writing again, for
//!   30 days; the same key with a different request is refused 422.
//! - Every write needs the account's consent receipt for
//!   [`crate::Purpose::DeveloperDataHosting`] (403 `consent_required` otherwise), and, when the
//!   platform's region differs from the account's, for [`crate::Purpose::CrossBorderTransfer`]
//!   too. A dataset or table whose body says it holds personal information (`pii_findings > 0`)
//!   needs a [`PiiAttestation`] (422 `attestation_required` otherwise).
//! - A `DELETE` answers [`ItemDeleted`]: the tombstone and a signed
//!   [`crate::DeletionReceipt`] of scope `item`.
//!
//! # Many writes in one request: `POST /v1/items/batch`
//!
//! [`BatchWrites`] carries up to [`MAX_BATCH_WRITES`] item writes (at most [`MAX_BATCH_BYTES`]
//! of JSON), each with what its own `PUT` would carry in its path and headers: kind, id, the
//! revision it expects and an idempotency key (required here). The platform applies them in
//! order, each on its own terms (a refused or conflicting write does not stop the others), makes
//! them durable with one flush, and answers [`BatchAnswer`]: one [`BatchResult`] per write, in the
//! same order, with the status and body its own `PUT` would have had. A write and its replay are
//! interchangeable between the two routes: the same key with the same write gets the first
//! answer whichever route sent it. What concerns the whole request (sign-in, the hosting and
//! cross-border consents, the size of the batch) is checked once and refused as a whole.
//! Platforms that serve it list `batch_writes` in [`crate::Capabilities::features`].
//!
//! # The change feed: `GET /v1/changes?after=<cursor>&limit=<n>`
//!
//! Every accepted write is given the account's next cursor (from 1). The feed returns the
//! latest state of every item changed after `after`, oldest change first, at most `limit`
//! (1–1000, default 500), and `next`, the cursor to ask after next time. An item changed twice
//! appears once, at its later cursor.
//!
//! # Large data: resumable uploads (tus-like), `/v1/uploads`
//!
//! `POST /v1/uploads` ([`NewUpload`]) opens an upload of a known length and SHA-256;
//! `HEAD /v1/uploads/{id}` answers its offset in the `Upload-Offset` header; `PATCH` with
//! `Upload-Offset: <n>` and an `application/offset+octet-stream` body appends one chunk at
//! exactly that offset (409 with the current offset otherwise) and answers [`UploadState`].
//! When the last byte arrives the platform checks the SHA-256 (422 `digest_mismatch` and the
//! upload is discarded otherwise). A dataset item's body names its finished upload.
//!
//! `GET /v1/uploads/{id}/content` (with `x-awf-purpose: developer_data_hosting` and the hosting
//! consent, like the writes) answers the content of a finished upload of the account, as
//! `application/octet-stream` with its `Content-Length` and its SHA-256 in
//! [`UPLOAD_SHA256_HEADER`]: another device pulls a dataset's text with it. 404 for an unknown
//! upload or another account's, 409 `upload_incomplete` before all bytes arrived and matched.
//! `Range: bytes=<start>-` resumes from a byte (206 with `Content-Range`; 416 past the end).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Header of the revision a write expects (`"<revision>"`, quotes optional).
pub const IF_MATCH_HEADER: &str = "if-match";
/// `If-None-Match: *`: the item must not exist yet.
pub const IF_NONE_MATCH_HEADER: &str = "if-none-match";
/// Header of an upload's offset (request and answer).
pub const UPLOAD_OFFSET_HEADER: &str = "upload-offset";
/// Header of a finished upload's SHA-256 (answer of `GET /v1/uploads/{id}/content`).
pub const UPLOAD_SHA256_HEADER: &str = "upload-sha256";
/// Media type of an upload chunk.
pub const UPLOAD_CHUNK_TYPE: &str = "application/offset+octet-stream";
/// The largest item body, serialised.
pub const MAX_ITEM_BODY_BYTES: usize = 1024 * 1024;
/// The largest upload chunk the platform accepts in one `PATCH`.
pub const MAX_UPLOAD_CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// The largest upload.
pub const MAX_UPLOAD_BYTES: u64 = 1024 * 1024 * 1024;
/// The most changes one feed page holds.
pub const MAX_CHANGES_PAGE: u32 = 1000;

/// What kind of developer data an item is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Agent,
    Plugin,
    Dataset,
    Table,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [ItemKind::Agent, ItemKind::Plugin, ItemKind::Dataset, ItemKind::Table];

    /// The wire name, as in the path.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Agent => "agent",
            ItemKind::Plugin => "plugin",
            ItemKind::Dataset => "dataset",
            ItemKind::Table => "table",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The developer's statement that the people whose personal information a dataset or table
/// holds consented to it being hosted (policy §1.5 4.4). Recorded in the client's consent ledger
/// and sent with the write.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PiiAttestation {
    /// The consent-ledger entry that records the attestation.
    pub ledger_seq: u64,
    /// That entry's hash (hex).
    pub ledger_hash: String,
    /// When the developer attested (RFC 3339).
    pub attested_at: String,
    /// How many findings the attestation covered.
    pub findings: u32,
}

/// `PUT /v1/items/{kind}/{id}` body.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemWrite {
    /// The item as the client holds it (JSON object, at most [`MAX_ITEM_BODY_BYTES`]).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub body: serde_json::Value,
    /// Number of PII findings of a dataset or table (0 for agents and plugins).
    #[serde(default)]
    pub pii_findings: u32,
    /// Required when `pii_findings > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<PiiAttestation>,
    /// The writing device and its local change id (`<device>/<change>`, at most 128 characters),
    /// stored with the revision and returned in [`ItemState::origin`]: a client whose answer was
    /// lost recognises its own write in a later 412 instead of seeing a conflict with itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Most writes in one `POST /v1/items/batch`.
pub const MAX_BATCH_WRITES: usize = 200;
/// Most bytes of JSON in one `POST /v1/items/batch` request body.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// One write of a `POST /v1/items/batch`: what `PUT /v1/items/{kind}/{id}` carries in its
/// path, headers and body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchWrite {
    pub kind: ItemKind,
    /// The item's id, as in the `PUT` path.
    pub id: String,
    /// The revision the write expects, as `If-Match` (0: the item must not exist, as
    /// `If-None-Match: *`).
    pub expected_revision: u64,
    /// As the `Idempotency-Key` header: 1–64 of `[A-Za-z0-9_-]`, required in a batch.
    pub idempotency_key: String,
    /// The `PUT` body.
    pub write: ItemWrite,
}

/// `POST /v1/items/batch` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchWrites {
    /// 1 to [`MAX_BATCH_WRITES`] writes, applied in this order.
    pub writes: Vec<BatchWrite>,
}

/// What became of one write of a batch: the status and body its own `PUT` would have answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// 201 created, 200 updated, 412 a stale revision, or the refusal's 4xx.
    pub status: u16,
    /// The answer stored for this idempotency key by an earlier request (no second write).
    #[serde(default)]
    pub replayed: bool,
    /// With 200 and 201: the item's new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemState>,
    /// With 412: the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<SyncConflict>,
    /// With a refusal: why (`field` names the write's field at fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorBody>,
}

/// `POST /v1/items/batch` answer: one result per write, in the order of the writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchAnswer {
    pub results: Vec<BatchResult>,
}

/// An item as the platform holds it: the answer of a write and an entry of the change feed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemState {
    pub kind: ItemKind,
    pub id: String,
    /// From 1; each accepted write adds one.
    pub revision: u64,
    /// A tombstone: the item was deleted at this revision.
    pub deleted: bool,
    /// Absent on a tombstone.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown> | null"))]
    pub body: Option<serde_json::Value>,
    /// The change-feed position of this revision.
    pub cursor: u64,
    pub updated_at: String,
    /// The [`ItemWrite::origin`] of the write that made this revision (`None` for a delete
    /// without one).
    #[serde(default)]
    pub origin: Option<String>,
}

/// A 412 answer: the write expected another revision. `current` is absent when the item does
/// not exist (the write expected one).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncConflict {
    /// Always `revision_mismatch`.
    pub error: String,
    pub expected: u64,
    pub current: Option<ItemState>,
}

/// `DELETE /v1/items/{kind}/{id}` answer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemDeleted {
    pub state: ItemState,
    pub receipt: crate::DeletionReceipt,
}

/// `GET /v1/changes` answer.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Changes {
    pub changes: Vec<ItemState>,
    /// The cursor to ask after next time (the last change's, or `after` when none).
    pub next: u64,
    /// More changes wait after `next`.
    pub more: bool,
}

/// `POST /v1/uploads` body.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// Total bytes (1 ..= [`MAX_UPLOAD_BYTES`]).
    pub length: u64,
    /// SHA-256 of the whole content, 64 lowercase hex digits.
    pub sha256: String,
    /// The dataset the upload belongs to.
    pub dataset_id: String,
}

/// An upload's progress (answer of `POST` and `PATCH /v1/uploads/…`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UploadState {
    /// `upl_` and 32 hex digits.
    pub upload_id: String,
    pub dataset_id: String,
    pub length: u64,
    pub offset: u64,
    pub sha256: String,
    /// All bytes arrived and the digest matched.
    pub complete: bool,
}

/// `GET /v1/dev/sync-stats` (dev mode only): counts on the platform, so that tests can prove
/// that no change was lost or applied twice. The counters of requests are since the platform
/// started; the item counts are of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SyncStats {
    /// Writes (`PUT` and `DELETE`) that made a new revision.
    pub writes_applied: u64,
    /// Writes answered from an idempotency record, without writing.
    pub idempotent_replays: u64,
    /// Writes refused 412 (stale revision).
    pub conflicts: u64,
    /// Items held that are not deleted, over all accounts.
    pub live_items: u64,
    /// Tombstones held.
    pub tombstones: u64,
    /// Upload bytes appended (every accepted chunk).
    pub upload_bytes_received: u64,
    /// Uploads whose bytes all arrived and matched their SHA-256.
    pub uploads_completed: u64,
    /// Writes applied whose origin (`ItemWrite::origin`) had already been applied since the
    /// platform started: a change written twice. Always 0 when idempotency holds.
    pub duplicate_origins: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_wire_names() {
        for k in ItemKind::ALL {
            assert_eq!(ItemKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
        assert_eq!(ItemKind::parse("agents"), None);
    }

    #[test]
    fn an_item_write_refuses_unknown_fields() {
        let err = serde_json::from_str::<ItemWrite>(r#"{"body":{},"secret":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("secret"), "{err}");
    }
}
