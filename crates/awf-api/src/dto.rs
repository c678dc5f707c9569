//! Request and response types that exist only at the boundary. Domain value types (Agent,
//! AgentDraft, …) come from the core, which derives their TypeScript under its `ts` feature.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use awf_core::agents::{
    Agent, AgentDraft, AgentSummary, ListQuery, ModelSettings, ResponseFormat, Revision, RevisionSummary, Variable,
};
pub use awf_core::diff::{DiffKind, DiffLine};
pub use awf_core::profile::KeyMode;

use crate::ApiError;

/// Whether the profile is open, and if not, why.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStatus {
    pub ready: bool,
    pub data_dir: String,
    /// How the store key is held, once the profile is open.
    pub key_mode: Option<KeyMode>,
    /// Whether a profile already exists in the data directory.
    pub profile_exists: bool,
    /// Why the profile is not open (`passphrase_required`, `keyring_unavailable`, `profile_locked`, …).
    pub error: Option<ApiError>,
    pub app_version: String,
    pub schema_version: u32,
}

/// Opens a passphrase-protected profile, or creates a new profile protected by this passphrase.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    pub passphrase: String,
}

/// Names one agent.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AgentRef {
    pub id: String,
}

/// Names one revision of an agent's instructions.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RevisionRef {
    pub id: String,
    pub seq: u32,
}

/// Saves an edited agent. `expected_version` guards against overwriting a newer save.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    pub id: String,
    pub draft: AgentDraft,
    pub expected_version: Option<u32>,
}

/// Diff from revision `from` to revision `to`, or to the current instructions when `to` is null.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct DiffRequest {
    pub id: String,
    pub from: u32,
    pub to: Option<u32>,
}

/// Archives or unarchives an agent.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ArchiveRequest {
    pub id: String,
    pub archived: bool,
}
