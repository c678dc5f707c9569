//! Wire types of the data-subject rights (policy §6, SPEC D7–D9): signed deletion receipts, the
//! keys that verify them, erasure of everything the platform holds, account cancellation, and
//! rights requests and complaints.
//!
//! # Deletion receipts
//!
//! Every deletion the platform performs on request (everything but the account, the account
//! itself, or one purpose's telemetry) is answered with a [`DeletionReceipt`] signed with the
//! platform's Ed25519 key. The key is published by `GET /v1/receipt-keys` ([`ReceiptKeys`]);
//! [`DeletionReceipt::verify`] checks a receipt with it, without the platform.
//!
//! The signature is over the receipt's **canonical bytes** ([`DeletionReceipt::canonical_bytes`]):
//! the UTF-8 line `awf-deletion-receipt/v1` and a newline, then one line per field, in this order
//! and only for the fields present:
//!
//! ```text
//! receipt_id    account_id    scope        scope_kind (item)    scope_id (item)
//! scope_purpose (purpose_data)    deleted (the number of categories)
//! deleted_category / deleted_count (once each per category, categories in byte order)
//! completed_at    key_id
//! ```
//!
//! each written as `name=<length in bytes, decimal>:<value>\n` (counts in decimal), so that no
//! value can be mistaken for another whatever characters it holds. The signature field is
//! the 64-byte Ed25519 signature, standard base64 with padding.

use std::collections::BTreeMap;

use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::Purpose;

/// The first line of a receipt's canonical bytes: the format, and the domain of the signature.
pub const RECEIPT_DOMAIN: &str = "awf-deletion-receipt/v1";
/// The one signature algorithm of receipts.
pub const RECEIPT_ALGORITHM: &str = "ed25519";
/// Header of `POST /v1/account/cancel` that makes a retry replay the first answer.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The most characters of a rights request's text.
pub const MAX_REQUEST_TEXT_CHARS: usize = 5000;
/// The most attachments of one rights request.
pub const MAX_ATTACHMENTS: usize = 5;
/// The largest attachment, decoded.
pub const MAX_ATTACHMENT_BYTES: usize = 2 * 1024 * 1024;
/// The most characters of an attachment's name.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 128;
/// The most characters of an answer to a rights request.
pub const MAX_ANSWER_CHARS: usize = 5000;

/// What a deletion covered.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeletionScope {
    /// The account was cancelled: it and everything held for it are gone (§6.1).
    Account,
    /// Everything held for the account was deleted; the account, its sessions and its consent
    /// receipts (the record of the consents it still runs under) remain.
    AllData,
    /// One item (kind and id as the client names them).
    Item { kind: String, id: String },
    /// Everything held of one telemetry purpose (after a withdrawal).
    PurposeData { purpose: Purpose },
}

/// A signed statement of what the platform deleted, for whom and when (D7, D8).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeletionReceipt {
    /// `del_` and 32 hex digits, unique.
    pub receipt_id: String,
    pub account_id: String,
    pub scope: DeletionScope,
    /// Items deleted per category (the categories of `GET /v1/account/data`, e.g. `account`,
    /// `sessions`, `consent_receipts`, `telemetry:usage_analytics`, `rights_requests`).
    pub deleted: BTreeMap<String, u64>,
    /// RFC 3339: when the deletion was complete (flushed to disk).
    pub completed_at: String,
    /// The key that signed it (one of `GET /v1/receipt-keys`).
    pub key_id: String,
    /// Ed25519 signature of the canonical bytes (as `GET /v1/receipt-keys` describes them;
    /// `awf-platform-api`'s `DeletionReceipt::canonical_bytes`), standard base64 with padding.
    pub signature: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptError {
    /// The receipt names a key that is not the one given (or none of those published).
    UnknownKey { key_id: String },
    /// The public key is not 32 base64 bytes of a valid Ed25519 point.
    BadKey,
    /// The signature is not 64 base64 bytes.
    BadSignatureEncoding,
    /// The signature does not match the receipt's content: it was altered or not signed by
    /// this key.
    SignatureMismatch,
}

impl std::fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReceiptError::UnknownKey { key_id } => {
                write!(f, "the receipt was signed with key {key_id}, not a known one")
            }
            ReceiptError::BadKey => f.write_str("the public key is not a valid Ed25519 key"),
            ReceiptError::BadSignatureEncoding => f.write_str("the signature is not 64 bytes of base64"),
            ReceiptError::SignatureMismatch => {
                f.write_str("the signature does not match the receipt: it was altered or signed by another key")
            }
        }
    }
}

impl std::error::Error for ReceiptError {}

fn field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

impl DeletionReceipt {
    /// The bytes the signature covers (see the module documentation): every field but the
    /// signature, in a fixed order, each length-prefixed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(RECEIPT_DOMAIN.as_bytes());
        out.push(b'\n');
        field(&mut out, "receipt_id", &self.receipt_id);
        field(&mut out, "account_id", &self.account_id);
        match &self.scope {
            DeletionScope::Account => field(&mut out, "scope", "account"),
            DeletionScope::AllData => field(&mut out, "scope", "all_data"),
            DeletionScope::Item { kind, id } => {
                field(&mut out, "scope", "item");
                field(&mut out, "scope_kind", kind);
                field(&mut out, "scope_id", id);
            }
            DeletionScope::PurposeData { purpose } => {
                field(&mut out, "scope", "purpose_data");
                field(&mut out, "scope_purpose", purpose.as_str());
            }
        }
        field(&mut out, "deleted", &self.deleted.len().to_string());
        for (category, count) in &self.deleted {
            field(&mut out, "deleted_category", category);
            field(&mut out, "deleted_count", &count.to_string());
        }
        field(&mut out, "completed_at", &self.completed_at);
        field(&mut out, "key_id", &self.key_id);
        out
    }

    /// Signs the receipt with `key` (whose id is `self.key_id`): sets `signature`.
    pub fn sign(&mut self, key: &SigningKey) {
        let signature = key.sign(&self.canonical_bytes());
        self.signature = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes());
    }

    /// Checks the signature with a published key: the key's id must be the receipt's `key_id`.
    pub fn verify(&self, key: &ReceiptKey) -> Result<(), ReceiptError> {
        if key.key_id != self.key_id || key.algorithm != RECEIPT_ALGORITHM {
            return Err(ReceiptError::UnknownKey { key_id: self.key_id.clone() });
        }
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(&key.public_key).map_err(|_| ReceiptError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| ReceiptError::BadKey)?;
        self.verify_with(&bytes)
    }

    /// Checks the signature with a raw 32-byte Ed25519 public key (strict verification: no
    /// malleable signatures, no weak keys).
    pub fn verify_with(&self, public_key: &[u8; 32]) -> Result<(), ReceiptError> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| ReceiptError::BadKey)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .map_err(|_| ReceiptError::BadSignatureEncoding)?;
        let signature: [u8; 64] = signature.try_into().map_err(|_| ReceiptError::BadSignatureEncoding)?;
        let signature = Signature::from_bytes(&signature);
        key.verify_strict(&self.canonical_bytes(), &signature).map_err(|_| ReceiptError::SignatureMismatch)
    }
}

/// One key the platform signs receipts with.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptKey {
    /// `ed25519:` and the first 16 hex digits of the SHA-256 of the public key.
    pub key_id: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, standard base64 with padding.
    pub public_key: String,
    /// RFC 3339: when the key was made.
    pub created_at: String,
}

impl ReceiptKey {
    /// The published form of a verifying key.
    pub fn from_verifying_key(key: &VerifyingKey, created_at: &str) -> ReceiptKey {
        ReceiptKey {
            key_id: key_id(key),
            algorithm: RECEIPT_ALGORITHM.into(),
            public_key: base64::engine::general_purpose::STANDARD.encode(key.to_bytes()),
            created_at: created_at.into(),
        }
    }
}

/// The id of a verifying key: `ed25519:` and the first 16 hex digits of the SHA-256 of its bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{RECEIPT_ALGORITHM}:{hex}")
}

/// `GET /v1/receipt-keys`: the keys that verify the platform's receipts (current first).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptKeys {
    pub keys: Vec<ReceiptKey>,
}

impl ReceiptKeys {
    /// Verifies a receipt with the published key it names.
    pub fn verify(&self, receipt: &DeletionReceipt) -> Result<(), ReceiptError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.key_id == receipt.key_id)
            .ok_or_else(|| ReceiptError::UnknownKey { key_id: receipt.key_id.clone() })?;
        receipt.verify(key)
    }
}

/// `POST /v1/account/cancel`: the account holder confirms, with the password and by typing the
/// account name exactly as it is.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancelAccount {
    pub password: String,
    /// The account's `account_name`, typed exactly (case included).
    pub account_name: String,
}

impl std::fmt::Debug for CancelAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelAccount")
            .field("password", &"<redacted>")
            .field("account_name", &self.account_name)
            .finish()
    }
}

/// What a rights request asks for (§6, PIPL arts. 44–47, 50).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestCategory {
    Access,
    Correction,
    Deletion,
    Portability,
    Withdrawal,
    Complaint,
}

impl RequestCategory {
    pub const ALL: [RequestCategory; 6] = [
        RequestCategory::Access,
        RequestCategory::Correction,
        RequestCategory::Deletion,
        RequestCategory::Portability,
        RequestCategory::Withdrawal,
        RequestCategory::Complaint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestCategory::Access => "access",
            RequestCategory::Correction => "correction",
            RequestCategory::Deletion => "deletion",
            RequestCategory::Portability => "portability",
            RequestCategory::Withdrawal => "withdrawal",
            RequestCategory::Complaint => "complaint",
        }
    }

    pub fn parse(s: &str) -> Option<RequestCategory> {
        RequestCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a rights request stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Received, not answered yet.
    Open,
    /// Answered; the platform may answer again.
    Answered,
    /// Answered and closed.
    Closed,
}

/// One file sent with a rights request.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentUpload {
    /// A file name: 1–128 characters, no path separators, no control characters, not `.` or `..`.
    pub name: String,
    /// A media type such as `application/pdf` (`type/subtype`, at most 127 characters).
    pub media_type: String,
    /// The content, standard base64 (padding optional); at most 2 MiB decoded.
    pub content_base64: String,
}

impl std::fmt::Debug for AttachmentUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentUpload")
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("content_base64", &format_args!("<{} characters>", self.content_base64.len()))
            .finish()
    }
}

/// `POST /v1/requests`: a rights request or complaint (D9).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewRightsRequest {
    pub category: RequestCategory,
    /// 1–5000 characters, more than white space.
    pub text: String,
    /// 0–5 files.
    #[serde(default)]
    pub attachments: Vec<AttachmentUpload>,
}

/// An attachment as the platform holds it (its content stays at the platform).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentInfo {
    pub name: String,
    pub media_type: String,
    /// Bytes, decoded.
    pub size: u64,
    /// Hex SHA-256 of the decoded content.
    pub sha256: String,
}

/// A rights request or complaint and where it stands.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RightsRequest {
    /// `req_` and 32 hex digits.
    pub id: String,
    pub category: RequestCategory,
    pub text: String,
    pub attachments: Vec<AttachmentInfo>,
    pub status: RequestStatus,
    /// The platform's latest answer.
    pub answer: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: when the latest answer was given.
    pub answered_at: Option<String>,
}

/// `GET /v1/requests`: the account's requests, oldest first.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RightsRequests {
    pub requests: Vec<RightsRequest>,
}

/// `POST /v1/admin/requests/{id}/answer`: the operator's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// 1–5000 characters, more than white space.
    pub text: String,
    /// Close the request with this answer (else it stays `answered`, open to a follow-up).
    #[serde(default)]
    pub close: bool,
}

/// A request as the operator sees it: with the account it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminRightsRequest {
    pub account_id: String,
    pub request: RightsRequest,
}

/// `GET /v1/admin/requests`: every account's requests, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminRightsRequests {
    pub requests: Vec<AdminRightsRequest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn signed(scope: DeletionScope) -> (DeletionReceipt, ReceiptKey) {
        let k = key();
        let published = ReceiptKey::from_verifying_key(&k.verifying_key(), "2026-01-01T00:00:00Z");
        let mut r = DeletionReceipt {
            receipt_id: "del_0123".into(),
            account_id: "acc_abc".into(),
            scope,
            deleted: BTreeMap::from([("telemetry:usage_analytics".into(), 3), ("rights_requests".into(), 1)]),
            completed_at: "2026-05-01T10:00:00Z".into(),
            key_id: published.key_id.clone(),
            signature: String::new(),
        };
        r.sign(&k);
        (r, published)
    }

    #[test]
    fn a_signed_receipt_verifies_and_any_change_breaks_it() {
        let (r, published) = signed(DeletionScope::AllData);
        assert_eq!(r.verify(&published), Ok(()));
        assert_eq!(ReceiptKeys { keys: vec![published.clone()] }.verify(&r), Ok(()));
        assert!(published.key_id.starts_with("ed25519:") && published.key_id.len() == 8 + 16);

        type Tamper = Box<dyn Fn(&mut DeletionReceipt)>;
        let tampers: Vec<Tamper> = vec![
            Box::new(|r| r.receipt_id.push('x')),
            Box::new(|r| r.account_id = "acc_abd".into()),
            Box::new(|r| r.scope = DeletionScope::Account),
            Box::new(|r| r.scope = DeletionScope::Item { kind: "agent".into(), id: "a".into() }),
            Box::new(|r| *r.deleted.get_mut("rights_requests").unwrap() = 2),
            Box::new(|r| {
                r.deleted.insert("sessions".into(), 0);
            }),
            Box::new(|r| {
                r.deleted.remove("rights_requests");
            }),
            Box::new(|r| r.completed_at = "2026-05-01T10:00:01Z".into()),
        ];
        for (i, tamper) in tampers.iter().enumerate() {
            let mut t = r.clone();
            tamper(&mut t);
            assert_eq!(t.verify(&published), Err(ReceiptError::SignatureMismatch), "tamper {i}");
        }
        // A changed key id is caught before the signature.
        let mut t = r.clone();
        t.key_id = "ed25519:0000000000000000".into();
        assert!(matches!(t.verify(&published), Err(ReceiptError::UnknownKey { .. })));
        // A flipped signature bit, a truncated signature.
        let mut t = r.clone();
        let mut sig = base64::engine::general_purpose::STANDARD.decode(&t.signature).unwrap();
        sig[10] ^= 1;
        t.signature = base64::engine::general_purpose::STANDARD.encode(sig);
        assert_eq!(t.verify(&published), Err(ReceiptError::SignatureMismatch));
        t.signature = "AAAA".into();
        assert_eq!(t.verify(&published), Err(ReceiptError::BadSignatureEncoding));
        // Another key with the same id claimed.
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let mut impostor = ReceiptKey::from_verifying_key(&other.verifying_key(), "2026-01-01T00:00:00Z");
        impostor.key_id = published.key_id.clone();
        assert_eq!(r.verify(&impostor), Err(ReceiptError::SignatureMismatch));
    }

    #[test]
    fn canonical_bytes_are_length_prefixed_so_values_cannot_run_together() {
        let (a, _) = signed(DeletionScope::Item { kind: "agent\nscope_id=3:xyz".into(), id: "1".into() });
        let (b, _) = signed(DeletionScope::Item { kind: "agent".into(), id: "xyz\nscope_id=1:1".into() });
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        let (p, _) = signed(DeletionScope::PurposeData { purpose: Purpose::CrashReports });
        let text = String::from_utf8(p.canonical_bytes()).unwrap();
        assert!(text.starts_with("awf-deletion-receipt/v1\nreceipt_id=8:del_0123\naccount_id=7:acc_abc\n"));
        assert!(text.contains("scope=12:purpose_data\nscope_purpose=13:crash_reports\ndeleted=1:2\n"));
        assert!(text.contains("deleted_category=15:rights_requests\ndeleted_count=1:1\n"));
        assert!(text.ends_with(&format!("key_id={}:{}\n", p.key_id.len(), p.key_id)));
    }

    #[test]
    fn scope_and_secrets_on_the_wire() {
        let (r, _) = signed(DeletionScope::Item { kind: "agent".into(), id: "01J".into() });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["scope"], serde_json::json!({ "type": "item", "kind": "agent", "id": "01J" }));
        assert_eq!(serde_json::to_value(DeletionScope::AllData).unwrap(), serde_json::json!({ "type": "all_data" }));
        let back: DeletionReceipt = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        let cancel = CancelAccount { password: "hunter2-secret".into(), account_name: "ada".into() };
        assert!(!format!("{cancel:?}").contains("hunter2"));
        for c in RequestCategory::ALL {
            assert_eq!(RequestCategory::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
