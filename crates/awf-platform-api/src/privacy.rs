//! Wire types of the privacy endpoints: consent receipts, telemetry ingest per purpose,
//! deletion of a purpose's data, and the summary of what the platform holds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Purpose;

/// `POST /v1/consents`: a receipt of one entry of the client's consent ledger. The platform
/// stores it (idempotently, by `receipt_id`) and derives from the latest receipt per purpose
/// whether it may accept that purpose's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentReceipt {
    /// Client-generated unique id (a ULID); sending the same receipt twice stores it once.
    pub receipt_id: String,
    pub purpose: Purpose,
    /// Granted (`true`) or withdrawn (`false`).
    pub granted: bool,
    /// RFC 3339: when the user gave or withdrew it.
    pub at: String,
    /// The policy version in force at that time.
    pub policy_version: u32,
    /// How it was given (`sign_up_form`, `consent_centre`, `cli`, …).
    pub method: String,
    /// Position of the entry in the client's ledger (1-based).
    pub ledger_seq: u64,
    /// Hex SHA-256 of the ledger entry, chaining it to the previous one.
    pub ledger_hash: String,
}

/// The platform's answer to a stored receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptAck {
    pub receipt_id: String,
    /// RFC 3339: when the platform stored it (the first time).
    pub stored_at: String,
}

/// `GET /v1/consents`: the receipts the platform holds for the account, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentReceipts {
    pub receipts: Vec<ConsentReceipt>,
}

/// One queued telemetry item (usage event, crash report, performance sample, device information).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TelemetryEvent {
    /// Client-generated unique id (a ULID); the platform stores each id once.
    pub id: String,
    /// What it is, e.g. `agent_created`, `panic`, `ui_error`, `startup_ms`, `device_info`.
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    /// The payload, exactly as previewed to the user before it left.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// `POST /v1/telemetry/{purpose}`: a batch of one purpose's items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TelemetryBatch {
    /// At most 500 items.
    pub events: Vec<TelemetryEvent>,
}

/// The platform stored a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IngestAck {
    /// Items newly stored (duplicates by id are not counted again).
    pub accepted: u32,
}

/// `DELETE /v1/telemetry/{purpose}`: what the platform deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PurposeDataDeleted {
    pub purpose: Purpose,
    /// Items deleted.
    pub deleted: u64,
    /// The platform's signed receipt of the deletion (scope `purpose_data`); absent from
    /// platforms older than receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<crate::DeletionReceipt>,
}

/// One category of data the platform holds for the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HeldCategory {
    /// e.g. `account`, `sessions`, `consent_receipts`, `telemetry:usage_analytics`.
    pub category: String,
    pub count: u64,
    /// How long the platform keeps it, in words (e.g. "until you cancel the account", "90 days").
    pub retention: String,
}

/// `GET /v1/account/data`: what the platform holds for the account (§3.2, D5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HeldData {
    pub categories: Vec<HeldCategory>,
}
