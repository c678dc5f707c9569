//! The platform HTTP API contract, version 1.
//!
//! Every type that crosses the wire between Studio and the platform is defined here once and
//! used by both sides: the client (the egress gate in `awf-egress`) and the reference platform
//! (`awf-platform`). The OpenAPI 3.1 document (`openapi.json` beside this crate's manifest) is
//! generated from these types by [`openapi::document`]; a test fails when the committed copy is
//! stale.
//!
//! Conventions:
//! - paths are versioned (`/v1/…`); a client reads [`Capabilities`] first;
//! - every request carries the [`PURPOSE_HEADER`] naming its [`Purpose`]; the platform counts
//!   requests by purpose and refuses purposes that need a consent receipt it does not hold;
//! - every error is an [`ErrorBody`] with a closed [`PlatformErrorCode`];
//! - times are RFC 3339 strings in UTC; dates of birth are `YYYY-MM-DD`.

pub mod age;
pub mod openapi;
pub mod privacy;
pub mod rights;
pub mod sync;

pub use privacy::{
    ConsentReceipt, ConsentReceipts, HeldCategory, HeldData, IngestAck, PurposeDataDeleted, ReceiptAck, TelemetryBatch,
    TelemetryEvent,
};
pub use rights::{
    AdminRightsRequest, AdminRightsRequests, AnswerRequest, AttachmentInfo, AttachmentUpload, CancelAccount,
    DeletionReceipt, DeletionScope, NewRightsRequest, ReceiptError, ReceiptKey, ReceiptKeys, RequestCategory,
    RequestStatus, RightsRequest, RightsRequests, IDEMPOTENCY_HEADER,
};
pub use sync::{
    Changes, ItemDeleted, ItemKind, ItemState, ItemWrite, NewUpload, PiiAttestation, SyncConflict, SyncStats,
    UploadState,
};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The API version this contract describes; the path prefix is `/{API_VERSION}`.
pub const API_VERSION: &str = "v1";

/// Request header naming the [`Purpose`] of a request (its snake_case name).
pub const PURPOSE_HEADER: &str = "x-awf-purpose";

/// Name of the session cookie the platform sets at sign-up, log-in and refresh.
pub const SESSION_COOKIE: &str = "awf_session";

/// Name of the anonymous-identifier cookie the platform sets on a client that has none.
pub const ANONYMOUS_ID_COOKIE: &str = "awf_anon";

/// Why a request is made. Closed: every request Studio sends declares one, and the egress gate
/// refuses a request whose purpose lacks the user's consent (see the privacy policy clause noted
/// on each variant).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Reading the platform's capabilities and its current policy. Sends no personal data, no
    /// identifier and no cookie, and needs no consent: the policy must be readable before it is
    /// accepted.
    ServiceInformation,
    /// Registration, log-in and account management (§1.1). Granted by accepting the policy.
    AccountOperation,
    /// Security and device information (§1.2(2)).
    SecurityDeviceInfo,
    /// Usage analytics and performance data (§1.2(3)).
    UsageAnalytics,
    /// Crash reports (§1.2(3)).
    CrashReports,
    /// Marketing SMS and calls (§1.2(6)).
    Marketing,
    /// Anonymised research use of agent instructions (§1.2(7)).
    Research,
    /// Hosting the developer's agents, plugins and data on the platform (§1.5).
    DeveloperDataHosting,
    /// Transfer of personal information across borders (§3.1).
    CrossBorderTransfer,
    /// Sharing with third parties (§4.2).
    ThirdPartySharing,
}

impl Purpose {
    pub const ALL: [Purpose; 10] = [
        Purpose::ServiceInformation,
        Purpose::AccountOperation,
        Purpose::SecurityDeviceInfo,
        Purpose::UsageAnalytics,
        Purpose::CrashReports,
        Purpose::Marketing,
        Purpose::Research,
        Purpose::DeveloperDataHosting,
        Purpose::CrossBorderTransfer,
        Purpose::ThirdPartySharing,
    ];

    /// The wire name (as in [`PURPOSE_HEADER`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ServiceInformation => "service_information",
            Purpose::AccountOperation => "account_operation",
            Purpose::SecurityDeviceInfo => "security_device_info",
            Purpose::UsageAnalytics => "usage_analytics",
            Purpose::CrashReports => "crash_reports",
            Purpose::Marketing => "marketing",
            Purpose::Research => "research",
            Purpose::DeveloperDataHosting => "developer_data_hosting",
            Purpose::CrossBorderTransfer => "cross_border_transfer",
            Purpose::ThirdPartySharing => "third_party_sharing",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// `GET /v1/capabilities`: what this platform offers; read first by every client.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    /// Always `"v1"` for this contract.
    pub api_version: String,
    /// The platform implementation and its version, e.g. `awf-platform 0.1.0`.
    pub server: String,
    /// Where this platform stores personal information.
    pub region: Region,
    /// The version of the privacy policy currently in force.
    pub policy_version: u32,
    /// Feature names this platform implements (e.g. `auth`, `profile`, `cookies`).
    pub features: Vec<String>,
    /// Whether development endpoints (`/v1/dev/…`, the SMS outbox) are served.
    pub dev_mode: bool,
    pub limits: Limits,
}

/// Token lifetimes and authentication limits.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Limits {
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// Failed log-ins allowed per account name (and per client address) per minute; the next gets 429.
    pub failed_logins_per_minute: u32,
    /// Seconds an SMS code stays valid.
    pub sms_code_ttl_secs: u64,
}

/// The storage region of the platform (`GET /v1/region`, also inside [`Capabilities`]).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Region {
    /// Short code, e.g. `cn-north-1` or `local`.
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Country or jurisdiction whose law governs the stored data.
    pub jurisdiction: String,
}

/// `GET /v1/policy`: the privacy policy in force.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyDocument {
    pub version: u32,
    /// RFC 3339.
    pub published_at: String,
    /// The policy in Simplified Chinese (the authoritative text).
    pub zh_cn: String,
    /// The policy in English.
    pub en: String,
    /// Every purpose this version covers, with the version in which its current wording took
    /// effect. A consent given under an older version than `since_version` no longer covers the
    /// purpose: the client asks again before sending anything of it (never widening a purpose
    /// without consent). A purpose absent from an earlier version is new and starts off.
    #[serde(default)]
    pub purposes: Vec<PolicyPurposeTerms>,
    /// Whether this version changes purposes or rights materially (§8: notified prominently,
    /// re-consent asked).
    #[serde(default)]
    pub material: bool,
    /// What changed since the previous version, one line per change (for people).
    #[serde(default)]
    pub changes: Vec<String>,
}

/// One purpose as a policy version covers it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyPurposeTerms {
    pub purpose: Purpose,
    /// The policy version in which this purpose's current wording took effect.
    pub since_version: u32,
}

/// `POST /v1/dev/policy` (dev mode) and `awf-platform publish-policy`: a new policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublishPolicy {
    /// Exactly one more than the version in force.
    pub version: u32,
    pub zh_cn: String,
    pub en: String,
    pub purposes: Vec<PolicyPurposeTerms>,
    pub material: bool,
    #[serde(default)]
    pub changes: Vec<String>,
}

/// `POST /v1/auth/sms-code`: send a verification code to a phone (for sign-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SmsCodeRequest {
    /// E.164-like: optional `+`, then 6–15 digits.
    pub phone: String,
}

/// The code was sent (in dev mode: written to the SMS outbox and the platform's log).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SmsCodeSent {
    pub expires_in_secs: u64,
    /// A new code for this phone can be requested after this many seconds.
    pub resend_after_secs: u64,
}

/// A guardian's consent for a user under 18 (§7).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuardianConsent {
    pub name: String,
    pub phone: String,
    /// The guardian attests that they are the user's guardian and consent to the policy.
    pub attestation: bool,
}

/// `POST /v1/auth/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_`, `-`, `.`; unique.
    pub account_name: String,
    pub phone: String,
    /// 8–128 characters.
    pub password: String,
    /// The 6-digit code sent to `phone`.
    pub sms_code: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Required when the user is under 18 on the day of registration.
    #[serde(default)]
    pub guardian: Option<GuardianConsent>,
    /// The policy version the user accepted; must be the one in force.
    pub policy_version: u32,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Account name or phone.
    pub login: String,
    pub password: String,
}

/// `POST /v1/auth/refresh`: exchanges a refresh token for a new pair (the old one is revoked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Access and refresh tokens. Studio keeps them only in the OS keyring.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in_secs: u64,
    pub refresh_expires_in_secs: u64,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_in_secs", &self.expires_in_secs)
            .finish()
    }
}

/// The answer to register, log-in and refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionGrant {
    pub account: AccountProfile,
    pub tokens: TokenPair,
}

/// Age band derived from the date of birth (§7).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// 18 or older.
    Adult,
    /// 14 to 17: registered with a guardian's consent.
    Minor,
    /// Under 14: a guardian's consent, and the data is sensitive personal information.
    Child,
}

/// The guardian recorded for a minor (no attestation flag: it was required to register).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuardianRecord {
    pub name: String,
    pub phone: String,
    /// RFC 3339: when the guardian's consent was given.
    pub consented_at: String,
}

/// `GET /v1/account/profile`: what the platform holds about the account (§6: view).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountProfile {
    pub account_id: String,
    pub account_name: String,
    pub phone: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub organisation: Option<String>,
    pub date_of_birth: String,
    pub age_band: AgeBand,
    /// True for a child under 14: the account's data is handled as sensitive personal information.
    pub sensitive_personal_information: bool,
    pub guardian: Option<GuardianRecord>,
    /// Region code where the account's data is stored.
    pub region: String,
    pub policy_version_accepted: u32,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `PATCH /v1/account/profile` (§6: correct and supplement). Absent fields are left as they are;
/// an empty string clears an optional field.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProfilePatch {
    /// 3–32 characters, as at registration; unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Up to 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An address with one `@`, up to 254 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Up to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// Every error the platform returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: PlatformErrorCode,
    /// A sentence for people; clients branch on `code`, never on this text.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `rate_limited`: seconds until a retry can succeed (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// The closed set of platform error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlatformErrorCode {
    /// The body or a field is malformed or out of range (400; `field` names it). The rights routes
    /// (`/v1/requests`, `/v1/account/cancel`, `/v1/admin/…`) answer 422 to a well-formed body
    /// that breaks a rule or a confirmation that does not match.
    InvalidInput,
    /// The account name is taken (409).
    AccountExists,
    /// The phone belongs to another account (409).
    PhoneInUse,
    /// The SMS code is wrong, or none was requested for this phone (400).
    SmsCodeInvalid,
    /// The SMS code has expired (400).
    SmsCodeExpired,
    /// Under 18 without a guardian's attested consent (400).
    GuardianRequired,
    /// The accepted policy version is not the one in force (409).
    PolicyOutdated,
    /// Wrong account or password (401).
    InvalidCredentials,
    /// No credentials, or unknown ones (401).
    Unauthorized,
    /// The access or refresh token has expired (401).
    TokenExpired,
    /// Too many attempts (429; see `retry_after_secs`).
    RateLimited,
    /// The request's purpose has no consent receipt at the platform (403).
    ConsentRequired,
    /// No such resource (404).
    NotFound,
    /// The body is larger than the platform accepts (413).
    PayloadTooLarge,
    /// The platform failed (500).
    Internal,
    /// A sync write without `If-Match` or `If-None-Match: *` (428).
    RevisionRequired,
    /// A dataset or table with PII findings written without a [`PiiAttestation`] (422).
    AttestationRequired,
    /// An `Idempotency-Key` reused with a different request (422).
    IdempotencyKeyReused,
    /// An upload chunk at another offset than the upload's (409; the answer's
    /// `Upload-Offset` header holds the current one).
    UploadOffsetMismatch,
    /// A finished upload's bytes do not match its SHA-256 (422); the upload is discarded.
    DigestMismatch,
    /// An upload's content was asked for before all its bytes arrived and matched (409).
    UploadIncomplete,
}

/// `GET /v1/dev/sms-outbox` (dev mode only): the SMS messages the platform "sent".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SmsMessage {
    pub phone: String,
    pub code: String,
    /// RFC 3339.
    pub sent_at: String,
}

/// `GET /v1/dev/stats` (dev mode only): requests received, so tests can prove what never arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequestStats {
    pub total: u64,
    /// Count per purpose wire name (`none` for requests without the purpose header).
    pub by_purpose: std::collections::BTreeMap<String, u64>,
    /// Count per route, as `METHOD /path` with the route's pattern.
    pub by_route: std::collections::BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_names_round_trip_through_serde_and_parse() {
        for p in Purpose::ALL {
            let json = serde_json::to_value(p).unwrap();
            assert_eq!(json, serde_json::Value::String(p.as_str().into()));
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("nope"), None);
    }

    #[test]
    fn token_pair_debug_is_redacted() {
        let t = TokenPair {
            access_token: "awfa_secret".into(),
            refresh_token: "awfr_secret".into(),
            token_type: "Bearer".into(),
            expires_in_secs: 1,
            refresh_expires_in_secs: 2,
        };
        assert!(!format!("{t:?}").contains("secret"));
    }
}
