//! Request and response types that exist only at the boundary. Domain value types (Agent,
//! AgentDraft, …) come from the core, which derives their TypeScript under its `ts` feature.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use awf_core::agents::{
    Agent, AgentDraft, AgentSummary, ListQuery, ModelSettings, ResponseFormat, Revision, RevisionSummary, Variable,
};
pub use awf_core::bundle::{ImportReport, Problem as BundleProblem, Summary as BundleSummary};
pub use awf_core::datasets::{ChunkPage, Dataset};
pub use awf_core::diff::{DiffKind, DiffLine};
pub use awf_core::findings::{PiiSummary, StoredFinding};
pub use awf_core::plugins::{Plugin, PluginAuth, PluginDraft, PluginSpec, PluginSummary, ThirdParty};
pub use awf_core::profile::KeyMode;
pub use awf_core::search::{HistoryEntry, HitKind, SearchHit};
pub use awf_core::tables::{RowPage, Table};
pub use awf_ingest::dataset::{Chunk, ChunkOptions, DatasetFormat};
pub use awf_ingest::openapi::{
    AuthScheme, ImportedApi, KeyLocation, ParamLocation, RequestBody, SpecVersion, Tool, ToolParameter,
};
pub use awf_ingest::pii::PiiKind;
pub use awf_ingest::table::{CellError, Column, ColumnType, RaggedRow};
pub use awf_ingest::text::SourceEncoding;

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

// --- account and platform ---

pub use awf_core::{ConsentMethod, ConsentRecord, LogQuery, Outcome, Purpose, TransmissionRecord};
pub use awf_platform_api::{
    AccountProfile, AgeBand, GuardianConsent, GuardianRecord, ProfilePatch, Region, SmsCodeSent,
};

/// What the app knows of the platform it talks to.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PlatformInfo {
    pub server: String,
    pub api_version: String,
    pub region: Region,
    pub policy_version: u32,
    pub dev_mode: bool,
}

/// Connectivity and session, for the offline indicator and the account screen.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PlatformStatus {
    pub platform_url: String,
    /// The platform answered the last request.
    pub online: bool,
    pub last_checked: Option<String>,
    /// Why the last request got no answer.
    pub last_error: Option<String>,
    /// From the last successful capabilities check.
    pub platform: Option<PlatformInfo>,
    /// Tokens are held for this profile.
    pub signed_in: bool,
    /// The account as last fetched (shown offline too).
    pub account: Option<AccountProfile>,
    /// The privacy policy has been accepted (the account-operation purpose is granted).
    pub policy_accepted: bool,
}

/// The privacy policy as shipped with the app.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyText {
    pub version: u32,
    pub zh_cn: String,
    pub en: String,
}

/// "I have read and accept the privacy policy".
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AcceptPolicyRequest {
    pub policy_version: u32,
    /// Where it was accepted (default: the sign-up form).
    #[serde(default)]
    pub method: Option<ConsentMethod>,
}

/// A phone to send a sign-up code to.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PhoneRequest {
    pub phone: String,
}

/// The sign-up form.
#[derive(Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RegisterForm {
    pub account_name: String,
    pub phone: String,
    pub password: String,
    pub sms_code: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Required under 18.
    #[serde(default)]
    pub guardian: Option<GuardianConsent>,
}

/// The log-in form.
#[derive(Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    /// Account name or phone.
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for RegisterForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterForm").field("account_name", &self.account_name).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm").field("login", &self.login).finish_non_exhaustive()
    }
}

/// The settings screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    /// The platform address in use.
    pub platform_url: String,
    /// Whether the user chose it (else it is the default).
    pub custom_platform_url: bool,
    pub default_platform_url: String,
}

/// Sets the platform address; `null` or empty restores the default.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SetPlatformUrl {
    pub url: Option<String>,
}

// --- consent and telemetry ---

pub use awf_core::consent::LedgerReport;
pub use awf_core::ledger::{LedgerEntry, LedgerProblem};
pub use awf_core::purposes::{Bilingual, PurposeInfo};
pub use awf_core::telemetry::TelemetryItem;
pub use awf_platform_api::{HeldCategory, HeldData};

/// One purpose in the consent centre.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PurposeView {
    pub info: PurposeInfo,
    /// Whether requests of this purpose may leave now.
    pub granted: bool,
    /// The last change, if any.
    pub record: Option<ConsentRecord>,
}

/// Grants or withdraws a purpose.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ConsentSetRequest {
    pub purpose: Purpose,
    pub granted: bool,
    /// Default: the consent centre.
    #[serde(default)]
    pub method: Option<ConsentMethod>,
}

/// What a grant or withdrawal did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConsentChange {
    pub record: ConsentRecord,
    /// Queued items of the purpose deleted here (withdrawal).
    pub queue_purged: u32,
    pub receipts_sent: u32,
    /// Receipts not yet acknowledged by the platform.
    pub receipts_pending: u32,
    /// Items the platform deleted for this purpose (withdrawal, when it could be reached).
    pub platform_deleted: Option<u64>,
    /// What is left to do, and why.
    pub note: Option<String>,
}

impl ConsentChange {
    pub(crate) fn placeholder() -> ConsentChange {
        ConsentChange {
            record: ConsentRecord {
                purpose: Purpose::ServiceInformation,
                granted: true,
                at: String::new(),
                policy_version: 0,
                method: ConsentMethod::ConsentCentre,
            },
            queue_purged: 0,
            receipts_sent: 0,
            receipts_pending: 0,
            platform_deleted: None,
            note: None,
        }
    }
}

/// The ledger with the platform's acknowledgement.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LedgerView {
    pub entries: Vec<LedgerEntry>,
    /// Entries up to this one have a receipt at the platform.
    pub acknowledged_upto: u64,
}

/// Which queued telemetry to show.
#[derive(Debug, Default, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TelemetryQuery {
    #[serde(default)]
    pub purpose: Option<Purpose>,
}

/// A count per purpose.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PurposeCount {
    pub purpose: Purpose,
    pub count: u32,
}

/// What a flush sent.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FlushReport {
    pub receipts_sent: u32,
    pub sent: Vec<PurposeCount>,
    /// Items still queued.
    pub pending: u32,
}

/// An error caught by the UI, offered as a crash report.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UiErrorReport {
    pub message: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub stack: Option<String>,
}

// --- cookies, identifiers, inventory, retention ---

pub use awf_core::settings::Retention;
pub use awf_core::{LocalCategory, PurgeReport};

/// A platform cookie held by the app (never its value).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CookieView {
    pub name: String,
    /// What the platform uses it for.
    pub purpose: String,
    pub set_at: String,
}

/// Cookies and identifiers (D4).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CookiesView {
    /// "Refuse cookies": none are kept or sent; log-in works by token.
    pub refuse_cookies: bool,
    pub cookies: Vec<CookieView>,
    /// The installation identifier (sent only inside device information, with its consent).
    pub installation_id: String,
}

/// Deletes one cookie by name, or all with `null`.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CookieDelete {
    #[serde(default)]
    pub name: Option<String>,
}

/// Turns "refuse cookies" on or off.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RefuseCookies {
    pub refuse: bool,
}

// --- policy versions ---

/// One changed line of a policy diff.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyDiffLine {
    pub kind: DiffKind,
    pub text: String,
    /// The numbered clause it falls under (`1.2`, `6.3`, …).
    pub clause: Option<String>,
    /// `purposes` (§1–§4) or `rights` (§6–§8), when the clause is about one of them.
    pub concerns: Option<String>,
}

/// Where the user stands against the newest policy (D10).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PolicyStatus {
    /// The version accepted (with the account-operation purpose); `null` before sign-up.
    pub accepted_version: Option<u32>,
    pub current_version: u32,
    /// The platform marked the newest version as a material change.
    pub material: bool,
    /// The platform's list of changes.
    pub changes: Vec<String>,
    /// Granted purposes whose wording changed since: blocked until consented again.
    pub needs_reconsent: Vec<Purpose>,
    /// Purposes introduced after the accepted version: off until granted.
    pub new_purposes: Vec<Purpose>,
    /// Changed lines, English and Chinese, from the accepted version to the newest.
    pub diff_en: Vec<PolicyDiffLine>,
    pub diff_zh: Vec<PolicyDiffLine>,
}

/// Accepts the newest policy and consents again to the listed purposes.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PolicyAcceptRequest {
    pub policy_version: u32,
    #[serde(default)]
    pub reconsent: Vec<Purpose>,
}
